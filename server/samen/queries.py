"""Small shared look-ups used by several surfaces (all SQL for them lives here)."""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from samen.models import Blob, Form, Project
from samen.problems import NotFoundError


def get_project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None or project.deleted_at is not None:
        raise NotFoundError("There is no project with that id.")
    return project


def find_form(session: Session, project_id: int, xml_form_id: str) -> Form | None:
    return session.scalar(
        select(Form).where(Form.project_id == project_id, Form.xml_form_id == xml_form_id, Form.deleted_at.is_(None))
    )


def get_form(session: Session, project_id: int, xml_form_id: str) -> Form:
    form = find_form(session, project_id, xml_form_id)
    if form is None:
        raise NotFoundError(f"There is no form '{xml_form_id}' in this project.", xmlFormId=xml_form_id)
    return form


def insert_ignoring_duplicates(dialect_name: str, table: Table | type) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING, on either database: with RETURNING, no row means it was there already."""
    insert = pg_insert if dialect_name == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing()


def record_blob(executor: Session | Connection, sha256: str, size: int, content_type: str | None) -> None:
    """Insert the row for a blob unless another request already did (same bytes, same digest)."""
    dialect = executor.dialect if isinstance(executor, Connection) else executor.get_bind().dialect
    executor.execute(insert_ignoring_duplicates(dialect.name, Blob).values(sha256=sha256, size=size,
                                                                          content_type=content_type))
