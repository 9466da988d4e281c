"""Receiving a submission: find its form version, store it durably, never lose a byte.

The same path serves phones (OpenRosa) and the REST API. A resend of the same
instance with the same XML is how Collect retries and how split uploads
arrive: it adds the files that are new and changes nothing else.

A phone set up with a draft's testing QR code sends test data (Central's
`/v1/test/{token}/…`): a `DraftTester` in place of an actor. Its submissions
go to that draft only, are stored as drafts (`Submission.draft`) and never
touch entity lists; an instanceID stays on the side, test or real, it was
first received on.

This is the busiest path on the server (every phone's every send), so it is
written in SQLAlchemy Core and costs one transaction: one SELECT for the
project, form and version together, the inserts, the commit. A new instance
is inserted without looking first; the unique (form, instanceID) index says
whether it was a resend. On PostgreSQL a phone's new instance is stored in a
single statement instead (`samen.phone_ingest`); everything else comes here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from samen.auth import Actor
from samen.blobs import BlobStore, sha256_hex
from samen.crypto.envelope import is_encrypted_envelope, parse_envelope
from samen.models import Form, FormVersion, Project, Submission, SubmissionAttachment, SubmissionVersion, utcnow
from samen.problems import (
    ForbiddenError,
    FormVersionNotFoundError,
    MalformedRequestError,
    NotAcceptedError,
    NotFoundError,
    SubmissionConflictError,
)
from samen.queries import insert_ignoring_duplicates, record_blob
from samen.safexml import child, parse_xml
from samen.xform import per_definition, read_xform

# Names Collect gives attachment parts are plain file names; anything that could
# walk a path or hide in a terminal is refused rather than guessed at.
_SAFE_NAME = re.compile(r"^(?!\.\.?$)[^/\\\x00-\x1f\x7f]{1,255}$")

PLAINTEXT_FOR_ENCRYPTED_FORM = "plaintext_for_encrypted_form"

_projects, _forms, _form_versions = Project.__table__, Form.__table__, FormVersion.__table__
_submissions, _versions, _attachments = Submission.__table__, SubmissionVersion.__table__, SubmissionAttachment.__table__


@dataclass(frozen=True)
class IncomingSubmission:
    xml: bytes
    files: dict[str, bytes] = field(default_factory=dict)
    device_id: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class IngestResult:
    submission_id: int
    version_id: int
    created: bool
    declares_entity: bool = False  # the form creates or updates entities: apply (or queue) after commit
    stored_files: tuple[tuple[str, str], ...] = ()  # (attachment name, digest) of the files this POST stored


@dataclass(frozen=True)
class DraftTester:
    """Whoever holds a draft's testing token: may send test submissions to that draft, and nothing else."""

    xml_form_id: str
    form_id: int
    version_id: int
    version: str  # as the tester's phone got it: with the project key's suffix when the form is encrypted
    sha256: str
    public_key: str | None
    key_id: int | None


Submitter = Actor | DraftTester
DRAFT_TESTER = "draft"  # Submission.submitter_kind of test submissions: no actor sent them


@dataclass(frozen=True)
class Identity:
    form_id: str
    version: str
    instance_id: str
    deprecated_id: str | None
    instance_name: str | None
    encrypted: bool
    expected_files: tuple[str, ...] | None  # None: read from the form's binary fields


@dataclass
class FormTarget:
    """The form version a submission names; `xml` is read only if a memoised fact needs it."""

    connection: Connection
    form_id: int
    version_id: int
    sha256: str
    public_key: str | None
    key_id: int | None
    draft: bool = False  # the draft under test, not a published version

    @property
    def xml(self) -> bytes:
        return self.connection.scalar(select(_form_versions.c.xml).where(_form_versions.c.id == self.version_id))


def _text(element) -> str | None:
    return element.text.strip() if element is not None and element.text else None


def read_identity(xml: bytes) -> Identity:
    root = parse_xml(xml)
    if is_encrypted_envelope(root):
        envelope = parse_envelope(xml)
        return Identity(envelope.form_id, envelope.version or "", envelope.instance_id, None, None, True,
                        (*envelope.media_files, envelope.encrypted_xml_file))
    form_id = root.get("id")
    if not form_id:
        raise MalformedRequestError("The submission's root element has no id attribute naming its form.")
    meta = child(root, "meta")
    instance_id = _text(child(meta, "instanceID")) if meta is not None else None
    if not instance_id:
        raise MalformedRequestError("The submission has no meta/instanceID.")
    return Identity(form_id, root.get("version") or "", instance_id,
                    _text(child(meta, "deprecatedID")), _text(child(meta, "instanceName")), False, None)


def _binary_paths_of(form_xml: bytes) -> tuple[str, ...]:
    """Instance paths of the form's binary (file) fields, relative to the root."""
    root = parse_xml(form_xml)
    paths = []
    for bind in root.iter("{http://www.w3.org/2002/xforms}bind"):
        if bind.get("type") == "binary" and bind.get("nodeset"):
            paths.append("/".join(bind.get("nodeset").strip("/").split("/")[1:]))
    return tuple(paths)


binary_paths = per_definition(_binary_paths_of)
declares_entity = per_definition(lambda form_xml: read_xform(form_xml).entity is not None)


def expected_files(identity: Identity, xml: bytes, paths_of_binary_fields: Callable[[], tuple[str, ...]]) -> tuple[str, ...]:
    """The files the instance names: an envelope lists them; plaintext names them in its binary fields."""
    if identity.expected_files is not None:
        return identity.expected_files
    paths = paths_of_binary_fields()
    if not paths:
        return ()
    root = parse_xml(xml)
    names = []
    for path in paths:
        for element in root.xpath("/*/" + "/".join(f"*[local-name()='{p}']" for p in path.split("/"))):
            if element.text and element.text.strip():
                names.append(element.text.strip())
    return tuple(dict.fromkeys(names))


def check_names(files: dict[str, bytes]) -> None:
    for name in files:
        if not _SAFE_NAME.match(name):
            raise MalformedRequestError(
                "An attachment's file name contains a path separator, '..' or a control character; rename the file and send again.",
                name=name.encode("unicode_escape").decode("ascii"),
            )


# The project, the form and the published version a submission names, in one query. Built once:
# phones send often, and building a statement costs more than running it.
_FORM_TARGET = (
    select(_forms.c.id, _forms.c.state, _form_versions.c.id, _form_versions.c.sha256,
           _form_versions.c.public_key, _form_versions.c.key_id)
    .select_from(
        _projects
        .outerjoin(_forms, and_(_forms.c.project_id == _projects.c.id, _forms.c.xml_form_id == bindparam("xml_form_id"),
                                _forms.c.deleted_at.is_(None)))
        .outerjoin(_form_versions, and_(_form_versions.c.form_id == _forms.c.id,
                                        _form_versions.c.version == bindparam("version"),
                                        _form_versions.c.published_at.is_not(None)))
    )
    .where(_projects.c.id == bindparam("project_id"), _projects.c.deleted_at.is_(None))
)
_EXISTING_VERSION = (
    select(_versions.c.id, _versions.c.submission_id, _versions.c.xml_sha256, _versions.c.current, _submissions.c.draft)
    .join(_submissions, _submissions.c.id == _versions.c.submission_id)
    .where(_versions.c.form_id == bindparam("form_id"), _versions.c.instance_id == bindparam("instance_id"))
)
_INSERT_VERSION = _versions.insert().returning(_versions.c.id)


def resolve_form(connection: Connection, project_id: int, identity: Identity, actor: Actor) -> FormTarget:
    """Each missing piece is its own 404: project, form, version."""
    row = connection.execute(
        _FORM_TARGET, {"project_id": project_id, "xml_form_id": identity.form_id, "version": identity.version}
    ).first()
    if row is None:
        raise NotFoundError("There is no project with that id.")
    form_id, state, version_id, sha256, public_key, key_id = row
    if form_id is None:
        raise NotFoundError(f"The form '{identity.form_id}' does not exist on this server. Download the current forms and try again.")
    if not actor.can("submission.create", project_id, form_id):
        raise ForbiddenError("This account may not submit to this form.")
    if state == "closed":
        raise NotAcceptedError(f"The form '{identity.form_id}' is closed and accepts no more submissions.")
    if version_id is None:
        raise FormVersionNotFoundError(
            f"Version '{identity.version}' of form '{identity.form_id}' was never published here. Download the current form and fill it again.",
        )
    return FormTarget(connection, form_id, version_id, sha256, public_key, key_id)


def _draft_target(connection: Connection, identity: Identity, tester: DraftTester) -> FormTarget:
    """The draft the tester's token opened, if the submission is for it."""
    if identity.form_id != tester.xml_form_id:
        raise NotFoundError(f"This phone is set up to test the draft of '{tester.xml_form_id}' only. "
                            f"Send '{identity.form_id}' with a phone set up for it.")
    if identity.version != tester.version:
        raise FormVersionNotFoundError(
            f"Version '{identity.version}' of '{identity.form_id}' is not the draft being tested (version "
            f"'{tester.version}'). Get the draft again (Download form) and fill it in again.")
    return FormTarget(connection, tester.form_id, tester.version_id, tester.sha256, tester.public_key, tester.key_id,
                      draft=True)


def _store_files(connection: Connection, blobs: BlobStore, version_id: int,
                 files: dict[str, bytes]) -> tuple[tuple[str, str], ...]:
    """Store the files this version expects and has not received yet; returns their names and digests."""
    if not files:
        return ()
    stored = []
    missing = connection.execute(
        select(_attachments.c.id, _attachments.c.name)
        .where(_attachments.c.submission_version_id == version_id, _attachments.c.blob_sha256.is_(None))
    )
    for attachment_id, name in missing.all():
        data = files.get(name)
        if data is None:
            continue
        digest = blobs.put(data)  # durable on disk before the row that points at it commits
        record_blob(connection, digest, len(data), None)
        connection.execute(update(_attachments).where(_attachments.c.id == attachment_id).values(blob_sha256=digest))
        stored.append((name, digest))
    return tuple(stored)


@functools.cache
def _insert_submission(dialect_name: str):
    """A new submission's row, or no row (None back) when its instanceID is already here."""
    return insert_ignoring_duplicates(dialect_name, _submissions).returning(_submissions.c.id)


def _existing_version(connection: Connection, form_id: int, instance_id: str):
    return connection.execute(_EXISTING_VERSION, {"form_id": form_id, "instance_id": instance_id}).first()


def _resend(connection: Connection, blobs: BlobStore, existing, identity: Identity, xml_sha256: str,
            incoming: IncomingSubmission, target: FormTarget) -> IngestResult:
    """The same instance again: Collect retrying, or the next part of a split upload."""
    if existing.draft and not target.draft:
        raise SubmissionConflictError(
            f"The submission with instanceID {identity.instance_id} was received as test data for the form's draft, "
            "and test data never becomes real data. Send it again once the draft is published or deleted.")
    if target.draft and not existing.draft:
        raise SubmissionConflictError(
            f"The submission with instanceID {identity.instance_id} was already received as real data, "
            "and real data never becomes test data. Fill the draft in again to test it.")
    if existing.xml_sha256 != xml_sha256:
        raise SubmissionConflictError(
            f"A different submission with instanceID {identity.instance_id} was already received. Nothing was changed.",
        )
    stored = _store_files(connection, blobs, existing.id, incoming.files)
    return IngestResult(existing.submission_id, existing.id, created=False, stored_files=stored)


def _edited_submission(connection: Connection, target: FormTarget, identity: Identity, now) -> int:
    """An edit (meta/deprecatedID) becomes the newest version of the submission it edits."""
    previous = _existing_version(connection, target.form_id, identity.deprecated_id)
    if previous is None or previous.draft != target.draft:  # an edit stays on its side, test or real
        raise NotFoundError(f"The submission {identity.deprecated_id} this edit replaces does not exist.")
    if not previous.current:
        raise SubmissionConflictError("This edit replaces a version that was already edited. Edit the newest version.")
    connection.execute(update(_versions).where(_versions.c.id == previous.id).values(current=False))
    connection.execute(update(_submissions).where(_submissions.c.id == previous.submission_id)
                       .values(review_state="edited", updated_at=now))
    return previous.submission_id


def ingest_submission(session: Session, blobs: BlobStore, project_id: int, incoming: IncomingSubmission,
                      submitter: Submitter, *, look_first: bool = False) -> IngestResult:
    """Store one POST of a submission; the caller commits and only then answers 201.

    `look_first`: check for an earlier version before inserting (after a lost race, when the
    instanceID may belong to an edit, which the submissions index does not cover)."""
    check_names(incoming.files)
    identity = read_identity(incoming.xml)
    connection = session.connection()
    if isinstance(submitter, DraftTester):
        target, submitter_id, submitter_kind = _draft_target(connection, identity, submitter), None, DRAFT_TESTER
    else:
        target = resolve_form(connection, project_id, identity, submitter)
        submitter_id, submitter_kind = submitter.id, submitter.kind
    xml_sha256 = sha256_hex(incoming.xml)
    if look_first or identity.deprecated_id:
        existing = _existing_version(connection, target.form_id, identity.instance_id)
        if existing is not None:
            return _resend(connection, blobs, existing, identity, xml_sha256, incoming, target)

    now = utcnow()
    if identity.deprecated_id:
        submission_id = _edited_submission(connection, target, identity, now)
    else:
        submission_id = connection.scalar(_insert_submission(connection.dialect.name), {
            "form_id": target.form_id, "instance_id": identity.instance_id, "submitter_id": submitter_id,
            "submitter_kind": submitter_kind, "device_id": incoming.device_id, "draft": target.draft,
            "created_at": now,
        })
        if submission_id is None:  # the index says: this instance was received before
            existing = _existing_version(connection, target.form_id, identity.instance_id)
            if existing is None:
                raise SubmissionConflictError(
                    f"A submission with instanceID {identity.instance_id} exists but has no such version. Nothing was changed.")
            return _resend(connection, blobs, existing, identity, xml_sha256, incoming, target)

    flag = PLAINTEXT_FOR_ENCRYPTED_FORM if target.public_key and not identity.encrypted else None
    version_id = connection.scalar(_INSERT_VERSION, {
        "submission_id": submission_id, "form_id": target.form_id, "form_version_id": target.version_id,
        "instance_id": identity.instance_id, "instance_name": identity.instance_name, "xml": incoming.xml,
        "xml_sha256": xml_sha256, "current": True, "encrypted": identity.encrypted,
        "key_id": target.key_id if identity.encrypted else None, "flag": flag, "submitter_id": submitter_id,
        "device_id": incoming.device_id, "user_agent": incoming.user_agent, "created_at": now,
    })
    expected = expected_files(identity, incoming.xml, lambda: binary_paths(target))
    if expected:
        connection.execute(_attachments.insert(), [
            {"submission_version_id": version_id, "name": name, "position": position}
            for position, name in enumerate(expected)
        ])
    stored = _store_files(connection, blobs, version_id, incoming.files)
    # Test data must not create or change entity list entries: phones would download them as real.
    return IngestResult(submission_id, version_id, created=True,
                        declares_entity=not target.draft and declares_entity(target), stored_files=stored)


def ingest_with_retry(database, blobs: BlobStore, project_id: int, submitter_of: Callable[[Session], Submitter],
                      read_incoming: Callable[[], IncomingSubmission]) -> IngestResult:
    """Commit one POST in one transaction. `submitter_of` authenticates inside it before `read_incoming`
    parses the body, so a stranger's upload is refused unread. Two identical POSTs racing each
    other both end in 201 with one row."""
    read_once = functools.cache(read_incoming)

    def attempt(look_first: bool) -> IngestResult:
        with database.session() as session:
            submitter = submitter_of(session)
            return ingest_submission(session, blobs, project_id, read_once(), submitter, look_first=look_first)

    try:
        result = attempt(look_first=False)
    except IntegrityError:
        # The other request committed the same instance first: this one is now a resend.
        result = attempt(look_first=True)
    finish_ingest(database, blobs, project_id, result, read_once())
    return result


def finish_ingest(database, blobs: BlobStore, project_id: int, result: IngestResult, incoming: IncomingSubmission) -> None:
    """What follows a POST's commit, whichever way it was stored."""
    for name, digest in result.stored_files:
        # Identical bytes may have been on disk already and removed by a retention run that deleted their
        # last owner while this POST was in flight; after the commit the row protects the file, so put it back.
        blobs.keep(digest, incoming.files[name])  # already hashed: large media are not hashed twice
    if result.created and result.declares_entity:
        # Imported here: samen.entities reads plaintext through samen.decrypting, which imports this module.
        from samen.entities.intake import apply_after_ingest

        apply_after_ingest(database, blobs, project_id, result.version_id)  # own transaction; never raises
