"""The audit log, newest first: a project's events for its managers, every event for administrators."""

from __future__ import annotations

from flask import request

from samen.app import services
from samen.audit import verify_chain
from samen.console import console
from samen.console.queries import all_audit_events, audit_events, user_names
from samen.console.web import actor, page, readable_project
from samen.problems import ForbiddenError

EVENTS_PER_PAGE = 50


def _audit_page(db, project, project_id: int | None):
    page_number = max(request.args.get("page", 1, type=int) or 1, 1)
    events = audit_events(db, project_id, page_number - 1, EVENTS_PER_PAGE)
    return page("audit.html", project=project, events=events[:EVENTS_PER_PAGE], has_next=len(events) > EVENTS_PER_PAGE,
                page_number=page_number, names=user_names(db, (event.actor_id for event in events)),
                chain_break=verify_chain(all_audit_events(db)) if project is None else None)


@console.route("/projects/<int:project_id>/audit")
def project_audit(project_id: int):
    with services().database.session() as db:
        project = readable_project(db, project_id)
        actor().require("audit.read", project_id)
        return _audit_page(db, project, project_id)


@console.route("/audit")
def audit_log():
    if not actor().is_admin:
        raise ForbiddenError()
    with services().database.session() as db:
        return _audit_page(db, None, None)
