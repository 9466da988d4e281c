"""App users (phones): create, assign forms, show the QR code that sets up Collect, revoke."""

from __future__ import annotations

from flask import redirect, request, url_for
from markupsafe import Markup

from samen import audit
from samen.app import public_base_url, services
from samen.auth import new_token
from samen.collect_settings import collect_server_url, collect_settings, qr_svg, settings_payload
from samen.console import console
from samen.console.queries import app_users, assign_forms, assigned_form_ids, get_app_user, project_forms
from samen.console.web import _, actor, page, readable_project
from samen.models import AppUser, utcnow
from samen.problems import MissingParameterError, NotFoundError


@console.route("/projects/<int:project_id>/app-users")
def app_user_list(project_id: int):
    with services().database.session() as db:
        project = readable_project(db, project_id)
        actor().require("app_user.read", project_id)
        return page("app_users.html", project=project, phones=app_users(db, project_id), forms=project_forms(db, project_id))


def _chosen_form_ids(db, project_id: int) -> set[int]:
    allowed = {form.id for form in project_forms(db, project_id)}
    return {int(value) for value in request.form.getlist("form") if value.isdigit() and int(value) in allowed}


@console.route("/projects/<int:project_id>/app-users", methods=["POST"])
def create_app_user(project_id: int):
    with services().database.session() as db:
        readable_project(db, project_id)
        actor().require("app_user.manage", project_id)
        name = request.form.get("display_name", "").strip()
        if not name:
            raise MissingParameterError(_("Give the phone a name, e.g. the ambassador's first name and city."))
        app_user = AppUser(project_id=project_id, display_name=name[:200], token=new_token(), created_by=actor().id)
        db.add(app_user)
        db.flush()
        form_ids = _chosen_form_ids(db, project_id)
        assign_forms(db, app_user, form_ids)
        audit.record(db, "app_user.create", actor_id=actor().id, project_id=project_id, appUserId=app_user.id,
                     formIds=sorted(form_ids))
        app_user_id = app_user.id
    return redirect(url_for("console.app_user_page", project_id=project_id, app_user_id=app_user_id))


def _app_user(db, project_id: int, app_user_id: int) -> AppUser:
    app_user = get_app_user(db, project_id, app_user_id)
    if app_user is None:
        raise NotFoundError(_("There is no such phone in this project."))
    return app_user


@console.route("/projects/<int:project_id>/app-users/<int:app_user_id>")
def app_user_page(project_id: int, app_user_id: int):
    with services().database.session() as db:
        project = readable_project(db, project_id)
        actor().require("app_user.manage", project_id)
        app_user = _app_user(db, project_id, app_user_id)
        assigned = assigned_form_ids(db, app_user.id)
        qr = None
        if app_user.token is not None:
            url = collect_server_url(public_base_url(), project_id, app_user.token)
            payload = settings_payload(collect_settings(url, project.name))
            qr = Markup(qr_svg(payload, scale=5))  # segno's own SVG: no user text inside
        return page("app_user.html", project=project, app_user=app_user, assigned=assigned, qr=qr,
                    forms=project_forms(db, project_id))


@console.route("/projects/<int:project_id>/app-users/<int:app_user_id>/forms", methods=["POST"])
def assign_app_user_forms(project_id: int, app_user_id: int):
    with services().database.session() as db:
        readable_project(db, project_id)
        actor().require("app_user.manage", project_id)
        app_user = _app_user(db, project_id, app_user_id)
        form_ids = _chosen_form_ids(db, project_id)
        assign_forms(db, app_user, form_ids)
        audit.record(db, "app_user.assign", actor_id=actor().id, project_id=project_id, appUserId=app_user.id,
                     formIds=sorted(form_ids))
    return redirect(url_for("console.app_user_page", project_id=project_id, app_user_id=app_user_id))


@console.route("/projects/<int:project_id>/app-users/<int:app_user_id>/revoke", methods=["POST"])
def revoke_app_user(project_id: int, app_user_id: int):
    with services().database.session() as db:
        readable_project(db, project_id)
        actor().require("app_user.manage", project_id)
        app_user = _app_user(db, project_id, app_user_id)
        app_user.revoked_at = utcnow()
        app_user.token = None
        audit.record(db, "app_user.revoke", actor_id=actor().id, project_id=project_id, appUserId=app_user_id)
    return redirect(url_for("console.app_user_list", project_id=project_id))
