"""A phone's new submission in one statement (PostgreSQL), and everything that must still be refused.

samen.phone_ingest remembers a form version's fixed facts between POSTs and
checks the changeable ones inside its INSERT. Each test first lets the phone
send once, so that the version is remembered, then changes what a remembered
fact must not hide. On SQLite the same POSTs go the full way: both must agree.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from helpers import COLLECT_HEADERS, DEVICE_ID, SIMPLE_FORM_MD, instance, multipart, publish, xform
from samen.blobs import sha256_hex
from samen.models import AppUser, Form, FormAssignment, Project, SubmissionAttachment, SubmissionVersion, utcnow
from samen.phone_ingest import READ_BEFORE_AUTH_BYTES

VERSION = "2026110101"
STRANGER = "s" * 64


def post(client, prefix, xml, files=None):
    return client.post(f"{prefix}/submission?deviceID={DEVICE_ID}", data=multipart(xml, files),
                       headers=COLLECT_HEADERS, content_type="multipart/form-data")


def send_new(client, phone, files=None, **fields):
    xml, _ = instance("simple", VERSION, {"city": "arnhem", **fields})
    return post(client, phone.prefix, xml, files)


def versions(services) -> list[SubmissionVersion]:
    with services.database.session() as session:
        return session.scalars(select(SubmissionVersion).order_by(SubmissionVersion.id)).all()


def change_form(services, project_id: int, **values) -> None:
    with services.database.session() as session:
        form = session.scalar(select(Form).where(Form.project_id == project_id, Form.deleted_at.is_(None)))
        for name, value in values.items():
            setattr(form, name, value)


def test_a_form_closed_after_a_phone_sent_to_it_refuses_the_next_submission(client, services, phone):
    assert send_new(client, phone).status_code == 201
    change_form(services, phone.project_id, state="closed")
    response = send_new(client, phone)
    assert response.status_code == 409
    assert b"is closed" in response.data
    assert len(versions(services)) == 1
    change_form(services, phone.project_id, state="open")
    assert send_new(client, phone).status_code == 201
    assert len(versions(services)) == 2


def test_a_phone_revoked_after_sending_is_refused_and_nothing_is_stored(client, services, phone):
    assert send_new(client, phone).status_code == 201
    with services.database.session() as session:
        session.get(AppUser, phone.app_user_id).revoked_at = utcnow()
    assert send_new(client, phone).status_code == 403
    assert len(versions(services)) == 1


def test_a_phone_whose_form_was_taken_away_is_refused(client, services, phone):
    assert send_new(client, phone).status_code == 201
    with services.database.session() as session:
        session.execute(delete(FormAssignment).where(FormAssignment.app_user_id == phone.app_user_id))
    response = send_new(client, phone)
    assert response.status_code == 403
    assert b"may not submit to this form" in response.data
    assert len(versions(services)) == 1


def test_a_project_deleted_after_its_phones_sent_takes_nothing_more(client, services, phone):
    assert send_new(client, phone).status_code == 201
    with services.database.session() as session:
        session.get(Project, phone.project_id).deleted_at = utcnow()
    response = send_new(client, phone)
    assert response.status_code == 404
    assert len(versions(services)) == 1


def test_both_the_remembered_and_a_newly_published_version_are_taken(client, services, phone):
    assert send_new(client, phone).status_code == 201
    publish(services, phone.project_id, xform(SIMPLE_FORM_MD.replace(VERSION, "2026120101")))
    old, _ = instance("simple", VERSION, {"city": "nijmegen"})
    new, _ = instance("simple", "2026120101", {"city": "nijmegen"})
    assert post(client, phone.prefix, new).status_code == 201
    assert post(client, phone.prefix, old).status_code == 201  # filled in before the phone updated its form
    first, newer, older = (v.form_version_id for v in versions(services))
    assert first == older != newer


def test_a_strangers_upload_with_a_file_is_refused_before_the_file_is_written(client, services, phone):
    assert send_new(client, phone).status_code == 201  # the version is remembered now
    photo = b"\xff\xd8 a stranger's bytes"
    xml, _ = instance("simple", VERSION, {"city": "utrecht", "photo": "p.jpg"})
    response = post(client, f"/v1/key/{STRANGER}/projects/{phone.project_id}", xml, {"p.jpg": photo})
    assert response.status_code == 403
    assert not services.blobs.path(sha256_hex(photo)).exists()
    assert len(versions(services)) == 1


@pytest.mark.parametrize("body", [
    b"<data id='simple'><unclosed></data>",  # small: parsed before the token is checked, still 403
    b"<data id='simple'>" + b"x" * READ_BEFORE_AUTH_BYTES + b"<unclosed></data>",  # large: refused unread
])
def test_a_stranger_hears_403_whatever_is_wrong_with_the_upload(client, services, phone, body):
    assert send_new(client, phone).status_code == 201
    assert post(client, f"/v1/key/{STRANGER}/projects/{phone.project_id}", body).status_code == 403
    assert post(client, phone.prefix, body).status_code == 400  # the phone itself is told what is wrong
    assert len(versions(services)) == 1


def test_a_new_submission_with_its_photo_is_stored_with_its_attachment_rows(client, services, phone):
    photo = b"\xff\xd8 jpeg bytes"
    response = send_new(client, phone, {"p.jpg": photo}, photo="p.jpg")
    assert response.status_code == 201
    [version] = versions(services)
    with services.database.session() as session:
        [attachment] = session.scalars(select(SubmissionAttachment)).all()
    assert (attachment.submission_version_id, attachment.name, attachment.blob_sha256) == (
        version.id, "p.jpg", sha256_hex(photo))
    assert services.blobs.path(sha256_hex(photo)).read_bytes() == photo
    assert (version.submitter_id, version.device_id) == (phone.app_user_id, DEVICE_ID)
