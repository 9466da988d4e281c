"""Every label, hint, constraint message and choice is filled in in every declared language."""

from __future__ import annotations

import re

import pytest
from lxml import etree
from pyxform.xls2json_backends import get_xlsform

from samen.formset import load_form_sources

SOURCES = load_form_sources()
TRANSLATED = ("label", "hint", "constraint_message")
UNLABELLED_TYPES = {"calculate", "begin_group", "end_group", "begin group", "end group"}
_LANGUAGE_COLUMN = re.compile(r"^(?P<column>[a-z_]+)::.+\((?P<code>[a-z]{2,3})\)$")


def _language_columns(rows) -> dict[str, dict[str, str]]:
    """column → {language code → header}, for every `column::Name (code)` header in the rows."""
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        for header in row:
            match = _LANGUAGE_COLUMN.match(header)
            if match:
                found.setdefault(match["column"], {})[match["code"]] = header
    return found


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.form_id)
def test_columns_are_exactly_the_declared_languages(source) -> None:
    workbook = get_xlsform(str(source.path))
    for sheet in (workbook.survey, workbook.choices):
        for column, languages in _language_columns(sheet).items():
            assert set(languages) == set(source.languages), f"{source.form_id}: {column} languages"
    assert workbook.settings[0]["default_language"] == "Nederlands (nl)"


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.form_id)
def test_no_text_is_empty_in_any_declared_language(source) -> None:
    workbook = get_xlsform(str(source.path))
    columns = _language_columns(workbook.survey)
    for number, row in enumerate(workbook.survey, start=2):
        for column in TRANSLATED:
            headers = columns.get(column, {})
            filled = {code for code, header in headers.items() if (row.get(header) or "").strip()}
            required = row.get("type") not in UNLABELLED_TYPES if column == "label" else bool(filled)
            if required:
                assert filled == set(source.languages), f"{source.form_id} survey row {number} ({row.get('name')}): {column}"
    choice_headers = _language_columns(workbook.choices)["label"]
    for number, row in enumerate(workbook.choices, start=2):
        empty = [code for code, header in choice_headers.items() if not (row.get(header) or "").strip()]
        assert not empty, f"{source.form_id} choices row {number} ({row.get('list_name')}/{row.get('name')}): {empty}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.form_id)
def test_compiled_translations_are_complete(source) -> None:
    from samen.formset import compile_form

    tree = etree.fromstring(compile_form(source, validate=False).xform)
    translations = tree.findall(".//{http://www.w3.org/2002/xforms}translation")
    assert len(translations) == len(source.languages)
    ids = [{text.get("id") for text in translation} for translation in translations]
    assert all(text_ids == ids[0] for text_ids in ids)
    for translation in translations:
        for value in translation.iter("{http://www.w3.org/2002/xforms}value"):
            assert "".join(value.itertext()).strip() or len(value), f"{source.form_id} {translation.get('lang')}"


def test_shared_choice_lists_agree_across_forms() -> None:
    """A list used by several forms (cities, partners, scales) must mean the same everywhere."""
    seen: dict[str, tuple[str, list]] = {}
    for source in SOURCES:
        workbook = get_xlsform(str(source.path))
        headers = _language_columns(workbook.choices)["label"]
        lists: dict[str, list] = {}
        for row in workbook.choices:
            lists.setdefault(row["list_name"], []).append((row["name"], {code: row[header] for code, header in headers.items()}))
        for list_name, items in lists.items():
            if list_name not in seen:
                seen[list_name] = (source.form_id, items)
                continue
            first_form, first_items = seen[list_name]
            assert [name for name, _ in items] == [name for name, _ in first_items], f"{list_name}: {first_form} vs {source.form_id}"
            for (name, labels), (_, first_labels) in zip(items, first_items):
                for code in labels.keys() & first_labels.keys():
                    assert labels[code] == first_labels[code], f"{list_name}/{name} [{code}]: {first_form} vs {source.form_id}"
