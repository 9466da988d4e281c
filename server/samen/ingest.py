"""Receiving a submission: find its form version, store it durably, never lose a byte.

The same path serves phones (OpenRosa) and the REST API. A resend of the same
instance with the same XML is how Collect retries and how split uploads
arrive: it adds the files that are new and changes nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from samen.auth import Actor
from samen.blobs import BlobStore, sha256_hex
from samen.crypto.envelope import is_encrypted_envelope, parse_envelope
from samen.models import Form, FormVersion, Submission, SubmissionAttachment, SubmissionVersion, utcnow
from samen.problems import (
    ForbiddenError,
    FormVersionNotFoundError,
    MalformedRequestError,
    NotAcceptedError,
    NotFoundError,
    SubmissionConflictError,
)
from samen.queries import find_form, published_version, record_blob
from samen.safexml import child, parse_xml
from samen.xform import per_definition, read_xform

# Names Collect gives attachment parts are plain file names; anything that could
# walk a path or hide in a terminal is refused rather than guessed at.
_SAFE_NAME = re.compile(r"^(?!\.\.?$)[^/\\\x00-\x1f\x7f]{1,255}$")

PLAINTEXT_FOR_ENCRYPTED_FORM = "plaintext_for_encrypted_form"


@dataclass(frozen=True)
class IncomingSubmission:
    xml: bytes
    files: dict[str, bytes] = field(default_factory=dict)
    device_id: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class IngestResult:
    submission: Submission
    version: SubmissionVersion
    created: bool
    declares_entity: bool = False  # the form creates or updates entities: apply (or queue) after commit
    stored_files: tuple[tuple[str, str], ...] = ()  # (attachment name, digest) of the files this POST stored


@dataclass(frozen=True)
class _Identity:
    form_id: str
    version: str
    instance_id: str
    deprecated_id: str | None
    instance_name: str | None
    encrypted: bool
    expected_files: tuple[str, ...] | None  # None: read from the form's binary fields


def _text(element) -> str | None:
    return element.text.strip() if element is not None and element.text else None


def _identity(xml: bytes) -> _Identity:
    root = parse_xml(xml)
    if is_encrypted_envelope(root):
        envelope = parse_envelope(xml)
        return _Identity(envelope.form_id, envelope.version or "", envelope.instance_id, None, None, True,
                         (*envelope.media_files, envelope.encrypted_xml_file))
    form_id = root.get("id")
    if not form_id:
        raise MalformedRequestError("The submission's root element has no id attribute naming its form.")
    meta = child(root, "meta")
    instance_id = _text(child(meta, "instanceID")) if meta is not None else None
    if not instance_id:
        raise MalformedRequestError("The submission has no meta/instanceID.")
    return _Identity(form_id, root.get("version") or "", instance_id,
                     _text(child(meta, "deprecatedID")), _text(child(meta, "instanceName")), False, None)


def _binary_paths_of(form_xml: bytes) -> tuple[str, ...]:
    """Instance paths of the form's binary (file) fields, relative to the root."""
    root = parse_xml(form_xml)
    paths = []
    for bind in root.iter("{http://www.w3.org/2002/xforms}bind"):
        if bind.get("type") == "binary" and bind.get("nodeset"):
            paths.append("/".join(bind.get("nodeset").strip("/").split("/")[1:]))
    return tuple(paths)


_binary_paths = per_definition(_binary_paths_of)
_declares_entity = per_definition(lambda form_xml: read_xform(form_xml).entity is not None)


def _expected_files(identity: _Identity, xml: bytes, form_version: FormVersion) -> tuple[str, ...]:
    if identity.expected_files is not None:
        return identity.expected_files
    paths = _binary_paths(form_version)
    if not paths:
        return ()
    root = parse_xml(xml)
    names = []
    for path in paths:
        for element in root.xpath("/*/" + "/".join(f"*[local-name()='{p}']" for p in path.split("/"))):
            if element.text and element.text.strip():
                names.append(element.text.strip())
    return tuple(dict.fromkeys(names))


def _check_names(files: dict[str, bytes]) -> None:
    for name in files:
        if not _SAFE_NAME.match(name):
            raise MalformedRequestError(
                "An attachment's file name contains a path separator, '..' or a control character; rename the file and send again.",
                name=name.encode("unicode_escape").decode("ascii"),
            )


def _store_files(session: Session, blobs: BlobStore, version: SubmissionVersion,
                 files: dict[str, bytes]) -> tuple[tuple[str, str], ...]:
    """Store the files this version expects and has not received yet; returns their names and digests."""
    if not files:
        return ()
    stored = []
    for attachment in session.scalars(
        select(SubmissionAttachment).where(SubmissionAttachment.submission_version_id == version.id)
    ):
        data = files.get(attachment.name)
        if data is not None and attachment.blob_sha256 is None:
            digest = blobs.put(data)  # durable on disk before the row that points at it commits
            record_blob(session, digest, len(data), None)
            attachment.blob_sha256 = digest
            stored.append((attachment.name, digest))
    return tuple(stored)


def _resolve_form(session: Session, project_id: int, identity: _Identity, actor: Actor) -> tuple[Form, FormVersion]:
    form = find_form(session, project_id, identity.form_id)
    if form is None:
        raise NotFoundError(f"The form '{identity.form_id}' does not exist on this server. Download the current forms and try again.")
    if not actor.can("submission.create", project_id, form.id):
        raise ForbiddenError("This account may not submit to this form.")
    if form.state == "closed":
        raise NotAcceptedError(f"The form '{identity.form_id}' is closed and accepts no more submissions.")
    version = published_version(session, form, identity.version)
    if version is None:
        raise FormVersionNotFoundError(
            f"Version '{identity.version}' of form '{identity.form_id}' was never published here. Download the current form and fill it again.",
        )
    return form, version


def ingest_submission(session: Session, blobs: BlobStore, project_id: int, incoming: IncomingSubmission,
                      actor: Actor) -> IngestResult:
    """Store one POST of a submission; the caller commits and only then answers 201."""
    _check_names(incoming.files)
    identity = _identity(incoming.xml)
    form, form_version = _resolve_form(session, project_id, identity, actor)
    xml_sha256 = sha256_hex(incoming.xml)

    existing = session.scalar(
        select(SubmissionVersion).where(SubmissionVersion.form_id == form.id, SubmissionVersion.instance_id == identity.instance_id)
    )
    if existing is not None:
        if existing.xml_sha256 != xml_sha256:
            raise SubmissionConflictError(
                f"A different submission with instanceID {identity.instance_id} was already received. Nothing was changed.",
            )
        stored = _store_files(session, blobs, existing, incoming.files)
        return IngestResult(session.get(Submission, existing.submission_id), existing, created=False, stored_files=stored)

    now = utcnow()
    submission = _submission_for(session, form, identity, actor, incoming, now)
    flag = PLAINTEXT_FOR_ENCRYPTED_FORM if form_version.public_key and not identity.encrypted else None
    version = SubmissionVersion(
        submission_id=submission.id, form_id=form.id, form_version_id=form_version.id,
        instance_id=identity.instance_id, instance_name=identity.instance_name, xml=incoming.xml,
        xml_sha256=xml_sha256, encrypted=identity.encrypted,
        key_id=form_version.key_id if identity.encrypted else None, flag=flag,
        submitter_id=actor.id, device_id=incoming.device_id, user_agent=incoming.user_agent, created_at=now,
    )
    session.add(version)
    session.flush()
    for position, name in enumerate(_expected_files(identity, incoming.xml, form_version)):
        session.add(SubmissionAttachment(submission_version_id=version.id, name=name, position=position))
    session.flush()
    stored = _store_files(session, blobs, version, incoming.files)
    return IngestResult(submission, version, created=True, declares_entity=_declares_entity(form_version),
                        stored_files=stored)


def _submission_for(session, form, identity, actor, incoming, now) -> Submission:
    """The logical submission: a new one, or, for an edit (meta/deprecatedID), the one it edits."""
    if identity.deprecated_id:
        previous = session.scalar(
            select(SubmissionVersion).where(
                SubmissionVersion.form_id == form.id, SubmissionVersion.instance_id == identity.deprecated_id
            )
        )
        if previous is None:
            raise NotFoundError(f"The submission {identity.deprecated_id} this edit replaces does not exist.")
        if not previous.current:
            raise SubmissionConflictError("This edit replaces a version that was already edited. Edit the newest version.")
        previous.current = False
        submission = session.get(Submission, previous.submission_id)
        submission.review_state = "edited"
        submission.updated_at = now
        return submission
    submission = Submission(
        form_id=form.id, instance_id=identity.instance_id, submitter_id=actor.id, submitter_kind=actor.kind,
        device_id=incoming.device_id, created_at=now,
    )
    session.add(submission)
    session.flush()
    return submission


def ingest_with_retry(database, blobs: BlobStore, project_id: int, incoming: IncomingSubmission,
                      actor: Actor) -> IngestResult:
    """Commit one POST. Two identical POSTs racing each other both end in 201 with one row."""
    try:
        with database.session() as session:
            result = ingest_submission(session, blobs, project_id, incoming, actor)
    except IntegrityError:
        # The other request committed the same instance first: this one is now a resend.
        with database.session() as session:
            result = ingest_submission(session, blobs, project_id, incoming, actor)
    for name, digest in result.stored_files:
        # Identical bytes may have been on disk already and removed by a retention run that deleted their
        # last owner while this POST was in flight; after the commit the row protects the file, so put it back.
        blobs.keep(digest, incoming.files[name])  # already hashed: large media are not hashed twice
    if result.created and result.declares_entity:
        # Imported here: samen.entities reads plaintext through samen.decrypting, which imports this module.
        from samen.entities.intake import apply_after_ingest

        apply_after_ingest(database, blobs, project_id, result.version.id)  # own transaction; never raises
    return result
