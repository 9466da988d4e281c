"""The export pipeline's I/O shell: stored submissions → plaintext → rows → a writer's bytes.

    export = prepare_export(database, blobs, project_id, "intake", ExportRequest("xlsx", labels=True),
                            KeyChain(keys), actor_id=user.id)
    for chunk in export.chunks(): ...            # an HTTP response body, or
    summary = write_export_file(export, Path("exports"))   # a file, renamed into place when complete

The layout comes from the merged schema of every published version of the
form, so old submissions keep their columns. Submissions stream from the
database in received order (a server-side cursor, `yield_per`), are read
through `decrypting.readable_submissions` one at a time, and go straight into
the writer: memory stays flat for CSV, XLSX and JSON Lines. A submission that
cannot be read (key locked, damaged ciphertext) becomes a row with its reason
in the Status column (and in problems.csv) instead of stopping the export.

Each export writes one audit event when it ends (completed or not) and one
`submission.decrypt` event with the number of submissions decrypted. Nothing
decrypted is written anywhere but the export itself. `read_form_submissions`
is the same read path for other data surfaces (OData).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from samen import audit
from samen.blobs import BlobStore
from samen.db import Database
from samen.decrypting import KeyChain, ReadableSubmission, readable_submissions, record_decryption
from samen.exports import WRITERS, ExportOptions, Writer, atomic_output
from samen.models import AppUser, Form, FormVersion, Submission, SubmissionVersion, User
from samen.problems import MalformedRequestError, NotFoundError
from samen.protect import Protection, protect_file
from samen.queries import get_form
from samen.retention import purge_expired_exports
from samen.rows import RowOptions, SubmissionMeta, SubmissionRows, TableLayout, submission_rows, table_layout
from samen.schema import FormSchema, merge_schemas, parse_form_schema

FETCH_BATCH = 200  # rows per round trip of the server-side cursor

# __system properties the database can filter and order on (OData $filter, the CSV export's $filter).
SYSTEM_COLUMNS: dict[tuple[str, ...], ColumnElement] = {
    ("__id",): Submission.instance_id,
    ("__system", "submissionDate"): Submission.created_at,
    ("__system", "updatedAt"): Submission.updated_at,
    ("__system", "submitterId"): cast(Submission.submitter_id, String),  # Central serves it as text
    ("__system", "reviewState"): Submission.review_state,
    ("__system", "deviceId"): Submission.device_id,
}


@dataclass(frozen=True)
class ExportRequest:
    """What to export and how. `since` is inclusive and `until` exclusive (both on the submission date)."""

    format: str = "csv"
    language: str | None = None
    labels: bool = False
    since: datetime | None = None
    until: datetime | None = None
    group_paths: bool = True
    split_select_multiples: bool = False
    removed_fields: bool = True
    with_media: bool = False
    condition: ColumnElement | None = None  # e.g. a $filter compiled with odata.filters.filter_sql(SYSTEM_COLUMNS)

    def __post_init__(self) -> None:
        if self.format not in WRITERS:
            raise MalformedRequestError(f"Unknown export format '{self.format}': use one of {', '.join(WRITERS)}.")


@dataclass(frozen=True, repr=False)
class FormSubmission:
    """One current submission as read for a data surface: plaintext (or why not) and its metadata."""

    readable: ReadableSubmission
    meta: SubmissionMeta
    submission_id: int
    updated_at: datetime | None

    @property
    def decrypted(self) -> bool:
        return self.readable.version.encrypted and self.readable.xml is not None

    def __repr__(self) -> str:
        return f"FormSubmission(instance_id={self.meta.instance_id!r}, status={self.meta.status!r})"


@dataclass
class ExportSummary:
    rows: int = 0
    problems: int = 0
    decrypted: int = 0
    path: Path | None = None
    seconds: float = 0.0
    completed: bool = False


def form_schema(session: Session, form: Form) -> FormSchema:
    """The merged schema of every published version of the form, oldest first."""
    versions = session.scalars(
        select(FormVersion.xml).where(FormVersion.form_id == form.id, FormVersion.published_at.is_not(None))
        .order_by(FormVersion.published_at, FormVersion.id)
    ).all()
    if not versions:
        raise NotFoundError(f"The form '{form.xml_form_id}' has no published version yet.")
    return merge_schemas(parse_form_schema(xml) for xml in versions)


def is_encrypted(session: Session, form: Form) -> bool:
    """Whether any published version of the form carries a public key."""
    return session.scalar(
        select(func.count()).select_from(FormVersion)
        .where(FormVersion.form_id == form.id, FormVersion.public_key.is_not(None))
    ) > 0


def submissions_condition(form: Form, since: datetime | None = None, until: datetime | None = None,
                          condition: ColumnElement | None = None) -> ColumnElement:
    """Current, not deleted versions of the form's real submissions (no draft's test submissions), within the
    dates and the condition."""
    parts = [SubmissionVersion.form_id == form.id, SubmissionVersion.current.is_(True), Submission.deleted_at.is_(None),
             Submission.draft.is_(False)]
    if since is not None:
        parts.append(Submission.created_at >= since)
    if until is not None:
        parts.append(Submission.created_at < until)
    if condition is not None:
        parts.append(condition)
    return and_(*parts)


def count_submissions(session: Session, where: ColumnElement) -> int:
    return session.scalar(
        select(func.count()).select_from(SubmissionVersion)
        .join(Submission, Submission.id == SubmissionVersion.submission_id).where(where)
    )


def read_form_submissions(session: Session, blobs: BlobStore, where: ColumnElement, keys: KeyChain, *,
                          order_by: tuple[ColumnElement, ...] = (), offset: int = 0, limit: int | None = None,
                          with_media: bool = False) -> Iterator[FormSubmission]:
    """Submissions matching `where`, in received order unless `order_by` says otherwise, read one at a time."""
    all_versions = aliased(SubmissionVersion)
    edits = (select(func.count(all_versions.id)).where(all_versions.submission_id == Submission.id)
             .correlate(Submission).scalar_subquery())
    query = (
        select(SubmissionVersion, Submission, FormVersion.version, AppUser.display_name, User.display_name, edits)
        .join(Submission, Submission.id == SubmissionVersion.submission_id)
        .join(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
        .outerjoin(AppUser, and_(Submission.submitter_kind == "app_user", AppUser.id == Submission.submitter_id))
        .outerjoin(User, and_(Submission.submitter_kind == "user", User.id == Submission.submitter_id))
        .where(where)
        .order_by(*order_by, Submission.id)
        .offset(offset or None)
        .limit(limit)
        .execution_options(yield_per=FETCH_BATCH)
    )
    pending: deque = deque()

    def versions() -> Iterator[SubmissionVersion]:
        for row in session.execute(query):
            pending.append(row)
            yield row[0]

    # readable_submissions is lazy, so `pending` never holds more than the row being read.
    for readable in readable_submissions(session, blobs, versions(), keys, with_media=with_media):
        version, submission, form_version, app_user_name, user_name, version_count = pending.popleft()
        meta = SubmissionMeta(
            instance_id=submission.instance_id,
            submission_date=submission.created_at,
            submitter_id=submission.submitter_id,
            submitter_name=app_user_name if submission.submitter_kind == "app_user" else user_name,
            attachments_present=readable.attachments_present,
            attachments_expected=readable.attachments_expected,
            status=readable.status,
            review_state=submission.review_state,
            device_id=submission.device_id,
            edits=version_count - 1,
            form_version=form_version,
        )
        yield FormSubmission(readable, meta, submission.id, submission.updated_at)


class FormExport:
    """A prepared export of one form: its layout is known, its bytes are made when `chunks()` runs."""

    def __init__(self, database: Database, blobs: BlobStore, form: Form, layout: TableLayout, request: ExportRequest,
                 keys: KeyChain, total: int, actor_id: int | None, purpose: str) -> None:
        self.database = database
        self.blobs = blobs
        self.form = form
        self.layout = layout
        self.request = request
        self.keys = keys
        self.total = total
        self.actor_id = actor_id
        self.purpose = purpose
        self.summary = ExportSummary()

    @property
    def writer(self) -> Writer:
        return WRITERS[self.request.format]

    @property
    def filename(self) -> str:
        return self.writer.filename(self.layout)

    @property
    def media_type(self) -> str:
        return self.writer.media_type(self.layout)

    def chunks(self, progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
        """The export's bytes; `progress(n)` is called after each submission. Records the audit at the end."""
        started = time.monotonic()
        options = ExportOptions(language=self.request.language, labels=self.request.labels)
        try:
            with self.database.session() as session:
                where = submissions_condition(self.form, self.request.since, self.request.until, self.request.condition)
                rows = self._rows(read_form_submissions(session, self.blobs, where, self.keys), progress)
                media = self._media(session, where) if self.request.with_media else ()
                yield from self.writer.iterate(self.layout, rows, options, media)
            self.summary.completed = True
        finally:
            self.summary.seconds = time.monotonic() - started
            self._record()

    def _rows(self, submissions: Iterator[FormSubmission],
              progress: Callable[[int], None] | None) -> Iterator[SubmissionRows]:
        for item in submissions:
            rows = submission_rows(self.layout, item.readable.xml, item.meta)
            self.summary.rows += 1
            self.summary.problems += rows.problem is not None
            self.summary.decrypted += item.decrypted
            if progress is not None:
                progress(1)
            yield rows

    def _media(self, session: Session, where: ColumnElement) -> Iterator[tuple[str, bytes]]:
        """A second pass for media: they go at the end of the zip, and holding them all would not scale."""
        for item in read_form_submissions(session, self.blobs, where, self.keys, with_media=True):
            yield from item.readable.media.items()

    def _record(self) -> None:
        with self.database.session() as session:
            audit.record(session, "submission.export", actor_id=self.actor_id, project_id=self.form.project_id,
                         xmlFormId=self.form.xml_form_id, format=self.request.format, rows=self.summary.rows,
                         problems=self.summary.problems, completed=self.summary.completed)
            record_decryption(session, actor_id=self.actor_id, project_id=self.form.project_id,
                              xml_form_id=self.form.xml_form_id, count=self.summary.decrypted, purpose=self.purpose)


def prepare_export(database: Database, blobs: BlobStore, project_id: int, xml_form_id: str, request: ExportRequest,
                   keys: KeyChain, *, actor_id: int | None, purpose: str = "export") -> FormExport:
    """Find the form and lay out its tables; raises NotFoundError before any byte is produced."""
    with database.session() as session:
        form = get_form(session, project_id, xml_form_id)
        options = RowOptions(request.group_paths, request.split_select_multiples, request.removed_fields)
        layout = table_layout(form_schema(session, form), options)
        total = count_submissions(session, submissions_condition(form, request.since, request.until, request.condition))
    return FormExport(database, blobs, form, layout, request, keys, total, actor_id, purpose)


def write_export_file(export: FormExport, directory: Path, progress: Callable[[int], None] | None = None,
                      now: datetime | None = None) -> ExportSummary:
    """Write the export into `directory` under a timestamped name; it appears only once complete."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    target = directory / f"{stamp}-{export.filename}"
    with atomic_output(target) as out:
        for chunk in export.chunks(progress):
            out.write(chunk)
    export.summary.path = target
    return export.summary


def write_kept_export(export: FormExport, directory: Path, protection: Protection, ttl_hours: float,
                      progress: Callable[[int], None] | None = None) -> ExportSummary:
    """An export file the server keeps for a while (CLI and console): protected when asked, and expired
    ones removed first, so decrypted data does not pile up in the folder."""
    purge_expired_exports(directory, ttl_hours)
    summary = write_export_file(export, directory, progress)
    summary.path = protect_file(summary.path, protection)
    return summary
