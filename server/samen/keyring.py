"""Project keys in storage: custodian slots, import, rotation and bounded unlocks.

The private key never rests unwrapped. A custodian's passphrase opens their
slot; a bounded unlock re-wraps the key under a secret derived from the
caller's own session token, of which the database keeps only a hash — so a
database dump taken during an unlock holds nothing that opens the key.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from samen import audit
from samen.crypto.keys import (
    RsaPrivateKey,
    WrappedKey,
    generate_private_key,
    public_key_base64,
    unwrap_private_key,
    unwrap_with_secret,
    wrap_private_key,
    wrap_with_secret,
)
from samen.models import KeySlot, KeyUnlock, Project, ProjectKey, utcnow
from samen.problems import AlreadyExistsError, InvalidFormError, KeyLockedError, NotFoundError, WrongPassphraseError

_UNLOCK_SECRET_CONTEXT = b"samen-forms key unlock v1"


def unlock_secret(session_token: str) -> bytes:
    """The 32-byte secret an unlock is wrapped under; only the holder of the token can derive it."""
    return hmac.new(session_token.encode("utf-8"), _UNLOCK_SECRET_CONTEXT, hashlib.sha256).digest()


def project_keys(session: Session, project_id: int) -> list[ProjectKey]:
    return list(session.scalars(select(ProjectKey).where(ProjectKey.project_id == project_id).order_by(ProjectKey.id)))


def _store_key(session: Session, project: Project, private_key: RsaPrivateKey, passphrase: str, custodian: str,
               hint: str | None, source: str, user_id: int | None) -> ProjectKey:
    key = ProjectKey(project_id=project.id, public_key=public_key_base64(private_key.public_key()), hint=hint, source=source)
    session.add(key)
    session.flush()
    session.add(KeySlot(key_id=key.id, custodian=custodian, user_id=user_id,
                        wrapped=wrap_private_key(private_key, passphrase).to_dict()))
    session.flush()
    return key


def create_key(session: Session, project: Project, passphrase: str, *, custodian: str, hint: str | None = None,
               user_id: int | None = None, private_key: RsaPrivateKey | None = None, source: str = "generated") -> ProjectKey:
    """Turn on encryption for a project (Central: `POST /projects/{id}/key`); 409 if it is on already."""
    if any(k.retired_at is None for k in project_keys(session, project.id)):
        raise AlreadyExistsError("This project already has a key. Rotate it to make a new one.")
    key = _store_key(session, project, private_key or generate_private_key(), passphrase, custodian, hint, source, user_id)
    audit.record(session, "key.create", actor_id=user_id, project_id=project.id, keyId=key.id, source=source)
    return key


def rotate_key(session: Session, project: Project, passphrase: str, *, custodian: str, hint: str | None = None,
               user_id: int | None = None) -> ProjectKey:
    """A new key for forms published from now on; the old one is retired but still opens old data."""
    now = utcnow()
    for key in project_keys(session, project.id):
        if key.retired_at is None:
            key.retired_at = now
    key = _store_key(session, project, generate_private_key(), passphrase, custodian, hint, "generated", user_id)
    audit.record(session, "key.rotate", actor_id=user_id, project_id=project.id, keyId=key.id)
    return key


def unlock_with_passphrase(session: Session, project_id: int, passphrase: str) -> dict[int, RsaPrivateKey]:
    """Every key of the project this passphrase opens (a custodian may hold slots on several)."""
    opened: dict[int, RsaPrivateKey] = {}
    for key in project_keys(session, project_id):
        for slot in session.scalars(select(KeySlot).where(KeySlot.key_id == key.id)):
            try:
                opened[key.id] = unwrap_private_key(WrappedKey.from_dict(slot.wrapped), passphrase)
                break
            except WrongPassphraseError:
                continue
    if not opened:
        if not project_keys(session, project_id):
            raise NotFoundError("This project has no key: its forms are not encrypted.")
        raise WrongPassphraseError()
    return opened


def add_custodian(session: Session, key: ProjectKey, private_key: RsaPrivateKey, passphrase: str, custodian: str,
                  user_id: int | None = None, actor_id: int | None = None) -> KeySlot:
    """Another passphrase for the same key; nothing is re-encrypted."""
    if public_key_base64(private_key.public_key()) != key.public_key:
        raise WrongPassphraseError("The unlocked key is not this project key.")
    slot = KeySlot(key_id=key.id, custodian=custodian, user_id=user_id, wrapped=wrap_private_key(private_key, passphrase).to_dict())
    session.add(slot)
    session.flush()
    audit.record(session, "key.custodian.add", actor_id=actor_id, project_id=key.project_id, keyId=key.id, custodian=custodian)
    return slot


def remove_custodian(session: Session, slot_id: int, actor_id: int | None = None) -> None:
    slot = session.get(KeySlot, slot_id)
    if slot is None:
        raise NotFoundError("There is no custodian slot with that id.")
    remaining = session.scalars(select(KeySlot.id).where(KeySlot.key_id == slot.key_id)).all()
    if len(remaining) <= 1:
        raise InvalidFormError("This is the key's last custodian: removing it would make the data unreadable forever.")
    key = session.get(ProjectKey, slot.key_id)
    session.delete(slot)
    audit.record(session, "key.custodian.remove", actor_id=actor_id, project_id=key.project_id, keyId=key.id,
                 custodian=slot.custodian)


def custodians(session: Session, key_id: int) -> list[KeySlot]:
    return list(session.scalars(select(KeySlot).where(KeySlot.key_id == key_id).order_by(KeySlot.id)))


def start_unlock(session: Session, project_id: int, keys: dict[int, RsaPrivateKey], session_token: str,
                 minutes: float, user_id: int | None) -> None:
    """Keep the opened keys usable by this session token only, until it locks or the time runs out."""
    holder = hashlib.sha256(session_token.encode("utf-8")).hexdigest()
    secret = unlock_secret(session_token)
    expires = utcnow() + timedelta(minutes=minutes)
    session.execute(delete(KeyUnlock).where(KeyUnlock.holder_sha256 == holder, KeyUnlock.key_id.in_(list(keys))))
    for key_id, private_key in keys.items():
        session.add(KeyUnlock(key_id=key_id, holder_sha256=holder, user_id=user_id,
                              wrapped=wrap_with_secret(private_key, secret), expires_at=expires))
    audit.record(session, "key.unlock", actor_id=user_id, project_id=project_id, keyIds=sorted(keys),
                 expiresAt=expires.isoformat())


def unlocked_keys(session: Session, project_id: int, session_token: str) -> dict[int, RsaPrivateKey]:
    """The keys this session has unlocked and that have not expired; expired unlocks are deleted."""
    holder = hashlib.sha256(session_token.encode("utf-8")).hexdigest()
    session.execute(delete(KeyUnlock).where(KeyUnlock.expires_at <= utcnow()))
    rows = session.execute(
        select(KeyUnlock).join(ProjectKey, ProjectKey.id == KeyUnlock.key_id)
        .where(KeyUnlock.holder_sha256 == holder, ProjectKey.project_id == project_id)
    ).scalars()
    secret = unlock_secret(session_token)
    return {row.key_id: unwrap_with_secret(row.wrapped, secret) for row in rows}


def unlock_expiry(session: Session, project_id: int, session_token: str):
    holder = hashlib.sha256(session_token.encode("utf-8")).hexdigest()
    return session.scalar(
        select(KeyUnlock.expires_at).join(ProjectKey, ProjectKey.id == KeyUnlock.key_id)
        .where(KeyUnlock.holder_sha256 == holder, ProjectKey.project_id == project_id, KeyUnlock.expires_at > utcnow())
        .order_by(KeyUnlock.expires_at).limit(1)
    )


def lock(session: Session, project_id: int, session_token: str, user_id: int | None) -> None:
    holder = hashlib.sha256(session_token.encode("utf-8")).hexdigest()
    key_ids = [k.id for k in project_keys(session, project_id)]
    session.execute(delete(KeyUnlock).where(KeyUnlock.holder_sha256 == holder, KeyUnlock.key_id.in_(key_ids)))
    audit.record(session, "key.lock", actor_id=user_id, project_id=project_id)


def require_keys(keys: dict[int, RsaPrivateKey], needed: set[int]) -> None:
    if not needed.issubset(keys):
        raise KeyLockedError()
