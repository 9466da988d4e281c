"""Web users, Central's role catalogue, and who holds which role in a project."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from samen import audit
from samen.api import api
from samen.api.context import json_body, project_for, request_actor, text_field
from samen.api.frames import ASSIGNMENT, ROLE, SUCCESS, json_response, user_json
from samen.app import services
from samen.auth import Actor, role_verbs
from samen.models import ProjectRole, User
from samen.passwords import hash_password
from samen.problems import AlreadyExistsError, ForbiddenError, MalformedRequestError, NotFoundError

MIN_PASSWORD_LENGTH = 10  # Central's rule


@dataclass(frozen=True)
class Role:
    id: int
    name: str
    system: str  # Central's system name; clients send it or the id
    project_role: str | None  # the role in samen.auth it stands for, if it is a project role


# Central's fixed role ids: pyodk assigns app users to forms with role 2.
ROLES = (
    Role(1, "Administrator", "admin", None),
    Role(2, "App User", "app-user", "app_user"),
    Role(3, "Project Manager", "manager", "manager"),
    Role(4, "Data Collector", "formfill", "collector"),
    Role(5, "Project Viewer", "viewer", "viewer"),
)


def role_named(id_or_system: str) -> Role:
    for role in ROLES:
        if id_or_system in (str(role.id), role.system):
            return role
    raise NotFoundError(f"There is no role '{id_or_system}'.")


def _role_json(role: Role) -> dict:
    verbs = sorted(role_verbs(role.project_role)) if role.project_role else ["*"]
    return ROLE.render(id=role.id, name=role.name, system=role.system, verbs=verbs, createdAt=None, updatedAt=None)


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise ForbiddenError("Only an administrator may do this.")


@api.get("/users")
def list_users():
    """Every web user (administrators only)."""
    with services().database.session() as session:
        _require_admin(request_actor(session))
        users = session.scalars(select(User).where(User.deleted_at.is_(None)).order_by(User.id))
        return json_response([user_json(u) for u in users])


@api.post("/users")
def create_user():
    """Create a web user with a password (administrators only)."""
    with services().database.session() as session:
        actor = request_actor(session)
        _require_admin(actor)
        body = json_body()
        email, password = text_field(body, "email"), text_field(body, "password")
        if "@" not in email:
            raise MalformedRequestError("The email address is not valid.", field="email")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise MalformedRequestError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters.",
                                        field="password")
        if session.scalar(select(User.id).where(func.lower(User.email) == email.lower())) is not None:
            raise AlreadyExistsError("A user with that email address already exists.", field="email")
        user = User(email=email, display_name=text_field(body, "displayName", required=False) or email,
                    password_hash=hash_password(password))
        session.add(user)
        session.flush()
        audit.record(session, "user.create", actor_id=actor.id, userId=user.id)
        return json_response(user_json(user))


@api.get("/users/<int:user_id>")
def get_user(user_id: int):
    """One web user (administrators, or the user themself)."""
    with services().database.session() as session:
        actor = request_actor(session)
        if not (actor.is_admin or (actor.kind == "user" and actor.id == user_id)):
            raise ForbiddenError()
        user = session.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise NotFoundError("There is no user with that id.")
        return json_response(user_json(user))


@api.get("/roles")
def list_roles():
    """Central's role catalogue with the verbs each role grants."""
    with services().database.session() as session:
        request_actor(session)
    return json_response([_role_json(role) for role in ROLES])


@api.get("/roles/<role_id>")
def get_role(role_id: str):
    """One role, by id or system name."""
    with services().database.session() as session:
        request_actor(session)
    return json_response(_role_json(role_named(role_id)))


def _project_role(role_id: str) -> Role:
    role = role_named(role_id)
    if role.project_role in (None, "app_user"):
        raise MalformedRequestError("Only manager, formfill (data collector) and viewer are project roles.")
    return role


def _assignments(session, project_id: int, role: Role | None) -> list[dict]:
    query = select(ProjectRole).where(ProjectRole.project_id == project_id).order_by(ProjectRole.user_id)
    if role is not None:
        query = query.where(ProjectRole.role == role.project_role)
    by_role = {r.project_role: r.id for r in ROLES}
    return [ASSIGNMENT.render(actorId=a.user_id, roleId=by_role[a.role]) for a in session.scalars(query)]


@api.get("/projects/<int:project_id>/assignments")
def list_project_assignments(project_id: int):
    """Who holds which role in the project."""
    with services().database.session() as session:
        project_for(session, request_actor(session), project_id, "assignment.manage")
        return json_response(_assignments(session, project_id, None))


@api.get("/projects/<int:project_id>/assignments/<role_id>")
def list_project_role_assignments(project_id: int, role_id: str):
    """Who holds one role in the project."""
    with services().database.session() as session:
        project_for(session, request_actor(session), project_id, "assignment.manage")
        return json_response(_assignments(session, project_id, _project_role(role_id)))


@api.post("/projects/<int:project_id>/assignments/<role_id>/<int:actor_id>")
def assign_project_role(project_id: int, role_id: str, actor_id: int):
    """Give a web user a role in the project."""
    with services().database.session() as session:
        actor = request_actor(session)
        project_for(session, actor, project_id, "assignment.manage")
        role = _project_role(role_id)
        user = session.get(User, actor_id)
        if user is None or user.deleted_at is not None:
            raise NotFoundError("There is no user with that id.")
        if session.get(ProjectRole, (actor_id, project_id, role.project_role)) is not None:
            raise AlreadyExistsError("The user already has this role in this project.")
        session.add(ProjectRole(user_id=actor_id, project_id=project_id, role=role.project_role))
        audit.record(session, "user.role.assign", actor_id=actor.id, project_id=project_id, userId=actor_id,
                     role=role.project_role)
    return json_response(SUCCESS)


@api.delete("/projects/<int:project_id>/assignments/<role_id>/<int:actor_id>")
def unassign_project_role(project_id: int, role_id: str, actor_id: int):
    """Take a role in the project away from a web user."""
    with services().database.session() as session:
        actor = request_actor(session)
        project_for(session, actor, project_id, "assignment.manage")
        role = _project_role(role_id)
        assignment = session.get(ProjectRole, (actor_id, project_id, role.project_role))
        if assignment is None:
            raise NotFoundError("The user does not have this role in this project.")
        session.delete(assignment)
        audit.record(session, "user.role.revoke", actor_id=actor.id, project_id=project_id, userId=actor_id,
                     role=role.project_role)
    return json_response(SUCCESS)
