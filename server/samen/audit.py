"""The audit log: append-only and hash-chained, so an edit, a deletion or a reordering shows.

Each event's hash covers its content and the previous event's hash. Writers
take a lock so that two workers cannot both chain onto the same event.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from samen.models import AuditEvent, utcnow

GENESIS = "0" * 64
_ADVISORY_LOCK = 0x5A3E4  # any constant: PostgreSQL advisory lock for the chain head


def _event_hash(prev_hash: str, at: datetime, actor_id: int | None, action: str, project_id: int | None,
                details: dict[str, Any]) -> str:
    canonical = json.dumps(
        [prev_hash, at.isoformat(), actor_id, action, project_id, details],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(session: Session, action: str, *, actor_id: int | None = None, project_id: int | None = None,
           **details: Any) -> AuditEvent:
    """Append one event. Never pass secrets or decrypted content as details."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK})
    last = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    prev_hash = last or GENESIS
    at = utcnow()
    details = json.loads(json.dumps(details, default=str))  # what the JSON column will give back
    event = AuditEvent(
        at=at, actor_id=actor_id, action=action, project_id=project_id, details=details,
        prev_hash=prev_hash, hash=_event_hash(prev_hash, at, actor_id, action, project_id, details),
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def verify_chain(events: Iterable[AuditEvent]) -> ChainBreak | None:
    """The first event that does not fit the chain, or None when the log is intact."""
    prev_hash = GENESIS
    previous_id = 0
    for event in events:
        if event.prev_hash != prev_hash:
            return ChainBreak(event.id, "it does not follow the event before it (an event was deleted or moved)")
        expected = _event_hash(prev_hash, event.at, event.actor_id, event.action, event.project_id, event.details)
        if event.hash != expected:
            return ChainBreak(event.id, "its content was changed after it was written")
        if event.id <= previous_id:
            return ChainBreak(event.id, "it is out of order")
        prev_hash, previous_id = event.hash, event.id
    return None
