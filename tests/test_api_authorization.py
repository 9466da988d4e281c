"""Every API endpoint × every role: allowed roles get through, everyone else gets 401/403 and learns nothing.

Table-driven over the routes the app registers, so a new endpoint without an
entry here fails the test. Roles: administrator, manager / viewer / data
collector of the project, manager of ANOTHER project, an app user of the
project (bearer = its token), and anonymous.
"""

from __future__ import annotations

import re

import pytest

from api_client import path_part, sign_in
from helpers import SIMPLE_FORM_MD, instance, make_phone, make_project, publish, xform
from samen.app import create_app
from samen.ingest import IncomingSubmission, ingest_submission
from samen.models import Comment
from conftest import SYSTEM

FORM_ID = "vragen/ü"
SECRET_REMARK = "geheim-antwoord-7731"
ROLES = ("anonymous", "app_user", "other_manager", "collector", "viewer", "manager", "admin")

EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {"anonymous"}
WEB_USERS = SIGNED_IN - {"app_user"}
ADMIN = {"admin"}
MANAGERS = {"admin", "manager"}
READERS = {"admin", "manager", "viewer"}  # project data: submissions, keys, exports
MEMBERS = {"admin", "manager", "viewer", "collector"}
FORM_USERS = MEMBERS | {"app_user"}
SUBMITTERS = {"admin", "manager", "collector", "app_user"}

ALLOWED: dict[str, set[str]] = {
    "api.create_session": EVERYONE, "api.openapi_document": EVERYONE,
    "api.delete_session": WEB_USERS, "api.current_user": WEB_USERS,
    "api.list_roles": SIGNED_IN, "api.get_role": SIGNED_IN, "api.list_projects": SIGNED_IN,
    "api.list_users": ADMIN, "api.create_user": ADMIN, "api.get_user": ADMIN,
    "api.create_project": ADMIN, "api.delete_project": ADMIN,
    "api.get_project_details": MEMBERS, "api.update_project": MANAGERS,
    "api.list_project_assignments": MANAGERS, "api.list_project_role_assignments": MANAGERS,
    "api.assign_project_role": MANAGERS, "api.unassign_project_role": MANAGERS,
    "api.list_forms": FORM_USERS, "api.get_form_details": FORM_USERS, "api.list_form_versions": FORM_USERS,
    "api.list_form_attachments": FORM_USERS,
    "api.create_form": MANAGERS, "api.update_form": MANAGERS, "api.delete_form": MANAGERS,
    "api.create_draft": MANAGERS, "api.get_draft": MANAGERS, "api.get_draft_xml": MANAGERS,
    "api.delete_draft": MANAGERS, "api.publish_form_draft": MANAGERS, "api.list_draft_attachments": MANAGERS,
    "api.upload_draft_attachment": MANAGERS, "api.list_draft_submissions": MANAGERS,
    "api.get_draft_submission": MANAGERS,
    "api.list_app_users": MANAGERS, "api.create_app_user": MANAGERS, "api.delete_app_user": MANAGERS,
    "api.list_form_assignments": MANAGERS, "api.list_form_role_assignments": MANAGERS,
    "api.assign_form": MANAGERS, "api.unassign_form": MANAGERS,
    "api.list_submissions": READERS, "api.get_submission": READERS, "api.get_submission_xml": READERS,
    "api.list_submission_versions": READERS, "api.list_comments": READERS,
    "api.list_submission_attachments": READERS, "api.get_submission_attachment": READERS,
    "api.create_submission": SUBMITTERS,
    "api.edit_submission": MANAGERS, "api.review_submission": MANAGERS, "api.create_comment": MANAGERS,
    "api.upload_submission_attachment": MANAGERS,
    "api.list_form_keys": READERS, "api.enable_encryption": MANAGERS,
    "api.unlock_key": READERS, "api.lock_key": READERS,
    "api.odata_service": READERS, "api.odata_metadata": READERS, "api.odata_table": READERS,
    "api.export_csv": READERS, "api.export_xlsx": READERS, "api.export_sav": READERS, "api.export_jsonl": READERS,
}
# Endpoints other modules own and this table does not know yet: at least outsiders must be kept out.
OUTSIDERS = {"anonymous", "other_manager"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from samen.db import Database

    folder = tmp_path_factory.mktemp("authorization")
    url = f"sqlite:///{folder / 'samen.db'}"
    Database(url).migrate()
    app = create_app({"data_dir": folder / "data", "database_url": url, "secret_key": "test"})
    services = app.extensions["samen"]
    project_id = make_project(services)
    other_project = make_project(services, "SAMEN Utrecht")
    publish(services, project_id, xform(SIMPLE_FORM_MD.replace("| simple ", f"| {FORM_ID} ")), encrypt=False)
    phone = make_phone(services, project_id, [FORM_ID])
    xml, instance_id = instance(FORM_ID, "2026110101", {"city": "utrecht", "remarks": SECRET_REMARK,
                                                       "photo": "foto.jpg"})
    with services.database.session() as session:
        result = ingest_submission(session, services.blobs, project_id,
                                   IncomingSubmission(xml=xml, files={"foto.jpg": b"jpeg"}), SYSTEM)
        session.add(Comment(submission_id=result.submission_id, actor_id=0, body=SECRET_REMARK))
    people = {
        "admin": sign_in(services, "admin@example.org", admin=True),
        "manager": sign_in(services, "manager@example.org", roles={project_id: "manager"}),
        "viewer": sign_in(services, "viewer@example.org", roles={project_id: "viewer"}),
        "collector": sign_in(services, "collector@example.org", roles={project_id: "collector"}),
        "other_manager": sign_in(services, "other@example.org", roles={other_project: "manager"}),
    }
    headers = {role: person.headers for role, person in people.items()}
    headers["app_user"] = {"Authorization": f"Bearer {phone.token}"}
    headers["anonymous"] = {}
    values = {
        "project_id": str(project_id), "xml_form_id": path_part(FORM_ID), "instance_id": path_part(instance_id),
        "name": "foto.jpg", "role_id": "2", "actor_id": str(phone.app_user_id), "app_user_id": str(phone.app_user_id),
        "user_id": str(people["admin"].user_id), "token": "not-a-session", "resource": "Submissions",
    }
    yield app, headers, values, {phone.token, instance_id}
    services.database.dispose()


def _operations(app):
    operations = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operations.append((rule.rule, method, rule.endpoint))
    # Destructive calls last, so that what they remove does not hide what the others would show.
    # Deleting the project, then revoking the phone (whose bearer token then stops working at all).
    last = ("api.delete_project", "api.delete_app_user")
    return sorted(operations, key=lambda op: (op[1] == "DELETE", op[2] in last, op[2] == last[1], op[0], op[1]))


def _url(rule: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "x"), rule)


# Runs before the matrix below, which deletes the project at its end.
def test_project_lists_show_only_what_each_role_may_read(world):
    app, headers, values, _secrets = world
    client = app.test_client()
    seen = {role: [p["id"] for p in client.get("/v1/projects", headers=headers[role]).json]
            for role in ("admin", "manager", "other_manager", "app_user")}
    assert seen["manager"] == [int(values["project_id"])]
    assert int(values["project_id"]) not in seen["other_manager"] and seen["other_manager"]
    assert seen["app_user"] == []
    assert set(seen["admin"]) >= set(seen["manager"]) | set(seen["other_manager"])


def test_an_unknown_bearer_token_is_401(world):
    response = world[0].test_client().get("/v1/projects", headers={"Authorization": "Bearer made-up"})
    assert response.status_code == 401 and response.json["code"] == 401.2


def test_every_endpoint_for_every_role(world):
    app, headers, values, secrets = world
    client = app.test_client()
    failures = []
    for rule, method, endpoint in _operations(app):
        allowed = ALLOWED.get(endpoint)
        for role in ROLES:
            response = client.open(_url(rule, values), method=method, headers=headers[role], json={})
            denied = response.status_code in (401, 403)
            if allowed is None:
                expect_denied = role in OUTSIDERS
                if expect_denied != denied and expect_denied:
                    failures.append(f"{method} {rule} as {role}: {response.status_code}, expected 401/403")
                continue
            if (role not in allowed) != denied:
                failures.append(f"{method} {rule} as {role}: {response.status_code}, "
                                f"expected {'401/403' if role not in allowed else 'not 401/403'}")
            if role not in allowed:
                expected = 401 if role == "anonymous" else 403
                if response.status_code != expected or set(response.json or {}) != {"code", "message", "details"}:
                    failures.append(f"{method} {rule} as {role}: {response.status_code} {response.data[:80]!r}")
                if any(secret.encode() in response.data for secret in secrets | {SECRET_REMARK}):
                    failures.append(f"{method} {rule} as {role}: the refusal leaks data")
    assert not failures, "\n".join(failures)


def test_the_table_names_only_registered_endpoints(world):
    app = world[0]
    assert set(ALLOWED) <= set(app.view_functions)
