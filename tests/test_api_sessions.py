"""Signing in over the API: bearer sessions, expiry, sign-out, Basic only over https, rate limits, users, roles."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import update

from api_client import PASSWORD, sign_in
from helpers import make_project
from samen.models import SessionToken, utcnow


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def user(services):
    return sign_in(services, "coordinator@example.org")


def login(client, email, password, address="203.0.113.7"):
    return client.post("/v1/sessions", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_sign_in_returns_a_token_that_works_until_sign_out(client, user):
    response = login(client, "Coordinator@Example.org", PASSWORD)
    assert response.status_code == 200
    assert set(response.json) == {"token", "expiresAt", "createdAt"}
    headers = {"Authorization": f"Bearer {response.json['token']}"}
    me = client.get("/v1/users/current", headers=headers)
    assert me.status_code == 200 and me.json["email"] == "coordinator@example.org" and me.json["id"] == user.user_id
    assert "password" not in repr(me.json).lower()
    assert client.delete("/v1/sessions/current", headers=headers).json == {"success": True}
    after = client.get("/v1/users/current", headers=headers)
    assert after.status_code == 401 and after.json["code"] == 401.2


def test_someone_elses_session_cannot_be_ended(client, services, user):
    other = sign_in(services, "other@example.org")
    assert client.delete(f"/v1/sessions/{user.token}", headers=other.headers).status_code == 403
    assert client.get("/v1/users/current", headers=user.headers).status_code == 200


def test_expired_token_is_401(client, services, user):
    with services.database.session() as session:
        session.execute(update(SessionToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.get("/v1/users/current", headers=user.headers)
    assert response.status_code == 401 and response.json["code"] == 401.2


def test_wrong_password_is_401_and_failures_are_rate_limited_per_account(client, user):
    for _ in range(5):
        assert login(client, user.email, "wrong password!").json["code"] == 401.2
    limited = login(client, user.email, PASSWORD)
    assert limited.status_code == 429 and limited.json["code"] == 429.1


def test_failures_are_rate_limited_per_address(client, services):
    for number in range(20):
        login(client, f"nobody{number}@example.org", "guess", address="198.51.100.9")
    assert login(client, "nobody-else@example.org", "guess", address="198.51.100.9").status_code == 429
    sign_in(services, "fresh@example.org")
    assert login(client, "fresh@example.org", PASSWORD, address="192.0.2.1").status_code == 200


def test_basic_auth_only_over_https(client, user):
    basic = {"Authorization": "Basic " + base64.b64encode(f"{user.email}:{PASSWORD}".encode()).decode()}
    plain = client.get("/v1/users/current", headers=basic)
    assert plain.status_code == 401 and "https" in plain.json["message"]
    secure = client.get("/v1/users/current", headers=basic, base_url="https://localhost")
    assert secure.status_code == 200 and secure.json["email"] == user.email


def test_missing_fields_and_bad_json(client):
    assert client.post("/v1/sessions", json={"email": "x@example.org"}).json["code"] == 400.2
    assert client.post("/v1/sessions", data=b"{not json", content_type="application/json").json["code"] == 400.1


def test_admin_creates_users_and_managers_assign_roles(client, services):
    admin = sign_in(services, "admin@example.org", admin=True)
    project_id = make_project(services)
    manager = sign_in(services, "manager@example.org", roles={project_id: "manager"})
    short = client.post("/v1/users", json={"email": "new@example.org", "password": "short"}, headers=admin.headers)
    assert short.status_code == 400
    created = client.post("/v1/users", json={"email": "new@example.org", "password": "a long enough password",
                                             "displayName": "Nieuw"}, headers=admin.headers)
    assert created.status_code == 200 and created.json["displayName"] == "Nieuw"
    assert client.post("/v1/users", json={"email": "NEW@example.org", "password": "a long enough password"},
                       headers=admin.headers).json["code"] == 409.3
    assert client.post("/v1/users", json={"email": "x@example.org", "password": "a long enough password"},
                       headers=manager.headers).status_code == 403
    new_id = created.json["id"]
    roles = {r["system"]: r["id"] for r in client.get("/v1/roles", headers=manager.headers).json}
    assert roles == {"admin": 1, "app-user": 2, "manager": 3, "formfill": 4, "viewer": 5}
    url = f"/v1/projects/{project_id}/assignments"
    assert client.post(f"{url}/viewer/{new_id}", headers=manager.headers).json == {"success": True}
    assert client.post(f"{url}/5/{new_id}", headers=manager.headers).json["code"] == 409.3
    assert {"actorId": new_id, "roleId": 5} in client.get(url, headers=manager.headers).json
    new = sign_in(services, "new-session@example.org")  # a different user without roles
    assert client.get(f"/v1/projects/{project_id}", headers=new.headers).status_code == 403
    assert client.delete(f"{url}/viewer/{new_id}", headers=manager.headers).json == {"success": True}
    assert client.get(f"{url}/5", headers=manager.headers).json == []
