"""The files a form version ships to phones: its media and CSVs, as manifest entries and bytes."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from samen.blobs import BlobStore
from samen.models import Form, FormAttachment
from samen.openrosa.responses import ManifestEntry
from samen.problems import NotFoundError


def manifest_entries(session: Session, blobs: BlobStore, form: Form, attachments: list[FormAttachment],
                     base_url: str) -> list[ManifestEntry]:
    """Uploaded files only: Collect would fail the whole download on a missing one."""
    entries = []
    for attachment in attachments:
        if attachment.blob_sha256 is None:
            continue
        data_hash = hashlib.md5(blobs.get(attachment.blob_sha256)).hexdigest()
        entries.append(ManifestEntry(attachment.name, data_hash, f"{base_url}/attachments/{attachment.name}"))
    return entries


def attachment_content(session: Session, blobs: BlobStore, form: Form, attachment: FormAttachment) -> tuple[bytes, str | None]:
    """The bytes to serve and an ETag."""
    if attachment.blob_sha256 is None:
        raise NotFoundError(f"The attachment '{attachment.name}' has not been uploaded yet.")
    data = blobs.get(attachment.blob_sha256)
    return data, attachment.blob_sha256
