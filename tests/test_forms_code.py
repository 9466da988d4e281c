"""The phone's participant-code expressions, evaluated here, agree with samen.participant_code."""

from __future__ import annotations

import random
from functools import cache

import pytest
from lxml import etree
from xpath_subset import evaluate

from samen.formset import compile_form, load_form_sources
from samen.participant_code import ALPHABET, format_code, is_valid_phone_code, normalise_code

XF = "{http://www.w3.org/2002/xforms}"
CODE_FIELDS = ("pc_body", "pc_check", "participant_code", "participant_code_display")


@cache
def bind_attributes(form_id: str) -> dict[str, dict[str, str]]:
    source = next(source for source in load_form_sources() if source.form_id == form_id)
    tree = etree.fromstring(compile_form(source, validate=False).xform)
    return {bind.get("nodeset").rsplit("/", 1)[-1]: dict(bind.attrib) for bind in tree.iter(f"{XF}bind")}


def draw_intake_code(rng: random.Random) -> dict[str, str]:
    """Run the intake's own calculations in form order, as Collect would."""
    values: dict[str, str] = {}
    attributes = bind_attributes("samen_intake")
    for name in CODE_FIELDS:
        values[name] = evaluate(attributes[name]["calculate"], resolve=lambda path: values[path.strip().rsplit("/", 1)[-1]], rng=rng)
    return values


def test_generated_codes_are_valid_and_shown_grouped() -> None:
    rng = random.Random(2024)
    codes = set()
    for _ in range(300):
        values = draw_intake_code(rng)
        code = values["participant_code"]
        assert is_valid_phone_code(code) and normalise_code(code) == code and len(code) == 7
        assert values["participant_code_display"] == format_code(code)
        codes.add(code)
    assert len(codes) == 300


def test_generated_symbols_cover_the_whole_alphabet() -> None:
    rng = random.Random(5)
    seen = set("".join(draw_intake_code(rng)["pc_body"] for _ in range(400)))
    assert seen == set(ALPHABET)


def test_code_is_drawn_once() -> None:
    assert bind_attributes("samen_intake")["pc_body"]["calculate"].startswith("once(")


def typed_code_accepted(typed: str) -> bool:
    constraint = bind_attributes("samen_prepost_participant")["code_typed"]["constraint"]
    return bool(evaluate(constraint, context=typed))


def test_typed_code_constraint_matches_the_module() -> None:
    rng = random.Random(99)
    for _ in range(60):
        code = draw_intake_code(rng)["participant_code"]
        for typed in (code, format_code(code), format_code(code).lower(), " ".join(code),
                      code.replace("0", "O").replace("1", "I")):
            assert typed_code_accepted(typed) and is_valid_phone_code(typed), typed
        position = rng.randrange(7)
        wrong = code[:position] + ALPHABET[(ALPHABET.index(code[position]) + 1) % 31] + code[position + 1:]
        assert typed_code_accepted(wrong) is False and is_valid_phone_code(wrong) is False


@pytest.mark.parametrize("typed", ["", "ABC", "K7M4TQ5X", "K7M4TQ!", "K7M4TQ6"])
def test_typed_code_constraint_rejects_malformed_codes(typed: str) -> None:
    assert typed_code_accepted(typed) is False
    assert is_valid_phone_code(typed) is False


def test_typed_code_is_stored_normalised() -> None:
    calculation = bind_attributes("samen_prepost_participant")["participant_code"]["calculate"]
    translate_call = calculation[calculation.index("translate("):-1]
    for typed in ("k7m4-tq5", "o0il uz"):
        stored = evaluate(translate_call, resolve=lambda path: typed)
        assert stored == normalise_code(typed)
