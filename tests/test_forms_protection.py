"""Data-protection rules of docs spec samen-forms.md, checked on the compiled forms."""

from __future__ import annotations

import re
from functools import cache

import pytest
from lxml import etree

from samen.formset import compile_form, load_form_sources

XF = "{http://www.w3.org/2002/xforms}"
ENTITIES = "{http://www.opendatakit.org/xforms/entities}"
PARTNERS = ["emergency_112", "veilig_thuis", "csg", "huisarts_gza", "coa", "legal_aid", "lgbtqi_org"]


@cache
def form(form_id: str) -> etree._Element:
    source = next(source for source in load_form_sources() if source.form_id == form_id)
    return etree.fromstring(compile_form(source, validate=False).xform)


def binds(form_id: str) -> dict[str, etree._Element]:
    return {bind.get("nodeset"): bind for bind in form(form_id).iter(f"{XF}bind")}


def relevance_chain(form_id: str, path: str) -> str:
    """The relevance of a field and of every group around it, joined."""
    parts, all_binds = path.split("/"), binds(form_id)
    return " | ".join(all_binds[p].get("relevant") or "" for p in ("/".join(parts[:d]) for d in range(3, len(parts) + 1)) if p in all_binds)


def answerable(form_id: str) -> list[str]:
    """Refs of questions a person answers, in form order."""
    refs = []
    for control in form(form_id).iter(f"{XF}input", f"{XF}select1", f"{XF}select"):
        bind = binds(form_id)[control.get("ref")]
        if bind.get("readonly") != "true()":
            refs.append(control.get("ref"))
    return refs


def choice_values(form_id: str, path: str) -> list[str]:
    control = next(c for c in form(form_id).iter(f"{XF}select1", f"{XF}select") if c.get("ref") == path)
    instance_id = re.match(r"instance\('([^']+)'\)", control.find(f"{XF}itemset").get("nodeset")).group(1)
    instance = next(i for i in form(form_id).iter(f"{XF}instance") if i.get("id") == instance_id)
    return [item.findtext(f"{XF}name") for item in instance.iter(f"{XF}item")]


def english_label(form_id: str, path: str) -> str:
    translation = next(t for t in form(form_id).iter(f"{XF}translation") if t.get("lang") == "English (en)")
    text = next((t for t in translation if t.get("id") == f"{path}:label"), None)
    return "".join(text.itertext()) if text is not None else ""


@pytest.mark.parametrize("form_id", ["samen_intake", "samen_session_feedback", "samen_prepost_participant", "samen_prepost_professional"])
def test_consent_comes_first_and_gates_everything(form_id: str) -> None:
    questions = answerable(form_id)
    assert questions[0] == "/data/consent"
    for path in questions[1:]:
        assert "/data/consent  = 'yes'" in relevance_chain(form_id, path), path
    for path, bind in binds(form_id).items():
        if bind.get("calculate") and "/meta/" not in path:
            assert "/data/consent  = 'yes'" in relevance_chain(form_id, path), path


def test_intake_creates_an_entity_only_with_consent() -> None:
    create = binds("samen_intake")["/data/meta/entity/@create"]
    assert "/data/consent  = 'yes'" in create.get("calculate")


def test_safety_check_comes_before_sensitive_questions_and_can_stop() -> None:
    questions = answerable("samen_intake")
    sensitive = [p for p in questions if "/sensitive/" in p]
    assert {"gender_identity", "lgbtqi", "region_of_origin", "needs", "risk_now"} <= {p.rsplit("/", 1)[1] for p in sensitive}
    safety = "/data/registration/support/safe_to_talk"
    assert questions.index(safety) < min(questions.index(p) for p in sensitive)
    for path in sensitive:
        assert "safe_to_talk  = 'yes'" in relevance_chain("samen_intake", path)
    assert binds("samen_intake")["/data/registration/support/stop_safely"].get("relevant").strip() == "/data/registration/support/safe_to_talk  = 'no'"


@pytest.mark.parametrize(
    ("form_id", "pattern"),
    [("samen_intake", r"/sensitive/(gender_identity|lgbtqi|region_of_origin|needs|risk_now)$"),
     ("samen_intake", r"/age_band$"),
     ("samen_session_feedback", r"/(satisfaction|felt_safe|felt_respected|useful|understood|language_ok|recommend)$"),
     ("samen_prepost_participant", r"/(k_|a_|who5_|post_)\w+$")],
)
def test_sensitive_questions_offer_prefer_not_to_answer(form_id: str, pattern: str) -> None:
    matched = [path for path in answerable(form_id) if re.search(pattern, path)]
    assert matched
    for path in matched:
        assert "pna" in choice_values(form_id, path), path


def test_every_referral_partner_needs_its_own_consent() -> None:
    intake_binds = binds("samen_intake")
    assert [v for v in choice_values("samen_intake", "/data/registration/support/sensitive/referrals_made") if v != "none"] == PARTNERS
    for partner in PARTNERS:
        bind = intake_binds[f"/data/registration/support/sensitive/consent_share_{partner}"]
        assert bind.get("required") == "true()"
        assert f"'{partner}'" in bind.get("relevant") and "selected(" in bind.get("relevant")


@pytest.mark.parametrize("form_id", ["samen_intake", "samen_referral_followup"])
def test_help_numbers_are_shown_when_risk_is_indicated(form_id: str) -> None:
    path = next(p for p in binds(form_id) if p.endswith("/help_numbers"))
    assert "= 'yes'" in binds(form_id)[path].get("relevant")
    for translation in form(form_id).iter(f"{XF}translation"):
        text = "".join(next(t for t in translation if t.get("id") == f"{path}:label").itertext())
        for number in ("112", "0800-2000", "0800-0188"):
            assert number in text, translation.get("lang")


@pytest.mark.parametrize("form_id", ["samen_session_feedback", "samen_prepost_participant", "samen_prepost_professional"])
def test_feedback_and_prepost_never_ask_about_incidents(form_id: str) -> None:
    incident = re.compile(r"\b(happened to you|incident|were you|have you been|did someone|abused|assaulted|raped|hit you)\b", re.I)
    for path in answerable(form_id):
        assert not incident.search(english_label(form_id, path)), path


def test_no_licensed_instruments_and_who5_credited() -> None:
    for source in load_form_sources():
        text = source.path.read_text(encoding="utf-8")
        assert not re.search(r"CSQ-?8|RHS-?15", text), source.form_id
    assert "WHO-5 Well-Being Index" in (load_form_sources()[2].path.read_text(encoding="utf-8"))


def test_entity_properties_are_only_the_agreed_non_identifying_ones() -> None:
    saved = {b.get(f"{ENTITIES}saveto") for b in binds("samen_intake").values() if b.get(f"{ENTITIES}saveto")}
    assert saved == {"city", "target_group", "intake_date"}
    label = binds("samen_intake")["/data/meta/entity/label"].get("calculate")
    assert label.strip() == "/data/registration/participant_code"
    updated = {b.get(f"{ENTITIES}saveto") for b in binds("samen_referral_followup").values() if b.get(f"{ENTITIES}saveto")}
    assert updated == {"referral_status", "last_followup"}
    followup_entity = form("samen_referral_followup").find(f".//{XF}meta/{XF}entity")
    assert followup_entity.get("update") == "1" and followup_entity.get("dataset") == "participants"
    assert binds("samen_referral_followup")["/data/meta/entity/@id"].get("calculate").strip() == "/data/participant"


@pytest.mark.parametrize("form_id", ["samen_referral_followup", "samen_prepost_participant"])
def test_participant_is_picked_offline_from_the_entity_list(form_id: str) -> None:
    sources = {i.get("id"): i.get("src") for i in form(form_id).iter(f"{XF}instance") if i.get("src")}
    assert sources == {"participants": "jr://file-csv/participants.csv"}
