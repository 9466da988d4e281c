"""submissions.csv.zip: Central's layout, streaming, problems.csv, media, and Briefcase's real submissions."""

from __future__ import annotations

import csv
import io
import os
import stat
import zipfile
from datetime import datetime, timezone

import pytest
from test_export_forms import BRIEFCASE, export_bytes, intake_schema, intake_submissions, meta

from samen.crypto.decrypt import submission_decryptor
from samen.crypto.envelope import parse_envelope
from samen.crypto.keys import load_private_key_pem
from samen.exports import WRITERS, ExportOptions, atomic_output, write_export
from samen.rows import RowOptions, submission_rows, table_layout
from samen.schema import parse_form_schema


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_zip_holds_the_submission_table_then_repeats_then_problems_then_media():
    layout = table_layout(intake_schema())

    files = read_zip(export_bytes("csv", layout, intake_submissions(layout), media=[("1714566000000.jpg", b"\xff\xd8jpeg")]))

    assert list(files) == ["intake.csv", "intake-members.csv", "intake-visits.csv", "problems.csv", "media/1714566000000.jpg"]
    assert files["media/1714566000000.jpg"] == b"\xff\xd8jpeg"


def test_submission_table_text_matches_centrals_csv():
    layout = table_layout(intake_schema())

    text = read_zip(export_bytes("csv", layout, intake_submissions(layout)))["intake.csv"].decode("utf-8")

    assert text.split("\n")[0] == (
        "SubmissionDate,name,household-size,household-income,household-consent,location-Latitude,location-Longitude,"
        "location-Altitude,location-Accuracy,route,photo,old_note,meta-instanceID,KEY,SubmitterID,SubmitterName,"
        "AttachmentsPresent,AttachmentsExpected,Status,ReviewState,DeviceID,Edits,FormVersion"
    )
    # "\n" line ends like Central; a value with a line break is quoted and keeps it.
    assert text.split("\n", 1)[1] == (
        "2024-05-01T12:30:15.250Z,Amanuel,3,,1,52.3676,4.9041,0,12.5,52.1 5.1 0 0;52.2 5.2 0 0,1714566000000.jpg,"
        '"ጽቡቕ\nsecond line",uuid:v1-0001,uuid:v1-0001,3,,0,0,,,,0,1\n'
        "2024-05-01T12:30:15.250Z,Hawa,1,1250.50,0,,,,,,,,uuid:v2-0001,uuid:v2-0001,,,0,0,,,,0,2\n"
        "2024-05-01T12:30:15.250Z,,,,,,,,,,,,,uuid:locked,,,0,0,not decrypted: wrong key,,,0,\n"
    )


def test_repeat_tables_end_with_parent_key_and_key_and_quote_what_needs_quoting():
    layout = table_layout(intake_schema(), RowOptions(split_select_multiples=True))

    files = read_zip(export_bytes("csv", layout, intake_submissions(layout)))

    assert csv_rows(files["intake-members.csv"]) == [
        ["member_name", "age", "needs", "needs/shelter", "needs/medical", "needs/legal", "PARENT_KEY", "KEY"],
        ["Selam", "34", "shelter medical", "1", "1", "0", "uuid:v1-0001", "uuid:v1-0001/household/members[1]"],
        ['سلام, "الصغيرة"', "7", "", "0", "0", "0", "uuid:v1-0001", "uuid:v1-0001/household/members[2]"],
        ["Hawa", "29", "legal", "0", "0", "1", "uuid:v2-0001", "uuid:v2-0001/household/members[1]"],
    ]
    assert b'"\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85, ""' in files["intake-members.csv"]  # RFC 4180 quoting
    assert csv_rows(files["intake-visits.csv"])[1][-2:] == [
        "uuid:v1-0001/household/members[1]",
        "uuid:v1-0001/household/members[1]/visits[1]",
    ]


def test_problems_csv_lists_what_could_not_be_read_and_is_absent_when_all_went_well():
    layout = table_layout(intake_schema())
    rows = intake_submissions(layout)
    rows.append(submission_rows(layout, b"<data><name>cut", meta("uuid:broken")))

    files = read_zip(export_bytes("csv", layout, rows))

    problems = csv_rows(files["problems.csv"])
    assert problems[0] == ["KEY", "SubmissionDate", "Problem"]
    assert [(row[0], row[2].split(":")[0]) for row in problems[1:]] == [("uuid:locked", "not decrypted"), ("uuid:broken", "not parsed")]
    assert len(csv_rows(files["intake.csv"])) == 1 + 4  # the export still has every submission
    assert "problems.csv" not in read_zip(export_bytes("csv", layout, rows[:2]))


def test_the_archive_streams_before_all_submissions_are_read():
    layout = table_layout(intake_schema())
    template = intake_submissions(layout)[0]
    consumed = []

    def many():
        for index in range(2000):
            consumed.append(index)
            yield template

    chunks = WRITERS["csv"].iterate(layout, many(), ExportOptions(), ())
    first = next(chunks)

    assert first.startswith(b"PK\x03\x04") and len(consumed) < 2000
    rest = b"".join(chunks)
    assert len(csv_rows(read_zip(first + rest)["intake.csv"])) == 2001


def test_media_names_cannot_leave_the_media_folder():
    layout = table_layout(intake_schema())

    files = read_zip(export_bytes("csv", layout, [], media=[("../../etc/passwd", b"x"), ("a\\b.jpg", b"y")]))

    assert [name for name in files if name.startswith("media/")] == ["media/....etcpasswd", "media/ab.jpg"]


def test_write_export_renames_into_place_only_when_complete(tmp_path):
    layout = table_layout(intake_schema())
    target = tmp_path / "intake.csv.zip"

    def failing():
        yield from intake_submissions(layout)
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_export("csv", target, layout, failing())
    assert list(tmp_path.iterdir()) == []  # no half-written file, no leftover temporary

    write_export("csv", target, layout, intake_submissions(layout))
    assert list(tmp_path.iterdir()) == [target]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600  # decrypted data: owner only
    assert "intake.csv" in read_zip(target.read_bytes())


def test_atomic_output_keeps_an_existing_file_when_interrupted(tmp_path):
    target = tmp_path / "report.csv"
    target.write_bytes(b"previous export")

    with pytest.raises(KeyboardInterrupt), atomic_output(target) as out:
        out.write(b"half")
        raise KeyboardInterrupt

    assert target.read_bytes() == b"previous export"
    assert list(tmp_path.iterdir()) == [target]


# Briefcase's exports of the same two real Collect submissions (`*.csv.expected`) against ours.
# Column mapping, Briefcase -> Central/SAMEN:
# - SubmissionDate: Briefcase prints the envelope's submissionDate in UTC as "Apr 18, 2018 8:15:09 AM";
#   Central writes ISO 8601 UTC with milliseconds. Compared to the second.
# - name, image1, image2, meta-instanceID, KEY: same names. Briefcase prefixes attachments with "media/";
#   Central writes the bare file name and puts the file in the zip's media/ folder.
# - isValidated (Briefcase's signature check) has no Central column: a submission whose signature fails
#   is still exported by both; here it is checked on the decryption result instead.
# - Central's SubmitterID ... FormVersion have no Briefcase counterpart.
@pytest.mark.parametrize("prefix", ["encrypted-form", "encrypted-form-media"])
def test_briefcase_submissions_export_the_values_briefcase_exported(prefix):
    envelope_xml = (BRIEFCASE / f"{prefix}-submission.xml").read_bytes()
    envelope = parse_envelope(envelope_xml)
    files = {name: (BRIEFCASE / f"{prefix}-{name}").read_bytes() for name in (*envelope.media_files, envelope.encrypted_xml_file)}
    decrypt = submission_decryptor(load_private_key_pem((BRIEFCASE / f"{prefix}-key.pem").read_bytes()))
    decrypted = decrypt(envelope, files)
    received = datetime.fromisoformat(envelope_xml.split(b'submissionDate="')[1].split(b'"')[0].decode())
    layout = table_layout(parse_form_schema((BRIEFCASE / f"{prefix}.xml").read_bytes()))

    rows = [submission_rows(layout, decrypted.xml, meta(envelope.instance_id, submission_date=received))]
    exported = read_zip(export_bytes("csv", layout, rows, media=decrypted.media.items()))

    header, *briefcase = csv_rows((BRIEFCASE / f"{prefix}.csv.expected").read_bytes())
    ours_header, ours = csv_rows(exported[f"{prefix}.csv"])
    ours_by_name = dict(zip(ours_header, ours))
    expected = dict(zip(header, briefcase[0]))
    assert decrypted.signature_valid is (expected.pop("isValidated") == "true")
    briefcase_date = datetime.strptime(expected.pop("SubmissionDate"), "%b %d, %Y %I:%M:%S %p").replace(tzinfo=timezone.utc)
    ours_date = datetime.fromisoformat(ours_by_name["SubmissionDate"].replace("Z", "+00:00"))
    assert ours_date.replace(microsecond=0) == briefcase_date
    assert {name: ours_by_name[name] for name in expected} == {
        name: value.removeprefix("media/") for name, value in expected.items()
    }
    for name in decrypted.media:
        assert exported[f"media/{name}"] == (BRIEFCASE / f"{prefix}-media" / name).read_bytes()
