"""Helpers for the REST API tests: signed-in users of each role, XLSForms as XLSX, JSON requests."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from openpyxl import Workbook

from samen.auth import start_session
from samen.models import ProjectRole, User
from samen.passwords import hash_password

PASSWORD = "correct horse battery staple"


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)  # Argon2id is slow on purpose: hash once per test run


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def sign_in(services, email: str, *, admin: bool = False, roles: dict[int, str] | None = None) -> SignedIn:
    """A user with these project roles and a bearer session, made directly in the database."""
    with services.database.session() as session:
        user = User(email=email, display_name=email.split("@")[0], password_hash=_password_hash(), is_admin=admin)
        session.add(user)
        session.flush()
        for project_id, role in (roles or {}).items():
            session.add(ProjectRole(user_id=user.id, project_id=project_id, role=role))
        token, _row = start_session(session, user, 1)
        return SignedIn(user.id, email, token)


def path_part(value: str) -> str:
    """Percent-encode as pyodk does (`/` too)."""
    return quote(value, safe="*'()")


def xlsx(survey: list[list[str]], settings: dict[str, str] | None = None,
         choices: list[list[str]] | None = None) -> bytes:
    """An XLSForm workbook: rows of the survey (header first), optional choices and settings."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    if choices:
        choice_sheet = workbook.create_sheet("choices")
        for row in choices:
            choice_sheet.append(row)
    if settings:
        settings_sheet = workbook.create_sheet("settings")
        settings_sheet.append(list(settings))
        settings_sheet.append(list(settings.values()))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
