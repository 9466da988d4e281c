"""Unlocking a project key for a session: the one path the API and the console share.

A custodian's passphrase opens the key; the unlock is bound to the caller's
session token; wrong passphrases are counted like failed logins (Argon2id
alone makes guessing slow, the count makes it stop); and entity changes that
waited for this key are applied as soon as it opens.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from samen import keyring
from samen.auth import check_attempts, record_failed_attempt
from samen.blobs import BlobStore
from samen.crypto.keys import RsaPrivateKey
from samen.decrypting import KeyChain
from samen.entities import intake as entity_intake
from samen.problems import WrongPassphraseError


def open_with_passphrase(session: Session, project_id: int, passphrase: str, *, actor_id: int,
                         address: str | None) -> dict[int, RsaPrivateKey]:
    """The project keys a passphrase opens, for one operation; wrong guesses count towards a pause."""
    account = f"key-unlock:{project_id}:{actor_id}"
    check_attempts(session, account, address)
    try:
        return keyring.unlock_with_passphrase(session, project_id, passphrase)
    except WrongPassphraseError:
        record_failed_attempt(session, account, address, "key.unlock.failure", actor_id=actor_id, project_id=project_id)
        raise


def unlock_for_session(database, blobs: BlobStore, project_id: int, passphrase: str, session_token: str, *,
                       minutes: float, actor_id: int, address: str | None) -> tuple[list[int], datetime]:
    """Unlock every project key the passphrase opens; returns their ids and when the unlock ends."""
    with database.session() as session:
        keys = open_with_passphrase(session, project_id, passphrase, actor_id=actor_id, address=address)
        keyring.start_unlock(session, project_id, keys, session_token, minutes, actor_id)
        expires = keyring.unlock_expiry(session, project_id, session_token)
    # Entity changes of encrypted submissions waited for these keys; applied in their own transaction.
    entity_intake.process_after_unlock(database, blobs, project_id, KeyChain(keys.values()), actor_id=actor_id)
    return sorted(keys), expires
