"""A phone's POST of a new submission, on PostgreSQL in one round trip.

Nearly every POST the server gets is a phone sending an instance it has not sent
before. On PostgreSQL each round trip costs about 0.2 ms of waiting, and the
transaction `samen.ingest` runs takes six (BEGIN, the token, the form, two
inserts, COMMIT). This path sends one statement, in autocommit: it checks the
token, the phone's right to the form and that the form still takes
submissions, and stores the submission, its first version, its attachment rows
and their blob rows together. One statement is one transaction, durable when
it returns.

The token is checked on its own first (a second round trip) whenever something
must not happen for a stranger before that statement runs: parsing a large
upload, or writing its files to disk. A small upload is parsed first, but a
stranger still only ever hears 403.

The form version's facts that never change (its ids, key and file fields) are
remembered per process; what can change (the form closed or deleted, the
project deleted, the token revoked) is checked inside the statement. Whatever
this path does not take (an edit, a resend or a split upload's next part, a
guard that no longer holds, SQLite) goes the full way,
`samen.ingest.ingest_with_retry`, which decides it and says why.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from sqlalchemy import ARRAY, Integer, String, and_, bindparam, exists, func, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from samen.auth import Actor, app_user_actor
from samen.blobs import BlobStore, sha256_hex
from samen.ingest import (
    PLAINTEXT_FOR_ENCRYPTED_FORM,
    Identity,
    IncomingSubmission,
    IngestResult,
    binary_paths,
    check_names,
    declares_entity,
    expected_files,
    finish_ingest,
    ingest_with_retry,
    read_identity,
    resolve_form,
)
from samen.models import (
    AppUser,
    Blob,
    Form,
    FormAssignment,
    FormVersion,
    Project,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
    utcnow,
)

# Collect's instance without media is a few KB; parsing that much for a stranger costs less than a round trip.
READ_BEFORE_AUTH_BYTES = 256 * 1024

_projects, _forms, _form_versions = Project.__table__, Form.__table__, FormVersion.__table__
_app_users, _assignments = AppUser.__table__, FormAssignment.__table__
_submissions, _versions = Submission.__table__, SubmissionVersion.__table__
_attachments, _blobs = SubmissionAttachment.__table__, Blob.__table__


@dataclass(frozen=True)
class _PublishedVersion:
    """What never changes about a published form version, so it is safe to remember between POSTs."""

    form_id: int
    version_id: int
    sha256: str  # of the definition: checked by the statement, so a remembered fact is never a stale one
    public_key: str | None
    key_id: int | None
    binary_paths: tuple[str, ...]
    declares_entity: bool


# (project id, xmlFormId, version) -> facts. Only versions that exist get in, so it stays as small as
# the list of published versions; an entry whose guard fails is dropped.
_published: dict[tuple[int, str, str], _PublishedVersion] = {}


def _parameter(column) -> bindparam:
    return bindparam(column.name, type_=column.type)


def _new_instance_statement():
    """Submission, first version, attachment rows and blob rows in one statement, or nothing at all.
    The guards are those of samen.auth.app_user_actor, Actor.can and samen.ingest.resolve_form."""
    phone = select(_app_users.c.id).join(
        _assignments, and_(_assignments.c.app_user_id == _app_users.c.id, _assignments.c.form_id == bindparam("form_id"))
    ).where(
        _app_users.c.token == bindparam("token"), _app_users.c.project_id == bindparam("project_id"),
        _app_users.c.revoked_at.is_(None), _app_users.c.deleted_at.is_(None),
    ).cte("phone")
    form_takes_submissions = exists().select_from(
        _forms.join(_projects, _projects.c.id == _forms.c.project_id)
        .join(_form_versions, _form_versions.c.form_id == _forms.c.id)
    ).where(
        _forms.c.id == bindparam("form_id"), _forms.c.project_id == bindparam("project_id"),
        _forms.c.deleted_at.is_(None), _forms.c.state != "closed", _projects.c.deleted_at.is_(None),
        _forms.c.xml_form_id == bindparam("xml_form_id"), _form_versions.c.id == bindparam("form_version_id"),
        _form_versions.c.version == bindparam("version"), _form_versions.c.sha256 == bindparam("sha256"),
        _form_versions.c.published_at.is_not(None),
    )
    submission_columns = [_submissions.c[name] for name in (
        "form_id", "instance_id", "submitter_kind", "device_id", "draft", "created_at")]
    new_submission = (
        pg_insert(_submissions)
        .from_select([_submissions.c.submitter_id, *submission_columns],
                     select(phone.c.id, *map(_parameter, submission_columns)).where(form_takes_submissions))
        .on_conflict_do_nothing()  # a resend: no row back, and the full way answers it
        .returning(_submissions.c.id, _submissions.c.submitter_id)
        .cte("new_submission")
    )
    version_columns = [_versions.c[name] for name in (
        "form_id", "form_version_id", "instance_id", "instance_name", "xml", "xml_sha256", "current", "encrypted",
        "key_id", "flag", "device_id", "user_agent", "created_at")]
    new_version = (
        _versions.insert()
        .from_select([_versions.c.submission_id, _versions.c.submitter_id, *version_columns],
                     select(new_submission.c.id, new_submission.c.submitter_id, *map(_parameter, version_columns)))
        .returning(_versions.c.id, _versions.c.submission_id)
        .cte("new_version")
    )
    # Arrays, so that one prepared statement serves any number of files.
    files = func.unnest(
        bindparam("file_names", type_=ARRAY(String)), bindparam("file_positions", type_=ARRAY(Integer)),
        bindparam("file_digests", type_=ARRAY(String)),
    ).table_valued("name", "position", "digest").render_derived()
    blob_rows = func.unnest(
        bindparam("blob_digests", type_=ARRAY(String)), bindparam("blob_sizes", type_=ARRAY(Integer)),
    ).table_valued("digest", "size").render_derived()
    new_blobs = (
        pg_insert(_blobs)
        .from_select(["sha256", "size", "created_at"],
                     select(blob_rows.c.digest, blob_rows.c.size, _parameter(_blobs.c.created_at))
                     .select_from(new_version).join(blob_rows, true()))
        .on_conflict_do_nothing()  # the same bytes stored before
        .cte("new_blobs")
    )
    new_attachments = (
        _attachments.insert()
        .from_select(["submission_version_id", "name", "position", "blob_sha256"],
                     select(new_version.c.id, files.c.name, files.c.position, files.c.digest)
                     .select_from(new_version).join(files, true()))
        .cte("new_attachments")
    )
    return select(new_version.c.submission_id, new_version.c.id).add_cte(new_blobs, new_attachments)


# Run on psycopg itself: on the busiest path, SQLAlchemy's own work per statement cost more than the
# statement. Compiled once; its values (aware datetimes, bytes, lists) are ones psycopg adapts as they are.
_COMPILED = _new_instance_statement().compile(dialect=postgresql.psycopg.dialect())
_NEW_INSTANCE_SQL = str(_COMPILED)
_CONSTANTS = {name: value for name, value in _COMPILED.params.items() if value is not None}  # state 'closed'


def _remember(connection: Connection, project_id: int, identity: Identity, actor: Actor) -> _PublishedVersion:
    """Look the version up the full way (which answers an unknown project, form or version) and keep its facts."""
    target = resolve_form(connection, project_id, identity, actor)
    version = _PublishedVersion(target.form_id, target.version_id, target.sha256, target.public_key, target.key_id,
                                binary_paths(target), declares_entity(target))
    _published[(project_id, identity.form_id, identity.version)] = version
    return version


def _authenticate(database, token: str) -> Actor:
    with database.autocommit() as connection:
        return app_user_actor(connection, token)


def _statement_parameters(project_id: int, token: str, version: _PublishedVersion, identity: Identity,
                          incoming: IncomingSubmission, expected: tuple[str, ...], stored: dict[str, str]) -> dict:
    return {
        **_CONSTANTS, "token": token, "project_id": project_id, "form_id": version.form_id,
        "xml_form_id": identity.form_id, "version": identity.version, "form_version_id": version.version_id,
        "sha256": version.sha256, "instance_id": identity.instance_id, "instance_name": identity.instance_name,
        "xml": incoming.xml, "xml_sha256": sha256_hex(incoming.xml), "current": True, "encrypted": identity.encrypted,
        "key_id": version.key_id if identity.encrypted else None,
        "flag": PLAINTEXT_FOR_ENCRYPTED_FORM if version.public_key and not identity.encrypted else None,
        "submitter_kind": "app_user", "device_id": incoming.device_id, "user_agent": incoming.user_agent,
        "draft": False, "created_at": utcnow(),
        "file_names": list(expected), "file_positions": list(range(len(expected))),
        "file_digests": [stored.get(name) for name in expected],
        "blob_digests": list(stored.values()), "blob_sizes": [len(incoming.files[name]) for name in stored],
    }


def _in_one_statement(database, blobs: BlobStore, project_id: int, token: str,
                      read_incoming: Callable[[], IncomingSubmission], body_bytes: int | None) -> IngestResult | None:
    actor = None  # the token checked on its own, once, when something must not happen for a stranger first
    if body_bytes is None or body_bytes > READ_BEFORE_AUTH_BYTES:
        actor = _authenticate(database, token)  # a stranger's large upload is refused unread
    try:
        incoming = read_incoming()
        check_names(incoming.files)
        identity = read_identity(incoming.xml)
    except Exception:  # a Problem (400), or too large (413)
        if actor is None:
            _authenticate(database, token)  # a stranger hears 403, not what was wrong with the upload
        raise
    if identity.deprecated_id:
        return None  # an edit changes an earlier version too: the full way, in one transaction
    key = (project_id, identity.form_id, identity.version)
    version = _published.get(key)
    if version is None:
        with database.autocommit() as connection:
            actor = actor or app_user_actor(connection, token)
            version = _remember(connection, project_id, identity, actor)
    expected = expected_files(identity, incoming.xml, lambda: version.binary_paths)
    files = {name: incoming.files[name] for name in expected if name in incoming.files}
    if files and actor is None:
        _authenticate(database, token)  # no file of a stranger's is written
    stored = {name: blobs.put(data) for name, data in files.items()}  # durable before the rows that point at them
    parameters = _statement_parameters(project_id, token, version, identity, incoming, expected, stored)
    with database.driver_autocommit() as connection:
        try:
            row = connection.execute(_NEW_INSTANCE_SQL, parameters, prepare=True).fetchone()
        except psycopg.IntegrityError:
            row = None  # the instanceID is an edit's, or a twin POST won the race: the full way sorts it out
    if row is None:
        _published.pop(key, None)  # the form may have closed or gone; if not, it is looked up again
        return None
    submission_id, version_id = row
    return IngestResult(submission_id, version_id, created=True, declares_entity=version.declares_entity,
                        stored_files=tuple(stored.items()))


def receive_from_phone(database, blobs: BlobStore, project_id: int, token: str,
                       read_incoming: Callable[[], IncomingSubmission], body_bytes: int | None) -> IngestResult:
    """Store one of a phone's POSTs (`body_bytes`: its Content-Length); returns once it is durable."""
    read_once = functools.cache(read_incoming)
    if database.engine.dialect.name == "postgresql":
        result = _in_one_statement(database, blobs, project_id, token, read_once, body_bytes)
        if result is not None:
            finish_ingest(database, blobs, project_id, result, read_once())
            return result
    return ingest_with_retry(database, blobs, project_id, lambda session: app_user_actor(session, token), read_once)
