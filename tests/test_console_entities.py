"""While a browser holds an unlock, encrypted intakes that arrive are applied to the follow-up list when staff look."""

from __future__ import annotations

from sqlalchemy import select

from console_client import make_user, post_form, sign_in
from entity_forms import FOLLOWUP, INTAKE, envelope_for, intake_xml
from helpers import COLLECT_HEADERS, DEVICE_ID, make_phone, make_project, multipart, publish
from samen import keyring
from samen.entities import intake as entity_intake
from samen.models import Entity, Project

PASSPHRASE = "coordinator passphrase for entities"


def test_an_intake_sent_during_an_unlock_reaches_the_list_when_the_project_page_is_opened(app, services):
    project_id = make_project(services)
    with services.database.session() as session:
        keyring.create_key(session, session.get(Project, project_id), PASSPHRASE, custodian="coordinator")
    intake = publish(services, project_id, INTAKE)
    publish(services, project_id, FOLLOWUP)
    phone = make_phone(services, project_id, ["intake", "followup"])
    make_user(services, "coordinator@example.org", roles={project_id: "manager"})
    browser = app.test_client()
    sign_in(browser, "coordinator@example.org")
    post_form(browser, f"/projects/{project_id}/unlock", {"passphrase": PASSPHRASE}, from_page=f"/projects/{project_id}")

    xml, instance_id, entity_id = intake_xml(intake.version, "K7M4TQ5", "utrecht")
    envelope, files = envelope_for(intake.public_key, "intake", intake.version, instance_id, xml)
    sent = app.test_client().post(f"{phone.prefix}/submission?deviceID={DEVICE_ID}", data=multipart(envelope, files),
                                  headers=COLLECT_HEADERS, content_type="multipart/form-data")
    assert sent.status_code == 201
    with services.database.session() as session:
        assert entity_intake.pending_count(session, project_id) == 1  # the phone's request holds no key

    assert browser.get(f"/projects/{project_id}").status_code == 200
    with services.database.session() as session:
        assert entity_intake.pending_count(session, project_id) == 0
        [entity] = session.scalars(select(Entity)).all()
        assert entity.uuid == entity_id
