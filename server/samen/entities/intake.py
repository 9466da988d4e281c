"""Submissions become entity creates and updates: plaintext at once, encrypted ones when a key is unlocked.

Entity work runs after the submission is committed, in its own transaction:
whatever goes wrong here, the phone has its 201 and the submission is safe.
An encrypted submission waits in `pending_entity_submissions` until a
custodian's unlock (or `samen entities process`) supplies the key; its
plaintext is read through `samen.decrypting` and lives only in memory.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from samen import audit
from samen.blobs import BlobStore
from samen.decrypting import KeyChain, read_submission, record_decryption
from samen.entities.actions import EntityActionError, entity_action
from samen.entities.lists import EntityPlan, dataset_properties, entity_plan, find_dataset
from samen.entities.store import Creator, create_entity, find_entity, update_entity
from samen.keyring import unlocked_keys
from samen.models import Form, FormVersion, PendingEntitySubmission, Submission, SubmissionVersion
from samen.problems import Problem

log = logging.getLogger(__name__)

# Two phones updating the same participant at once: one transaction loses the race and runs again.
_RACE_ATTEMPTS = 3


@dataclass(frozen=True)
class QueueResult:
    applied: int  # submissions whose entity changes were processed (including ones recorded as errors)
    waiting: int  # still pending: their key is not among the ones given, or a file has not arrived


def apply_after_ingest(database, blobs: BlobStore, project_id: int, submission_version_id: int) -> None:
    """The ingest hook: apply a plaintext submission's entity change, or queue an encrypted one. Never raises."""
    for attempt in range(_RACE_ATTEMPTS):
        try:
            with database.session() as session:
                version = session.get(SubmissionVersion, submission_version_id)
                plan = entity_plan(session.get(FormVersion, version.form_version_id))
                if plan is None:
                    return
                if version.encrypted:
                    session.add(PendingEntitySubmission(submission_version_id=version.id, project_id=project_id))
                    return
                _apply(session, project_id, plan, version, version.xml)
                return
        except (IntegrityError, OperationalError):
            if attempt == _RACE_ATTEMPTS - 1:
                log.error("entity processing for submission version %s failed after %s attempts",
                          submission_version_id, _RACE_ATTEMPTS)
        except Exception as error:  # the submission is committed; an entity failure must not turn into a 500
            # Type only: a message could quote submission content.
            log.error("entity processing for submission version %s failed: %s", submission_version_id,
                      type(error).__name__)
            return


def pending_count(session: Session, project_id: int) -> int:
    return session.scalar(select(func.count()).select_from(PendingEntitySubmission)
                          .where(PendingEntitySubmission.project_id == project_id))


def process_pending(database, blobs: BlobStore, project_id: int, keys: KeyChain, *,
                    actor_id: int | None) -> QueueResult:
    """Apply every queued submission these keys open, oldest first, in one transaction."""
    applied = waiting = 0
    decrypted: Counter[str] = Counter()
    with database.session() as session:
        queued = session.scalars(select(PendingEntitySubmission.submission_version_id)
                                 .where(PendingEntitySubmission.project_id == project_id)
                                 .order_by(PendingEntitySubmission.created_at, PendingEntitySubmission.submission_version_id)).all()
        for version_id in queued:
            version = session.get(SubmissionVersion, version_id)
            readable = read_submission(session, blobs, version, keys)
            if readable.xml is None:
                waiting += 1  # key not given, or the encrypted XML has not arrived yet: try again later
                continue
            # Deleting the row claims it: a concurrent run (CLI and unlock) blocks here, then finds nothing.
            claimed = session.execute(delete(PendingEntitySubmission).where(
                PendingEntitySubmission.submission_version_id == version_id)).rowcount
            if not claimed:
                continue
            plan = entity_plan(session.get(FormVersion, version.form_version_id))
            _apply(session, project_id, plan, version, readable.xml)
            decrypted[session.get(Form, version.form_id).xml_form_id] += 1
            applied += 1
        for xml_form_id, count in decrypted.items():
            record_decryption(session, actor_id=actor_id, project_id=project_id, xml_form_id=xml_form_id,
                              count=count, purpose="entities")
    return QueueResult(applied=applied, waiting=waiting)


def process_for_session(database, blobs: BlobStore, project_id: int, session_token: str, *,
                        actor_id: int | None) -> QueueResult | None:
    """Drain the queue with the keys this session has unlocked; None when it holds no unlock.

    Call after an unlock commits, and on requests of a session that holds one
    (e.g. a submission sent through the API while unlocked).
    """
    with database.session() as session:
        if not pending_count(session, project_id):
            return None
        keys = unlocked_keys(session, project_id, session_token)
    if not keys:
        return None
    return process_pending(database, blobs, project_id, KeyChain(keys.values()), actor_id=actor_id)


def process_after_unlock(database, blobs: BlobStore, project_id: int, keys: KeyChain, *,
                         actor_id: int | None) -> QueueResult | None:
    """The unlock hook (and the API's submission create while unlocked): never raises, the unlock stands."""
    try:
        return process_pending(database, blobs, project_id, keys, actor_id=actor_id)
    except Exception as error:
        log.error("entity queue of project %s not processed: %s", project_id, type(error).__name__)
        return None


def _apply(session: Session, project_id: int, plan: EntityPlan, version: SubmissionVersion, xml: bytes) -> None:
    """One submission's entity change, in a savepoint: a failure is recorded, the rest of the batch goes on."""
    try:
        with session.begin_nested():
            _apply_action(session, project_id, plan, version, xml)
    except (EntityActionError, Problem) as error:
        message = error.message if isinstance(error, Problem) else str(error)
        audit.record(session, "entity.error", project_id=project_id, instanceId=version.instance_id,
                     submissionVersionId=version.id, reason=message)


def _apply_action(session: Session, project_id: int, plan: EntityPlan, version: SubmissionVersion, xml: bytes) -> None:
    dataset = find_dataset(session, project_id, plan.declaration.dataset)
    if dataset is None:
        raise EntityActionError(f"The entity list '{plan.declaration.dataset}' does not exist.")
    allowed = plan.allowed_properties & {p.name for p in dataset_properties(session, dataset.id)}
    action = entity_action(xml, plan.declaration, set(allowed))
    if action is None:
        return
    submission = session.get(Submission, version.submission_id)
    creator = Creator(version.submitter_id, submission.submitter_kind, version.user_agent)
    entity = find_entity(session, dataset, action.uuid, for_update=True)
    details = dict(project_id=project_id, actor_id=version.submitter_id, datasetName=dataset.name,
                   uuid=action.uuid, instanceId=version.instance_id)
    if action.update and entity is not None and entity.deleted_at is None:
        update_entity(session, entity, label=action.label, data=action.data, base_version=action.base_version,
                      creator=creator, record_conflict=True, submission_version_id=version.id)
        audit.record(session, "entity.update.version", version=entity.version, conflict=entity.conflict, **details)
    elif action.create and entity is None:
        create_entity(session, dataset, uuid=action.uuid, label=action.label, data=action.data, creator=creator,
                      submission_version_id=version.id)
        audit.record(session, "entity.create", **details)
    elif entity is not None:
        raise EntityActionError(f"Entity {action.uuid} already exists{' and was deleted' if entity.deleted_at else ''}; "
                                "the submission does not update it.")
    else:
        raise EntityActionError(f"Entity {action.uuid} does not exist, so it cannot be updated.")
