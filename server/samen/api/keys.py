"""Project keys over the API: turn encryption on, list the keys a form's data uses, unlock and lock.

An unlock is bound to the caller's bearer token (the key is re-wrapped under a
secret derived from it), so OData, exports and `GET S.xml` decrypt only for the
session that unlocked, and only until `settings.unlock_minutes` pass.
"""

from __future__ import annotations

from flask import request
from sqlalchemy import select

from samen import keyring
from samen.api import api
from samen.api.context import bearer_token, form_for, json_body, project_for, request_actor, text_field
from samen.api.forms import F
from samen.api.frames import SUCCESS, UNLOCK, json_response, key_json
from samen.api.projects import render_project
from samen.app import services
from samen.auth import Actor
from samen.decrypting import KeyChain
from samen.models import ProjectKey, Submission, SubmissionVersion
from samen.problems import ForbiddenError, MalformedRequestError
from samen.publishing import republish_encrypted_forms
from samen.unlocking import unlock_for_session

MIN_PASSPHRASE_LENGTH = 10  # Central's rule for managed encryption


def caller_key_chain(session, actor: Actor, project_id: int) -> KeyChain:
    """The project keys the caller's bearer session has unlocked and not yet locked (empty if none).

    OData and exports read encrypted data through this.
    """
    token = bearer_token()
    if token is None or actor.kind != "user" or not actor.can("key.unlock", project_id):
        return KeyChain()
    return KeyChain(keyring.unlocked_keys(session, project_id, token).values())


def _session_token(actor: Actor) -> str:
    token = bearer_token()
    if token is None or actor.kind != "user":
        raise ForbiddenError("An unlock is bound to a session: sign in with POST /v1/sessions and send the bearer token.")
    return token


def _passphrase(body: dict) -> str:
    passphrase = text_field(body, "passphrase")
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise MalformedRequestError(f"The passphrase must be at least {MIN_PASSPHRASE_LENGTH} characters.",
                                    field="passphrase")
    return passphrase


@api.get(F + "/submissions/keys")
def list_form_keys(project_id: int, xml_form_id: str):
    """The keys this form's submissions are encrypted with."""
    with services().database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "submission.read")
        key_ids = (select(SubmissionVersion.key_id).join(Submission, Submission.id == SubmissionVersion.submission_id)
                   .where(SubmissionVersion.form_id == form.id, SubmissionVersion.key_id.is_not(None),
                          Submission.draft.is_(False)).distinct())
        keys = session.scalars(select(ProjectKey).where(ProjectKey.id.in_(key_ids)).order_by(ProjectKey.id))
        return json_response([key_json(k) for k in keys])


@api.post("/projects/<int:project_id>/key")
def enable_encryption(project_id: int):
    """Turn on encryption with a passphrase (and a hint); forms are republished with the key. 409 if it is on."""
    with services().database.session() as session:
        actor = request_actor(session)
        project = project_for(session, actor, project_id, "key.manage")
        body = json_body()
        keyring.create_key(session, project, _passphrase(body), custodian=actor.display_name,
                           hint=text_field(body, "hint", required=False), user_id=actor.id)
        republish_encrypted_forms(session, services().blobs, project)
        return json_response(render_project(session, project))


@api.post("/projects/<int:project_id>/key/unlock")
def unlock_key(project_id: int):
    """Unlock the project's keys for this bearer session, for a bounded time."""
    with services().database.session() as session:
        actor = request_actor(session)
        project_for(session, actor, project_id, "key.unlock")
        token = _session_token(actor)
    passphrase = text_field(json_body(), "passphrase")
    key_ids, expires = unlock_for_session(
        services().database, services().blobs, project_id, passphrase, token,
        minutes=services().settings.unlock_minutes, actor_id=actor.id, address=request.remote_addr,
    )
    return json_response(UNLOCK.render(keyIds=key_ids, expiresAt=expires))


@api.post("/projects/<int:project_id>/key/lock")
def lock_key(project_id: int):
    """Lock the project's keys for this session now."""
    with services().database.session() as session:
        actor = request_actor(session)
        project_for(session, actor, project_id, "key.unlock")
        keyring.lock(session, project_id, _session_token(actor), actor.id)
    return json_response(SUCCESS)
