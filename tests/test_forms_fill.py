"""tests/formfill.py builds instances a phone could have sent, for every compiled form."""

from __future__ import annotations

import re

import pytest
from formfill import fill_instance
from lxml import etree

from samen.formset import repository_root
from samen.participant_code import is_valid_phone_code, is_valid_self_code

FORMS = sorted((repository_root() / "forms").glob("*.xml"))
XF = "{http://www.w3.org/2002/xforms}"


def _choices(xform: etree._Element) -> dict[str, set[str]]:
    """Field name → allowed values, from the form's static choice lists."""
    instances = {i.get("id"): i for i in xform.iter(f"{XF}instance") if i.get("id") and not i.get("src")}
    allowed = {}
    for control in xform.iter(f"{XF}select1", f"{XF}select"):
        instance_id = re.match(r"instance\('([^']+)'\)", control.find(f"{XF}itemset").get("nodeset")).group(1)
        if instance_id in instances:
            allowed[control.get("ref").rsplit("/", 1)[-1]] = {i.findtext(f"{XF}name") for i in instances[instance_id].iter(f"{XF}item")}
    return allowed


@pytest.mark.parametrize("path", FORMS, ids=lambda path: path.stem)
def test_filled_instance_is_realistic(path) -> None:
    xform_bytes = path.read_bytes()
    xform = etree.fromstring(xform_bytes)
    instance = etree.fromstring(fill_instance(xform_bytes, seed=3))
    template = next(i for i in xform.iter(f"{XF}instance") if i.get("id") is None)[0]
    assert instance.tag == "data" and instance.get("id") == template.get("id") == path.stem
    assert instance.get("version") == template.get("version")
    assert re.fullmatch(r"uuid:[0-9a-f-]{36}", instance.findtext("meta/instanceID"))
    consent = instance.find(".//consent")
    if consent is not None:
        assert consent.text == "yes"
    for field, allowed in _choices(xform).items():
        for element in instance.iter(field):
            if element.text:
                assert set(element.text.split()) <= allowed, field
    for element in instance.iter("participant_code"):
        assert is_valid_phone_code(element.text)
    for element in instance.iter("self_code"):
        assert is_valid_self_code(element.text)
    entity = instance.find("meta/entity")
    if entity is not None:
        assert re.fullmatch(r"[0-9a-f-]{36}", entity.get("id"))


def test_intake_entity_is_labelled_with_the_code_and_relevance_is_honoured() -> None:
    xform_bytes = (repository_root() / "forms" / "samen_intake.xml").read_bytes()
    instance = etree.fromstring(fill_instance(xform_bytes, seed=8))
    assert instance.findtext("meta/entity/label") == instance.findtext(".//participant_code")
    assert instance.findtext(".//sector") in (None, "")  # only for professionals
    referred = set(instance.findtext(".//referrals_made").split())
    for element in instance.iter():
        if element.tag.startswith("consent_share_"):
            assert bool(element.text) == (element.tag.removeprefix("consent_share_") in referred)


def test_same_seed_same_instance() -> None:
    xform_bytes = (repository_root() / "forms" / "samen_referral_followup.xml").read_bytes()
    assert fill_instance(xform_bytes, seed=1) == fill_instance(xform_bytes, seed=1)
    assert fill_instance(xform_bytes, seed=1) != fill_instance(xform_bytes, seed=2)
