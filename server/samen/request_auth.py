"""Turning a request's credentials into an Actor, the same way on every surface.

Bearer tokens come from `POST /v1/sessions`; HTTP Basic is accepted only over
https (or behind a proxy that says so), because Collect and curl would
otherwise send a password in the clear.
"""

from __future__ import annotations

import base64
import binascii

from flask import request
from sqlalchemy.orm import Session

from samen.auth import Actor, authenticate_password, session_user, user_actor
from samen.problems import AuthenticationError


def request_is_https() -> bool:
    return request.is_secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def _basic_credentials(header: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise AuthenticationError("The Basic credentials are not valid base64.") from error
    email, _, password = decoded.partition(":")
    return email, password


def web_actor(session: Session) -> Actor | None:
    """The web user behind Authorization, or None when the request names nobody."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user, digest = session_user(session, header[7:].strip())
        return user_actor(session, user, digest)
    if header.startswith("Basic "):
        if not request_is_https():
            raise AuthenticationError("HTTP Basic is only accepted over https.")
        email, password = _basic_credentials(header)
        return user_actor(session, authenticate_password(session, email, password, request.remote_addr))
    return None
