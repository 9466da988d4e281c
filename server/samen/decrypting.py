"""Reading stored submissions as plaintext, in memory only, for whoever holds the keys.

Every surface that shows data (exports, the API, OData, entities, reports)
goes through `readable_submissions`: plaintext submissions pass through,
encrypted ones are decrypted with the key their form version names. Nothing
decrypted is written anywhere; a submission that cannot be read is yielded
with its reason instead of stopping the batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from samen import audit
from samen.blobs import BlobStore
from samen.crypto.decrypt import Decryptor, submission_decryptor
from samen.crypto.envelope import parse_envelope
from samen.crypto.keys import RsaPrivateKey, public_key_base64
from samen.ingest import PLAINTEXT_FOR_ENCRYPTED_FORM
from samen.models import FormVersion, SubmissionAttachment, SubmissionVersion
from samen.problems import Problem

KEY_LOCKED = "key locked"


class KeyChain:
    """Private keys by the public key forms carry; each decryptor is built once and holds its key."""

    def __init__(self, private_keys: Iterable[RsaPrivateKey] = ()) -> None:
        self._decryptors: dict[str, Decryptor] = {}
        for private_key in private_keys:
            self.add(private_key)

    def add(self, private_key: RsaPrivateKey) -> None:
        self._decryptors[public_key_base64(private_key.public_key())] = submission_decryptor(private_key)

    def decryptor_for(self, public_key: str | None) -> Decryptor | None:
        return self._decryptors.get(public_key or "")

    def __bool__(self) -> bool:
        return bool(self._decryptors)

    def __repr__(self) -> str:
        return f"KeyChain(<{len(self._decryptors)} key(s)>)"


@dataclass(frozen=True, repr=False)
class ReadableSubmission:
    """One stored version and its plaintext, or the reason there is none."""

    version: SubmissionVersion
    xml: bytes | None
    status: str | None  # None when all is well; otherwise a short reason shown in exports' Status column
    media: dict[str, bytes] = field(default_factory=dict)
    attachments_expected: int = 0
    attachments_present: int = 0

    def __repr__(self) -> str:
        return f"ReadableSubmission(instance_id={self.version.instance_id!r}, status={self.status!r})"


def _attachments(session: Session, version_id: int) -> list[SubmissionAttachment]:
    return list(session.scalars(select(SubmissionAttachment).where(
        SubmissionAttachment.submission_version_id == version_id).order_by(SubmissionAttachment.position)))


def read_submission(session: Session, blobs: BlobStore, version: SubmissionVersion, keys: KeyChain,
                    *, with_media: bool = False) -> ReadableSubmission:
    attachments = _attachments(session, version.id)
    # An envelope lists its media first and the encrypted XML last; phones count only the media.
    media_attachments = attachments[:-1] if version.encrypted else attachments
    expected = len(media_attachments)
    present = sum(1 for a in media_attachments if a.blob_sha256)
    if not version.encrypted:
        media = {a.name: blobs.get(a.blob_sha256) for a in attachments if a.blob_sha256} if with_media else {}
        return ReadableSubmission(version, version.xml, PLAINTEXT_FOR_ENCRYPTED_FORM if version.flag else None,
                                  media, expected, present)
    form_version = session.get(FormVersion, version.form_version_id)
    decryptor = keys.decryptor_for(form_version.public_key)
    if decryptor is None:
        return ReadableSubmission(version, None, KEY_LOCKED, {}, expected, present)
    try:
        envelope = parse_envelope(version.xml)
        # Every stored file goes in, media too: the signature covers all of them, so integrity is only
        # checked when the decryptor sees them all. The media bytes are dropped unless asked for.
        files = {a.name: blobs.get(a.blob_sha256) for a in attachments if a.blob_sha256}
        decrypted = decryptor(envelope, files)
    except Problem as problem:
        return ReadableSubmission(version, None, f"not decrypted: {problem.message}", {}, expected, present)
    status = None if decrypted.status == "ok" else decrypted.status.replace("_", " ")
    return ReadableSubmission(version, decrypted.xml, status, decrypted.media if with_media else {}, expected, present)


def readable_submissions(session: Session, blobs: BlobStore, versions: Iterable[SubmissionVersion], keys: KeyChain,
                         *, with_media: bool = False) -> Iterator[ReadableSubmission]:
    """Plaintext for each version, one at a time (callers stream; nothing is kept)."""
    for version in versions:
        yield read_submission(session, blobs, version, keys, with_media=with_media)


def record_decryption(session: Session, *, actor_id: int | None, project_id: int, xml_form_id: str, count: int,
                      purpose: str) -> None:
    """One audit event per batch: who read how many encrypted submissions of which form, and why."""
    if count:
        audit.record(session, "submission.decrypt", actor_id=actor_id, project_id=project_id,
                     xmlFormId=xml_form_id, count=count, purpose=purpose)
