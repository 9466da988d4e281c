"""The form schema read from XForms: structure, types, labels, choices, and merged versions."""

from __future__ import annotations

import pytest
from test_export_forms import AR, BRIEFCASE, EN, TI, intake_schema, intake_xlsform, schema_of

from samen.problems import InvalidFormError
from samen.schema import NO_LANGUAGE, merge_schemas, parse_form_schema


def by_path(schema):
    return {field.path: field for field in schema.fields}


def test_fields_come_in_document_order_with_groups_repeats_and_nested_repeats():
    schema = schema_of(intake_xlsform(1))

    assert [(f.path, f.kind, f.type, f.repeat) for f in schema.fields] == [
        (("name",), "field", "string", ()),
        (("household",), "group", "group", ()),
        (("household", "size"), "field", "int", ()),
        (("household", "consent"), "field", "select1", ()),
        (("household", "members"), "repeat", "repeat", ()),
        (("household", "members", "member_name"), "field", "string", ("household", "members")),
        (("household", "members", "age"), "field", "int", ("household", "members")),
        (("household", "members", "needs"), "field", "select", ("household", "members")),
        (("household", "members", "visits"), "repeat", "repeat", ("household", "members")),
        (("household", "members", "visits", "visit_date"), "field", "date", ("household", "members", "visits")),
        (("household", "members", "visits", "visit_location"), "field", "geopoint", ("household", "members", "visits")),
        (("location",), "field", "geopoint", ()),
        (("route",), "field", "geotrace", ()),
        (("photo",), "field", "binary", ()),
        (("old_note",), "field", "string", ()),
        (("meta",), "group", "group", ()),
        (("meta", "instanceID"), "field", "string", ()),
    ]
    assert (schema.form_id, schema.version, schema.title) == ("intake", "1", "Intake")


def test_labels_in_every_language_with_the_default_first():
    schema = schema_of(intake_xlsform(1))
    fields = by_path(schema)

    assert schema.languages == (EN, AR, TI)
    assert fields[("household", "members", "visits")].labels == {EN: "Visits", AR: "الزيارات", TI: "ምብጻሕ"}
    assert fields[("household", "members", "visits", "visit_date")].labels[TI] == "ዕለት ምብጻሕ"
    assert fields[("household",)].labels[AR] == "الأسرة"


def test_choices_keep_their_values_and_labels_per_language():
    fields = by_path(schema_of(intake_xlsform(1)))

    needs = fields[("household", "members", "needs")]
    assert [choice.value for choice in needs.choices] == ["shelter", "medical"]
    assert needs.choices[1].labels == {EN: "Medical care", AR: "رعاية طبية", TI: "ሕክምና"}
    assert [choice.value for choice in fields[("household", "consent")].choices] == ["1", "0"]


def test_a_form_without_translations_keeps_inline_labels_and_resolves_relative_refs():
    schema = parse_form_schema((BRIEFCASE / "encrypted-form-media.xml").read_bytes())

    assert schema.languages == ()
    assert [(f.path, f.type, f.labels) for f in schema.fields] == [
        (("name",), "string", {NO_LANGUAGE: "Your name"}),
        (("image1",), "binary", {NO_LANGUAGE: "Take the first picture"}),
        (("image2",), "binary", {NO_LANGUAGE: "Take the second picture"}),
        (("meta",), "group", {}),
        (("meta", "instanceID"), "string", {}),  # orx:meta in the instance, meta in the bind: one path
    ]
    assert parse_form_schema((BRIEFCASE / "encrypted-form.xml").read_bytes()).fields[0].labels == {
        NO_LANGUAGE: "Your name"
    }


def test_select_from_file_has_no_choices_but_names_its_file():
    schema = schema_of(
        """
| survey |
| | type | name | label |
| | select_one_from_file places.csv | place | Place |
| | select_multiple_from_file services.csv | services | Services |
| settings |
| | form_id |
| | files |
"""
    )
    fields = by_path(schema)

    assert (fields[("place",)].type, fields[("place",)].choices, fields[("place",)].choices_file) == ("select1", (), "places.csv")
    assert (fields[("services",)].type, fields[("services",)].choices_file) == ("select", "services.csv")


def test_hand_written_xform_with_inline_items_itext_labels_and_outputs():
    xform = b"""<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
        xmlns:jr="http://openrosa.org/javarosa" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
      <h:head><h:title>Old</h:title><model>
        <itext><translation lang="fr"><text id="q-yes"><value>Oui</value></text></translation>
               <translation lang="en" default="true()"><text id="q-yes"><value form="image">jr://images/y.png</value>
                 <value>Yes</value></text></translation></itext>
        <instance><old id="old-form" version="7"><grp><q/><n/></grp></old></instance>
        <bind nodeset="/old/grp" relevant="true()"/>
        <bind nodeset="/old/grp/q" type="select1"/>
        <bind nodeset="/old/grp/n" type="xsd:integer"/>
      </model></h:head>
      <h:body><group ref="/old/grp"><label>Group</label>
        <select1 ref="q"><label>Hello <output value="/old/grp/n"/>!</label>
          <item><label ref="jr:itext('q-yes')"/><value>y</value></item>
          <item><label>No</label><value>n</value></item>
        </select1>
      </group></h:body></h:html>"""

    schema = parse_form_schema(xform)
    fields = by_path(schema)

    assert (schema.form_id, schema.version, schema.languages) == ("old-form", "7", ("en", "fr"))
    assert fields[("grp",)].kind == "group"  # a bind that only sets relevance does not make it a question
    assert fields[("grp", "n")].type == "int"
    question = fields[("grp", "q")]
    assert question.labels == {NO_LANGUAGE: "Hello ${n}!"}
    assert [(c.value, c.labels) for c in question.choices] == [
        ("y", {"fr": "Oui", "en": "Yes"}),
        ("n", {NO_LANGUAGE: "No"}),
    ]
    assert schema.text(question.choices[0].labels) == "Yes"  # default language
    assert schema.text(question.choices[0].labels, "fr") == "Oui"
    assert schema.text(question.choices[1].labels, "fr") == "No"  # only an inline label: shown in every language


@pytest.mark.parametrize(
    ("xform", "message"),
    [
        (b"<h:html xmlns:h='http://www.w3.org/1999/xhtml'><h:head/></h:html>", "no primary instance"),
        (b"<html><head><model><instance><data/></instance></model></head></html>", "no id attribute"),
    ],
)
def test_a_form_without_instance_or_id_is_rejected_with_the_reason(xform, message):
    with pytest.raises(InvalidFormError, match=message):
        parse_form_schema(xform)


def test_merged_versions_keep_removed_fields_where_they_were_and_add_new_ones():
    schema = intake_schema()
    fields = by_path(schema)
    paths = [field.path for field in schema.fields]

    assert schema.version == "2"
    assert paths.index(("household", "income")) == paths.index(("household", "size")) + 1
    assert paths.index(("old_note",)) == paths.index(("photo",)) + 1  # after its old predecessor
    assert fields[("old_note",)].removed and not fields[("household", "income")].removed
    assert [choice.value for choice in fields[("household", "members", "needs")].choices] == ["shelter", "medical", "legal"]


def test_merging_keeps_choices_only_older_versions_offered_and_removed_subtrees_in_place():
    old = schema_of(
        """
| survey |
| | type | name | label |
| | text | a | A |
| | begin_group | g | G |
| | text | g1 | G1 |
| | begin_repeat | r | R |
| | text | r1 | R1 |
| | end_repeat | | |
| | end_group | | |
| | select_one c | s | S |
| | text | z | Z |
| choices |
| | list_name | name | label |
| | c | x | X |
| | c | y | Y |
| settings |
| | form_id | version |
| | merge | 1 |
"""
    )
    new = schema_of(
        """
| survey |
| | type | name | label |
| | text | a | A |
| | select_one c | s | S2 |
| | text | z | Z |
| choices |
| | list_name | name | label |
| | c | y | Why |
| settings |
| | form_id | version |
| | merge | 2 |
"""
    )

    merged = merge_schemas([old, new])

    assert [(f.path, f.removed) for f in merged.fields if f.path[0] != "meta"] == [
        (("a",), False),
        (("g",), True),
        (("g", "g1"), True),
        (("g", "r"), True),
        (("g", "r", "r1"), True),
        (("s",), False),
        (("z",), False),
    ]
    assert by_path(merged)[("g", "r", "r1")].repeat == ("g", "r")
    select = by_path(merged)[("s",)]
    assert [(c.value, c.labels[NO_LANGUAGE]) for c in select.choices] == [("y", "Why"), ("x", "X")]
    assert select.labels == {NO_LANGUAGE: "S2"}


def test_merging_one_version_is_that_version():
    schema = schema_of(intake_xlsform(2))
    assert merge_schemas([schema]) == schema

