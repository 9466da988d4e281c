"""The direct-identifier linter: planted identifier fields are caught, the real forms pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pyxform.xls2xform import convert

from samen.cli.forms import forms_group
from samen.formlint import EMPTY_ALLOWLIST, IdentifierAllowlist, lint_xform, lint_xlsform_source
from samen.formset import default_source_dir, load_allowlist, load_form_sources

HEADER = "| survey |\n|  | type | name | label::English (en) | label::Nederlands (nl) | hint::English (en) | hint::Nederlands (nl) |\n"
SETTINGS = "| settings |\n|  | form_id | version |\n|  | planted | 1 |\n"


def _form(*rows: str, choices: str = "") -> str:
    return HEADER + "".join(f"|  | {row} |\n" for row in rows) + choices + SETTINGS


def _xform(markdown: str) -> bytes:
    return convert(markdown, file_type=".md").xform.encode("utf-8")


def _lint(*rows: str) -> list:
    return lint_xform(_xform(_form(*rows)))


@pytest.mark.parametrize(
    ("row", "category"),
    [
        ("text | respondent | What is your name? | Wat is je naam? | | ", "name"),
        ("text | q1 | Your first name | Je voornaam | | ", "name"),
        ("text | q2 | Telephone number | Telefoonnummer | | ", "phone"),
        ("integer | q3 | Mobile | Mobiel | | ", "phone"),
        ("text | bsn | Citizen service number | Burgerservicenummer | | ", "id_number"),
        ("text | q4 | V-number | V-nummer | | ", "id_number"),
        ("date | q5 | Date of birth | Geboortedatum | | ", "date_of_birth"),
        ("text | dob | When? | Wanneer? | | ", "date_of_birth"),
        ("text | q6 | Home address | Woonadres | | ", "address"),
        ("text | q7 | Postcode | Postcode | | ", "address"),
        ("text | q8 | Where do you live? | Waar woon je? | | ", "location"),
        ("geopoint | q9 | Here | Hier | | ", "location"),
        ("text | q10 | E-mail | E-mail | | ", "email"),
        ("text | phone_number | Contact | Contact | | ", "phone"),
    ],
)
def test_planted_identifier_fields_are_found(row: str, category: str) -> None:
    findings = _lint(row)
    assert [finding.category for finding in findings] == [category]
    name = row.split("|")[1].strip()
    assert f"'{name}'" in findings[0].message
    assert findings[0].field_path == f"/data/{name}"


@pytest.mark.parametrize(
    ("label", "category"),
    [("ما اسمك؟", "name"), ("نام شما چیست؟", "name"), ("ሽምኩም እንታይ እዩ?", "name"), ("Adınız nedir?", "name"),
     ("Як ваше ім'я?", "name"), ("Ваше прізвище", "name"), ("رقم الهاتف", "phone"), ("Telefon numaranız", "phone"),
     ("Номер телефону", "phone"), ("آدرس شما", "address"), ("Дата народження", "date_of_birth"), ("تاريخ الميلاد", "date_of_birth")],
)
def test_labels_in_every_language_are_read(label: str, category: str) -> None:
    markdown = (
        "| survey |\n|  | type | name | label::English (en) | label::Other (ar) |\n"
        f"|  | text | q | Question | {label} |\n" + SETTINGS
    )
    assert [finding.category for finding in lint_xform(_xform(markdown))] == [category]
    assert "label in Other (ar)" in lint_xform(_xform(markdown))[0].reason


def test_phone_number_metadata_is_found() -> None:
    markdown = "| survey |\n|  | type | name | label |\n|  | phonenumber | device_phone | |\n|  | text | q | Q |\n" + SETTINGS
    assert [finding.category for finding in lint_xform(_xform(markdown))] == ["phone"]


@pytest.mark.parametrize(
    "row",
    [
        "note | n1 | Do not tell us your name or phone number | Noem geen naam of telefoonnummer | | ",
        "text | improve | What could be better? | Wat kan beter? | Do not write names or addresses | Geen namen of adressen | ",
        "date | session_day | Date of the session | Datum van de bijeenkomst | | ",
        "integer | age | How old are you? | Hoe oud ben je? | | ",
        "text | participant_code | Your personal code | Je persoonlijke code | | ",
    ],
)
def test_notes_hints_and_harmless_fields_pass(row: str) -> None:
    assert _lint(row) == []


def test_calculations_pass_whatever_their_name() -> None:
    markdown = "| survey |\n|  | type | name | calculation |\n|  | calculate | phone_name | 'x' |\n" + SETTINGS
    assert lint_xform(_xform(markdown)) == []


def test_closed_choice_lists_pass_even_when_labels_mention_identifiers() -> None:
    choices = "| choices |\n|  | list_name | name | label::English (en) | label::Nederlands (nl) |\n|  | c | a | A | A |\n"
    markdown = _form("select_one c | city_name | Which city is your address in? | In welke stad woon je? | | ", choices=choices)
    assert lint_xform(_xform(markdown)) == []


def test_allowlist_suppresses_a_reviewed_field_only() -> None:
    xform = _xform(_form("text | org_name | Name of the organisation | Naam van de organisatie | | ",
                         "text | phone | Phone | Telefoon | | "))
    allowlist = IdentifierAllowlist.from_csv("form_id,field,reason\nplanted,org_name,An organisation's name, not a person's\n")
    assert [finding.field_name for finding in lint_xform(xform, allowlist)] == ["phone"]
    assert len(lint_xform(xform, EMPTY_ALLOWLIST)) == 2


def test_allowlist_rows_need_a_reason() -> None:
    with pytest.raises(ValueError, match="line 2"):
        IdentifierAllowlist.from_csv("form_id,field,reason\nplanted,org_name,\n")


def test_source_linting_names_the_survey_row(tmp_path: Path) -> None:
    source = tmp_path / "planted.md"
    source.write_text(_form("note | intro | Hello | Hallo | | ", "text | naam | Name | Naam | | "), encoding="utf-8")
    [finding] = lint_xlsform_source(source)
    assert finding.row == 3
    assert "survey sheet row 3" in finding.message


def test_every_real_form_asks_for_no_direct_identifier() -> None:
    allowlist = load_allowlist()
    for source in load_form_sources():
        assert lint_xlsform_source(source.path, allowlist) == [], source.form_id


def test_lint_command_fails_on_a_planted_field(tmp_path: Path) -> None:
    (tmp_path / "forms.toml").write_text(
        '[forms.planted]\nsource = "planted.md"\nlanguages = ["en", "nl"]\nencrypted = true\n', encoding="utf-8")
    (tmp_path / "planted.md").write_text(_form("text | bsn | BSN | BSN | | "), encoding="utf-8")
    result = CliRunner().invoke(forms_group, ["lint", "--src", str(tmp_path)])
    assert result.exit_code == 1
    assert "'bsn'" in result.output and "identity number" in result.output


def test_lint_command_passes_the_real_forms() -> None:
    result = CliRunner().invoke(forms_group, ["lint", "--src", str(default_source_dir())])
    assert result.exit_code == 0, result.output
