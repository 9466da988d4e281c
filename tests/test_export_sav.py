"""The SPSS export read back with pyreadstat: safe names, variable and value labels, string widths."""

from __future__ import annotations

import io
import math
import tempfile
import zipfile

import pyreadstat
import pytest
from test_export_forms import AR, EN, TI, export_bytes, intake_schema, intake_submissions, meta, schema_of

from samen.crypto.scratch import ScratchDamagedError
from samen.exports import WRITERS, ExportOptions, spill
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


LONG_FORM = """
| survey |
| | type | name | label::English (en) |
| | text | story | Story |
| | select_one place | place | Place |
| | decimal | amount | Amount |
| | integer | count | Count |
| | geopoint | spot | Spot |
| | begin_repeat | visits | Visits |
| | text | visit_note | Visit note |
| | end_repeat | | |
| choices |
| | list_name | name | label::English (en) |
| | place | health_centre | Health centre |
| | place | community_hall | Community hall |
| | place | home | At home |
| settings |
| | form_id | default_language |
| | long | English (en) |
"""


def long_form_export(tmp_path, *answers: dict[str, str]):
    """The root table of LONG_FORM, one submission per dict of answers, read back; and its repeat table."""
    layout = table_layout(schema_of(LONG_FORM))
    rows = [
        submission_rows(
            layout, ("<data>" + "".join(f"<{name}>{value}</{name}>" for name, value in answer.items()) + "</data>").encode(),
            meta(f"uuid:{number}"),
        )
        for number, answer in enumerate(answers)
    ]
    with zipfile.ZipFile(io.BytesIO(export_bytes("sav", layout, rows, ExportOptions(language=EN)))) as archive:
        root, visits = archive.read("long.sav"), archive.read("long-visits.sav")
    return read_sav(root, tmp_path, "long.sav"), read_sav(visits, tmp_path, "long-visits.sav")


def test_a_string_beyond_255_bytes_is_stored_in_segments_and_read_back_whole(tmp_path):
    story = "ዛንታ ብትግርኛ። " * 24 + "سلام"  # 704 bytes of 3- and 2-byte characters; segments split characters
    assert len(story.encode("utf-8")) == 704

    ((frame, sav), _) = long_form_export(tmp_path, {"story": story}, {"story": "ቁሩብ"})

    assert list(frame["story"]) == [story, "ቁሩብ"]
    assert sav.variable_storage_width["story"] == 704
    assert sav.original_variable_types["story"] == "A704"


def test_text_beyond_the_spss_limit_is_cut_at_a_character_boundary(tmp_path):
    story = "ዛ" * 13_334  # 40,002 bytes: more than the 32,767 a string variable can hold

    ((frame, sav), _) = long_form_export(tmp_path, {"story": story})

    assert frame["story"][0] == "ዛ" * 10_922  # 32,766 bytes: the next character would not fit whole
    assert sav.variable_storage_width["story"] == 32_767


def test_a_select_with_values_longer_than_8_bytes_keeps_its_value_labels(tmp_path):
    ((frame, sav), _) = long_form_export(tmp_path, {"place": "home"}, {"place": "community_hall"}, {})

    assert list(frame["place"]) == ["home", "community_hall", ""]
    assert sav.variable_value_labels["place"] == {
        "health_centre": "Health centre", "community_hall": "Community hall", "home": "At home",
    }  # fmt: skip
    assert sav.variable_storage_width["place"] >= len("health_centre")  # every labelled value fits


def test_missing_numbers_read_as_nan_and_the_others_exactly(tmp_path):
    amounts = ["", "1.5", "-100", "152", "151", "-99", "0", "123456789.125"]

    ((frame, sav), _) = long_form_export(tmp_path, *({"amount": amount} for amount in amounts), {})

    assert math.isnan(frame["amount"][0]) and math.isnan(frame["amount"][len(amounts)])
    assert list(frame["amount"][1 : len(amounts)]) == [1.5, -100.0, 152.0, 151.0, -99.0, 0.0, 123456789.125]
    assert all(math.isnan(count) for count in frame["count"])
    assert sav.readstat_variable_types["amount"] == "double"
    assert sav.variable_measure["amount"] == "scale"


def test_coordinates_keep_eight_decimals(tmp_path):
    ((frame, sav), _) = long_form_export(tmp_path, {"spot": "52.12345678 -4.87654321 12.5 3.25"})

    assert (frame["spot_Latitude"][0], frame["spot_Longitude"][0]) == (52.12345678, -4.87654321)
    assert (frame["spot_Altitude"][0], frame["spot_Accuracy"][0]) == (12.5, 3.25)
    assert sav.original_variable_types["spot_Latitude"] == "F18.8"
    assert sav.original_variable_types["count"] == "F12.0"


def test_a_repeat_table_without_rows_is_still_a_readable_file(tmp_path):
    (_, (visits, visits_sav)) = long_form_export(tmp_path, {"story": "no visits"})

    assert len(visits) == 0
    assert list(visits.columns) == ["visit_note", "PARENT_KEY", "KEY"]
    assert visits_sav.column_names_to_labels["visit_note"] == "Visit note"


def test_many_columns_whose_names_clash_once_shortened(tmp_path):
    # 120 names that agree in their first 64 bytes (SPSS names) and so in their first 8 (the file's short names).
    names = [f"household_member_{'x' * 50}_{number}" for number in range(120)]
    survey = "\n".join(f"| | text | {name} | Question {number} |" for number, name in enumerate(names))
    form = f"| survey |\n| | type | name | label |\n{survey}\n| settings |\n| | form_id |\n| | wide |\n"
    layout = table_layout(schema_of(form))
    xml = "<data>" + "".join(f"<{name}>answer {number}</{name}>" for number, name in enumerate(names)) + "</data>"

    frame, sav = read_sav(export_bytes("sav", layout, [submission_rows(layout, xml.encode(), meta("uuid:w"))]), tmp_path)

    expected = spss_names(names)
    assert len(set(expected)) == 120 and len({name[:8] for name in expected}) == 1
    assert list(frame.columns[1:121]) == expected
    assert [frame[name][0] for name in expected] == [f"answer {number}" for number in range(120)]
    assert [sav.column_names_to_labels[name] for name in expected] == [f"Question {number}" for number in range(120)]


def test_the_scratch_files_never_hold_an_answer_in_plaintext(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where scratch_directory() makes its directory
    monkeypatch.setattr(spill, "BLOCK_BYTES", 512)  # blocks reach the disk while the rows are still coming
    layout = table_layout(schema_of(LONG_FORM))
    secret = "Mariam-7731 lives behind the mosque"
    snapshots = []

    def scratch_contents() -> bytes:
        files = [path for path in tmp_path.rglob("*") if path.is_file()]
        return b"".join(path.name.encode() + path.read_bytes() for path in files)

    def submissions():
        for number in range(200):
            if number == 100:
                snapshots.append(scratch_contents())
            xml = f"<data><story>{secret} {number}</story><visits><visit_note>{secret}</visit_note></visits></data>"
            yield submission_rows(layout, xml.encode(), meta(f"uuid:{number}"))

    chunks = iter(WRITERS["sav"].iterate(layout, submissions(), ExportOptions(), ()))
    output = [next(chunks)]  # paused in the second pass: every row is on disk, none in the export yet
    snapshots.append(scratch_contents())
    output += list(chunks)

    assert all(len(snapshot) > 10_000 for snapshot in snapshots)  # the scratch files were there to inspect
    assert all(secret.encode() not in snapshot and b"Mariam" not in snapshot for snapshot in snapshots)
    assert list(tmp_path.iterdir()) == []  # and are gone once the export ends
    with zipfile.ZipFile(io.BytesIO(b"".join(output))) as archive:
        frame, _ = read_sav(archive.read("long.sav"), tmp_path)
    assert frame["story"][199] == f"{secret} 199"


def test_spilled_rows_come_back_in_order_as_often_as_asked_and_a_changed_block_does_not_open(tmp_path, monkeypatch):
    monkeypatch.setattr(spill, "BLOCK_BYTES", 100)
    rows = [[f"ዛንታ {number}", number, None, ""] for number in range(50)]

    with spill.RowSpill(tmp_path / "rows") as spilled:
        for row in rows:
            spilled.append(row)
        assert list(spilled.rows()) == rows and list(spilled.rows()) == rows
        damaged = bytearray((tmp_path / "rows").read_bytes())
        damaged[-1] ^= 1
        (tmp_path / "rows").write_bytes(damaged)
        with pytest.raises(ScratchDamagedError):
            list(spilled.rows())
