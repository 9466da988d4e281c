"""The entities API through Flask's client: Central's keys and codes, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from api_client import sign_in
from entity_forms import FOLLOWUP, INTAKE, envelope_for, intake_xml
from helpers import COLLECT_HEADERS, make_phone, make_project, multipart, publish
from samen import keyring
from samen.models import Project

D = "/v1/projects/{pid}/datasets/participants"
PASSPHRASE = "custodian passphrase for tests"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def project(services):
    project_id = make_project(services)
    publish(services, project_id, INTAKE, encrypt=False)
    publish(services, project_id, FOLLOWUP, encrypt=False)
    return project_id


@pytest.fixture
def manager(services, project):
    return sign_in(services, "manager@example.org", roles={project: "manager"})


def test_entity_lists_have_central_keys(client, project, manager):
    listed = client.get(f"/v1/projects/{project}/datasets", headers=manager.headers).get_json()
    assert [(d["name"], d["projectId"], d["approvalRequired"]) for d in listed] == [("participants", project, False)]
    assert set(listed[0]) == {"name", "projectId", "createdAt", "approvalRequired"}
    details = client.get(D.format(pid=project), headers=manager.headers).get_json()
    assert [(p["name"], p["odataName"], p["forms"]) for p in details["properties"]] == [
        ("city", "city", ["intake"]), ("code", "code", ["intake"]), ("status", "status", ["intake", "followup"])]
    assert all(p["publishedAt"] for p in details["properties"])

    created = client.post(f"/v1/projects/{project}/datasets", json={"name": "trainings", "approvalRequired": True},
                          headers=manager.headers)
    assert created.status_code == 200 and created.get_json()["approvalRequired"] is True
    again = client.post(f"/v1/projects/{project}/datasets", json={"name": "Trainings"}, headers=manager.headers)
    assert (again.status_code, again.get_json()["code"]) == (409, 409.3)
    added = client.post(f"/v1/projects/{project}/datasets/trainings/properties", json={"name": "topic"},
                        headers=manager.headers)
    assert added.get_json() == {"success": True}
    reserved = client.post(f"/v1/projects/{project}/datasets/trainings/properties", json={"name": "__x"},
                           headers=manager.headers)
    assert reserved.status_code == 400


def test_create_update_with_base_version_force_delete_and_versions(client, project, manager):
    base = D.format(pid=project)
    single = client.post(f"{base}/entities", json={"label": "P-ABC1234", "data": {"code": "ABC1234", "city": "utrecht"}},
                         headers={**manager.headers, "User-Agent": "pyodk v1.3.0"})
    entity = single.get_json()
    assert single.status_code == 200
    assert entity["creatorId"] == manager.user_id
    assert entity["currentVersion"] == {**entity["currentVersion"], "label": "P-ABC1234", "current": True, "version": 1,
                                        "userAgent": "pyodk v1.3.0", "data": {"code": "ABC1234", "city": "utrecht"}}
    uuid = entity["uuid"]
    bulk = client.post(f"{base}/entities", headers=manager.headers, json={
        "entities": [{"label": "P-DEF5678", "data": {"code": "DEF5678"}}, {"label": "P-GHJ9012", "data": {}}],
        "source": {"name": "import.csv", "size": 2}})
    assert bulk.get_json() == {"success": True}
    assert len(client.get(f"{base}/entities", headers=manager.headers).get_json()) == 3

    unknown = client.post(f"{base}/entities", json={"label": "x", "data": {"full_name": "x"}}, headers=manager.headers)
    assert unknown.status_code == 400

    updated = client.patch(f"{base}/entities/{uuid}?baseVersion=1", json={"data": {"status": "referred"}},
                           headers=manager.headers).get_json()
    assert (updated["currentVersion"]["version"], updated["currentVersion"]["data"]["status"]) == (2, "referred")
    stale = client.patch(f"{base}/entities/{uuid}?baseVersion=1", json={"data": {"status": "closed"}},
                         headers=manager.headers)
    assert (stale.status_code, stale.get_json()["code"]) == (409, 409.15)
    forced = client.patch(f"{base}/entities/{uuid}?force=True", json={"label": "P-ABC1234 (moved)"},
                          headers=manager.headers).get_json()
    assert (forced["currentVersion"]["version"], forced["currentVersion"]["label"]) == (3, "P-ABC1234 (moved)")
    neither = client.patch(f"{base}/entities/{uuid}", json={"label": "y"}, headers=manager.headers)
    assert neither.status_code == 400

    versions = client.get(f"{base}/entities/{uuid}/versions", headers=manager.headers).get_json()
    assert [(v["version"], v["baseVersion"], v["current"]) for v in versions] == [(1, None, False), (2, 1, False),
                                                                                  (3, None, True)]
    assert client.delete(f"{base}/entities/{uuid}", headers=manager.headers).get_json() == {"success": True}
    assert client.get(f"{base}/entities/{uuid}", headers=manager.headers).status_code == 404


def test_odata_entities_page_filter_and_select(client, project, manager):
    base = D.format(pid=project)
    for code in ("AAA", "BBB", "CCC"):
        client.post(f"{base}/entities", json={"label": f"P-{code}", "data": {"code": code, "city": "rotterdam"}},
                    headers=manager.headers)
    first = client.get(f"{base}/entities", headers=manager.headers).get_json()[0]["uuid"]
    client.patch(f"{base}/entities/{first}?baseVersion=1", json={"data": {"city": "utrecht"}}, headers=manager.headers)
    table = client.get(f"/v1/projects/{project}/datasets/participants.svc/Entities?$count=true&$top=2",
                       headers=manager.headers).get_json()
    assert table["@odata.count"] == 3
    assert len(table["value"]) == 2 and "@odata.nextLink" not in table  # $top is the whole answer, as asked
    row = table["value"][0]
    assert (row["__id"], row["label"], row["city"], row["code"], row["status"]) == (first, "P-AAA", "utrecht", "AAA", None)
    assert row["__system"] == {**row["__system"], "version": 2, "updates": 1, "creatorId": str(manager.user_id),
                               "creatorName": "manager", "conflict": None}
    filtered = client.get(f"/v1/projects/{project}/datasets/participants.svc/Entities"
                          "?$filter=__system/version eq 1 and label ne 'P-CCC'&$select=__id,label",
                          headers=manager.headers).get_json()
    assert filtered["value"] == [{"__id": filtered["value"][0]["__id"], "label": "P-BBB"}]
    unknown = client.get(f"/v1/projects/{project}/datasets/participants.svc/Entities?$filter=age gt 3",
                         headers=manager.headers)
    assert unknown.status_code == 400


def test_viewers_read_but_do_not_write_and_strangers_see_nothing(client, services, project):
    viewer = sign_in(services, "viewer@example.org", roles={project: "viewer"})
    stranger = sign_in(services, "stranger@example.org")
    assert client.get(D.format(pid=project) + "/entities", headers=viewer.headers).status_code == 200
    denied = client.post(D.format(pid=project) + "/entities", json={"label": "x", "data": {}}, headers=viewer.headers)
    assert (denied.status_code, denied.get_json()["code"]) == (403, 403.1)
    assert client.get(D.format(pid=project), headers=stranger.headers).status_code == 403
    assert client.get(D.format(pid=project)).status_code == 401


def test_unlock_applies_the_queue_the_api_reports(client, services):
    project_id = make_project(services)
    with services.database.session() as session:
        keyring.create_key(session, session.get(Project, project_id), PASSPHRASE, custodian="coordinator")
    intake = publish(services, project_id, INTAKE)
    phone = make_phone(services, project_id, ["intake"])
    manager = sign_in(services, "custodian@example.org", roles={project_id: "manager"})
    xml, instance_id, entity_id = intake_xml(intake.version, "7K3M9PQ", "rotterdam")
    envelope, files = envelope_for(intake.public_key, "intake", intake.version, instance_id, xml)
    client.post(f"{phone.prefix}/submission", data=multipart(envelope, files), headers=COLLECT_HEADERS,
                content_type="multipart/form-data")
    queue = f"/v1/projects/{project_id}/entity-queue"
    assert client.get(queue, headers=manager.headers).get_json() == {"pending": 1}
    assert client.post(queue + "/process", headers=manager.headers).get_json() == {"applied": 0, "waiting": 1}
    unlocked = client.post(f"/v1/projects/{project_id}/key/unlock", json={"passphrase": PASSPHRASE},
                           headers=manager.headers)
    assert unlocked.status_code == 200
    assert client.get(queue, headers=manager.headers).get_json() == {"pending": 0}
    entity = client.get(D.format(pid=project_id) + f"/entities/{entity_id}", headers=manager.headers).get_json()
    assert entity["currentVersion"]["label"] == "P-7K3M9PQ"
    assert entity["creatorId"] == phone.app_user_id
