"""The export pipeline against a real database (SQLite and PostgreSQL): stored submissions to files."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyreadstat
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from samen.decrypting import KEY_LOCKED, KeyChain
from samen.export_service import SYSTEM_COLUMNS, ExportRequest, prepare_export, write_export_file
from samen.models import AuditEvent, Base
from samen.odata.filters import filter_sql, parse_filter
from submission_seed import FORM_ID, PASSPHRASE, VISITS_FORM_MD, publish_form, seed_form, submit, visit_instance

PLANTED = "Zeldzame-Plantnaam-7731"  # an answer that must never reach the database or the blob store


def export(services, seeded, request: ExportRequest, keys: KeyChain | None = None):
    prepared = prepare_export(services.database, services.blobs, seeded.project_id, FORM_ID, request,
                              keys if keys is not None else KeyChain(), actor_id=None)
    return b"".join(prepared.chunks()), prepared.summary


def read_zip_csv(data: bytes, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))


def keys_of(seeded) -> KeyChain:
    return KeyChain([seeded.private_key])


def test_plaintext_csv_zip_carries_rows_repeats_media_and_central_metadata(services):
    seeded = seed_form(services, encrypted=False)
    submit(services, seeded, "uuid:a", "Amira", media={"photo-1.jpg": b"\xff\xd8jpeg"})
    submit(services, seeded, "uuid:b", "Yonas", visits=1)
    data, summary = export(services, seeded, ExportRequest("csv", with_media=True))

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["media/photo-1.jpg", "visits-members.csv", "visits-visit.csv", "visits.csv"]
        assert archive.read("media/photo-1.jpg") == b"\xff\xd8jpeg"
    root = read_zip_csv(data, "visits.csv")
    assert [row["name"] for row in root] == ["Amira", "Yonas"]  # received order
    first = root[0]
    assert first["KEY"] == "uuid:a" and first["SubmitterName"] == "Phone Amira"
    assert (first["AttachmentsPresent"], first["AttachmentsExpected"]) == ("1", "1")
    assert (first["Edits"], first["FormVersion"], first["Status"]) == ("0", "1", "")
    assert first["location-Latitude"] == "52.0907" and first["household-size"] == "3"
    visits = read_zip_csv(data, "visits-visit.csv")
    assert [row["PARENT_KEY"] for row in visits] == ["uuid:a", "uuid:a", "uuid:b"]
    assert visits[1]["KEY"] == "uuid:a/visit[2]"
    members = read_zip_csv(data, "visits-members.csv")
    assert members[0]["KEY"] == "uuid:a/household/members[1]"
    assert (summary.rows, summary.problems, summary.decrypted, summary.completed) == (2, 0, 0, True)


def test_merged_versions_keep_old_columns_and_edits_show_only_the_current_version(services):
    seeded = seed_form(services, encrypted=False)
    submit(services, seeded, "uuid:old", "Old layout")
    version_two = VISITS_FORM_MD.replace("| visits          | 1 ", "| visits          | 2 ").replace(
        "|          | decimal         | score      | Score        |\n",
        "|          | text            | remarks    | Remarks      |\n")
    publish_form(services, seeded.project_id, version_two, encrypt=False)
    new_xml = visit_instance("2", "uuid:new", "New layout").replace(b"<score>7.5</score>", b"<remarks>fine</remarks>")
    from samen.ingest import IncomingSubmission, ingest_with_retry

    ingest_with_retry(services.database, services.blobs, seeded.project_id,
                      lambda _session: seeded.actor, lambda: IncomingSubmission(new_xml))
    edited = visit_instance("1", "uuid:old-2", "Old layout, corrected", deprecated_id="uuid:old")
    ingest_with_retry(services.database, services.blobs, seeded.project_id,
                      lambda _session: seeded.actor, lambda: IncomingSubmission(edited))

    data, _summary = export(services, seeded, ExportRequest("csv"))
    rows = {row["KEY"]: row for row in read_zip_csv(data, "visits.csv")}
    assert set(rows) == {"uuid:old", "uuid:new"}
    assert rows["uuid:old"]["name"] == "Old layout, corrected"
    assert (rows["uuid:old"]["Edits"], rows["uuid:old"]["score"], rows["uuid:old"]["remarks"]) == ("1", "7.5", "")
    assert (rows["uuid:new"]["FormVersion"], rows["uuid:new"]["remarks"], rows["uuid:new"]["score"]) == ("2", "fine", "")

    without_removed, _ = export(services, seeded, ExportRequest("csv", removed_fields=False))
    assert "score" not in read_zip_csv(without_removed, "visits.csv")[0]


def test_encrypted_form_exports_decrypted_in_every_format(services):
    seeded = seed_form(services, encrypted=True)
    submit(services, seeded, "uuid:e1", PLANTED, age=41)
    submit(services, seeded, "uuid:e2", "Hawa", age=29, visits=1)

    data, summary = export(services, seeded, ExportRequest("csv"), keys_of(seeded))
    assert [row["name"] for row in read_zip_csv(data, "visits.csv")] == [PLANTED, "Hawa"]
    assert summary.decrypted == 2 and summary.problems == 0

    data, _ = export(services, seeded, ExportRequest("xlsx"), keys_of(seeded))
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    sheet = list(workbook["visits"].values)
    header = sheet[0]
    assert sheet[1][header.index("name")] == PLANTED and sheet[1][header.index("age")] == 41
    assert len(list(workbook["visit"].values)) == 1 + 3

    data, _ = export(services, seeded, ExportRequest("sav"), keys_of(seeded))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sav = archive.read("visits.sav")
    path = Path(services.settings.data_dir) / "check.sav"
    path.write_bytes(sav)
    frame, meta = pyreadstat.read_sav(str(path))
    assert list(frame["name"]) == [PLANTED, "Hawa"] and list(frame["age"]) == [41, 29]
    assert meta.column_names_to_labels["age"] == "Age"

    data, _ = export(services, seeded, ExportRequest("jsonl"), keys_of(seeded))
    lines = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert [line["submission"]["name"] for line in lines] == [PLANTED, "Hawa"]
    assert len(lines[0]["repeats"]["visit"]) == 2


def test_tampered_ciphertext_is_a_problem_row_and_the_export_completes(services):
    seeded = seed_form(services, encrypted=True)
    submit(services, seeded, "uuid:good-1", "Selam")
    submit(services, seeded, "uuid:bad", "Damaged", tamper=True)
    submit(services, seeded, "uuid:good-2", "Yonas")
    data, summary = export(services, seeded, ExportRequest("csv"), keys_of(seeded))

    rows = {row["KEY"]: row for row in read_zip_csv(data, "visits.csv")}
    assert rows["uuid:good-1"]["name"] == "Selam" and rows["uuid:good-2"]["name"] == "Yonas"
    assert rows["uuid:bad"]["name"] == "" and rows["uuid:bad"]["Status"].startswith("not decrypted")
    problems = read_zip_csv(data, "problems.csv")
    assert [(problem["KEY"], problem["Problem"]) for problem in problems] == [("uuid:bad", rows["uuid:bad"]["Status"])]
    assert (summary.rows, summary.problems, summary.decrypted, summary.completed) == (3, 1, 2, True)


def test_locked_key_exports_metadata_with_the_reason(services):
    seeded = seed_form(services, encrypted=True)
    submit(services, seeded, "uuid:locked", PLANTED)
    data, summary = export(services, seeded, ExportRequest("csv"))
    [row] = read_zip_csv(data, "visits.csv")
    assert (row["KEY"], row["name"], row["Status"]) == ("uuid:locked", "", KEY_LOCKED)
    assert PLANTED.encode() not in data
    assert summary.problems == 1 and summary.decrypted == 0


def test_dates_and_system_filters_choose_submissions(services):
    seeded = seed_form(services, encrypted=False)
    for name in ("one", "two", "three"):
        submit(services, seeded, f"uuid:{name}", name)
    tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
    later, _ = export(services, seeded, ExportRequest("jsonl", since=tomorrow))
    assert later == b""
    until_tomorrow, _ = export(services, seeded, ExportRequest("jsonl", until=tomorrow))
    assert len(until_tomorrow.splitlines()) == 3
    condition = filter_sql(parse_filter("__id eq 'uuid:two' or __id eq 'uuid:three'"), SYSTEM_COLUMNS)
    chosen, summary = export(services, seeded, ExportRequest("jsonl", condition=condition))
    assert [json.loads(line)["submission"]["name"] for line in chosen.splitlines()] == ["two", "three"]
    assert summary.rows == 2


def test_each_export_is_audited_once_with_the_decrypted_count(services):
    seeded = seed_form(services, encrypted=True)
    submit(services, seeded, "uuid:a1", "Amira")
    submit(services, seeded, "uuid:a2", "Hawa")
    export(services, seeded, ExportRequest("jsonl"), keys_of(seeded))
    with services.database.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ["submission.export", "submission.decrypt"])).order_by(AuditEvent.id)).all()
    assert [(event.action, event.details.get("count", event.details.get("rows"))) for event in events] == [
        ("submission.export", 2), ("submission.decrypt", 2)]
    assert events[0].details["completed"] is True and events[0].details["format"] == "jsonl"


def test_an_interrupted_export_leaves_no_file_behind(services, tmp_path):
    seeded = seed_form(services, encrypted=False)
    for number in range(3):
        submit(services, seeded, f"uuid:{number}", f"person {number}")
    prepared = prepare_export(services.database, services.blobs, seeded.project_id, FORM_ID, ExportRequest("csv"),
                              KeyChain(), actor_id=None)

    def stop_after_two(_count: int) -> None:
        if prepared.summary.rows == 2:
            raise KeyboardInterrupt

    out = tmp_path / "exports"
    with pytest.raises(KeyboardInterrupt):
        write_export_file(prepared, out, progress=stop_after_two)
    assert list(out.iterdir()) == []
    with services.database.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "submission.export")).one()
    assert event.details["completed"] is False


def test_written_file_appears_complete_under_its_name(services, tmp_path):
    seeded = seed_form(services, encrypted=False)
    submit(services, seeded, "uuid:w", "Written")
    prepared = prepare_export(services.database, services.blobs, seeded.project_id, FORM_ID, ExportRequest("xlsx"),
                              KeyChain(), actor_id=None)
    summary = write_export_file(prepared, tmp_path / "out", now=datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc))
    assert summary.path == tmp_path / "out" / "20240501T120000Z-visits.xlsx"
    assert [path.name for path in (tmp_path / "out").iterdir()] == [summary.path.name]
    assert load_workbook(summary.path)["visits"]["B2"].value == "Written"


def test_nothing_decrypted_reaches_the_database_or_the_blob_store(services, database_url, tmp_path):
    seeded = seed_form(services, encrypted=True)
    submit(services, seeded, "uuid:secret", PLANTED, media={"voice.m4a": f"audio {PLANTED}".encode()})
    prepared = prepare_export(services.database, services.blobs, seeded.project_id, FORM_ID,
                              ExportRequest("csv", with_media=True), keys_of(seeded), actor_id=None)
    summary = write_export_file(prepared, tmp_path / "exports")
    exported = summary.path.read_bytes()
    assert PLANTED.encode() in exported  # the planted answer really was decrypted

    secrets = (PLANTED, PASSPHRASE)  # neither an answer nor a custodian's passphrase may rest anywhere
    for blob in Path(services.settings.blob_dir).rglob("*"):
        if blob.is_file():
            assert not any(secret.encode() in blob.read_bytes() for secret in secrets), blob.name
    if database_url.startswith("sqlite"):
        database_file = Path(database_url.removeprefix("sqlite:///"))
        for path in database_file.parent.glob(database_file.name + "*"):  # the file, its WAL and shared memory
            assert not any(secret.encode() in path.read_bytes() for secret in secrets), path.name
    with services.database.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                assert not any(secret in repr(tuple(row)) for secret in secrets), table.name
