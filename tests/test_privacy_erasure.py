"""Erasure by pseudonym on SAMEN's real forms: a withdrawing participant leaves no trace, everyone else stays."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from lxml import etree
from sqlalchemy import func, select

from conftest import REPO
from entity_forms import envelope_for
from formfill import fill_instance
from helpers import COLLECT_HEADERS, DEVICE_ID, make_phone, make_project, multipart, publish
from samen import keyring
from samen.decrypting import KeyChain
from samen.entities import intake as entity_intake
from samen.erasure import carries_code, code_digest, erase_participant, receipt_text
from samen.models import AuditEvent, Entity, Form, Project, Submission
from samen.problems import KeyLockedError

PASSPHRASE = "custodian passphrase for erasure tests"
SECRET = b"server secret for tests"
FORMS = ("samen_intake", "samen_prepost_participant", "samen_referral_followup", "samen_session_feedback",
         "samen_ambassador_activity")


@pytest.fixture
def samen(app, services):
    project_id = make_project(services)
    with services.database.session() as session:
        keyring.create_key(session, session.get(Project, project_id), PASSPHRASE, custodian="coordinator")
    versions = {form_id: publish(services, project_id, (REPO / "forms" / f"{form_id}.xml").read_bytes(),
                                 encrypt=form_id != "samen_ambassador_activity") for form_id in FORMS}
    phone = make_phone(services, project_id, list(FORMS))
    return SimpleNamespace(project_id=project_id, versions=versions, phone=phone, client=app.test_client())


def _submit(samen, form_id: str, seed: int, **fields: str) -> bytes:
    """A filled instance of a real form, with `fields` overriding answers by element name, sent as Collect would."""
    version = samen.versions[form_id]
    root = etree.fromstring(fill_instance(version.xml, seed))
    root.set("version", version.version)
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname in fields:
            element.text = fields[etree.QName(element).localname]
    xml = etree.tostring(root)
    instance_id = root.findtext("meta/instanceID")
    if version.public_key:
        envelope, files = envelope_for(version.public_key, form_id, version.version, instance_id, xml)
    else:
        envelope, files = xml, {}
    response = samen.client.post(f"{samen.phone.prefix}/submission?deviceID={DEVICE_ID}",
                                 data=multipart(envelope, files), headers=COLLECT_HEADERS,
                                 content_type="multipart/form-data")
    assert response.status_code == 201, response.data
    return xml


def _keys(services, project_id: int) -> KeyChain:
    with services.database.session() as session:
        return KeyChain(keyring.unlock_with_passphrase(session, project_id, PASSPHRASE).values())


def _participant(samen, services, seed: int) -> tuple[str, str]:
    """Register a participant at intake; return their code and their entity's uuid."""
    intake = etree.fromstring(_submit(samen, "samen_intake", seed))
    code = intake.findtext(".//participant_code")
    entity_intake.process_pending(services.database, services.blobs, samen.project_id,
                                  _keys(services, samen.project_id), actor_id=None)
    return code, intake.find("meta/entity").get("id")


def _counts(services, project_id: int) -> dict[str, int]:
    with services.database.session() as session:
        rows = session.execute(select(Form.xml_form_id, func.count(Submission.id))
                               .join(Submission, Submission.form_id == Form.id)
                               .where(Form.project_id == project_id).group_by(Form.xml_form_id)).all()
        return {**dict(rows), "entities": session.scalar(select(func.count()).select_from(Entity))}


def _follow_up(samen, seed: int, code: str, entity_id: str) -> None:
    _submit(samen, "samen_referral_followup", seed, participant=entity_id, participant_code=code)


def test_carries_code_compares_each_field_in_its_normal_form():
    xml = b"<data><grp><participant_code>K7M4TQX</participant_code></grp><remarks>K7M4TQX</remarks></data>"
    assert carries_code(xml, "k7m4-tqx")
    assert not carries_code(xml, "K7M4TQ1")
    assert not carries_code(b"<data><remarks>K7M4TQX</remarks></data>", "K7M4TQX")  # not a code field
    assert carries_code(b"<data><self_code>ma031</self_code></data>", "MA031")


def test_erasure_removes_one_participant_from_every_form_and_the_list_and_nothing_else(samen, services):
    code, entity_id = _participant(samen, services, seed=1)
    other_code, other_entity = _participant(samen, services, seed=2)
    for seed in (10, 11):  # pre and post
        _submit(samen, "samen_prepost_participant", seed, participant_code=code.lower(), code_source="typed",
                code_typed=code.lower())
    _submit(samen, "samen_prepost_participant", 12, participant_code=other_code, code_source="typed",
            code_typed=other_code)
    _follow_up(samen, 20, code, entity_id)
    _follow_up(samen, 21, other_code, other_entity)
    _submit(samen, "samen_session_feedback", 30)
    _submit(samen, "samen_ambassador_activity", 31)
    before = _counts(services, samen.project_id)
    assert before == {"samen_intake": 2, "samen_prepost_participant": 3, "samen_referral_followup": 2,
                      "samen_session_feedback": 1, "samen_ambassador_activity": 1, "entities": 2}
    blobs_before = services.blobs.all_digests()

    locked = erase_participant(services.database, services.blobs, samen.project_id, code, KeyChain(),
                               secret=SECRET, actor_id=None, confirm=False)
    assert sum(locked.plan.locked.values()) == 8  # every encrypted submission; the plaintext log was searched
    with pytest.raises(KeyLockedError):
        erase_participant(services.database, services.blobs, samen.project_id, code, KeyChain(), secret=SECRET,
                          actor_id=None, confirm=True)
    assert _counts(services, samen.project_id) == before

    keys = _keys(services, samen.project_id)
    preview = erase_participant(services.database, services.blobs, samen.project_id, code, keys, secret=SECRET,
                                actor_id=None, confirm=False)
    expected = {"samen_intake": 1, "samen_prepost_participant": 2, "samen_referral_followup": 1}
    assert {form: len(ids) for form, ids in preview.plan.submissions.items()} == expected
    assert preview.plan.entity_count == 1
    assert _counts(services, samen.project_id) == before  # a preview deletes nothing

    done = erase_participant(services.database, services.blobs, samen.project_id, code, keys, secret=SECRET,
                             actor_id=7, confirm=True)
    assert done.performed and done.entities_deleted == 1
    assert _counts(services, samen.project_id) == {
        "samen_intake": 1, "samen_prepost_participant": 1, "samen_referral_followup": 1,
        "samen_session_feedback": 1, "samen_ambassador_activity": 1, "entities": 1}
    with services.database.session() as session:
        assert session.scalars(select(Entity.label)).all() == [other_code]
        erase_events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("participant.erase%"))).all()
        all_details = json.dumps([event.details for event in session.scalars(select(AuditEvent))])
    assert code not in all_details and code.lower() not in all_details  # only the keyed hash
    assert erase_events[-1].details["codeHmac"] == code_digest(SECRET, code) != code_digest(b"other", code)
    assert erase_events[-1].actor_id == 7

    blobs_after = services.blobs.all_digests()
    assert len(blobs_before - blobs_after) == 4  # each erased submission's one encrypted file
    assert blobs_after < blobs_before

    receipt = receipt_text(done, "SAMEN Rotterdam")
    assert "Deleted permanently: 2 form(s) 'samen_prepost_participant'" in receipt
    assert done.reference in receipt and code not in receipt

    again = erase_participant(services.database, services.blobs, samen.project_id, code, keys, secret=SECRET,
                              actor_id=None, confirm=True)
    assert again.plan.submission_count == 0 and again.plan.entity_count == 0
    assert "No data linked to this code was found." in receipt_text(again, "SAMEN Rotterdam")
    assert _counts(services, samen.project_id)["samen_intake"] == 1
