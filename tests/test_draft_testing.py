"""Draft testing as Central does it: a draft's token lets Collect fetch the draft and send test data to it.

Collect-shaped requests through Flask's client, on SQLite and PostgreSQL: the
draft's form list, definition, manifest and files; test submissions (resends,
conflicts, encryption) kept apart from every surface that reads real data;
publishing or deleting the draft ends the token and deletes the test data.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import zipfile
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.serialization import load_der_public_key
from lxml import etree
from sqlalchemy import func, select

from console_client import make_user, sign_in as console_sign_in
from encryptor import encrypt_submission
from helpers import COLLECT_HEADERS, DEVICE_ID, MEDIA_FORM_MD, SIMPLE_FORM_MD, instance, make_phone, multipart, xform
from samen.collect_settings import draft_testing_settings, qr_svg, settings_payload
from samen.models import AuditEvent, Form, Submission, SubmissionAttachment, SubmissionVersion
from samen.retention import run_retention

XFORMS_LIST = "{http://openrosa.org/xforms/xformsList}"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
VERSION = "2026110101"
ENDED = b"You tried to access a draft testing endpoint, but it does not exist anymore or your access is no longer valid."


def upload(client, admin, project_id, body: bytes, query: str = "?publish=false"):
    response = client.post(f"/v1/projects/{project_id}/forms{query}", data=body,
                           headers={**admin.headers, "Content-Type": "application/xml"})
    assert response.status_code == 200, response.json
    return response.json


def draft_token(client, admin, project_id, xml_form_id: str = "simple") -> str:
    return client.get(f"/v1/projects/{project_id}/forms/{xml_form_id}/draft", headers=admin.headers).json["draftToken"]


def draft_url(project_id, token, xml_form_id: str = "simple") -> str:
    return f"/v1/test/{token}/projects/{project_id}/forms/{xml_form_id}/draft"


def local(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def send(client, url, xml, files=None, headers=COLLECT_HEADERS):
    return client.post(f"{url}/submission?deviceID={DEVICE_ID}", data=multipart(xml, files), headers=headers,
                       content_type="multipart/form-data")


def count_submissions(services, draft: bool) -> int:
    with services.database.session() as session:
        return session.scalar(select(func.count()).select_from(Submission).where(Submission.draft.is_(draft)))


@pytest.fixture
def tested(client, admin, project_id):
    """A form uploaded as a draft (never published): its testing address."""
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD))
    return draft_url(project_id, draft_token(client, admin, project_id))


def test_only_the_draft_endpoint_shows_the_testing_token(client, admin, project_id):
    created = upload(client, admin, project_id, xform(SIMPLE_FORM_MD))
    token = draft_token(client, admin, project_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{64}", token)
    assert created["draftToken"] is None
    assert client.get(f"/v1/projects/{project_id}/forms/simple", headers=admin.headers).json["draftToken"] is None
    assert [f["draftToken"] for f in client.get(f"/v1/projects/{project_id}/forms", headers=admin.headers).json] == [None]
    # Another form's draft has a token of its own.
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD.replace("| simple ", "| other ")))
    assert draft_token(client, admin, project_id, "other") not in (None, token)


def test_the_draft_form_list_names_only_the_draft_and_hashes_the_served_bytes(client, services, admin, project_id,
                                                                               tested):
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD.replace("| simple ", "| other ")), query="")  # published
    response = client.get(f"{tested}/formList?deviceID={DEVICE_ID}", headers=COLLECT_HEADERS)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["X-OpenRosa-Accept-Content-Length"] == "100000000"
    [entry] = etree.fromstring(response.data).findall(f"{XFORMS_LIST}xform")
    assert (entry.findtext(f"{XFORMS_LIST}formID"), entry.findtext(f"{XFORMS_LIST}name"),
            entry.findtext(f"{XFORMS_LIST}version")) == ("simple", "Simple form", VERSION)
    download = entry.findtext(f"{XFORMS_LIST}downloadUrl")
    assert download.endswith(f"{tested}.xml")
    assert entry.find(f"{XFORMS_LIST}manifestUrl") is None  # no media: Collect must not ask for a manifest
    served = client.get(local(download), headers=COLLECT_HEADERS)
    assert served.status_code == 200 and served.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert entry.findtext(f"{XFORMS_LIST}hash") == "md5:" + hashlib.md5(served.data).hexdigest()
    assert served.data == client.get(f"/v1/projects/{project_id}/forms/simple/draft.xml", headers=admin.headers).data

    assert len(etree.fromstring(client.get(f"{tested}/formList?formID=other", headers=COLLECT_HEADERS).data)) == 0
    missing_header = client.get(f"{tested}/formList")
    assert missing_header.status_code == 400 and b'nature="error"' in missing_header.data
    assert client.head(f"{tested}/submission", headers=COLLECT_HEADERS).status_code == 204


def test_the_draft_manifest_and_its_files(client, admin, project_id):
    upload(client, admin, project_id, xform(MEDIA_FORM_MD))
    assert client.post(f"/v1/projects/{project_id}/forms/media/draft/attachments/logo.png", data=b"\x89PNG logo",
                       headers=admin.headers).status_code == 200
    url = draft_url(project_id, draft_token(client, admin, project_id, "media"), "media")
    [entry] = etree.fromstring(client.get(f"{url}/formList", headers=COLLECT_HEADERS).data)
    assert entry.findtext(f"{XFORMS_LIST}manifestUrl").endswith(f"{url}/manifest")
    manifest = client.get(local(entry.findtext(f"{XFORMS_LIST}manifestUrl")), headers=COLLECT_HEADERS)
    assert manifest.status_code == 200 and manifest.headers["Content-Type"] == "text/xml; charset=utf-8"
    [media] = etree.fromstring(manifest.data).findall(f"{MANIFEST}mediaFile")
    assert media.findtext(f"{MANIFEST}filename") == "logo.png"
    assert media.findtext(f"{MANIFEST}hash") == "md5:" + hashlib.md5(b"\x89PNG logo").hexdigest()
    assert media.findtext(f"{MANIFEST}downloadUrl").endswith(f"{url}/attachments/logo.png")
    file = client.get(local(media.findtext(f"{MANIFEST}downloadUrl")), headers=COLLECT_HEADERS)
    assert file.status_code == 200 and file.data == b"\x89PNG logo"
    unknown = client.get(f"{url}/attachments/other.png", headers=COLLECT_HEADERS)
    assert unknown.status_code == 404 and b'nature="error"' in unknown.data


def test_a_test_submission_is_201_a_resend_changes_nothing_and_other_xml_is_409(client, services, admin, project_id,
                                                                               tested):
    xml, instance_id = instance("simple", VERSION, {"city": "utrecht", "photo": "p.jpg"})
    first = send(client, tested, xml)
    assert first.status_code == 201 and b'nature="submit_success"' in first.data
    assert send(client, tested, xml, {"p.jpg": b"\xff\xd8 test photo"}).status_code == 201  # the split upload's rest
    assert send(client, tested, xml, {"p.jpg": b"\xff\xd8 test photo"}).status_code == 201  # Collect retrying
    other, _ = instance("simple", VERSION, {"city": "rotterdam"}, instance_id=instance_id)
    conflict = send(client, tested, other)
    assert conflict.status_code == 409 and b"different submission" in conflict.data
    with services.database.session() as session:
        [(submission, version)] = session.execute(select(Submission, SubmissionVersion).join(
            SubmissionVersion, SubmissionVersion.submission_id == Submission.id)).all()
        assert (submission.draft, submission.submitter_id, submission.device_id) == (True, None, DEVICE_ID)
        assert version.xml == xml
        [attachment] = session.scalars(select(SubmissionAttachment)).all()
        assert services.blobs.get(attachment.blob_sha256) == b"\xff\xd8 test photo"
    missing_header = send(client, tested, xml, headers={})
    assert missing_header.status_code == 400


def test_test_submissions_are_listed_for_the_draft_in_the_shape_of_submissions(client, admin, project_id, tested):
    xml, instance_id = instance("simple", VERSION, {"city": "utrecht"})
    assert send(client, tested, xml).status_code == 201
    listed = client.get(f"/v1/projects/{project_id}/forms/simple/draft/submissions", headers=admin.headers).json
    assert [s["instanceId"] for s in listed] == [instance_id]
    assert set(listed[0]) == {"instanceId", "submitterId", "deviceId", "createdAt", "updatedAt", "reviewState",
                              "userAgent", "instanceName", "currentVersion"}
    assert listed[0]["deviceId"] == DEVICE_ID and listed[0]["userAgent"].startswith("org.odk.collect.android/")
    one = client.get(f"/v1/projects/{project_id}/forms/simple/draft/submissions/{instance_id}", headers=admin.headers)
    assert one.json == listed[0]
    assert client.get(f"/v1/projects/{project_id}/forms/simple/submissions/{instance_id}",
                      headers=admin.headers).status_code == 404


def test_test_data_never_shows_where_real_data_is_read(app, client, services, admin, project_id):
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD), query="")  # published
    phone = make_phone(services, project_id, ["simple"])
    form_url = f"/v1/projects/{project_id}/forms/simple"
    assert client.post(f"{form_url}/draft", headers=admin.headers).status_code == 200  # a copy, to test
    tested = draft_url(project_id, draft_token(client, admin, project_id))
    real, real_id = instance("simple", VERSION, {"city": "rotterdam", "remarks": "echt"})
    assert send(client, phone.prefix, real).status_code == 201
    test, test_id = instance("simple", VERSION, {"city": "utrecht", "remarks": "proef"})
    assert send(client, tested, test).status_code == 201

    assert [s["instanceId"] for s in client.get(f"{form_url}/submissions", headers=admin.headers).json] == [real_id]
    odata = client.get(f"{form_url}.svc/Submissions?$count=true", headers=admin.headers).json
    assert [row["__id"] for row in odata["value"]] == [real_id] and odata["@odata.count"] == 1
    export = client.get(f"{form_url}/submissions.csv.zip", headers=admin.headers)
    with zipfile.ZipFile(io.BytesIO(export.data)) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("simple.csv").decode("utf-8"))))
    assert [row["KEY"] for row in rows] == [real_id]

    make_user(services, "manager@example.org", roles={project_id: "manager"})
    console = app.test_client()
    console_sign_in(console, "manager@example.org")
    table = console.get(f"/projects/{project_id}/forms/simple/submissions").get_data(as_text=True)
    assert real_id in table and test_id not in table
    assert console.get(f"/projects/{project_id}/forms/simple/submissions/{test_id}").status_code == 404
    form_page = console.get(f"/projects/{project_id}/forms/simple").get_data(as_text=True)
    assert '<dd id="submission-count">1</dd>' in form_page
    assert "Test submissions: 1." in form_page

    assert [s["instanceId"] for s in client.get(f"{form_url}/draft/submissions", headers=admin.headers).json] == \
        [test_id]
    assert (count_submissions(services, draft=False), count_submissions(services, draft=True)) == (1, 1)


def test_the_same_instance_is_never_both_test_and_real_data(client, services, admin, project_id):
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD), query="")
    phone = make_phone(services, project_id, ["simple"])
    assert client.post(f"/v1/projects/{project_id}/forms/simple/draft", headers=admin.headers).status_code == 200
    tested = draft_url(project_id, draft_token(client, admin, project_id))
    xml, _ = instance("simple", VERSION, {"city": "utrecht"})
    assert send(client, tested, xml).status_code == 201
    as_real = send(client, phone.prefix, xml)
    assert as_real.status_code == 409 and b"test data" in as_real.data
    real, _ = instance("simple", VERSION, {"city": "rotterdam"})
    assert send(client, phone.prefix, real).status_code == 201
    as_test = send(client, tested, real)
    assert as_test.status_code == 409 and b"real data" in as_test.data
    assert (count_submissions(services, draft=False), count_submissions(services, draft=True)) == (1, 1)
    # Once the draft is published its test data is gone, and the phone can send that instance for real.
    assert client.post(f"/v1/projects/{project_id}/forms/simple/draft/publish?version=2",
                       headers=admin.headers).status_code == 200
    assert send(client, phone.prefix, xml).status_code == 201
    assert (count_submissions(services, draft=False), count_submissions(services, draft=True)) == (2, 0)


def test_only_the_draft_version_is_taken_on_the_draft_and_never_on_the_real_endpoint(client, services, admin,
                                                                                      project_id):
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD), query="")
    phone = make_phone(services, project_id, ["simple"])
    new_definition = xform(SIMPLE_FORM_MD.replace(VERSION, "2026120101"))
    assert client.post(f"/v1/projects/{project_id}/forms/simple/draft", data=new_definition,
                       headers={**admin.headers, "Content-Type": "application/xml"}).status_code == 200
    tested = draft_url(project_id, draft_token(client, admin, project_id))

    published, _ = instance("simple", VERSION, {"city": "utrecht"})
    refused = send(client, tested, published)
    assert refused.status_code == 404 and b"not the draft being tested" in refused.data
    other_form, _ = instance("other", "2026120101", {"city": "utrecht"})
    assert send(client, tested, other_form).status_code == 404
    draft_instance, _ = instance("simple", "2026120101", {"city": "utrecht"})
    assert send(client, phone.prefix, draft_instance).status_code == 404  # never published
    assert count_submissions(services, draft=True) + count_submissions(services, draft=False) == 0
    assert send(client, tested, draft_instance).status_code == 201


@pytest.mark.parametrize("end", ["publish", "delete"])
def test_publishing_or_deleting_the_draft_ends_its_token_and_its_test_data(client, services, admin, project_id, end):
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD), query="")
    form_url = f"/v1/projects/{project_id}/forms/simple"
    assert client.post(f"{form_url}/draft", headers=admin.headers).status_code == 200
    tested = draft_url(project_id, draft_token(client, admin, project_id))
    xml, _ = instance("simple", VERSION, {"city": "utrecht", "photo": "p.jpg"})
    assert send(client, tested, xml, {"p.jpg": b"\xff\xd8 only in a test"}).status_code == 201
    with services.database.session() as session:
        digest = session.scalar(select(SubmissionAttachment.blob_sha256))
    assert services.blobs.exists(digest)

    ended = (client.post(f"{form_url}/draft/publish?version=2", headers=admin.headers) if end == "publish"
             else client.delete(f"{form_url}/draft", headers=admin.headers))
    assert ended.json == {"success": True}
    for response in (client.get(f"{tested}/formList", headers=COLLECT_HEADERS),
                     client.get(f"{tested}.xml", headers=COLLECT_HEADERS),
                     client.get(f"{tested}/manifest", headers=COLLECT_HEADERS),
                     client.head(f"{tested}/submission", headers=COLLECT_HEADERS),
                     send(client, tested, xml)):
        assert response.status_code == 404
    assert ENDED in client.get(f"{tested}/formList", headers=COLLECT_HEADERS).data
    assert count_submissions(services, draft=True) == 0
    with services.database.session() as session:
        assert session.scalars(select(SubmissionVersion)).all() == []
        assert session.scalars(select(SubmissionAttachment)).all() == []
        deleted = session.scalar(select(AuditEvent).where(AuditEvent.action == "form.draft.submissions.delete"))
        assert deleted.details == {"xmlFormId": "simple", "count": 1}
    assert not services.blobs.exists(digest)
    assert client.get(f"{form_url}/draft/submissions", headers=admin.headers).status_code == 404


def test_a_wrong_token_is_404_with_centrals_message_not_403(client, services, admin, project_id, tested):
    token = tested.split("/v1/test/")[1].split("/")[0]
    for url in (draft_url(project_id, "a" * 64), draft_url(project_id, token, "other"),
                draft_url(project_id + 1, token)):
        response = client.get(f"{url}/formList", headers=COLLECT_HEADERS)
        assert response.status_code == 404 and ENDED in response.data
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    app_user = make_phone(services, project_id).token  # an app user's token opens no draft
    assert client.get(f"{draft_url(project_id, app_user)}/formList", headers=COLLECT_HEADERS).status_code == 404
    assert client.get(f"/v1/key/{token}/projects/{project_id}/formList", headers=COLLECT_HEADERS).status_code == 403


def test_a_replaced_draft_keeps_its_token_and_drops_the_old_test_data(client, services, admin, project_id, tested):
    token = draft_token(client, admin, project_id)
    xml, _ = instance("simple", VERSION, {"city": "utrecht"})
    assert send(client, tested, xml).status_code == 201
    new_definition = xform(SIMPLE_FORM_MD.replace(VERSION, "2026120101"))
    assert client.post(f"/v1/projects/{project_id}/forms/simple/draft", data=new_definition,
                       headers={**admin.headers, "Content-Type": "application/xml"}).status_code == 200
    assert draft_token(client, admin, project_id) == token  # the tester's phone stays set up
    [entry] = etree.fromstring(client.get(f"{tested}/formList", headers=COLLECT_HEADERS).data)
    assert entry.findtext(f"{XFORMS_LIST}version") == "2026120101"
    assert count_submissions(services, draft=True) == 0


def test_retention_leaves_test_data_to_its_draft(client, services, admin, project_id, tested):
    xml, _ = instance("simple", VERSION, {"city": "utrecht"})
    assert send(client, tested, xml).status_code == 201
    with services.database.session() as session:
        submission = session.scalar(select(Submission))
        submission.created_at -= timedelta(days=400)
        session.scalar(select(Form)).retention_days = 30
    report = run_retention(services.database, services.blobs)
    assert report.submissions == 0
    assert count_submissions(services, draft=True) == 1


def test_an_encrypted_forms_draft_is_tested_encrypted(client, services, admin, project_id):
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD), query="")
    enabled = client.post(f"/v1/projects/{project_id}/key", json={"passphrase": "een lange geheime zin"},
                          headers=admin.headers)
    key_id = enabled.json["keyId"]
    assert client.post(f"/v1/projects/{project_id}/forms/simple/draft", headers=admin.headers).status_code == 200
    tested = draft_url(project_id, draft_token(client, admin, project_id))
    [entry] = etree.fromstring(client.get(f"{tested}/formList", headers=COLLECT_HEADERS).data)
    version = entry.findtext(f"{XFORMS_LIST}version")
    assert version == f"{VERSION}[encrypted:{key_id}]"
    definition = client.get(f"{tested}.xml", headers=COLLECT_HEADERS).data
    assert entry.findtext(f"{XFORMS_LIST}hash") == "md5:" + hashlib.md5(definition).hexdigest()
    submission = etree.fromstring(definition).find(".//{http://www.w3.org/2002/xforms}submission")
    public_key = load_der_public_key(base64.b64decode(submission.get("base64RsaPublicKey")))

    plain, instance_id = instance("simple", version, {"city": "utrecht", "remarks": "vertrouwelijk"})
    envelope, files = encrypt_submission(public_key, "simple", version, instance_id, plain, [])
    assert send(client, tested, envelope, files).status_code == 201
    with services.database.session() as session:
        stored = session.scalar(select(SubmissionVersion))
        assert (stored.encrypted, stored.key_id, stored.flag) == (True, key_id, None)
        assert b"vertrouwelijk" not in stored.xml
        [attachment] = session.scalars(select(SubmissionAttachment)).all()
        assert b"vertrouwelijk" not in services.blobs.get(attachment.blob_sha256)
    assert client.get(f"/v1/projects/{project_id}/forms/simple/submissions/keys", headers=admin.headers).json == []


def test_the_console_shows_the_testing_code_to_those_who_may_change_the_form(app, services, client, admin, project_id,
                                                                             tested):
    token = draft_token(client, admin, project_id)
    url = f"http://localhost{tested}"
    make_user(services, "manager@example.org", roles={project_id: "manager"}, locale="nl")
    make_user(services, "viewer@example.org", roles={project_id: "viewer"})
    manager, viewer = app.test_client(), app.test_client()
    console_sign_in(manager, "manager@example.org")
    console_sign_in(viewer, "viewer@example.org")
    page = manager.get(f"/projects/{project_id}/forms/simple").get_data(as_text=True)
    assert f'<code id="draft-testing-url">{url}</code>' in page
    assert qr_svg(settings_payload(draft_testing_settings(url, "[Concept] Simple form")), scale=4) in page
    assert "Dit concept testen in ODK Collect" in page
    assert token not in viewer.get(f"/projects/{project_id}/forms/simple").get_data(as_text=True)
