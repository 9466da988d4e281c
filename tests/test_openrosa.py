"""OpenRosa as Collect speaks it, through Flask's client, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from lxml import etree
from sqlalchemy import func, select

from helpers import COLLECT_HEADERS, DEVICE_ID, SIMPLE_FORM_MD, instance, make_project, multipart, publish, xform
from samen.models import AppUser, Form, Submission, SubmissionAttachment, SubmissionVersion, utcnow
from samen.problems import InvalidFormError

XFORMS_LIST = "{http://openrosa.org/xforms/xformsList}"
VERSION = "2026110101"


def post(client, phone, xml, files=None, incomplete=False, headers=COLLECT_HEADERS):
    return client.post(f"{phone.prefix}/submission?deviceID={DEVICE_ID}", data=multipart(xml, files, incomplete),
                       headers=headers, content_type="multipart/form-data")


def stored(services):
    with services.database.session() as session:
        return session.scalars(select(SubmissionVersion).order_by(SubmissionVersion.id)).all()


def test_form_list_hash_is_md5_of_the_served_bytes(client, phone):
    response = client.get(f"{phone.prefix}/formList?deviceID={DEVICE_ID}", headers=COLLECT_HEADERS)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    assert response.headers["X-OpenRosa-Accept-Content-Length"] == "100000000"
    xforms = etree.fromstring(response.data).findall(f"{XFORMS_LIST}xform")
    assert [x.findtext(f"{XFORMS_LIST}formID") for x in xforms] == ["simple"]
    entry = xforms[0]
    assert entry.findtext(f"{XFORMS_LIST}version") == VERSION
    download = entry.findtext(f"{XFORMS_LIST}downloadUrl")
    assert download.endswith(f"{phone.prefix}/forms/simple.xml")
    assert entry.find(f"{XFORMS_LIST}manifestUrl") is None  # no media: Collect must not ask for a manifest
    served = client.get(download.split("127.0.0.1", 1)[-1].split("localhost", 1)[-1], headers=COLLECT_HEADERS)
    assert served.status_code == 200
    assert entry.findtext(f"{XFORMS_LIST}hash") == "md5:" + hashlib.md5(served.data).hexdigest()


def test_form_list_shows_app_users_only_their_forms(client, services, phone):
    publish(services, phone.project_id, xform(SIMPLE_FORM_MD.replace("| simple ", "| other ")))
    names = etree.fromstring(client.get(f"{phone.prefix}/formList", headers=COLLECT_HEADERS).data)
    assert [x.findtext(f"{XFORMS_LIST}formID") for x in names] == ["simple"]
    only = etree.fromstring(client.get(f"{phone.prefix}/formList?formID=other", headers=COLLECT_HEADERS).data)
    assert len(only) == 0


def test_head_submission_is_204(client, phone):
    response = client.head(f"{phone.prefix}/submission?deviceID={DEVICE_ID}", headers=COLLECT_HEADERS)
    assert response.status_code == 204
    assert response.headers["X-OpenRosa-Accept-Content-Length"] == "100000000"


def test_submission_is_stored_with_device_and_user_agent(client, services, phone):
    xml, instance_id = instance("simple", VERSION, {"city": "rotterdam", "age_band": "2", "photo": "p.jpg"})
    response = post(client, phone, xml, {"p.jpg": b"\xff\xd8jpeg"})
    assert response.status_code == 201
    assert b'nature="submit_success"' in response.data
    [version] = stored(services)
    assert version.instance_id == instance_id
    assert version.xml == xml
    assert version.device_id == DEVICE_ID
    assert version.user_agent.startswith("org.odk.collect.android/")
    with services.database.session() as session:
        [attachment] = session.scalars(select(SubmissionAttachment)).all()
        assert attachment.name == "p.jpg"
        assert services.blobs.get(attachment.blob_sha256) == b"\xff\xd8jpeg"


def test_split_upload_merges_into_one_submission(client, services, phone):
    xml, _ = instance("simple", VERSION, {"city": "utrecht", "photo": "big.jpg"})
    first = post(client, phone, xml, {}, incomplete=True)
    second = post(client, phone, xml, {"big.jpg": b"x" * 5000})
    assert (first.status_code, second.status_code) == (201, 201)
    assert len(stored(services)) == 1
    with services.database.session() as session:
        [attachment] = session.scalars(select(SubmissionAttachment)).all()
        assert attachment.blob_sha256 is not None


def test_identical_resend_is_idempotent(client, services, phone):
    xml, _ = instance("simple", VERSION, {"city": "utrecht"})
    assert post(client, phone, xml).status_code == 201
    assert post(client, phone, xml).status_code == 201
    with services.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 1


def test_same_instance_with_different_xml_is_409_and_changes_nothing(client, services, phone):
    xml, instance_id = instance("simple", VERSION, {"city": "utrecht"})
    assert post(client, phone, xml).status_code == 201
    other, _ = instance("simple", VERSION, {"city": "rotterdam"}, instance_id=instance_id)
    response = post(client, phone, other)
    assert response.status_code == 409
    assert b"different submission" in response.data
    [version] = stored(services)
    assert version.xml == xml


@pytest.mark.parametrize("form_id,version,status", [("nope", VERSION, 404), ("simple", "1999", 404)])
def test_unknown_form_or_version_is_404(client, services, phone, form_id, version, status):
    xml, _ = instance(form_id, version, {"city": "utrecht"})
    response = post(client, phone, xml)
    assert response.status_code == status
    assert b'nature="error"' in response.data
    assert stored(services) == []


def test_any_published_version_is_accepted(client, services, phone):
    publish(services, phone.project_id, xform(SIMPLE_FORM_MD.replace(VERSION, "2026110102")))
    old, _ = instance("simple", VERSION, {"city": "utrecht"})
    new, _ = instance("simple", "2026110102", {"city": "utrecht"})
    assert post(client, phone, old).status_code == 201
    assert post(client, phone, new).status_code == 201


def test_closed_form_is_409(client, services, phone):
    with services.database.session() as session:
        session.scalar(select(Form)).state = "closed"
    xml, _ = instance("simple", VERSION, {"city": "utrecht"})
    assert post(client, phone, xml).status_code == 409


def test_revoked_token_is_403_not_401(client, services, phone):
    with services.database.session() as session:
        app_user = session.get(AppUser, phone.app_user_id)
        app_user.revoked_at, app_user.token = utcnow(), None
    xml, _ = instance("simple", VERSION, {"city": "utrecht"})
    assert post(client, phone, xml).status_code == 403
    assert client.get(f"{phone.prefix}/formList", headers=COLLECT_HEADERS).status_code == 403


def test_request_without_openrosa_header_is_400(client, phone):
    xml, _ = instance("simple", VERSION, {"city": "utrecht"})
    assert post(client, phone, xml, headers={"User-Agent": "curl"}).status_code == 400


def test_missing_xml_part_is_400(client, phone):
    response = client.post(f"{phone.prefix}/submission", data={"other": "x"}, headers=COLLECT_HEADERS,
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert b"xml_submission_file" in response.data


def test_a_body_that_is_not_multipart_is_400(client, phone):
    xml, _ = instance("simple", VERSION, {"city": "utrecht"})
    response = client.post(f"{phone.prefix}/submission", data=xml, headers=COLLECT_HEADERS, content_type="text/xml")
    assert response.status_code == 400
    assert b"xml_submission_file" in response.data


def test_a_cut_off_multipart_body_is_400_and_stores_nothing(client, services, phone):
    xml, _ = instance("simple", VERSION, {"city": "utrecht"})
    body = (b'--cut\r\nContent-Disposition: form-data; name="xml_submission_file"; filename="submission.xml"\r\n'
            b"Content-Type: text/xml\r\n\r\n" + xml)  # the connection dropped before the closing boundary
    response = client.post(f"{phone.prefix}/submission", data=body, headers=COLLECT_HEADERS,
                           content_type="multipart/form-data; boundary=cut")
    assert response.status_code == 400
    assert stored(services) == []


def test_a_revoked_phone_is_refused_before_its_upload_is_read(client, services, phone):
    with services.database.session() as session:
        session.get(AppUser, phone.app_user_id).revoked_at = utcnow()
    response = client.post(f"{phone.prefix}/submission", data=b"--x\r\ngarbage", headers=COLLECT_HEADERS,
                           content_type="multipart/form-data; boundary=x")
    assert response.status_code == 403  # not 400: the body of a stranger is never parsed


@pytest.mark.parametrize("body", [
    b"<data id='simple'><unclosed></data>",
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><data id="simple">&x;</data>',
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><data id="simple">&c;</data>',
])
def test_malformed_and_hostile_xml_is_400_and_touches_nothing(client, services, phone, body):
    good, _ = instance("simple", VERSION, {"city": "utrecht"})
    assert post(client, phone, good).status_code == 201
    response = post(client, phone, body)
    assert response.status_code == 400
    assert b"root:" not in response.data  # nothing from /etc/passwd was expanded
    [version] = stored(services)
    assert version.xml == good


def test_body_over_the_limit_is_413(app, client, services, phone):
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    xml, _ = instance("simple", VERSION, {"city": "utrecht", "photo": "p.jpg"})
    response = post(client, phone, xml, {"p.jpg": b"x" * 20_000})
    assert response.status_code == 413
    assert stored(services) == []


@pytest.mark.parametrize("name", ["../evil.jpg", "a/b.jpg", "bell\x07.jpg", ".."])
def test_attachment_names_that_walk_paths_are_refused(client, services, phone, name):
    xml, _ = instance("simple", VERSION, {"city": "utrecht", "photo": "p.jpg"})
    response = post(client, phone, xml, {name: b"x"})
    assert response.status_code == 400
    assert stored(services) == []


def test_edit_with_deprecated_id_becomes_a_new_version(client, services, phone):
    xml, first_id = instance("simple", VERSION, {"city": "utrecht"})
    assert post(client, phone, xml).status_code == 201
    edited, _ = instance("simple", VERSION, {"city": "rotterdam"}, deprecated_id=first_id)
    assert post(client, phone, edited).status_code == 201
    versions = stored(services)
    assert [v.current for v in versions] == [False, True]
    assert versions[0].submission_id == versions[1].submission_id
    with services.database.session() as session:
        assert session.scalar(select(Submission)).review_state == "edited"


def test_a_resent_edit_is_idempotent_and_a_new_instance_reusing_its_id_is_409(client, services, phone):
    xml, first_id = instance("simple", VERSION, {"city": "utrecht"})
    assert post(client, phone, xml).status_code == 201
    edited, edit_id = instance("simple", VERSION, {"city": "rotterdam"}, deprecated_id=first_id)
    assert post(client, phone, edited).status_code == 201
    assert post(client, phone, edited).status_code == 201  # Collect did not hear the first answer
    # The edit's instanceID is not a submission's own id, so only the versions' index can catch this one.
    impostor, _ = instance("simple", VERSION, {"city": "arnhem"}, instance_id=edit_id)
    response = post(client, phone, impostor)
    assert response.status_code == 409
    assert b"already received" in response.data
    assert [version.xml for version in stored(services)] == [xml, edited]


def test_form_without_instance_id_is_refused_at_publish(services):
    project_id = make_project(services)
    definition = xform(SIMPLE_FORM_MD).replace(b"<instanceID/>", b"")
    with pytest.raises(InvalidFormError, match="instanceID"):
        publish(services, project_id, definition)
