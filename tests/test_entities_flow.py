"""Offline follow-up through Flask's client: encrypted intake → queue → unlock → list → follow-ups → conflict."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from lxml import etree
from sqlalchemy import select

from entity_forms import FOLLOWUP, INTAKE, csv_rows, envelope_for, followup_xml, intake_xml
from helpers import COLLECT_HEADERS, DEVICE_ID, make_phone, make_project, multipart, publish, xform
from samen import keyring
from samen.decrypting import KeyChain
from samen.entities import intake as entity_intake
from samen.entities.lists import entity_plan, get_dataset
from samen.entities.store import entity_conflicts, get_entity
from samen.formlint import lint_xform
from samen.models import AuditEvent, FormAttachment, FormVersion, Project, SubmissionVersion

PASSPHRASE = "custodian passphrase for tests"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
RESPONSE = "{http://openrosa.org/http/response}"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def samen(services):
    """A project with a key, the encrypted intake and follow-up forms, and a phone assigned to both."""
    project_id = make_project(services)
    with services.database.session() as session:
        keyring.create_key(session, session.get(Project, project_id), PASSPHRASE, custodian="coordinator")
    intake = publish(services, project_id, INTAKE)
    followup = publish(services, project_id, FOLLOWUP)
    phone = make_phone(services, project_id, ["intake", "followup"])
    return SimpleNamespace(project_id=project_id, phone=phone, intake=intake, followup=followup)


def submit(client, samen, form_version: FormVersion, form_id: str, instance_id: str, xml: bytes):
    envelope, files = envelope_for(form_version.public_key, form_id, form_version.version, instance_id, xml)
    response = client.post(f"{samen.phone.prefix}/submission?deviceID={DEVICE_ID}", data=multipart(envelope, files),
                           headers=COLLECT_HEADERS, content_type="multipart/form-data")
    assert response.status_code == 201, response.data
    return response


def entity_list(client, samen, form_id: str = "followup") -> tuple[list[dict[str, str]], str]:
    manifest = etree.fromstring(client.get(f"{samen.phone.prefix}/forms/{form_id}/manifest",
                                           headers=COLLECT_HEADERS).data)
    [entry] = manifest.findall(f"{MANIFEST}mediaFile")
    path = entry.findtext(f"{MANIFEST}downloadUrl").split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, headers=COLLECT_HEADERS)
    assert response.status_code == 200
    return csv_rows(response.data), entry.findtext(f"{MANIFEST}hash")


def queue_length(services, project_id: int) -> int:
    with services.database.session() as session:
        return entity_intake.pending_count(session, project_id)


def unlock_and_process(services, project_id: int) -> entity_intake.QueueResult:
    with services.database.session() as session:
        keys = keyring.unlock_with_passphrase(session, project_id, PASSPHRASE)
    return entity_intake.process_pending(services.database, services.blobs, project_id, KeyChain(keys.values()),
                                         actor_id=None)


def test_publishing_learns_the_list_and_links_the_follow_up_csv(services, samen):
    with services.database.session() as session:
        dataset = get_dataset(session, samen.project_id, "participants")
        attachment = session.scalar(select(FormAttachment).where(FormAttachment.form_version_id == samen.followup.id))
        assert (attachment.name, attachment.kind, attachment.dataset_name) == ("participants.csv", "entityList", "participants")
        assert dataset.approval_required is False


def test_encrypted_intake_waits_for_the_custodian_then_follow_ups_update_and_conflict(client, services, samen):
    xml, instance_id, entity_id = intake_xml(samen.intake.version, "7K3M9PQ", "rotterdam")
    submit(client, samen, samen.intake, "intake", instance_id, xml)
    rows, empty_hash = entity_list(client, samen)
    assert rows == []
    assert queue_length(services, samen.project_id) == 1

    assert unlock_and_process(services, samen.project_id) == entity_intake.QueueResult(applied=1, waiting=0)
    assert queue_length(services, samen.project_id) == 0
    rows, created_hash = entity_list(client, samen)
    assert rows == [{"name": entity_id, "label": "P-7K3M9PQ", "__version": "1", "code": "7K3M9PQ",
                     "city": "rotterdam", "status": "new"}]
    assert created_hash != empty_hash
    assert "story" not in rows[0]  # only save_to fields reach the list

    followup, followup_id = followup_xml(samen.followup.version, entity_id, 1, "referred")
    submit(client, samen, samen.followup, "followup", followup_id, followup)
    unlock_and_process(services, samen.project_id)
    rows, _ = entity_list(client, samen)
    assert (rows[0]["__version"], rows[0]["status"], rows[0]["label"]) == ("2", "referred", "P-7K3M9PQ")

    stale, stale_id = followup_xml(samen.followup.version, entity_id, 1, "closed")
    submit(client, samen, samen.followup, "followup", stale_id, stale)
    unlock_and_process(services, samen.project_id)
    rows, _ = entity_list(client, samen)
    assert (rows[0]["__version"], rows[0]["status"]) == ("3", "closed")  # applied, not dropped…
    with services.database.session() as session:
        entity = get_entity(session, get_dataset(session, samen.project_id, "participants"), entity_id)
        [conflict] = entity_conflicts(session, entity)  # …and recorded, not silent
        assert (entity.conflict, conflict.kind, conflict.properties) == ("hard", "hard", ["status"])
        assert (conflict.base_version, conflict.server_version) == (1, 2)


def test_a_locked_key_keeps_the_submission_queued(client, services, samen):
    xml, instance_id, _ = intake_xml(samen.intake.version, "4TT9WQ2", "utrecht")
    submit(client, samen, samen.intake, "intake", instance_id, xml)
    result = entity_intake.process_pending(services.database, services.blobs, samen.project_id, KeyChain(),
                                           actor_id=None)
    assert result == entity_intake.QueueResult(applied=0, waiting=1)
    assert queue_length(services, samen.project_id) == 1


def test_plaintext_follow_up_is_applied_at_ingest_and_never_changes_the_201(client, services):
    project_id = make_project(services)
    publish(services, project_id, INTAKE)
    followup = publish(services, project_id, FOLLOWUP)
    phone = make_phone(services, project_id, ["intake", "followup"])
    xml, _, entity_id = intake_xml("1", "9QW2RT5", "utrecht")
    post = lambda body: client.post(f"{phone.prefix}/submission", data=multipart(body), headers=COLLECT_HEADERS,  # noqa: E731
                                    content_type="multipart/form-data")
    assert post(xml).status_code == 201
    # An update for an entity that does not exist fails as an entity, not as a submission.
    orphan, _ = followup_xml(followup.version, "00000000-0000-4000-8000-000000000000", 1, "closed")
    response = post(orphan)
    assert response.status_code == 201
    assert etree.fromstring(response.data).find(f"{RESPONSE}message").get("nature") == "submit_success"
    samen = SimpleNamespace(phone=phone)
    rows, _ = entity_list(client, samen)
    assert [(r["name"], r["__version"], r["status"]) for r in rows] == [(entity_id, "1", "new")]
    with services.database.session() as session:
        errors = session.scalars(select(AuditEvent).where(AuditEvent.action == "entity.error")).all()
        assert [e.details["reason"] for e in errors] == [
            "Entity 00000000-0000-4000-8000-000000000000 does not exist, so it cannot be updated."]
        assert session.scalar(select(SubmissionVersion).where(SubmissionVersion.instance_id.like("uuid:%"))
                              .order_by(SubmissionVersion.id.desc())) is not None


def test_the_list_answers_if_none_match_with_304_and_integrity_reports_deletions(client, services):
    project_id = make_project(services)
    publish(services, project_id, INTAKE)
    publish(services, project_id, FOLLOWUP)
    phone = make_phone(services, project_id, ["intake", "followup"])
    xml, _, entity_id = intake_xml("1", "2HX8KJ4", "rotterdam")
    client.post(f"{phone.prefix}/submission", data=multipart(xml), headers=COLLECT_HEADERS,
                content_type="multipart/form-data")
    url = f"{phone.prefix}/forms/followup/attachments/participants.csv"
    first = client.get(url, headers=COLLECT_HEADERS)
    etag = first.headers["ETag"]
    assert client.get(url, headers={**COLLECT_HEADERS, "If-None-Match": etag}).status_code == 304

    manifest = etree.fromstring(client.get(f"{phone.prefix}/forms/followup/manifest", headers=COLLECT_HEADERS).data)
    entry = manifest.find(f"{MANIFEST}mediaFile")
    assert entry.get("type") == "entityList"
    integrity = entry.findtext(f"{MANIFEST}integrityUrl")
    assert integrity.endswith(f"{phone.prefix}/datasets/participants/integrity")
    with services.database.session() as session:
        from samen.entities.store import delete_entity

        delete_entity(session, get_entity(session, get_dataset(session, project_id, "participants"), entity_id),
                      actor_id=None)
    assert client.get(url, headers={**COLLECT_HEADERS, "If-None-Match": etag}).status_code == 200
    unknown = "11111111-1111-4111-8111-111111111111"
    answer = client.get(f"{phone.prefix}/datasets/participants/integrity?id={entity_id},{unknown}",
                        headers=COLLECT_HEADERS)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/xml; charset=utf-8"
    entities = etree.fromstring(answer.data).findall("entities/entity")
    assert [(e.get("id"), e.findtext("deleted")) for e in entities] == [(entity_id, "true")]


def test_a_field_the_linter_calls_identifying_never_becomes_a_property():
    md = INTAKE_MD_WITH_NAME
    form = xform(md)
    assert [f.field_name for f in lint_xform(form)] == ["full_name"]
    plan = entity_plan(SimpleNamespace(sha256="lint-test", xml=form))
    assert plan.refused_properties == {"full_name"}
    assert "full_name" not in plan.allowed_properties and {"code", "city"} <= plan.allowed_properties


INTAKE_MD_WITH_NAME = """
| survey   |                 |            |            |           |
|          | type            | name       | label      | save_to   |
|          | text            | code       | Code       | code      |
|          | text            | full_name  | Full name  | full_name |
|          | select_one city | city       | City       | city      |
| choices  |                 |            |            |           |
|          | list_name       | name       | label      |           |
|          | city            | rotterdam  | Rotterdam  |           |
| entities |                 |            |            |           |
|          | list_name       | label      |            |           |
|          | participants    | ${code}    |            |           |
| settings |                 |            |            |           |
|          | form_id         | version    |            |           |
|          | named_intake    | 1          |            |           |
"""


def test_the_real_samen_forms_intake_then_referral_follow_up(client, services):
    from conftest import REPO
    from formfill import fill_instance

    forms = {name: (REPO / "forms" / f"{name}.xml").read_bytes()
             for name in ("samen_intake", "samen_referral_followup", "samen_prepost_participant")}
    project_id = make_project(services)
    with services.database.session() as session:
        keyring.create_key(session, session.get(Project, project_id), PASSPHRASE, custodian="coordinator")
    published = {name: publish(services, project_id, xml) for name, xml in forms.items()}
    phone = make_phone(services, project_id, list(forms))
    samen = SimpleNamespace(project_id=project_id, phone=phone)

    intake = fill_instance(forms["samen_intake"], seed=7)
    entity = etree.fromstring(intake).find("meta/entity")
    entity_id, code = entity.get("id"), entity.findtext("label")
    instance_id = etree.fromstring(intake).findtext("meta/instanceID")
    submit(client, samen, published["samen_intake"], "samen_intake", instance_id, intake)
    assert unlock_and_process(services, project_id).applied == 1

    rows, _ = entity_list(client, samen, "samen_referral_followup")
    assert [(r["name"], r["label"], r["__version"]) for r in rows] == [(entity_id, code, "1")]
    identifying = {f.field_name for xml in forms.values() for f in lint_xform(xml)}
    assert set(rows[0]) == {"name", "label", "__version", "intake_date", "city", "target_group", "referral_status",
                            "last_followup"}
    assert not identifying & set(rows[0])

    followup = etree.fromstring(fill_instance(forms["samen_referral_followup"], seed=8))
    followup.find("participant").text = entity_id
    followup.find("meta/entity").set("id", entity_id)
    followup_xml_bytes = etree.tostring(followup)
    submit(client, samen, published["samen_referral_followup"], "samen_referral_followup",
           followup.findtext("meta/instanceID"), followup_xml_bytes)
    unlock_and_process(services, project_id)
    rows, _ = entity_list(client, samen, "samen_referral_followup")
    assert (rows[0]["__version"], rows[0]["referral_status"]) == ("2", followup.findtext("referral_status"))

    manifest = etree.fromstring(client.get(f"{phone.prefix}/forms/samen_prepost_participant/manifest",
                                           headers=COLLECT_HEADERS).data)
    assert [(e.findtext(f"{MANIFEST}filename"), e.get("type")) for e in manifest.findall(f"{MANIFEST}mediaFile")] == [
        ("participants.csv", "entityList")]
