"""Helpers for console tests: staff users with roles, signing in, and POSTs that carry the CSRF token."""

from __future__ import annotations

import re

from samen.models import ProjectRole, User
from samen.passwords import hash_password

PASSWORD = "correct horse battery staple"
_CSRF_FIELD = re.compile(rb'name="csrf_token" value="([^"]+)"')


def make_user(services, email: str, *, admin: bool = False, roles: dict[int, str] | None = None, locale: str = "en") -> int:
    with services.database.session() as session:
        user = User(email=email, display_name=email.split("@")[0].title(), password_hash=hash_password(PASSWORD),
                    is_admin=admin, locale=locale)
        session.add(user)
        session.flush()
        for project_id, role in (roles or {}).items():
            session.add(ProjectRole(user_id=user.id, project_id=project_id, role=role))
        return user.id


def csrf_from(page: bytes) -> str:
    """The token a page's forms carry, as a browser would send it back."""
    return _CSRF_FIELD.search(page).group(1).decode()


def sign_in(client, email: str, password: str = PASSWORD):
    token = csrf_from(client.get("/login").data)
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password})


def post_form(client, url: str, data: dict | None = None, *, from_page: str = "/", **options):
    """POST as the page at `from_page` would, with its CSRF token."""
    token = csrf_from(client.get(from_page).data)
    return client.post(url, data={"csrf_token": token, **(data or {})}, **options)
