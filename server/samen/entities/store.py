"""Entities in storage: create, update (honouring baseVersion), delete, history and conflicts.

Two callers with different rules for a stale `baseVersion`:
* the API (a person at a keyboard) is refused with 409.15 and can re-read or force;
* a submission (a phone that was offline) is applied, and the conflict is
  recorded — dropping it would lose a follow-up, applying it silently would
  hide that two people changed the same participant.
"""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from samen import audit
from samen.entities.actions import conflicting_properties
from samen.entities.lists import dataset_properties
from samen.models import Dataset, Entity, EntityConflict, EntityVersion, utcnow
from samen.problems import AlreadyExistsError, EntityVersionConflictError, MalformedRequestError, NotFoundError

LABEL = "label"


@dataclass(frozen=True)
class Creator:
    """Who made a change: a web user or an app user (their ids are separate sequences)."""

    id: int | None
    kind: str  # user | app_user
    user_agent: str | None = None


def find_entity(session: Session, dataset: Dataset, uuid: str, *, for_update: bool = False) -> Entity | None:
    query = select(Entity).where(Entity.dataset_id == dataset.id, Entity.uuid == uuid.lower())
    return session.scalar(query.with_for_update() if for_update else query)


def get_entity(session: Session, dataset: Dataset, uuid: str, *, for_update: bool = False) -> Entity:
    entity = find_entity(session, dataset, uuid, for_update=for_update)
    if entity is None or entity.deleted_at is not None:
        raise NotFoundError(f"The entity list '{dataset.name}' has no entity {uuid}.", uuid=uuid)
    return entity


def list_entities(session: Session, dataset: Dataset) -> list[Entity]:
    return list(session.scalars(select(Entity).where(Entity.dataset_id == dataset.id, Entity.deleted_at.is_(None))
                                .order_by(Entity.id)))


def entity_versions(session: Session, entity: Entity) -> list[EntityVersion]:
    return list(session.scalars(select(EntityVersion).where(EntityVersion.entity_id == entity.id)
                                .order_by(EntityVersion.version)))


def current_version(session: Session, entity: Entity) -> EntityVersion:
    return session.scalar(select(EntityVersion).where(EntityVersion.entity_id == entity.id,
                                                      EntityVersion.version == entity.version))


def _checked_data(session: Session, dataset: Dataset, data: Any) -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MalformedRequestError("'data' must be an object of property names to text values.")
    known = {p.name for p in dataset_properties(session, dataset.id)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise MalformedRequestError(
            f"The entity list '{dataset.name}' has no property {', '.join(unknown)}: add the property first.",
            properties=unknown)
    if any(not isinstance(value, str) for value in data.values()):
        raise MalformedRequestError("Entity property values must be text (send numbers as strings, as Central does).")
    return dict(data)


def _checked_label(label: Any, *, required: bool) -> str | None:
    if label is None and not required:
        return None
    if not isinstance(label, str) or not label.strip():
        raise MalformedRequestError("An entity needs a non-empty label.")
    return label.strip()


def _checked_uuid(value: Any) -> str:
    if value is None or value == "":
        return str(uuid_module.uuid4())  # Central generates one when the client sends none
    try:
        return str(uuid_module.UUID(str(value).removeprefix("uuid:")))
    except ValueError as error:
        raise MalformedRequestError("An entity's uuid must be a UUID.") from error


def create_entity(session: Session, dataset: Dataset, *, uuid: Any, label: Any, data: Any, creator: Creator,
                  submission_version_id: int | None = None) -> Entity:
    """A new entity at version 1; 409.3 if the uuid is taken (deleted ones included, as in Central)."""
    entity_uuid = _checked_uuid(uuid)
    checked_label = _checked_label(label, required=True)
    checked_data = _checked_data(session, dataset, data)
    if find_entity(session, dataset, entity_uuid) is not None:
        raise AlreadyExistsError(f"An entity with uuid {entity_uuid} already exists in '{dataset.name}'.",
                                 uuid=entity_uuid)
    now = utcnow()
    entity = Entity(dataset_id=dataset.id, uuid=entity_uuid, label=checked_label, data=checked_data, version=1,
                    creator_id=creator.id, creator_kind=creator.kind, created_at=now)
    session.add(entity)
    session.flush()
    session.add(EntityVersion(entity_id=entity.id, version=1, label=checked_label, data=checked_data,
                              changed=[LABEL, *sorted(checked_data)], submission_version_id=submission_version_id,
                              creator_id=creator.id, creator_kind=creator.kind, user_agent=creator.user_agent,
                              created_at=now))
    session.flush()
    return entity


def update_entity(session: Session, entity: Entity, *, label: Any, data: Any, base_version: int | None,
                  creator: Creator, force: bool = False, record_conflict: bool = False,
                  submission_version_id: int | None = None) -> Entity:
    """Apply a change as a new version.

    A `base_version` that is not the current one is refused (409.15) unless
    `force`, or — for submissions — applied with the conflict recorded.
    """
    dataset = session.get(Dataset, entity.dataset_id)
    checked_label = _checked_label(label, required=False)
    checked_data = _checked_data(session, dataset, data)
    stale = base_version is not None and base_version != entity.version
    if stale and not (force or record_conflict):
        raise EntityVersionConflictError(
            f"Entity {entity.uuid} is at version {entity.version}, not {base_version}: fetch it again, or force the update.",
            current=entity.version, baseVersion=base_version)
    changed = sorted(name for name, value in checked_data.items() if entity.data.get(name) != value)
    if checked_label is not None and checked_label != entity.label:
        changed.append(LABEL)
    now = utcnow()
    previous_version = entity.version
    entity.version = previous_version + 1
    entity.data = {**entity.data, **checked_data}
    entity.label = checked_label or entity.label
    entity.updated_at = now
    version = EntityVersion(entity_id=entity.id, version=entity.version, base_version=base_version,
                            label=entity.label, data=entity.data, changed=changed,
                            submission_version_id=submission_version_id, creator_id=creator.id,
                            creator_kind=creator.kind, user_agent=creator.user_agent, created_at=now)
    session.add(version)
    session.flush()
    if stale and record_conflict:
        _record_conflict(session, entity, version, base_version, previous_version, checked_label, checked_data)
    return entity


def _record_conflict(session: Session, entity: Entity, version: EntityVersion, base_version: int,
                     server_version: int, label: str | None, data: dict[str, str]) -> None:
    """Soft: others changed other properties since the base version; hard: they changed the same ones."""
    history = {v.version: v for v in entity_versions(session, entity)}
    base = history.get(base_version)
    proposed = {**data, **({LABEL: label} if label is not None else {})}
    if base is None:
        # A base the server never had (an update from a later offline branch arrived first): nothing to compare.
        overlap = sorted(proposed)
    else:
        changed_since = set().union(*(v.changed for n, v in history.items() if base_version < n <= server_version))
        overlap = conflicting_properties(changed_since, proposed, {**base.data, LABEL: base.label})
    kind = "hard" if overlap else "soft"
    session.add(EntityConflict(entity_id=entity.id, entity_version_id=version.id, base_version=base_version,
                               server_version=server_version, kind=kind, properties=overlap))
    entity.conflict = "hard" if "hard" in (kind, entity.conflict) else "soft"
    session.flush()


def entity_conflicts(session: Session, entity: Entity) -> list[EntityConflict]:
    return list(session.scalars(select(EntityConflict).where(EntityConflict.entity_id == entity.id)
                                .order_by(EntityConflict.id)))


def resolve_conflicts(session: Session, entity: Entity, *, actor_id: int | None) -> None:
    """Someone looked at the conflicting versions and accepts the current state (Central: `?resolve=true`)."""
    now = utcnow()
    for conflict in entity_conflicts(session, entity):
        conflict.resolved_at = conflict.resolved_at or now
    entity.conflict = None
    dataset = session.get(Dataset, entity.dataset_id)
    audit.record(session, "entity.update.resolve", actor_id=actor_id, project_id=dataset.project_id,
                 datasetName=dataset.name, uuid=entity.uuid)


def delete_entity(session: Session, entity: Entity, *, actor_id: int | None) -> None:
    """Soft delete: phones learn of it through the integrity endpoint and drop the row."""
    now = utcnow()
    entity.deleted_at = now
    entity.updated_at = now
    dataset = session.get(Dataset, entity.dataset_id)
    audit.record(session, "entity.delete", actor_id=actor_id, project_id=dataset.project_id,
                 datasetName=dataset.name, uuid=entity.uuid)


def deleted_states(session: Session, dataset: Dataset, uuids: list[str]) -> list[tuple[str, bool]]:
    """(uuid, deleted) for each uuid the list has ever had; unknown ids are left out, as in Central."""
    if not uuids:
        return []
    rows = session.execute(select(Entity.uuid, Entity.deleted_at).where(
        Entity.dataset_id == dataset.id, Entity.uuid.in_([u.lower() for u in uuids])))
    return [(uuid, deleted_at is not None) for uuid, deleted_at in rows]
