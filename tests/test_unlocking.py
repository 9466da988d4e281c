"""Unlocking a project key: wrong passphrases count like failed logins, and each session unlocks only itself."""

from __future__ import annotations

from sqlalchemy import select

from api_client import sign_in
from helpers import make_project
from samen import keyring
from samen.models import AuditEvent, Project

PASSPHRASE = "a long custodian passphrase"


def _project_with_key(services) -> int:
    project_id = make_project(services)
    with services.database.session() as session:
        keyring.create_key(session, session.get(Project, project_id), PASSPHRASE, custodian="coordinator")
    return project_id


def test_wrong_passphrases_are_rate_limited_then_refused_even_when_right(app, services):
    project_id = _project_with_key(services)
    manager = sign_in(services, "manager@example.org", roles={project_id: "manager"})
    client = app.test_client()
    url = f"/v1/projects/{project_id}/key/unlock"
    for _attempt in range(5):
        wrong = client.post(url, json={"passphrase": "guess"}, headers=manager.headers)
        assert wrong.status_code == 400 and wrong.json["code"] == 400.27
    blocked = client.post(url, json={"passphrase": PASSPHRASE}, headers=manager.headers)
    assert blocked.status_code == 429
    with services.database.session() as session:
        failures = session.scalars(select(AuditEvent).where(AuditEvent.action == "key.unlock.failure")).all()
        assert len(failures) == 5
        assert all("guess" not in str(event.details) for event in failures)


def test_an_unlock_serves_only_the_session_that_made_it(app, services):
    project_id = _project_with_key(services)
    first = sign_in(services, "first@example.org", roles={project_id: "manager"})
    second = sign_in(services, "second@example.org", roles={project_id: "manager"})
    client = app.test_client()
    opened = client.post(f"/v1/projects/{project_id}/key/unlock", json={"passphrase": PASSPHRASE}, headers=first.headers)
    assert opened.status_code == 200
    with services.database.session() as session:
        assert keyring.unlocked_keys(session, project_id, first.token)
        assert keyring.unlocked_keys(session, project_id, second.token) == {}
    assert client.post(f"/v1/projects/{project_id}/key/lock", headers=first.headers).status_code == 200
    with services.database.session() as session:
        assert keyring.unlocked_keys(session, project_id, first.token) == {}
