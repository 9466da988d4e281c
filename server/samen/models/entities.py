"""Entity lists (Central's datasets): the participants list phones carry for offline follow-up.

What is stored here is, by design, readable without a custodian: phones
download the list as CSV. Only a pseudonymous label and properties the form
linter does not call identifying are ever saved to it (see samen/entities).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from samen.models.base import Base, UtcDateTime, utcnow


class Dataset(Base):
    """An entity list, learned from a form's `meta/entity` block or created through the API."""

    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    approval_required: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DatasetProperty(Base):
    """A column of the list; `forms` names the forms that save to it (xmlFormIds)."""

    __tablename__ = "dataset_properties"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    forms: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Entity(Base):
    """One row of a list, with its current label, data and version (history in EntityVersion)."""

    __tablename__ = "entities"
    __table_args__ = (UniqueConstraint("dataset_id", "uuid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    uuid: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(2000))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    conflict: Mapped[str | None] = mapped_column(String(10))  # null | soft | hard, as Central reports it
    creator_id: Mapped[int | None] = mapped_column(Integer)
    creator_kind: Mapped[str] = mapped_column(String(10), default="user")  # user | app_user
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EntityVersion(Base):
    """Each state an entity has had; the unique (entity, version) makes racing updates retry, never merge blindly."""

    __tablename__ = "entity_versions"
    __table_args__ = (UniqueConstraint("entity_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    base_version: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(2000))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    changed: Mapped[list[str]] = mapped_column(JSON, default=list)  # property names (and "label") this version set
    submission_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission_versions.id", ondelete="SET NULL"), index=True)
    creator_id: Mapped[int | None] = mapped_column(Integer)
    creator_kind: Mapped[str] = mapped_column(String(10), default="user")
    user_agent: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EntityConflict(Base):
    """An update made from a stale baseVersion: applied, and recorded here so nobody overwrites silently."""

    __tablename__ = "entity_conflicts"
    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    entity_version_id: Mapped[int] = mapped_column(ForeignKey("entity_versions.id", ondelete="CASCADE"))
    base_version: Mapped[int | None] = mapped_column(Integer)
    server_version: Mapped[int] = mapped_column(Integer)  # the version the update was applied on top of
    kind: Mapped[str] = mapped_column(String(10))  # soft: other properties changed; hard: the same ones
    properties: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PendingEntitySubmission(Base):
    """An encrypted submission whose entity changes wait for a custodian to unlock the key."""

    __tablename__ = "pending_entity_submissions"
    submission_version_id: Mapped[int] = mapped_column(
        ForeignKey("submission_versions.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
