"""The processing register lists every published form truthfully; the publish gate refuses direct identifiers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import REPO
from helpers import make_project, publish, xform
from samen import keyring
from samen.cli.privacy import form_purposes
from samen.formlint import IdentifierAllowlist
from samen.identifier_gate import refuse_direct_identifiers
from samen.models import Form, FormVersion, Project, utcnow
from samen.problems import InvalidFormError
from samen.register import PSEUDONYM, processing_register, register_html, register_markdown

FORMS = ("samen_intake", "samen_prepost_participant", "samen_referral_followup", "samen_ambassador_activity")

PHONE_FORM_MD = """
| survey   |           |            |                        |
|          | type      | name       | label                  |
|          | text      | phone      | Phone                  |
|          | select_one city | city | City                   |
| choices  |           |            |                        |
|          | list_name | name       | label                  |
|          | city      | utrecht    | Utrecht                |
| settings |           |            |                        |
|          | form_id   | version    |                        |
|          | callback  | 1          |                        |
"""


def test_the_register_lists_every_published_form_with_retention_and_custodians(services):
    project_id = make_project(services, "SAMEN Utrecht")
    with services.database.session() as session:
        project = session.get(Project, project_id)
        project.retention_days = 730
        key = keyring.create_key(session, project, "first custodian passphrase", custodian="coordinator")
        private_key = keyring.unlock_with_passphrase(session, project_id, "first custodian passphrase")[key.id]
        keyring.add_custodian(session, key, private_key, "second custodian passphrase", "data protection officer")
    for form_id in FORMS:
        publish(services, project_id, (REPO / "forms" / f"{form_id}.xml").read_bytes(),
                encrypt=form_id != "samen_ambassador_activity")
    with services.database.session() as session:
        session.scalar(select(Form).where(Form.xml_form_id == "samen_intake")).retention_days = 365
        draft_only = Form(project_id=project_id, xml_form_id="never_published")
        session.add(draft_only)
    allowlist = IdentifierAllowlist({("samen_intake", "city_of_birth"): "needed for the referral to COA"})
    purposes = {"samen_intake": "Registration of participants for support and referral."}

    with services.database.session() as session:
        register = processing_register(session, purposes, allowlist, generated_at=utcnow())
    records = {record.xml_form_id: record for record in register.forms}
    assert set(records) == set(FORMS)  # published forms only
    assert {form_id: r.retention_days for form_id, r in records.items()} == {
        "samen_intake": 365, "samen_prepost_participant": 730, "samen_referral_followup": 730,
        "samen_ambassador_activity": 730}
    for form_id in FORMS[:3]:
        assert records[form_id].encrypted
        assert records[form_id].custodians == ("coordinator", "data protection officer")
    assert not records["samen_ambassador_activity"].encrypted and records["samen_ambassador_activity"].custodians == ()
    intake = records["samen_intake"]
    assert intake.purpose == purposes["samen_intake"] and records["samen_ambassador_activity"].purpose is None
    assert PSEUDONYM in intake.data_categories
    assert any("sexual orientation" in category for category in intake.data_categories)
    assert any("Veilig Thuis" in recipient for recipient in intake.recipients)  # consent to share, per partner
    assert any("entity list 'participants'" in recipient for recipient in intake.recipients)
    assert intake.allow_listed == (("city_of_birth", "needed for the referral to COA"),)

    markdown = register_markdown(register)
    assert markdown.count("| Retention | ") == len(FORMS)
    assert "| Retention | 365 days" in markdown and "NOT RECORDED" in markdown
    assert "| samen_intake | city_of_birth | needed for the referral to COA |" in markdown
    html = register_html(register)
    assert html.count("<h2>") == len(FORMS) + 1 and "coordinator, data protection officer" in html


def test_purposes_come_from_the_form_manifest(tmp_path):
    (tmp_path / "forms.toml").write_text('[forms.a]\npurpose = "Why we ask"\n[forms.b]\nsource = "b.md"\n')
    assert form_purposes(tmp_path) == {"a": "Why we ask"}
    assert form_purposes(tmp_path / "nowhere") == {}


def test_the_publish_gate_refuses_a_phone_field(services):
    project_id = make_project(services)
    with pytest.raises(InvalidFormError) as refused:
        publish(services, project_id, xform(PHONE_FORM_MD), encrypt=False)
    assert "'phone'" in refused.value.message and "a phone number" in refused.value.message
    assert [f["field"] for f in refused.value.details["fields"]] == ["/data/phone"]
    with services.database.session() as session:
        assert session.scalars(select(FormVersion)).all() == []  # nothing stored


def test_an_allow_listed_field_passes_the_gate_and_the_real_forms_pass_as_they_are():
    refuse_direct_identifiers(xform(PHONE_FORM_MD), IdentifierAllowlist({("callback", "phone"): "call-back at the participant's request"}))
    with pytest.raises(InvalidFormError):
        refuse_direct_identifiers(xform(PHONE_FORM_MD), IdentifierAllowlist({("other_form", "phone"): "elsewhere"}))
    for path in sorted((REPO / "forms").glob("*.xml")):
        refuse_direct_identifiers(path.read_bytes())
