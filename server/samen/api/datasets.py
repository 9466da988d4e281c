"""Entity lists over the API, as pyodk's `entity_lists` and `entities` services call them.

`D` = `/projects/{pid}/datasets/{name}`. Plus the entity queue of a project:
encrypted submissions whose entity changes wait for an unlocked key.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from flask import Response, request
from sqlalchemy import select

from samen import audit
from samen.api import api
from samen.api.context import bearer_token, bool_arg, json_body, project_for, request_actor, text_field
from samen.api.frames import SUCCESS, Frame, json_response
from samen.app import services
from samen.entities import intake as entity_intake
from samen.entities import lists as entity_lists
from samen.entities import store as entity_store
from samen.entities.formats import odata_entity
from samen.models import AppUser, Dataset, Entity, EntityConflict, EntityVersion, User
from samen.odata.entities import odata_name
from samen.odata.filters import matches, members
from samen.odata.query import check_properties, lookup, paged, read_query, selected
from samen.problems import EntityVersionConflictError, MalformedRequestError, MissingParameterError, NotImplementedProblem

P = "/projects/<int:project_id>"
D = P + "/datasets/<name>"
E = D + "/entities/<uuid>"
ODATA_PAGE = 5000
SYSTEM_MEMBERS = {("__system", name) for name in
                  ("createdAt", "creatorId", "creatorName", "updates", "updatedAt", "version", "conflict")}

ENTITY_LIST = Frame("EntityList", {"name": "string", "projectId": "integer", "createdAt": "date-time",
                                   "approvalRequired": "boolean"})
ENTITY_LIST_DETAILS = Frame("EntityListDetails", {**ENTITY_LIST.fields, "properties": "array"})
ENTITY_LIST_PROPERTY = Frame("EntityListProperty", {"name": "string", "odataName": "string",
                                                    "publishedAt": "date-time", "forms": "array"})
ENTITY_VERSION = Frame("EntityVersion", {
    "label": "string", "current": "boolean", "createdAt": "date-time", "creatorId": "integer", "userAgent": "string",
    "version": "integer", "data": "object", "baseVersion": "integer?", "conflict": "string?",
    "conflictingProperties": "array?", "resolved": "boolean"})
ENTITY = Frame("Entity", {"uuid": "string", "creatorId": "integer", "createdAt": "date-time",
                          "updatedAt": "date-time?", "deletedAt": "date-time?", "conflict": "string?",
                          "currentVersion": "object"})
ENTITY_QUEUE = Frame("EntityQueue", {"pending": "integer"})
ENTITY_QUEUE_RUN = Frame("EntityQueueRun", {"applied": "integer", "waiting": "integer"})


def _dataset_json(session, dataset: Dataset, *, details: bool) -> dict[str, Any]:
    fields = dict(name=dataset.name, projectId=dataset.project_id, createdAt=dataset.created_at,
                  approvalRequired=bool(dataset.approval_required))
    if not details:
        return ENTITY_LIST.render(**fields)
    properties = [ENTITY_LIST_PROPERTY.render(name=p.name, odataName=odata_name(p.name), publishedAt=p.published_at,
                                              forms=list(p.forms))
                  for p in entity_lists.dataset_properties(session, dataset.id)]
    return ENTITY_LIST_DETAILS.render(**fields, properties=properties)


def _version_json(version: EntityVersion, current: int, conflict: EntityConflict | None) -> dict[str, Any]:
    return ENTITY_VERSION.render(
        label=version.label, current=version.version == current, createdAt=version.created_at,
        creatorId=version.creator_id or 0, userAgent=version.user_agent or "", version=version.version,
        data=version.data, baseVersion=version.base_version, conflict=conflict.kind if conflict else None,
        conflictingProperties=conflict.properties if conflict else None,
        resolved=bool(conflict and conflict.resolved_at))


def _entity_json(session, entity: Entity) -> dict[str, Any]:
    version = entity_store.current_version(session, entity)
    conflict = session.scalar(select(EntityConflict).where(EntityConflict.entity_version_id == version.id))
    return ENTITY.render(uuid=entity.uuid, creatorId=entity.creator_id or 0, createdAt=entity.created_at,
                         updatedAt=entity.updated_at, deletedAt=entity.deleted_at, conflict=entity.conflict,
                         currentVersion=_version_json(version, entity.version, conflict))


def _dataset(session, project_id: int, name: str, verb: str):
    actor = request_actor(session)
    project_for(session, actor, project_id, verb)
    return actor, entity_lists.get_dataset(session, project_id, name)


def _creator(actor) -> entity_store.Creator:
    return entity_store.Creator(actor.id, actor.kind, request.headers.get("User-Agent"))


@api.get(P + "/datasets")
def list_entity_lists(project_id: int):
    """The project's entity lists."""
    with services().database.session() as session:
        project_for(session, request_actor(session), project_id, "entity.read")
        return json_response([_dataset_json(session, d, details=False)
                              for d in entity_lists.list_datasets(session, project_id)])


@api.post(P + "/datasets")
def create_entity_list(project_id: int):
    """A new, empty entity list; 409.3 when the name is taken."""
    with services().database.session() as session:
        actor = request_actor(session)
        project_for(session, actor, project_id, "entity.write")
        body = json_body()
        dataset = entity_lists.create_dataset(session, project_id, text_field(body, "name"),
                                              approval_required=bool(body.get("approvalRequired")), actor_id=actor.id)
        return json_response(_dataset_json(session, dataset, details=True))


@api.get(D)
def get_entity_list(project_id: int, name: str):
    """One entity list with its properties."""
    with services().database.session() as session:
        _actor, dataset = _dataset(session, project_id, name, "entity.read")
        return json_response(_dataset_json(session, dataset, details=True))


@api.post(D + "/properties")
def create_entity_list_property(project_id: int, name: str):
    """A new property (column) of the list."""
    with services().database.session() as session:
        actor, dataset = _dataset(session, project_id, name, "entity.write")
        entity_lists.add_property(session, dataset, text_field(json_body(), "name"), actor_id=actor.id)
    return json_response(SUCCESS)


@api.get(D + "/entities")
def list_entities(project_id: int, name: str):
    """The list's entities (not deleted), oldest first."""
    with services().database.session() as session:
        _actor, dataset = _dataset(session, project_id, name, "entity.read")
        return json_response([_entity_json(session, e) for e in entity_store.list_entities(session, dataset)])


@api.post(D + "/entities")
def create_entities(project_id: int, name: str):
    """One entity (`{"uuid","label","data"}` → the entity) or many (`{"entities":[…],"source":{…}}` → success)."""
    with services().database.session() as session:
        actor, dataset = _dataset(session, project_id, name, "entity.write")
        body = json_body()
        creator = _creator(actor)
        if "entities" not in body:
            entity = entity_store.create_entity(session, dataset, uuid=body.get("uuid"), label=body.get("label"),
                                                data=body.get("data"), creator=creator)
            audit.record(session, "entity.create", actor_id=actor.id, project_id=project_id,
                         datasetName=dataset.name, uuid=entity.uuid)
            return json_response(_entity_json(session, entity))
        items, source = body["entities"], body.get("source")
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise MalformedRequestError("'entities' must be a non-empty list of objects with a label and data.")
        if not isinstance(source, dict) or not isinstance(source.get("name"), str):
            raise MissingParameterError("A bulk create needs 'source' with a 'name' (e.g. the file it came from).")
        for item in items:  # all or nothing: one bad row rolls the whole request back
            entity_store.create_entity(session, dataset, uuid=item.get("uuid"), label=item.get("label"),
                                       data=item.get("data"), creator=creator)
        audit.record(session, "entity.bulk.create", actor_id=actor.id, project_id=project_id,
                     datasetName=dataset.name, count=len(items), source=source.get("name"))
    return json_response(SUCCESS)


@api.get(E)
def get_entity(project_id: int, name: str, uuid: str):
    """One entity and its current version."""
    with services().database.session() as session:
        _actor, dataset = _dataset(session, project_id, name, "entity.read")
        return json_response(_entity_json(session, entity_store.get_entity(session, dataset, uuid)))


@api.patch(E)
def update_entity(project_id: int, name: str, uuid: str):
    """A new version: `?baseVersion=N` (409.15 when stale) or `?force=true`; `?resolve=true` clears a conflict."""
    with services().database.session() as session:
        actor, dataset = _dataset(session, project_id, name, "entity.write")
        entity = entity_store.get_entity(session, dataset, uuid, for_update=True)
        force, resolve = bool_arg("force", False), bool_arg("resolve", False)
        base = request.args.get("baseVersion")
        if base is not None and not base.isdigit():
            raise MalformedRequestError("baseVersion must be a whole number.", field="baseVersion")
        body = json_body()
        changes = "label" in body or "data" in body
        if changes and base is None and not force:
            raise MissingParameterError("Send ?baseVersion= (the version you edited) or ?force=true.",
                                        field="baseVersion")
        if resolve and base is not None and int(base) != entity.version:
            raise EntityVersionConflictError(current=entity.version, baseVersion=int(base))
        if changes:
            entity_store.update_entity(session, entity, label=body.get("label"), data=body.get("data"),
                                       base_version=int(base) if base is not None else None,
                                       creator=_creator(actor), force=force)
            audit.record(session, "entity.update.version", actor_id=actor.id, project_id=project_id,
                         datasetName=dataset.name, uuid=entity.uuid, version=entity.version)
        if resolve:
            entity_store.resolve_conflicts(session, entity, actor_id=actor.id)
        return json_response(_entity_json(session, entity))


@api.delete(E)
def delete_entity(project_id: int, name: str, uuid: str):
    """Delete the entity; phones drop it at their next integrity check."""
    with services().database.session() as session:
        actor, dataset = _dataset(session, project_id, name, "entity.write")
        entity_store.delete_entity(session, entity_store.get_entity(session, dataset, uuid), actor_id=actor.id)
    return json_response(SUCCESS)


@api.get(E + "/versions")
def list_entity_versions(project_id: int, name: str, uuid: str):
    """Every version of the entity, with the conflict each stale update caused."""
    with services().database.session() as session:
        _actor, dataset = _dataset(session, project_id, name, "entity.read")
        entity = entity_store.get_entity(session, dataset, uuid)
        conflicts = {c.entity_version_id: c for c in entity_store.entity_conflicts(session, entity)}
        return json_response([_version_json(v, entity.version, conflicts.get(v.id))
                              for v in entity_store.entity_versions(session, entity)])


@api.get(P + "/datasets/<name>.svc/Entities")
def entities_odata(project_id: int, name: str):
    """OData rows (`__id`, `label`, `__system`, properties) with $top $skip $count $filter $select."""
    query = read_query(request.args, repeat=False)
    if query.order:
        raise NotImplementedProblem("$orderby is not supported on entity lists; entities come oldest first.",
                                    option="$orderby")
    with services().database.session() as session:
        _actor, dataset = _dataset(session, project_id, name, "entity.read")
        properties = [p.name for p in entity_lists.dataset_properties(session, dataset.id)]
        known = {("__id",), ("label",), ("__system",), *SYSTEM_MEMBERS, *((odata_name(p),) for p in properties)}
        check_properties(members(query.filter) if query.filter is not None else (), known, "$filter")
        check_properties(query.select or (), known, "$select")
        rows = _odata_rows(session, dataset, properties)
        if query.filter is not None:
            rows = (row for row in rows if matches(query.filter, lambda path, row=row: lookup(row, path)))
        page = paged(rows, query, ODATA_PAGE)
    base = services().settings.public_url or request.host_url.rstrip("/")
    body: dict[str, Any] = {
        "@odata.context": f"{base}/v1/projects/{project_id}/datasets/{quote(name, safe='')}.svc/$metadata#Entities",
        "value": [selected(row, query.select) if query.select is not None else row for row in page.rows],
    }
    if page.count is not None:
        body["@odata.count"] = page.count
    if page.more:
        arguments = {**request.args.to_dict(), "$skip": str(query.skip + len(page.rows))}
        body["@odata.nextLink"] = f"{base}{request.path}?{urlencode(arguments)}"
    return Response(json.dumps(body, ensure_ascii=False), content_type="application/json")


def _odata_rows(session, dataset: Dataset, properties: list[str]):
    names = {("user", u.id): u.display_name for u in session.scalars(select(User))}
    names.update({("app_user", a.id): a.display_name for a in session.scalars(
        select(AppUser).where(AppUser.project_id == dataset.project_id))})
    for entity in session.scalars(select(Entity).where(Entity.dataset_id == dataset.id, Entity.deleted_at.is_(None))
                                  .order_by(Entity.id)).yield_per(500):
        yield odata_entity(uuid=entity.uuid, label=entity.label, data=entity.data, properties=properties,
                           created_at=entity.created_at, updated_at=entity.updated_at, creator_id=entity.creator_id,
                           creator_name=names.get((entity.creator_kind, entity.creator_id)),
                           version=entity.version, conflict=entity.conflict)


@api.get(P + "/entity-queue")
def entity_queue(project_id: int):
    """How many encrypted submissions wait for an unlocked key before their entity changes apply."""
    with services().database.session() as session:
        project_for(session, request_actor(session), project_id, "entity.read")
        return json_response(ENTITY_QUEUE.render(pending=entity_intake.pending_count(session, project_id)))


@api.post(P + "/entity-queue/process")
def process_entity_queue(project_id: int):
    """Apply the queue with the keys this bearer session has unlocked (POST …/key/unlock first)."""
    database = services().database
    with database.session() as session:
        actor = request_actor(session)
        project_for(session, actor, project_id, "key.unlock")
        actor.require("entity.write", project_id)
    token = bearer_token()
    result = entity_intake.process_for_session(database, services().blobs, project_id, token, actor_id=actor.id) \
        if token else None
    if result is None:
        with database.session() as session:
            result = entity_intake.QueueResult(applied=0, waiting=entity_intake.pending_count(session, project_id))
    return json_response(ENTITY_QUEUE_RUN.render(applied=result.applied, waiting=result.waiting))
