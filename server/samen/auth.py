"""Who is asking, and what they may do: one role matrix for OpenRosa, the API and the console."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from samen import audit
from samen.models import AppUser, FormAssignment, LoginFailure, ProjectRole, SessionToken, User, utcnow
from samen.passwords import verify_password
from samen.problems import AuthenticationError, ForbiddenError, RateLimitedError

ROLES = ("manager", "viewer", "collector")

# What each project role may do. Verbs name an action on a project's resources.
_ROLE_VERBS: dict[str, frozenset[str]] = {
    "manager": frozenset({
        "project.read", "project.update", "form.read", "form.create", "form.update", "form.delete",
        "submission.read", "submission.create", "submission.update", "key.manage", "key.unlock",
        "app_user.read", "app_user.manage", "assignment.manage", "entity.read", "entity.write", "audit.read", "export.run",
        "participant.erase",
    }),
    "viewer": frozenset({"project.read", "form.read", "submission.read", "entity.read", "key.unlock", "export.run"}),
    "collector": frozenset({"project.read", "form.list", "form.read", "submission.create"}),
}
_APP_USER_VERBS = frozenset({"form.list", "form.read", "submission.create", "entity.read"})


def role_verbs(role: str) -> frozenset[str]:
    """What a project role may do ("app_user" for phones), as the API's GET /v1/roles shows it."""
    return _APP_USER_VERBS if role == "app_user" else _ROLE_VERBS[role]


@dataclass(frozen=True)
class Actor:
    """A signed-in web user or a phone's app user."""

    kind: str  # "user" | "app_user"
    id: int
    display_name: str
    is_admin: bool = False
    roles: dict[int, frozenset[str]] = field(default_factory=dict)  # project id -> roles
    project_id: int | None = None  # app users belong to exactly one project
    form_ids: frozenset[int] = frozenset()  # app users: forms assigned to them
    session_token_sha256: str | None = None  # what an unlock is bound to

    def can(self, verb: str, project_id: int, form_id: int | None = None) -> bool:
        if self.kind == "app_user":
            if project_id != self.project_id or verb not in _APP_USER_VERBS:
                return False
            return form_id is None or form_id in self.form_ids
        if self.is_admin:
            return True
        return any(verb in _ROLE_VERBS[role] or (verb == "form.list" and "form.read" in _ROLE_VERBS[role])
                   for role in self.roles.get(project_id, ()))

    def require(self, verb: str, project_id: int, form_id: int | None = None) -> None:
        if not self.can(verb, project_id, form_id):
            raise ForbiddenError()

    def visible_project_ids(self) -> set[int] | None:
        """None means every project (administrators)."""
        if self.is_admin:
            return None
        if self.kind == "app_user":
            return {self.project_id} if self.project_id is not None else set()
        return set(self.roles)


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """64 characters of URL-safe randomness, the same shape as Central's tokens."""
    return secrets.token_urlsafe(48)


def user_actor(session: Session, user: User, session_token_sha256: str | None = None) -> Actor:
    roles: dict[int, set[str]] = {}
    for role in session.scalars(select(ProjectRole).where(ProjectRole.user_id == user.id)):
        roles.setdefault(role.project_id, set()).add(role.role)
    return Actor(
        kind="user", id=user.id, display_name=user.display_name, is_admin=user.is_admin,
        roles={pid: frozenset(r) for pid, r in roles.items()}, session_token_sha256=session_token_sha256,
    )


# An app user and its form assignments, in one query: phones ask on every request.
_app_users, _assignments = AppUser.__table__, FormAssignment.__table__
_APP_USER_BY_TOKEN = (
    select(_app_users.c.id, _app_users.c.display_name, _app_users.c.project_id, _assignments.c.form_id)
    .outerjoin(_assignments, _assignments.c.app_user_id == _app_users.c.id)
    .where(_app_users.c.token == bindparam("token"), _app_users.c.revoked_at.is_(None),
           _app_users.c.deleted_at.is_(None))
)


def app_user_actor(executor: Session | Connection, token: str) -> Actor:
    """The app user a phone's token names. A bad or revoked token is 403, never 401:
    a 401 makes Collect prompt for a password the ambassador does not have."""
    connection = executor if isinstance(executor, Connection) else executor.connection()
    rows = connection.execute(_APP_USER_BY_TOKEN, {"token": token}).all()
    if not rows:
        raise ForbiddenError("This phone's access was revoked or never existed. Ask your coordinator for a new QR code.")
    app_user_id, display_name, project_id, _form_id = rows[0]
    return Actor(kind="app_user", id=app_user_id, display_name=display_name, project_id=project_id,
                 form_ids=frozenset(row.form_id for row in rows if row.form_id is not None))


_FAILURE_WINDOW = timedelta(minutes=15)
_MAX_FAILURES_PER_ACCOUNT = 5
_MAX_FAILURES_PER_ADDRESS = 20


def check_attempts(session: Session, account: str, address: str | None) -> None:
    """Refuse once an account (or an address) has failed too often lately: passwords and key passphrases alike."""
    session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - _FAILURE_WINDOW))
    by_account = session.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.email == account))
    by_address = session.scalar(select(func.count()).select_from(LoginFailure).where(LoginFailure.address == address))
    if by_account >= _MAX_FAILURES_PER_ACCOUNT or (address and by_address >= _MAX_FAILURES_PER_ADDRESS):
        raise RateLimitedError()


def record_failed_attempt(session: Session, account: str, address: str | None, action: str, **details) -> None:
    """Count a failure and audit it, committed at once: the caller's own transaction is about to roll back."""
    session.add(LoginFailure(email=account, address=address))
    audit.record(session, action, address=address, **details)
    session.commit()


def authenticate_password(session: Session, email: str, password: str, address: str | None) -> User:
    """Check a password, counting failures per account and per address."""
    check_attempts(session, email.lower(), address)
    user = session.scalar(select(User).where(func.lower(User.email) == email.lower(), User.deleted_at.is_(None)))
    if not verify_password(user.password_hash if user else None, password):
        # Who was tried, not what was typed: an unknown address may be a password typed in the wrong box.
        record_failed_attempt(session, email.lower(), address, "user.session.create.failure",
                              actor_id=user.id if user else None)
        raise AuthenticationError()
    return user


def start_session(session: Session, user: User, hours: float) -> tuple[str, SessionToken]:
    token = new_token()
    row = SessionToken(token_sha256=token_sha256(token), user_id=user.id, expires_at=utcnow() + timedelta(hours=hours))
    session.add(row)
    session.flush()
    return token, row


def session_user(session: Session, token: str) -> tuple[User, str]:
    digest = token_sha256(token)
    row = session.scalar(select(SessionToken).where(SessionToken.token_sha256 == digest))
    if row is None or row.expires_at <= utcnow():
        raise AuthenticationError()
    user = session.get(User, row.user_id)
    if user is None or user.deleted_at is not None:
        raise AuthenticationError()
    return user, digest
