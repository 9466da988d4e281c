"""`samen export` in-process with click's runner, against the same database the app uses."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime, timezone

import pytest

from samen.crypto.keys import private_key_pem
from submission_seed import FORM_ID, PASSPHRASE, seed_form, submit


@pytest.fixture
def run(samen):
    return lambda *args, input=None: samen("export", *args, input=input)


def only_file(folder):
    [path] = list(folder.iterdir())
    return path


def test_plaintext_csv_goes_to_the_export_folder_with_a_summary(services, run, tmp_path):
    seeded = seed_form(services, encrypted=False)
    submit(services, seeded, "uuid:c1", "Amira")
    submit(services, seeded, "uuid:c2", "Yonas")
    result = run("--project", str(seeded.project_id), "--form", FORM_ID)
    assert result.exit_code == 0, result.output
    path = only_file(tmp_path / "exports")
    assert path.name.endswith("-visits.csv.zip")
    with zipfile.ZipFile(path) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("visits.csv").decode())))
    assert [row["name"] for row in rows] == ["Amira", "Yonas"]
    assert "Submissions" in result.output and "2" in result.output and path.name in result.output.replace("\n", "")
    assert "\x1b[" not in result.output  # no terminal: no progress bar, no colour codes


def test_encrypted_form_with_a_custodian_passphrase_on_stdin(services, run, tmp_path):
    seeded = seed_form(services, encrypted=True)
    submit(services, seeded, "uuid:e1", "Hawa", age=29)
    out = tmp_path / "elsewhere"
    result = run("--project", str(seeded.project_id), "--form", FORM_ID, "--format", "jsonl",
                 "--passphrase-stdin", "--out", str(out), input=PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    [line] = only_file(out).read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["submission"]["name"] == "Hawa"
    assert PASSPHRASE not in result.output


def test_encrypted_form_with_an_offline_pem_key(services, run, tmp_path):
    seeded = seed_form(services, encrypted=True)
    submit(services, seeded, "uuid:p1", "Selam")
    key_file = tmp_path / "private.pem"
    key_file.write_bytes(private_key_pem(seeded.private_key))
    result = run("--project", str(seeded.project_id), "--form", FORM_ID, "--format", "xlsx", "--key", str(key_file))
    assert result.exit_code == 0, result.output
    assert only_file(tmp_path / "exports").name.endswith("-visits.xlsx")


def test_encrypted_form_without_a_key_is_refused_before_writing(services, run, tmp_path):
    seeded = seed_form(services, encrypted=True)
    submit(services, seeded, "uuid:n1", "Nobody")
    result = run("--project", str(seeded.project_id), "--form", FORM_ID)
    assert result.exit_code == 2
    assert "--passphrase-stdin" in result.output
    assert not (tmp_path / "exports").exists()


def test_wrong_passphrase_is_a_clear_error(services, run, tmp_path):
    seeded = seed_form(services, encrypted=True)
    result = run("--project", str(seeded.project_id), "--form", FORM_ID, "--passphrase-stdin",
                 input="not the passphrase\n")
    assert result.exit_code == 1
    assert "passphrase is wrong" in result.output
    assert not (tmp_path / "exports").exists()


def test_problem_rows_are_counted_in_the_summary(services, run, tmp_path):
    seeded = seed_form(services, encrypted=True)
    submit(services, seeded, "uuid:ok", "Fine")
    submit(services, seeded, "uuid:broken", "Broken", tamper=True)
    result = run("--project", str(seeded.project_id), "--form", FORM_ID, "--passphrase-stdin", input=PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    assert "1 submission(s) could not be read" in result.output
    with zipfile.ZipFile(only_file(tmp_path / "exports")) as archive:
        assert "uuid:broken" in archive.read("problems.csv").decode()


def test_until_a_date_includes_that_whole_day(services, run, tmp_path):
    seeded = seed_form(services, encrypted=False)
    submit(services, seeded, "uuid:today", "Today")
    today = datetime.now(timezone.utc).date().isoformat()  # dates on the command line are UTC
    result = run("--project", str(seeded.project_id), "--form", FORM_ID, "--format", "jsonl", "--until", today,
                 "--since", today)
    assert result.exit_code == 0, result.output
    assert len(only_file(tmp_path / "exports").read_text().splitlines()) == 1


def test_unknown_form_is_an_error(services, run):
    seeded = seed_form(services, encrypted=False)
    result = run("--project", str(seeded.project_id), "--form", "nope")
    assert result.exit_code == 1
    assert "There is no form 'nope'" in result.output
