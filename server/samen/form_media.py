"""The files a form version ships to phones: its media and CSVs, as manifest entries and bytes."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from samen.blobs import BlobStore
from samen.entities import lists as entity_lists
from samen.models import Form, FormAttachment
from samen.openrosa.responses import ManifestEntry
from samen.problems import NotFoundError


def manifest_entries(session: Session, blobs: BlobStore, form: Form, attachments: list[FormAttachment],
                     base_url: str) -> list[ManifestEntry]:
    """Uploaded files only: Collect would fail the whole download on a missing one."""
    entries = []
    for attachment in attachments:
        if attachment.dataset_name is not None:
            entries.append(_entity_list_entry(session, form, attachment, base_url))
            continue
        if attachment.blob_sha256 is None:
            continue
        data_hash = hashlib.md5(blobs.get(attachment.blob_sha256)).hexdigest()
        entries.append(ManifestEntry(attachment.name, data_hash, f"{base_url}/attachments/{attachment.name}"))
    return entries


def _entity_list_entry(session: Session, form: Form, attachment: FormAttachment, base_url: str) -> ManifestEntry:
    # The hash is a change token, not the CSV's MD5: Collect only compares it to decide whether to re-download.
    dataset = entity_lists.get_dataset(session, form.project_id, attachment.dataset_name)
    project_url = base_url.rsplit("/forms/", 1)[0]  # the form id in base_url is percent-encoded: no '/' inside
    return ManifestEntry(attachment.name, entity_lists.change_token(session, dataset),
                         f"{base_url}/attachments/{attachment.name}",
                         integrity_url=f"{project_url}/datasets/{dataset.name}/integrity")


def attachment_content(session: Session, blobs: BlobStore, form: Form, attachment: FormAttachment) -> tuple[bytes, str | None]:
    """The bytes to serve and an ETag."""
    if attachment.dataset_name is not None:
        dataset = entity_lists.get_dataset(session, form.project_id, attachment.dataset_name)
        return entity_lists.entity_list_bytes(session, dataset), entity_lists.change_token(session, dataset)
    if attachment.blob_sha256 is None:
        raise NotFoundError(f"The attachment '{attachment.name}' has not been uploaded yet.")
    data = blobs.get(attachment.blob_sha256)
    return data, attachment.blob_sha256
