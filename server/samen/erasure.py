"""Erasure by pseudonym: a participant withdraws, and everything linked to their code is deleted for good.

The participant code is the only key that links a participant's forms
(`samen.participant_code`), so erasure reads every submission of the project
— decrypting encrypted ones in memory, with keys a custodian unlocked —
and deletes each submission whose code field carries the code, plus the
entity-list entries with that code as label or created by those submissions.

Nothing here stores the code: the audit event and the receipt carry a keyed
hash of it (HMAC-SHA256 under the server secret), which the data protection
officer can match against a code the participant shows, and nobody can turn
back into a code without the secret. Running it again finds nothing and
deletes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from samen import audit
from samen.blobs import BlobStore
from samen.config import Settings
from samen.db import Database
from samen.decrypting import KEY_LOCKED, KeyChain, readable_submissions, record_decryption
from samen.models import Dataset, Entity, Form, Submission, SubmissionVersion, utcnow
from samen.participant_code import normalise_code, normalise_self_code
from samen.problems import InvalidXmlError, KeyLockedError, MalformedRequestError, Problem
from samen.queries import get_project
from samen.retention import drop_unreferenced_blobs, entities_created_by, purge_submissions, remove_blob_files
from samen.safexml import local_name, parse_xml

# The one list of fields that carry a participant's code, across the form set (xlsform_src/):
# intake draws `participant_code` on the phone; pre/post and referral follow-up copy it (typed, or from the
# participants list); professionals' pre/post forms carry their self-generated `self_code`.
PARTICIPANT_CODE_FIELDS: dict[str, Callable[[str], str]] = {
    "participant_code": normalise_code,
    "self_code": normalise_self_code,
    "self_code_normalised": normalise_self_code,
}

_HASH_CONTEXT = b"samen-forms participant erasure v1|"


class ServerSecretMissingError(Problem):
    """No server secret to key the code's hash with."""

    default_message = "There is no server secret: run `samen init` (it writes secret.key) or set SAMEN_SECRET_KEY."


def server_secret(settings: Settings) -> bytes:
    """settings.secret_key, else the data folder's secret.key that `samen init` wrote."""
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    path = settings.data_dir / "secret.key"
    if path.is_file():
        return path.read_text().strip().encode("utf-8")
    raise ServerSecretMissingError()


def code_digest(secret: bytes, code: str) -> str:
    """The keyed hash that stands for a code in the audit log and on the receipt."""
    return hmac.new(secret, _HASH_CONTEXT + normalise_code(code).encode("utf-8"), hashlib.sha256).hexdigest()


def carries_code(instance_xml: bytes, code: str) -> bool:
    """Whether any participant-code field of a submission holds this code (each field compared in its own normal form)."""
    for element in parse_xml(instance_xml).iter():
        if not isinstance(element.tag, str):
            continue
        normalise = PARTICIPANT_CODE_FIELDS.get(local_name(element))
        if normalise is not None and element.text and normalise(element.text) == normalise(code):
            return True
    return False


@dataclass
class ErasurePlan:
    """What erasure finds for one code; ids only, never content."""

    project_id: int
    submissions: dict[str, list[int]] = field(default_factory=dict)  # xmlFormId -> submission ids
    entities: dict[str, list[int]] = field(default_factory=dict)  # entity list name -> entity ids
    locked: Counter[str] = field(default_factory=Counter)  # xmlFormId -> submissions whose key is not unlocked
    unreadable: Counter[str] = field(default_factory=Counter)  # xmlFormId -> submissions that cannot be decrypted
    decrypted: Counter[str] = field(default_factory=Counter)

    @property
    def submission_count(self) -> int:
        return sum(len(ids) for ids in self.submissions.values())

    @property
    def entity_count(self) -> int:
        return sum(len(ids) for ids in self.entities.values())

    def summary(self) -> dict:
        return {"submissions": {form: len(ids) for form, ids in self.submissions.items()},
                "entities": {name: len(ids) for name, ids in self.entities.items()},
                "locked": dict(self.locked), "unreadable": dict(self.unreadable)}


def find_participant(session: Session, blobs: BlobStore, project_id: int, code: str, keys: KeyChain) -> ErasurePlan:
    """Every submission (any version) and entity of the project linked to the code.

    A draft's test submissions are not searched: they are deleted with their draft."""
    get_project(session, project_id)
    plan = ErasurePlan(project_id)
    forms = dict(session.execute(select(Form.id, Form.xml_form_id).where(Form.project_id == project_id)).all())
    versions = session.scalars(
        select(SubmissionVersion).join(Submission, Submission.id == SubmissionVersion.submission_id)
        .where(SubmissionVersion.form_id.in_(list(forms)), Submission.draft.is_(False))
        .order_by(SubmissionVersion.id).execution_options(yield_per=200))
    matched: dict[str, set[int]] = {}
    matched_versions: list[int] = []
    for readable in readable_submissions(session, blobs, versions, keys):
        version = readable.version
        xml_form_id = forms[version.form_id]
        if readable.xml is None:
            (plan.locked if readable.status == KEY_LOCKED else plan.unreadable)[xml_form_id] += 1
            continue
        plan.decrypted[xml_form_id] += version.encrypted
        try:
            found = carries_code(readable.xml, code)
        except InvalidXmlError:
            plan.unreadable[xml_form_id] += 1
            continue
        if found:
            matched.setdefault(xml_form_id, set()).add(version.submission_id)
            matched_versions.append(version.id)
    plan.submissions = {form: sorted(ids) for form, ids in sorted(matched.items())}
    plan.entities = _linked_entities(session, project_id, code, entities_created_by(session, matched_versions))
    return plan


def _linked_entities(session: Session, project_id: int, code: str, created: set[int]) -> dict[str, list[int]]:
    """Entities labelled with the code (the participants list is labelled by code) or created by its submissions."""
    wanted = normalise_code(code)
    found: dict[str, list[int]] = {}
    rows = session.execute(select(Dataset.name, Entity.id, Entity.label).join(Entity, Entity.dataset_id == Dataset.id)
                           .where(Dataset.project_id == project_id).order_by(Entity.id))
    for name, entity_id, label in rows:
        if entity_id in created or normalise_code(label) == wanted:
            found.setdefault(name, []).append(entity_id)
    return found


@dataclass(frozen=True)
class ErasureOutcome:
    plan: ErasurePlan
    performed: bool
    at: datetime
    reference: str  # the start of the code's keyed hash: matches the audit event
    entities_deleted: int = 0
    files_deleted: int = 0


def erase_participant(database: Database, blobs: BlobStore, project_id: int, code: str, keys: KeyChain, *,
                      secret: bytes, actor_id: int | None, confirm: bool) -> ErasureOutcome:
    """Preview (confirm=False) or delete (confirm=True) everything linked to the code.

    Deletion is refused while any encrypted submission's key is locked: the
    code could be in it, and an erasure that silently skips data is worse
    than none.
    """
    if not normalise_code(code):
        raise MalformedRequestError("Give the participant's code.", field="code")
    digest = code_digest(secret, code)
    with database.session() as session:
        plan = find_participant(session, blobs, project_id, code, keys)
        for xml_form_id, count in plan.decrypted.items():
            record_decryption(session, actor_id=actor_id, project_id=project_id, xml_form_id=xml_form_id,
                              count=count, purpose="erasure")
        if not confirm:
            audit.record(session, "participant.erase.preview", actor_id=actor_id, project_id=project_id,
                         codeHmac=digest, **plan.summary())
            return ErasureOutcome(plan, False, utcnow(), digest[:12])
        if plan.locked:
            raise KeyLockedError(
                f"{sum(plan.locked.values())} encrypted submission(s) could not be searched because the project key "
                "is locked. Unlock it (give a custodian's passphrase) and erase again.")
        submission_ids = [i for ids in plan.submissions.values() for i in ids]
        entity_ids = [i for ids in plan.entities.values() for i in ids]
        purged = purge_submissions(session, submission_ids, entity_ids)
        dropped = drop_unreferenced_blobs(session, purged.blob_digests)
        at = utcnow()
        audit.record(session, "participant.erase", actor_id=actor_id, project_id=project_id, codeHmac=digest,
                     entitiesDeleted=purged.entities, **plan.summary())
    files = remove_blob_files(database, blobs, dropped)
    return ErasureOutcome(plan, True, at, digest[:12], purged.entities, files)


def receipt_text(outcome: ErasureOutcome, project_name: str) -> str:
    """A short receipt staff can print or read out: what was deleted, how much, when; never the code."""
    plan = outcome.plan
    lines = ["SAMEN — erasure receipt" if outcome.performed else "SAMEN — erasure preview (nothing deleted yet)",
             f"Project: {project_name}",
             f"Date: {outcome.at.strftime('%Y-%m-%d %H:%M UTC')}",
             f"Reference: {outcome.reference}"]
    verb = "Deleted permanently" if outcome.performed else "Will be deleted"
    if not plan.submissions and not plan.entities:
        lines.append("No data linked to this code was found.")
    for xml_form_id, ids in plan.submissions.items():
        lines.append(f"{verb}: {len(ids)} form(s) '{xml_form_id}'")
    for name, ids in plan.entities.items():
        lines.append(f"{verb}: {len(ids)} entry(ies) in the list '{name}'")
    if plan.locked:
        lines.append(f"Not searched (key locked): {sum(plan.locked.values())} encrypted form(s)")
    if plan.unreadable:
        lines.append(f"Could not be read, so not searched: {sum(plan.unreadable.values())} form(s)")
    if outcome.performed:
        lines.append("The data cannot be restored. The reference lets the data protection officer find this "
                     "erasure in the audit log without storing your code.")
    return "\n".join(lines)
