"""Signing in and out: bearer sessions (`POST /v1/sessions`) and who the caller is."""

from __future__ import annotations

from flask import request
from sqlalchemy import delete, select

from samen import audit
from samen.api import api
from samen.api.context import bearer_token, json_body, request_actor, text_field
from samen.api.frames import SESSION, SUCCESS, json_response, user_json
from samen.app import services
from samen.auth import authenticate_password, start_session, token_sha256
from samen.models import KeyUnlock, SessionToken, User
from samen.problems import ForbiddenError, NotFoundError


@api.post("/sessions")
def create_session():
    """Sign in with email and password; the token goes in `Authorization: Bearer` from then on."""
    body = json_body()
    email, password = text_field(body, "email"), text_field(body, "password")
    settings = services().settings
    with services().database.session() as session:
        user = authenticate_password(session, email, password, request.remote_addr)
        token, row = start_session(session, user, settings.session_hours)
        audit.record(session, "user.session.create", actor_id=user.id)
        return json_response(SESSION.render(token=token, expiresAt=row.expires_at, createdAt=row.created_at))


@api.delete("/sessions/<token>")
def delete_session(token: str):
    """Sign out: the token stops working and any key it unlocked is locked again. `current` names the caller's own."""
    with services().database.session() as session:
        actor = request_actor(session)
        if actor.kind != "user":
            raise ForbiddenError()
        if token == "current":
            token = bearer_token() or ""
        digest = token_sha256(token)
        row = session.scalar(select(SessionToken).where(SessionToken.token_sha256 == digest))
        if row is None:
            raise NotFoundError("There is no such session.")
        if row.user_id != actor.id and not actor.is_admin:
            raise ForbiddenError()
        # The unlock's wrapping secret came from this token: nothing can open it any more, so drop it now.
        session.execute(delete(KeyUnlock).where(KeyUnlock.holder_sha256 == digest))
        session.delete(row)
        audit.record(session, "user.session.end", actor_id=actor.id)
    return json_response(SUCCESS)


@api.get("/users/current")
def current_user():
    """The signed-in user (pyodk checks a cached token with this call)."""
    with services().database.session() as session:
        actor = request_actor(session)
        if actor.kind != "user":
            raise ForbiddenError("App users have no user account.")
        return json_response(user_json(session.get(User, actor.id)))
