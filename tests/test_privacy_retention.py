"""Retention: exactly the expired submissions go, with their files; shared and form files stay; export files expire."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from sqlalchemy import select, update

from helpers import COLLECT_HEADERS, DEVICE_ID, SIMPLE_FORM_MD, instance, make_phone, make_project, multipart, publish, xform
from samen.blobs import sha256_hex
from samen.models import AuditEvent, Form, Project, Submission, utcnow
from samen.retention import purge_expired_exports, run_retention

AGED_FORM_MD = SIMPLE_FORM_MD.replace("simple", "aged").replace("Simple form", "Aged form")


def _submit(client, phone, form_id: str, version: str, photo: bytes) -> str:
    xml, instance_id = instance(form_id, version, {"city": "utrecht", "age_band": "3", "remarks": "",
                                                   "photo": "photo.jpg"})
    response = client.post(f"{phone.prefix}/submission?deviceID={DEVICE_ID}",
                           data=multipart(xml, {"photo.jpg": photo}), headers=COLLECT_HEADERS,
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.data
    return instance_id


def _age(services, instance_id: str, days: int) -> None:
    with services.database.session() as session:
        session.execute(update(Submission).where(Submission.instance_id == instance_id)
                        .values(created_at=utcnow() - timedelta(days=days)))


def _instance_ids(services) -> set[str]:
    with services.database.session() as session:
        return set(session.scalars(select(Submission.instance_id)))


def test_retention_deletes_exactly_the_expired_submissions_and_their_unshared_files(app, services):
    project_id = make_project(services)
    with services.database.session() as session:
        session.get(Project, project_id).retention_days = 30  # the project default
    simple = publish(services, project_id, xform(SIMPLE_FORM_MD), encrypt=False)
    aged = publish(services, project_id, xform(AGED_FORM_MD), encrypt=False)
    with services.database.session() as session:
        session.scalar(select(Form).where(Form.xml_form_id == "aged")).retention_days = 365  # the form's own
    phone = make_phone(services, project_id, ["simple", "aged"])
    client = app.test_client()

    expired = _submit(client, phone, "simple", simple.version, b"expired photo")
    shared_old = _submit(client, phone, "simple", simple.version, b"photo sent twice")
    fresh = _submit(client, phone, "simple", simple.version, b"photo sent twice")
    kept_by_form = _submit(client, phone, "aged", aged.version, b"older but within a year")
    for instance_id, days in ((expired, 31), (shared_old, 40), (fresh, 29), (kept_by_form, 200)):
        _age(services, instance_id, days)
    before = services.blobs.all_digests()

    dry = run_retention(services.database, services.blobs, dry_run=True)
    assert (dry.submissions, dry.blobs, dry.dry_run) == (2, 1, True)
    assert _instance_ids(services) == {expired, shared_old, fresh, kept_by_form}
    assert services.blobs.all_digests() == before

    report = run_retention(services.database, services.blobs)
    assert {(f.xml_form_id, f.retention_days, f.submissions) for f in report.forms} == {("simple", 30, 2), ("aged", 365, 0)}
    assert _instance_ids(services) == {fresh, kept_by_form}
    assert before - services.blobs.all_digests() == {sha256_hex(b"expired photo")}
    assert sha256_hex(b"photo sent twice") in services.blobs.all_digests()
    assert report.blobs == 1

    again = run_retention(services.database, services.blobs)
    assert (again.submissions, again.blobs) == (0, 0)
    with services.database.session() as session:
        runs = session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.run").order_by(AuditEvent.id)).all()
    assert [run.details["dryRun"] for run in runs] == [True, False, False]
    assert {f["xmlFormId"]: f["submissions"] for f in runs[1].details["forms"]} == {"simple": 2, "aged": 0}


def test_a_form_without_any_period_keeps_everything(app, services):
    project_id = make_project(services)
    simple = publish(services, project_id, xform(SIMPLE_FORM_MD), encrypt=False)
    phone = make_phone(services, project_id, ["simple"])
    old = _submit(app.test_client(), phone, "simple", simple.version, b"ten years old")
    _age(services, old, 3650)
    report = run_retention(services.database, services.blobs)
    assert report.forms == () and _instance_ids(services) == {old}


def test_expired_export_files_are_purged_and_other_files_left_alone(tmp_path):
    old_export = tmp_path / "20240101T120000Z-samen_intake.xlsx"
    old_partial = tmp_path / ".20240101T120000Z-samen_intake.xlsx.abc.part"
    new_export = tmp_path / "20240102T120000Z-samen_intake.csv.zip"
    register = tmp_path / "register.md"
    for path in (old_export, old_partial, new_export, register):
        path.write_bytes(b"x")
    now = time.time()
    for path in (old_export, old_partial, register):
        os.utime(path, (now - 25 * 3600, now - 25 * 3600))
    os.utime(new_export, (now - 23 * 3600, now - 23 * 3600))
    assert purge_expired_exports(tmp_path, 24, now=now) == [old_partial, old_export]
    assert sorted(p.name for p in tmp_path.iterdir()) == [new_export.name, "register.md"]
    assert purge_expired_exports(tmp_path / "missing", 24) == []
