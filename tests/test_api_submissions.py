"""Submissions over the REST API, stored through ingest: create, files, edit, review, comments, encryption.

Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.serialization import load_der_public_key
from lxml import etree
from sqlalchemy import select

from api_client import path_part, sign_in
from encryptor import encrypt_submission
from helpers import SIMPLE_FORM_MD, instance, make_project, xform
from samen.models import AuditEvent, SubmissionVersion

VERSION = "2026110101"
PASSPHRASE = "een lange geheime zin"


@pytest.fixture
def form_url(client, services, admin):
    project_id = make_project(services)
    response = client.post(f"/v1/projects/{project_id}/forms", data=xform(SIMPLE_FORM_MD),
                           headers={**admin.headers, "Content-Type": "application/xml"})
    assert response.status_code == 200
    return f"/v1/projects/{project_id}/forms/simple"


def submit(client, who, form_url, xml, query=""):
    return client.post(f"{form_url}/submissions{query}", data=xml,
                       headers={**who.headers, "Content-Type": "application/xml", "User-Agent": "pyodk v1.3.0"})


def test_create_with_device_id_then_upload_the_file_it_names(client, admin, form_url):
    xml, instance_id = instance("simple", VERSION, {"city": "utrecht", "photo": "foto.jpg"})
    created = submit(client, admin, form_url, xml, "?deviceID=script-1")
    assert created.status_code == 200
    body = created.json
    assert (body["instanceId"], body["submitterId"], body["deviceId"], body["userAgent"]) == \
        (instance_id, admin.user_id, "script-1", "pyodk v1.3.0")
    assert body["reviewState"] is None and body["currentVersion"]["current"] is True
    s_url = f"{form_url}/submissions/{path_part(instance_id)}"
    assert client.get(s_url + "/attachments", headers=admin.headers).json == [{"name": "foto.jpg", "exists": False}]
    assert client.post(s_url + "/attachments/foto.jpg", data=b"\xff\xd8 jpeg", headers=admin.headers).json == \
        {"success": True}
    assert client.get(s_url + "/attachments", headers=admin.headers).json == [{"name": "foto.jpg", "exists": True}]
    assert client.get(s_url + "/attachments/foto.jpg", headers=admin.headers).data == b"\xff\xd8 jpeg"
    assert client.post(s_url + "/attachments/other.jpg", data=b"x", headers=admin.headers).status_code == 404
    assert client.get(s_url + ".xml", headers=admin.headers).data == xml
    assert [s["instanceId"] for s in client.get(form_url + "/submissions", headers=admin.headers).json] == [instance_id]


def test_a_submission_for_another_form_is_refused_before_storing(client, services, admin, form_url):
    xml, _ = instance("other", VERSION, {"city": "utrecht"})
    response = submit(client, admin, form_url, xml)
    assert response.status_code == 400 and response.json["code"] == 400.1
    with services.database.session() as session:
        assert session.scalars(select(SubmissionVersion)).all() == []


def test_instance_ids_with_slash_and_unicode(client, admin, form_url):
    xml, instance_id = instance("simple", VERSION, {"city": "utrecht"}, instance_id="uuid:wijk/ü-1")
    assert submit(client, admin, form_url, xml).status_code == 200
    s_url = f"{form_url}/submissions/{path_part(instance_id)}"
    assert client.get(s_url, headers=admin.headers).json["instanceId"] == instance_id
    assert client.get(s_url + "/versions", headers=admin.headers).json[0]["instanceId"] == instance_id
    assert client.patch(s_url, json={"reviewState": "approved"}, headers=admin.headers).json["reviewState"] == "approved"


def test_edit_review_and_comment(client, admin, form_url):
    xml, first_id = instance("simple", VERSION, {"city": "utrecht", "remarks": "eerst"})
    submit(client, admin, form_url, xml)
    s_url = f"{form_url}/submissions/{path_part(first_id)}"
    edited_xml, second_id = instance("simple", VERSION, {"city": "utrecht", "remarks": "daarna"}, deprecated_id=first_id)
    missing, _ = instance("simple", VERSION, {"city": "utrecht"})
    assert client.put(s_url, data=missing, headers={**admin.headers, "Content-Type": "application/xml"}).status_code == 400
    edited = client.put(s_url, data=edited_xml, headers={**admin.headers, "Content-Type": "application/xml"})
    assert edited.status_code == 200
    assert edited.json["instanceId"] == first_id and edited.json["currentVersion"]["instanceId"] == second_id
    assert edited.json["reviewState"] == "edited"
    stale, _ = instance("simple", VERSION, {"city": "utrecht"}, deprecated_id=first_id)
    conflict = client.put(s_url, data=stale, headers={**admin.headers, "Content-Type": "application/xml"})
    assert conflict.status_code == 409
    versions = client.get(s_url + "/versions", headers=admin.headers).json
    assert [(v["instanceId"], v["current"]) for v in versions] == [(second_id, True), (first_id, False)]
    assert client.get(s_url + ".xml", headers=admin.headers).data == edited_xml

    bad = client.patch(s_url, json={"reviewState": "lost"}, headers=admin.headers)
    assert bad.status_code == 400
    assert client.patch(s_url, json={"reviewState": "hasIssues"}, headers=admin.headers).json["reviewState"] == "hasIssues"
    comment = client.post(s_url + "/comments", json={"body": "Klopt de wijk?"}, headers=admin.headers).json
    assert comment["body"] == "Klopt de wijk?" and comment["actorId"] == admin.user_id and comment["createdAt"]
    assert [c["body"] for c in client.get(s_url + "/comments", headers=admin.headers).json] == ["Klopt de wijk?"]


def test_a_collector_may_complete_their_own_submission_but_not_read_others(client, services, admin, form_url):
    project_id = int(form_url.split("/")[3])
    collector = sign_in(services, "collector@example.org", roles={project_id: "collector"})
    own_xml, own_id = instance("simple", VERSION, {"city": "utrecht", "photo": "a.jpg"})
    other_xml, other_id = instance("simple", VERSION, {"city": "utrecht", "photo": "b.jpg"})
    assert submit(client, collector, form_url, own_xml).status_code == 200
    assert submit(client, admin, form_url, other_xml).status_code == 200
    own = f"{form_url}/submissions/{path_part(own_id)}"
    other = f"{form_url}/submissions/{path_part(other_id)}"
    assert client.post(own + "/attachments/a.jpg", data=b"a", headers=collector.headers).json == {"success": True}
    assert client.get(own + "/attachments", headers=collector.headers).json == [{"name": "a.jpg", "exists": True}]
    assert client.post(own + "/attachments/a.jpg", data=b"changed", headers=collector.headers).status_code == 409
    assert client.post(other + "/attachments/b.jpg", data=b"b", headers=collector.headers).status_code == 403
    assert client.get(other + "/attachments", headers=collector.headers).status_code == 403
    assert client.get(own, headers=collector.headers).status_code == 403
    assert client.get(form_url + "/submissions", headers=collector.headers).status_code == 403


def _public_key(client, admin, form_url):
    form = etree.fromstring(client.get(form_url + ".xml", headers=admin.headers).data)
    submission = form.find(".//{http://www.w3.org/2002/xforms}submission")
    return load_der_public_key(base64.b64decode(submission.get("base64RsaPublicKey")))


def test_encrypted_submission_xml_is_the_envelope_until_the_caller_unlocks(client, services, admin, form_url):
    project_url = form_url.rsplit("/forms/", 1)[0]
    short = client.post(project_url + "/key", json={"passphrase": "kort"}, headers=admin.headers)
    assert short.status_code == 400
    enabled = client.post(project_url + "/key", json={"passphrase": PASSPHRASE, "hint": "kluis"}, headers=admin.headers)
    assert enabled.status_code == 200 and enabled.json["keyId"]
    again = client.post(project_url + "/key", json={"passphrase": PASSPHRASE}, headers=admin.headers)
    assert again.status_code == 409
    form = client.get(form_url, headers=admin.headers).json
    assert form["keyId"] == enabled.json["keyId"] and form["version"].endswith(f"[encrypted:{form['keyId']}]")

    plain, instance_id = instance("simple", form["version"], {"city": "utrecht", "remarks": "vertrouwelijk"})
    envelope, files = encrypt_submission(_public_key(client, admin, form_url), "simple", form["version"],
                                         instance_id, plain, [])
    assert submit(client, admin, form_url, envelope).status_code == 200
    s_url = f"{form_url}/submissions/{path_part(instance_id)}"
    assert client.post(s_url + "/attachments/submission.xml.enc", data=files["submission.xml.enc"],
                       headers=admin.headers).json == {"success": True}
    assert client.get(s_url + ".xml", headers=admin.headers).data == envelope
    keys = client.get(form_url + "/submissions/keys", headers=admin.headers).json
    assert keys == [{"id": form["keyId"], "public": keys[0]["public"], "managed": True, "hint": "kluis"}]

    wrong = client.post(project_url + "/key/unlock", json={"passphrase": "niet de goede zin"}, headers=admin.headers)
    assert wrong.status_code == 400 and wrong.json["code"] == 400.27
    unlocked = client.post(project_url + "/key/unlock", json={"passphrase": PASSPHRASE}, headers=admin.headers)
    assert unlocked.status_code == 200 and unlocked.json["keyIds"] == [form["keyId"]]
    decrypted = client.get(s_url + ".xml", headers=admin.headers)
    assert decrypted.data == plain and decrypted.headers["Cache-Control"] == "no-store"
    other_session = sign_in(services, "admin2@example.org", admin=True)  # the unlock is bound to one token
    assert client.get(s_url + ".xml", headers=other_session.headers).data == envelope
    with services.database.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "submission.decrypt")).all()
        assert [(e.actor_id, e.details["count"]) for e in events] == [(admin.user_id, 1)]
        assert b"vertrouwelijk" not in b"".join(repr(e.details).encode() for e in events)
    assert client.post(project_url + "/key/lock", headers=admin.headers).json == {"success": True}
    assert client.get(s_url + ".xml", headers=admin.headers).data == envelope
