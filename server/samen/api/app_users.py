"""App users (Central's field keys: a phone's credential) and which forms each may fill."""

from __future__ import annotations

from sqlalchemy import select

from samen import audit
from samen.api import api
from samen.api.context import form_for, json_body, project_for, request_actor, text_field
from samen.api.forms import F
from samen.api.frames import ASSIGNMENT, SUCCESS, app_user_json, json_response
from samen.api.users import role_named
from samen.app import services
from samen.auth import new_token
from samen.models import AppUser, FormAssignment, utcnow
from samen.problems import AlreadyExistsError, MalformedRequestError, NotFoundError

APP_USER_ROLE = role_named("app-user")


def _app_user(session, project_id: int, app_user_id: int) -> AppUser:
    app_user = session.get(AppUser, app_user_id)
    if app_user is None or app_user.project_id != project_id or app_user.deleted_at is not None:
        raise NotFoundError("There is no app user with that id in this project.")
    return app_user


@api.get("/projects/<int:project_id>/app-users")
def list_app_users(project_id: int):
    """The project's app users, with their tokens (a revoked one shows none)."""
    with services().database.session() as session:
        project_for(session, request_actor(session), project_id, "app_user.read")
        app_users = session.scalars(select(AppUser).where(AppUser.project_id == project_id,
                                                          AppUser.deleted_at.is_(None)).order_by(AppUser.id))
        return json_response([app_user_json(a) for a in app_users])


@api.post("/projects/<int:project_id>/app-users")
def create_app_user(project_id: int):
    """Create an app user; its token is what the phone's QR code carries."""
    with services().database.session() as session:
        actor = request_actor(session)
        project_for(session, actor, project_id, "app_user.manage")
        app_user = AppUser(project_id=project_id, display_name=text_field(json_body(), "displayName"),
                           token=new_token(), created_by=actor.id if actor.kind == "user" else None)
        session.add(app_user)
        session.flush()
        audit.record(session, "app_user.create", actor_id=actor.id, project_id=project_id, appUserId=app_user.id)
        return json_response(app_user_json(app_user))


@api.delete("/projects/<int:project_id>/app-users/<int:app_user_id>")
def delete_app_user(project_id: int, app_user_id: int):
    """Revoke and delete an app user: its phone is locked out at once."""
    with services().database.session() as session:
        actor = request_actor(session)
        project_for(session, actor, project_id, "app_user.manage")
        app_user = _app_user(session, project_id, app_user_id)
        app_user.token = None
        app_user.revoked_at = app_user.deleted_at = utcnow()
        audit.record(session, "app_user.delete", actor_id=actor.id, project_id=project_id, appUserId=app_user_id)
    return json_response(SUCCESS)


def _assignments(session, form_id: int) -> list[dict]:
    actor_ids = session.scalars(select(FormAssignment.app_user_id).where(FormAssignment.form_id == form_id)
                                .order_by(FormAssignment.app_user_id))
    return [ASSIGNMENT.render(actorId=actor_id, roleId=APP_USER_ROLE.id) for actor_id in actor_ids]


def _app_user_role(role_id: str) -> None:
    # Forms take only the app-user role: web users get their rights from project roles.
    if role_named(role_id) != APP_USER_ROLE:
        raise MalformedRequestError("Only app users (role 2, 'app-user') are assigned to forms.")


@api.get(F + "/assignments")
def list_form_assignments(project_id: int, xml_form_id: str):
    """Which app users may fill this form."""
    with services().database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "app_user.read")
        return json_response(_assignments(session, form.id))


@api.get(F + "/assignments/<role_id>")
def list_form_role_assignments(project_id: int, xml_form_id: str, role_id: str):
    """Which app users may fill this form (the role must be app-user)."""
    with services().database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "app_user.read")
        _app_user_role(role_id)
        return json_response(_assignments(session, form.id))


@api.post(F + "/assignments/<role_id>/<int:actor_id>")
def assign_form(project_id: int, xml_form_id: str, role_id: str, actor_id: int):
    """Let an app user fill this form (pyodk: role 2)."""
    with services().database.session() as session:
        actor = request_actor(session)
        form = form_for(session, actor, project_id, xml_form_id, "app_user.manage")
        _app_user_role(role_id)
        _app_user(session, project_id, actor_id)
        if session.get(FormAssignment, (actor_id, form.id)) is not None:
            raise AlreadyExistsError("This app user is already assigned to this form.")
        session.add(FormAssignment(app_user_id=actor_id, form_id=form.id))
        audit.record(session, "form.assignment.create", actor_id=actor.id, project_id=project_id,
                     xmlFormId=form.xml_form_id, appUserId=actor_id)
    return json_response(SUCCESS)


@api.delete(F + "/assignments/<role_id>/<int:actor_id>")
def unassign_form(project_id: int, xml_form_id: str, role_id: str, actor_id: int):
    """Stop an app user from filling this form."""
    with services().database.session() as session:
        actor = request_actor(session)
        form = form_for(session, actor, project_id, xml_form_id, "app_user.manage")
        _app_user_role(role_id)
        assignment = session.get(FormAssignment, (actor_id, form.id))
        if assignment is None:
            raise NotFoundError("This app user is not assigned to this form.")
        session.delete(assignment)
        audit.record(session, "form.assignment.delete", actor_id=actor.id, project_id=project_id,
                     xmlFormId=form.xml_form_id, appUserId=actor_id)
    return json_response(SUCCESS)
