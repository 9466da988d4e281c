"""Submissions as rows in Central's CSV layout: columns, values, keys, metadata and problem rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from test_export_forms import INTAKE_V1_INSTANCE, INTAKE_V2_INSTANCE, intake_schema, meta

from samen.rows import RowOptions, SubmissionMeta, submission_rows, table_layout
from samen.schema import parse_form_schema

ROOT_METADATA = [
    "KEY",
    "SubmitterID",
    "SubmitterName",
    "AttachmentsPresent",
    "AttachmentsExpected",
    "Status",
    "ReviewState",
    "DeviceID",
    "Edits",
    "FormVersion",
]


def named(table, row):
    return dict(zip([column.name for column in table.columns], row))


def test_columns_follow_centrals_layout():
    layout = table_layout(intake_schema())
    root, members, visits = layout.tables

    assert [column.name for column in root.columns] == [
        "SubmissionDate",
        "name",
        "household-size",
        "household-income",
        "household-consent",
        "location-Latitude",
        "location-Longitude",
        "location-Altitude",
        "location-Accuracy",
        "route",
        "photo",
        "old_note",
        "meta-instanceID",
        *ROOT_METADATA,
    ]
    assert (members.name, members.path) == ("members", ("household", "members"))
    assert [column.name for column in members.columns] == ["member_name", "age", "needs", "PARENT_KEY", "KEY"]
    assert [column.name for column in visits.columns] == [
        "visit_date",
        "visit_location-Latitude",
        "visit_location-Longitude",
        "visit_location-Altitude",
        "visit_location-Accuracy",
        "PARENT_KEY",
        "KEY",
    ]


def test_options_drop_group_paths_split_select_multiples_and_drop_removed_fields():
    layout = table_layout(
        intake_schema(), RowOptions(group_paths=False, split_select_multiples=True, removed_fields=False)
    )
    root, members, _ = layout.tables

    names = [column.name for column in root.columns]
    assert names[1:5] == ["name", "size", "income", "consent"]
    assert "old_note" not in names and "instanceID" in names
    assert [column.name for column in members.columns] == [
        "member_name",
        "age",
        "needs",
        "needs/shelter",
        "needs/medical",
        "needs/legal",
        "PARENT_KEY",
        "KEY",
    ]


def test_values_keys_and_parent_keys_of_nested_repeats_inside_a_group():
    layout = table_layout(intake_schema(), RowOptions(split_select_multiples=True))
    root, members, visits = layout.tables

    rows = submission_rows(layout, INTAKE_V1_INSTANCE, meta("uuid:v1-0001", form_version="1"))

    assert rows.problem is None
    submission = named(root, rows.root)
    assert {k: submission[k] for k in ("name", "household-size", "household-income", "household-consent")} == {
        "name": "Amanuel",
        "household-size": "3",
        "household-income": None,  # added in version 2
        "household-consent": "1",
    }
    assert [submission[f"location-{part}"] for part in ("Latitude", "Longitude", "Altitude", "Accuracy")] == [
        "52.3676",
        "4.9041",
        "0",
        "12.5",
    ]
    assert submission["route"] == "52.1 5.1 0 0;52.2 5.2 0 0"  # geotraces stay whole, as in Central
    assert submission["photo"] == "1714566000000.jpg"  # attachments by file name
    assert submission["old_note"] == "ጽቡቕ\nsecond line"  # removed in version 2, still there for version 1
    assert submission["meta-instanceID"] == "uuid:v1-0001"

    assert [named(members, row) for row in rows.tables[members.path]] == [
        {
            "member_name": "Selam",
            "age": "34",
            "needs": "shelter medical",
            "needs/shelter": 1,
            "needs/medical": 1,
            "needs/legal": 0,
            "PARENT_KEY": "uuid:v1-0001",
            "KEY": "uuid:v1-0001/household/members[1]",
        },
        {
            "member_name": 'سلام, "الصغيرة"',
            "age": "7",
            "needs": None,
            "needs/shelter": 0,
            "needs/medical": 0,
            "needs/legal": 0,
            "PARENT_KEY": "uuid:v1-0001",
            "KEY": "uuid:v1-0001/household/members[2]",
        },
    ]
    assert rows.tables[visits.path] == [
        [
            "2024-04-02",
            "52.0907",
            "5.1214",
            "3.5",
            "4.8",
            "uuid:v1-0001/household/members[1]",
            "uuid:v1-0001/household/members[1]/visits[1]",
        ],
        [
            "2024-04-09",
            None,
            None,
            None,
            None,
            "uuid:v1-0001/household/members[1]",
            "uuid:v1-0001/household/members[1]/visits[2]",
        ],
    ]


def test_a_version_2_submission_in_the_merged_layout():
    layout = table_layout(intake_schema())
    root, members, visits = layout.tables

    rows = submission_rows(layout, INTAKE_V2_INSTANCE, meta("uuid:v2-0001", form_version="2"))

    submission = named(root, rows.root)
    assert (submission["household-income"], submission["old_note"], submission["location-Latitude"]) == (
        "1250.50",
        None,
        None,
    )
    assert [named(members, row)["needs"] for row in rows.tables[members.path]] == ["legal"]
    assert rows.tables[visits.path] == []


def test_metadata_columns_carry_what_the_server_knows():
    layout = table_layout(intake_schema())
    amsterdam = timezone(timedelta(hours=2))
    server_meta = SubmissionMeta(
        instance_id="uuid:v1-0001",
        submission_date=datetime(2024, 5, 1, 14, 30, 15, 250999, tzinfo=amsterdam),
        submitter_id=7,
        submitter_name="Intake phone 3",
        attachments_present=1,
        attachments_expected=2,
        review_state="hasIssues",
        device_id="collect:abc",
        edits=2,
        form_version="1",
    )

    root = named(layout.tables[0], submission_rows(layout, INTAKE_V1_INSTANCE, server_meta).root)

    assert root["SubmissionDate"] == "2024-05-01T12:30:15.250Z"  # UTC, milliseconds, as Central
    assert [root[name] for name in ROOT_METADATA] == [
        "uuid:v1-0001",
        7,
        "Intake phone 3",
        1,
        2,
        None,
        "hasIssues",
        "collect:abc",
        2,
        "1",
    ]


def test_a_submission_that_could_not_be_decrypted_is_a_metadata_row_with_its_reason():
    layout = table_layout(intake_schema(), RowOptions(split_select_multiples=True))

    rows = submission_rows(layout, None, meta("uuid:locked", status="not decrypted: the key is locked"))

    root = named(layout.tables[0], rows.root)
    assert rows.problem == root["Status"] == "not decrypted: the key is locked"
    assert root["KEY"] == "uuid:locked"
    assert root["name"] is None and root["household-size"] is None
    assert all(rows.tables[table.path] == [] for table in layout.tables[1:])


def test_xml_that_does_not_parse_becomes_a_problem_row_instead_of_an_error():
    layout = table_layout(intake_schema())

    rows = submission_rows(layout, b"<data><name>cut off", meta("uuid:broken"))

    assert rows.problem.startswith("not parsed: The XML is not well formed")
    assert named(layout.tables[0], rows.root)["Status"] == rows.problem


def test_elements_the_form_never_had_are_ignored():
    layout = table_layout(intake_schema())
    xml = b"<data><name>A</name><injected><name>B</name></injected><household><size>2</size><extra>9</extra></household></data>"

    root = named(layout.tables[0], submission_rows(layout, xml, meta("uuid:x")).root)

    assert (root["name"], root["household-size"]) == ("A", "2")
    assert "B" not in root.values() and "9" not in root.values()


def test_a_short_geopoint_fills_the_parts_it_has():
    layout = table_layout(intake_schema())
    xml = b"<data><location>52.1 4.9</location></data>"

    root = named(layout.tables[0], submission_rows(layout, xml, meta("uuid:x")).root)

    assert [root[f"location-{part}"] for part in ("Latitude", "Longitude", "Altitude", "Accuracy")] == ["52.1", "4.9", None, None]


def test_repeats_sharing_a_name_get_centrals_numbered_table_names():
    # pyxform now refuses two repeats with one name, but forms compiled before that still exist.
    schema = parse_form_schema(
        b"""<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml">
        <h:head><h:title>Twins</h:title><model>
          <instance><data id="twins"><a><items><x/></items></a><b><items><y/></items></b></data></instance>
          <bind nodeset="/data/a/items/x" type="string"/><bind nodeset="/data/b/items/y" type="string"/>
        </model></h:head>
        <h:body>
          <group ref="/data/a"><repeat nodeset="/data/a/items"><input ref="/data/a/items/x"/></repeat></group>
          <group ref="/data/b"><repeat nodeset="/data/b/items"><input ref="/data/b/items/y"/></repeat></group>
        </h:body></h:html>"""
    )
    layout = table_layout(schema)
    xml = b"<data><a><items><x>1</x></items><items><x>2</x></items></a><b><items><y>3</y></items></b></data>"

    rows = submission_rows(layout, xml, meta("uuid:t"))

    assert [table.name for table in layout.tables] == ["twins", "items~1", "items~2"]
    assert rows.tables[("a", "items")] == [["1", "uuid:t", "uuid:t/a/items[1]"], ["2", "uuid:t", "uuid:t/a/items[2]"]]
    assert rows.tables[("b", "items")] == [["3", "uuid:t", "uuid:t/b/items[1]"]]
