"""Unlocking a project key for this browser session, for a limited time, and locking it again.

The passphrase opens a custodian slot (`keyring.unlock_with_passphrase`); the
opened key is re-wrapped under a secret derived from this console session's
token (`keyring.start_unlock`), which only the browser's cookie holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import redirect, request, url_for

from samen import keyring
from samen.app import services
from samen.console import console
from samen.console.web import _, actor, console_token, page, readable_project, safe_next
from samen.problems import NotFoundError, RateLimitedError, WrongPassphraseError
from samen.unlocking import unlock_for_session


@dataclass(frozen=True)
class KeyStatus:
    project_id: int
    encrypted: bool  # the project has a key at all
    unlocked_until: datetime | None
    may_unlock: bool


def key_status(db, project_id: int) -> KeyStatus:
    encrypted = bool(keyring.project_keys(db, project_id))
    until = keyring.unlock_expiry(db, project_id, console_token()) if encrypted else None
    return KeyStatus(project_id, encrypted, until, actor().can("key.unlock", project_id))


@console.route("/projects/<int:project_id>/unlock", methods=["GET", "POST"])
def unlock_key(project_id: int):
    back = safe_next(request.values.get("next"), url_for("console.project_page", project_id=project_id))
    with services().database.session() as db:
        project = readable_project(db, project_id)
        actor().require("key.unlock", project_id)
        if request.method == "GET":
            return page("unlock.html", project=project, next=back, error=None, key_status=key_status(db, project_id))
    try:
        unlock_for_session(services().database, services().blobs, project_id, request.form.get("passphrase", ""),
                           console_token(), minutes=services().settings.unlock_minutes, actor_id=actor().id,
                           address=request.remote_addr)
    except (WrongPassphraseError, NotFoundError, RateLimitedError) as problem:
        message = {
            WrongPassphraseError: _("That passphrase does not unlock this project's key."),
            NotFoundError: _("This project has no key: its forms are not encrypted."),
            RateLimitedError: _("Too many wrong passphrases. Wait a few minutes before trying again."),
        }[type(problem)]
        with services().database.session() as db:
            return page("unlock.html", project=readable_project(db, project_id), next=back, error=message,
                        key_status=key_status(db, project_id)), 400
    return redirect(back)


@console.route("/projects/<int:project_id>/lock", methods=["POST"])
def lock_key(project_id: int):
    with services().database.session() as db:
        readable_project(db, project_id)
        keyring.lock(db, project_id, console_token(), actor().id)
    return redirect(safe_next(request.form.get("next"), url_for("console.project_page", project_id=project_id)))
