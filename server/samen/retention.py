"""Retention: data kept no longer than its form's period, then deleted for good.

`run_retention` deletes every submission received before its form's cut-off
(`Form.retention_days`, else the project's `Project.retention_days`; neither
set means keep): the envelope or instance XML of every version, attachment
rows, comments, the entity-list entries the submission created, and every
blob no submission or form references any more. The same deletion primitives
serve erasure by pseudonym (`samen.erasure`) and the end of a draft's testing
(`samen.publishing`), whose test submissions the periods here do not apply to.

Database rows go in one transaction; blob files are unlinked only after it
commits (a rollback must never leave rows pointing at missing files), and
only if no row has claimed the digest again in the meantime.

Export files the server wrote (`<stamp>-<name>` in the export folder) expire
too: `purge_expired_exports`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from samen import audit
from samen.blobs import BlobStore
from samen.db import Database
from samen.models import (
    Blob,
    Comment,
    Entity,
    EntityConflict,
    EntityVersion,
    Form,
    FormAttachment,
    FormVersion,
    PendingEntitySubmission,
    Project,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
    utcnow,
)

_BATCH = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


def _batches(ids: Sequence) -> Iterator[list]:
    for start in range(0, len(ids), _BATCH):
        yield list(ids[start:start + _BATCH])


@dataclass
class PurgedRows:
    """What one permanent deletion removed from the database; `blob_digests` are candidates for unlinking."""

    submissions: int = 0
    entities: int = 0
    blob_digests: set[str] = field(default_factory=set)


def purge_entities(session: Session, entity_ids: Iterable[int]) -> int:
    """Delete entities with their whole history and conflicts (no tombstone: the label is the participant code).

    Phones drop them at their next list download: the list's change token
    moves because the entity count does.
    """
    ids = sorted(set(entity_ids))
    for batch in _batches(ids):
        session.execute(delete(EntityConflict).where(EntityConflict.entity_id.in_(batch)))
        session.execute(delete(EntityVersion).where(EntityVersion.entity_id.in_(batch)))
        session.execute(delete(Entity).where(Entity.id.in_(batch)))
    return len(ids)


def entities_created_by(session: Session, version_ids: Sequence[int]) -> set[int]:
    """Entities whose first version came from one of these submission versions: derived data of them."""
    found: set[int] = set()
    for batch in _batches(version_ids):
        found.update(session.scalars(select(EntityVersion.entity_id).where(
            EntityVersion.version == 1, EntityVersion.submission_version_id.in_(batch))))
    return found


def purge_submissions(session: Session, submission_ids: Iterable[int],
                      entity_ids: Iterable[int] = ()) -> PurgedRows:
    """Delete submissions for good: every version, attachment row, comment, and the entities they created.

    `entity_ids` adds entities found another way (erasure matches labels too).
    Later entity versions written by these submissions stay with their entity,
    unlinked: they hold only list properties, which the entity lint keeps free
    of identifiers.
    """
    ids = sorted(set(submission_ids))
    version_ids: list[int] = []
    for batch in _batches(ids):
        version_ids += session.scalars(select(SubmissionVersion.id).where(SubmissionVersion.submission_id.in_(batch)))
    purged = PurgedRows(submissions=len(ids))
    for batch in _batches(version_ids):
        purged.blob_digests.update(session.scalars(select(SubmissionAttachment.blob_sha256).where(
            SubmissionAttachment.submission_version_id.in_(batch), SubmissionAttachment.blob_sha256.is_not(None))))
    purged.entities = purge_entities(session, entities_created_by(session, version_ids) | set(entity_ids))
    for batch in _batches(version_ids):
        session.execute(delete(PendingEntitySubmission).where(PendingEntitySubmission.submission_version_id.in_(batch)))
        session.execute(update(EntityVersion).where(EntityVersion.submission_version_id.in_(batch))
                        .values(submission_version_id=None))
        session.execute(delete(SubmissionAttachment).where(SubmissionAttachment.submission_version_id.in_(batch)))
        session.execute(delete(SubmissionVersion).where(SubmissionVersion.id.in_(batch)))
    for batch in _batches(ids):
        session.execute(delete(Comment).where(Comment.submission_id.in_(batch)))
        session.execute(delete(Submission).where(Submission.id.in_(batch)))
    return purged


def drop_unreferenced_blobs(session: Session, digests: Iterable[str]) -> set[str]:
    """Delete the rows of those blobs no submission, form attachment or XLSForm still uses; return their digests."""
    candidates = sorted(set(digests))
    used: set[str] = set()
    for batch in _batches(candidates):
        for column in (SubmissionAttachment.blob_sha256, FormAttachment.blob_sha256, FormVersion.xlsform_blob_sha256):
            used.update(session.scalars(select(column).where(column.in_(batch)).distinct()))
    unused = [digest for digest in candidates if digest not in used]
    for batch in _batches(unused):
        session.execute(delete(Blob).where(Blob.sha256.in_(batch)))
    return set(unused)


def remove_blob_files(database: Database, blobs: BlobStore, digests: Iterable[str]) -> int:
    """Unlink the files of dropped blobs, after the deletion committed; skip any a new upload has claimed again."""
    with database.session() as session:
        return _remove_unclaimed_files(session, blobs, digests)


def _remove_unclaimed_files(session: Session, blobs: BlobStore, digests: Iterable[str]) -> int:
    digests = sorted(set(digests))
    started = time.time()  # a file put again after this is wanted by an upload still in flight
    removed = 0
    for batch in _batches(digests):
        claimed = set(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(batch))))
        for digest in batch:
            if digest not in claimed and blobs.delete_if_untouched_since(digest, started):
                removed += 1
    return removed


_FILES_AFTER_COMMIT = "samen.retention.files_after_commit"


def remove_blob_files_after_commit(session: Session, blobs: BlobStore, digests: Iterable[str]) -> None:
    """`remove_blob_files` for a deletion inside someone else's transaction (publishing a draft deletes its
    test submissions): the files go once the session commits, and stay if it rolls back."""
    pending = session.info.get(_FILES_AFTER_COMMIT)
    if pending is None:
        pending = session.info[_FILES_AFTER_COMMIT] = set()
        event.listen(session, "after_commit", lambda committed: _remove_pending_files(committed, blobs))
        event.listen(session, "after_rollback", lambda rolled_back: rolled_back.info[_FILES_AFTER_COMMIT].clear())
    pending.update(digests)


def _remove_pending_files(session: Session, blobs: BlobStore) -> None:
    pending = session.info[_FILES_AFTER_COMMIT]
    digests = set(pending)
    pending.clear()
    if digests:
        with Session(session.get_bind()) as fresh:  # the committed session may not run SQL any more
            _remove_unclaimed_files(fresh, blobs, digests)


def form_retention_days(form: Form, project: Project) -> int | None:
    """The form's own period, else the project's; None keeps the data."""
    return form.retention_days if form.retention_days is not None else project.retention_days


@dataclass(frozen=True)
class FormRetention:
    project_id: int
    xml_form_id: str
    retention_days: int
    cutoff: datetime
    submissions: int
    entities: int


@dataclass(frozen=True)
class RetentionReport:
    forms: tuple[FormRetention, ...]
    blobs: int  # blob files deleted (or, in a dry run, that would be)
    dry_run: bool

    @property
    def submissions(self) -> int:
        return sum(form.submissions for form in self.forms)


def _expired_submission_ids(session: Session, form: Form, cutoff: datetime) -> list[int]:
    # A draft's test submissions are not data the period applies to: they go with their draft.
    return list(session.scalars(select(Submission.id).where(Submission.form_id == form.id, Submission.draft.is_(False),
                                                            Submission.created_at < cutoff).order_by(Submission.id)))


def _purge_expired(session: Session, now: datetime) -> tuple[list[FormRetention], set[str]]:
    forms = session.execute(select(Form, Project).join(Project, Project.id == Form.project_id).order_by(Form.id)).all()
    results: list[FormRetention] = []
    digests: set[str] = set()
    for form, project in forms:
        days = form_retention_days(form, project)
        if days is None:
            continue
        cutoff = now - timedelta(days=days)
        purged = purge_submissions(session, _expired_submission_ids(session, form, cutoff))
        digests |= purged.blob_digests
        results.append(FormRetention(project.id, form.xml_form_id, days, cutoff, purged.submissions, purged.entities))
    return results, drop_unreferenced_blobs(session, digests)


def run_retention(database: Database, blobs: BlobStore, *, dry_run: bool = False, now: datetime | None = None,
                  actor_id: int | None = None) -> RetentionReport:
    """Delete what has outlived its retention period; a dry run counts exactly the same and keeps everything.

    Every run, dry or not, writes one `retention.run` audit event.
    """
    now = now or utcnow()
    session = database.sessions()
    try:
        forms, dropped = _purge_expired(session, now)
        if dry_run:
            session.rollback()  # the same deletion, undone: the counts are exact, not estimated
        else:
            _record(session, forms, len(dropped), dry_run, actor_id)
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    if dry_run:
        blob_count = sum(1 for digest in dropped if blobs.exists(digest))
        with database.session() as session:
            _record(session, forms, blob_count, dry_run, actor_id)
    else:
        blob_count = remove_blob_files(database, blobs, dropped)
    return RetentionReport(tuple(forms), blob_count, dry_run)


def _record(session: Session, forms: list[FormRetention], blob_count: int, dry_run: bool, actor_id: int | None) -> None:
    audit.record(session, "retention.run", actor_id=actor_id, dryRun=dry_run, blobs=blob_count, forms=[
        {"projectId": f.project_id, "xmlFormId": f.xml_form_id, "retentionDays": f.retention_days,
         "cutoff": f.cutoff.isoformat(), "submissions": f.submissions, "entities": f.entities} for f in forms])


# write_export_file names files `<UTC stamp>-<name>`; atomic_output's unfinished ones are `.<that>.<random>.part`.
_EXPORT_FILE = re.compile(r"^\.?\d{8}T\d{6}Z-")


def purge_expired_exports(directory: Path, ttl_hours: float, *, now: float | None = None) -> list[Path]:
    """Delete export files the server wrote more than `ttl_hours` ago; other files in the folder are left alone."""
    if not directory.is_dir():
        return []
    limit = (time.time() if now is None else now) - ttl_hours * 3600
    removed = []
    for path in sorted(directory.iterdir()):
        if path.is_file() and _EXPORT_FILE.match(path.name) and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
