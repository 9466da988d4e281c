"""Projects: list, read, create (administrators), rename and archive (managers)."""

from __future__ import annotations

from sqlalchemy import select

from samen import audit
from samen.api import api
from samen.api.context import json_body, project_for, request_actor, text_field
from samen.api.frames import SUCCESS, json_response, project_json
from samen.app import services
from samen.models import Project, utcnow
from samen.problems import ForbiddenError, MalformedRequestError
from samen.publishing import active_project_key


def render_project(session, project: Project) -> dict:
    return project_json(project, active_project_key(session, project.id))


@api.get("/projects")
def list_projects():
    """The projects the caller may read (every project for administrators; none for app users)."""
    with services().database.session() as session:
        actor = request_actor(session)
        query = select(Project).where(Project.deleted_at.is_(None)).order_by(Project.id)
        visible = actor.visible_project_ids()
        if visible is not None:
            query = query.where(Project.id.in_(visible))
        return json_response([render_project(session, p) for p in session.scalars(query)
                              if actor.can("project.read", p.id)])


@api.post("/projects")
def create_project():
    """Create a project (administrators only)."""
    with services().database.session() as session:
        actor = request_actor(session)
        if not actor.is_admin:
            raise ForbiddenError("Only an administrator may create projects.")
        body = json_body()
        project = Project(name=text_field(body, "name"), description=text_field(body, "description", required=False))
        session.add(project)
        session.flush()
        audit.record(session, "project.create", actor_id=actor.id, project_id=project.id, name=project.name)
        return json_response(render_project(session, project))


@api.get("/projects/<int:project_id>")
def get_project_details(project_id: int):
    """One project."""
    with services().database.session() as session:
        project = project_for(session, request_actor(session), project_id, "project.read")
        return json_response(render_project(session, project))


@api.patch("/projects/<int:project_id>")
def update_project(project_id: int):
    """Change a project's name, description or archived flag."""
    with services().database.session() as session:
        actor = request_actor(session)
        project = project_for(session, actor, project_id, "project.update")
        body = json_body()
        if "name" in body:
            project.name = text_field(body, "name")
        if "description" in body:
            project.description = text_field(body, "description", required=False)
        if "archived" in body:
            if not isinstance(body["archived"], bool):
                raise MalformedRequestError("archived must be true or false.", field="archived")
            project.archived = body["archived"]
        project.updated_at = utcnow()
        audit.record(session, "project.update", actor_id=actor.id, project_id=project_id,
                     fields=sorted(k for k in body if k in ("name", "description", "archived")))
        return json_response(render_project(session, project))


@api.delete("/projects/<int:project_id>")
def delete_project(project_id: int):
    """Delete a project (administrators only); its data stays until retention removes it."""
    with services().database.session() as session:
        actor = request_actor(session)
        if not actor.is_admin:
            raise ForbiddenError("Only an administrator may delete projects.")
        project = project_for(session, actor, project_id, "project.update")
        project.deleted_at = utcnow()
        audit.record(session, "project.delete", actor_id=actor.id, project_id=project_id)
    return json_response(SUCCESS)
