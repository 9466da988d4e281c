"""The SPSS export read back with pyreadstat: safe names, variable and value labels, string widths."""

from __future__ import annotations

import io
import math
import zipfile

import pyreadstat
import pytest
from test_export_forms import AR, EN, TI, export_bytes, intake_schema, intake_submissions, meta, schema_of

from samen.exports import WRITERS, ExportOptions
from samen.exports.sav import spss_names
from samen.rows import submission_rows, table_layout

SIMPLE_FORM = """
| survey |
| | type | name | label::English (en) | label::Tigrinya (ti) |
| | text | story | Story | ዛንታ |
| | select_one where | where | Where | ኣበይ |
| | integer | children | Children | ቆልዑ |
| choices |
| | list_name | name | label::English (en) | label::Tigrinya (ti) |
| | where | home | At home | ኣብ ገዛ |
| | where | street | In the street | ኣብ ጎደና |
| settings |
| | form_id | default_language |
| | simple | English (en) |
"""


def read_sav(data: bytes, tmp_path, name="export.sav"):
    path = tmp_path / name
    path.write_bytes(data)
    return pyreadstat.read_sav(str(path))


def test_a_form_without_repeats_is_one_sav_with_labels_in_the_chosen_language(tmp_path):
    layout = table_layout(schema_of(SIMPLE_FORM))
    story = "ዛንታ ብትግርኛ። " * 40 + "መወዳእታ"  # about 1,300 UTF-8 bytes: beyond SPSS's short strings
    xml = f"<data><story>{story}</story><where>street</where><children>2</children></data>".encode()
    rows = [
        submission_rows(layout, xml, meta("uuid:s1", submitter_id=4)),
        submission_rows(layout, None, meta("uuid:s2", status="not decrypted: wrong key")),
    ]

    assert WRITERS["sav"].filename(layout) == "simple.sav"
    frame, sav = read_sav(export_bytes("sav", layout, rows, ExportOptions(language=TI)), tmp_path)

    assert list(frame.columns) == [
        "SubmissionDate", "story", "where", "children", "meta_instanceID", "KEY", "SubmitterID", "SubmitterName",
        "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion",
    ]  # fmt: skip
    assert frame["story"][0] == story  # string width respected: nothing cut
    assert sav.variable_storage_width["story"] >= len(story.encode("utf-8"))
    assert (frame["where"][0], frame["children"][0], frame["SubmitterID"][0]) == ("street", 2.0, 4.0)
    assert frame["Status"][1] == "not decrypted: wrong key" and math.isnan(frame["children"][1])
    assert sav.column_names_to_labels["story"] == "ዛንታ"
    assert sav.column_names_to_labels["SubmissionDate"] == "Submission date"
    assert sav.variable_value_labels["where"] == {"home": "ኣብ ገዛ", "street": "ኣብ ጎደና"}
    assert sav.readstat_variable_types["children"] == "double"


def test_numeric_choices_become_numeric_variables_with_value_labels_and_repeats_a_zip(tmp_path):
    layout = table_layout(intake_schema())

    data = export_bytes("sav", layout, intake_submissions(layout), ExportOptions(language=AR))

    assert WRITERS["sav"].filename(layout) == "intake.sav.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["intake.sav", "intake-members.sav", "intake-visits.sav"]
        files = {name: archive.read(name) for name in archive.namelist()}
    frame, sav = read_sav(files["intake.sav"], tmp_path)
    assert list(frame["household_consent"][:2]) == [1.0, 0.0]
    assert sav.variable_value_labels["household_consent"] == {1.0: "نعم", 0.0: "لا"}
    assert sav.column_names_to_labels["household_consent"] == "موافقة"
    assert frame["location_Latitude"][0] == pytest.approx(52.3676)
    assert sav.original_variable_types["location_Latitude"] == "F18.8"
    members, members_sav = read_sav(files["intake-members.sav"], tmp_path, "members.sav")
    assert list(members["member_name"]) == ["Selam", 'سلام, "الصغيرة"', "Hawa"]
    assert list(members["PARENT_KEY"]) == ["uuid:v1-0001", "uuid:v1-0001", "uuid:v2-0001"]
    assert members_sav.column_names_to_labels["member_name"] == "اسم الفرد"


def test_a_number_question_with_a_non_number_answer_keeps_every_answer_as_text(tmp_path):
    layout = table_layout(schema_of(SIMPLE_FORM))
    rows = [
        submission_rows(layout, f"<data><children>{value}</children></data>".encode(), meta(f"uuid:{index}"))
        for index, value in enumerate(["3", "", "unknown", "12"])
    ]

    frame, sav = read_sav(export_bytes("sav", layout, rows, ExportOptions(language=EN)), tmp_path)

    assert list(frame["children"]) == ["3", "", "unknown", "12"]
    assert sav.readstat_variable_types["children"] == "string"


def test_spss_names_are_safe_and_unique_ignoring_case():
    long_name = "household-" + "x" * 80

    names = spss_names(["household-size", "1st", "_x", "BY", "ሰላም", "a/b", "A/B", "a_b", long_name, long_name, "ends."])

    assert names == [
        "household_size", "v1st", "v_x", "vBY", "v___", "a_b", "A_B_2", "a_b_3",
        ("household_" + "x" * 80)[:64], ("household_" + "x" * 80)[:62] + "_2", "ends",
    ]  # fmt: skip
    assert all(len(name.encode()) <= 64 and name[0].isascii() and name[0].isalpha() for name in names)
    assert len({name.lower() for name in names}) == len(names)
