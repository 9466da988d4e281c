"""The audit log: triggers refuse edits; the hash chain names an edited, deleted or reordered event anyway."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from samen import audit
from samen.audit import verify_chain
from samen.auth import authenticate_password
from samen.cli import main
from samen.db import Database
from samen.models import AuditEvent, User
from samen.passwords import hash_password
from samen.problems import AuthenticationError


@pytest.fixture
def database(database_url):
    database = Database(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with database.session() as session:
        for number in range(1, 6):
            audit.record(session, "submission.export", actor_id=number, project_id=1, xmlFormId="samen_intake", rows=number)
    yield database
    database.dispose()


@contextmanager
def _as_schema_owner(database: Database):
    """What someone who owns the schema can do: lift the append-only triggers, tamper, put them back."""
    postgres = database.engine.dialect.name == "postgresql"
    with database.engine.begin() as connection:
        if postgres:
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        yield connection
        if postgres:
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


def _first_break(database: Database):
    with database.session() as session:
        return verify_chain(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_an_intact_log_verifies(database):
    assert _first_break(database) is None


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'nothing' WHERE id = 2",
                                       "DELETE FROM audit_events WHERE id = 2"])
def test_the_database_refuses_to_change_or_delete_an_event(database, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        with database.engine.begin() as connection:
            connection.execute(text(statement))
    assert _first_break(database) is None


def test_an_edited_event_is_named(database):
    with _as_schema_owner(database) as connection:
        connection.execute(text("UPDATE audit_events SET actor_id = 99 WHERE id = 3"))
    broken = _first_break(database)
    assert (broken.event_id, broken.reason) == (3, "its content was changed after it was written")


def test_a_deleted_event_is_named_by_the_one_after_it(database):
    with _as_schema_owner(database) as connection:
        connection.execute(text("DELETE FROM audit_events WHERE id = 3"))
    broken = _first_break(database)
    assert broken.event_id == 4 and "deleted or moved" in broken.reason


def test_reordered_events_are_named(database):
    with _as_schema_owner(database) as connection:
        for old, new in ((3, -3), (4, 3), (-3, 4)):
            connection.execute(text("UPDATE audit_events SET id = :new WHERE id = :old"), {"old": old, "new": new})
    broken = _first_break(database)
    assert broken.event_id == 3 and "deleted or moved" in broken.reason


def _cli(database: Database, tmp_path, *args: str):
    env = {"SAMEN_DATABASE_URL": database.url, "SAMEN_DATA_DIR": str(tmp_path / "data")}
    return CliRunner().invoke(main, list(args), env=env)


def test_samen_audit_verify_and_export(database, tmp_path):
    result = _cli(database, tmp_path, "audit", "verify")
    assert result.exit_code == 0 and "intact: 5 event(s)" in result.output
    out = tmp_path / "audit.csv"
    assert _cli(database, tmp_path, "audit", "export", "--out", str(out)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [row["action"] for row in rows] == ["submission.export"] * 5 + ["audit.export"]  # exporting is audited
    assert rows[1]["prev_hash"] == rows[0]["hash"]
    with _as_schema_owner(database) as connection:
        connection.execute(text("UPDATE audit_events SET details = '{}' WHERE id = 2"))
    result = _cli(database, tmp_path, "audit", "verify")
    assert result.exit_code == 1 and "event 2" in result.output


def test_a_failed_login_is_audited_without_what_was_typed(database):
    with database.session() as session:
        session.add(User(email="coordinator@example.org", display_name="Coordinator",
                         password_hash=hash_password("the right password")))
    with database.session() as session, pytest.raises(AuthenticationError):
        authenticate_password(session, "Coordinator@example.org", "a wrong password", "192.0.2.7")
    with database.session() as session, pytest.raises(AuthenticationError):
        authenticate_password(session, "the right password", "x", "192.0.2.7")  # a password typed as the e-mail
    with database.session() as session:
        user_id = session.scalar(select(User.id))
        failures = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.session.create.failure")
                                   .order_by(AuditEvent.id)).all()
        assert [(event.actor_id, event.details) for event in failures] == [
            (user_id, {"address": "192.0.2.7"}), (None, {"address": "192.0.2.7"})]
    assert _first_break(database) is None
