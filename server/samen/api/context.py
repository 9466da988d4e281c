"""What every handler needs from a request: who is asking, the body, and Central's query conventions."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from sqlalchemy.orm import Session

from samen.auth import Actor, app_user_actor
from samen.models import Form, FormVersion
from samen.problems import (
    AuthenticationError,
    ForbiddenError,
    MalformedRequestError,
    MissingParameterError,
    NotFoundError,
)
from samen.queries import get_form, get_project
from samen.request_auth import web_actor


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


def request_actor(session: Session) -> Actor:
    """The signed-in caller, or 401.2.

    As in Central, an app user's token also works as a bearer token: it acts
    with the app user's (narrow) rights, which is how scripts submit as a phone.
    """
    try:
        actor = web_actor(session)
    except AuthenticationError:
        token = bearer_token()
        if token is None:
            raise
        try:
            return app_user_actor(session, token)
        except ForbiddenError:
            raise AuthenticationError() from None
    if actor is None:
        raise AuthenticationError("Sign in first: POST /v1/sessions, then send Authorization: Bearer <token>.")
    return actor


def project_for(session: Session, actor: Actor, project_id: int, verb: str):
    """The project, after checking the right: a caller without it learns nothing, not even that it exists."""
    actor.require(verb, project_id)
    return get_project(session, project_id)


def form_for(session: Session, actor: Actor, project_id: int, xml_form_id: str, verb: str) -> Form:
    project_for(session, actor, project_id, verb)
    form = get_form(session, project_id, xml_form_id)
    actor.require(verb, project_id, form.id)
    return form


def current_version(session: Session, form: Form) -> FormVersion:
    if form.current_version_id is None:
        raise NotFoundError(f"The form '{form.xml_form_id}' has no published version yet.")
    return session.get(FormVersion, form.current_version_id)


def bool_arg(name: str, default: bool) -> bool:
    """Central's query booleans; pyodk sends Python's `True`/`False`, so compare without case."""
    value = request.args.get(name)
    if value is None or value == "":
        return default
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise MalformedRequestError(f"The query parameter {name} must be true or false.", field=name)


def json_body() -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedRequestError("The request body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise MalformedRequestError("The request body must be a JSON object.")
    return body


def text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise MissingParameterError(f"The field {name} is required.", field=name)
        return None
    if not isinstance(value, str) or not value.strip():
        raise MalformedRequestError(f"The field {name} must be a non-empty string.", field=name)
    return value
