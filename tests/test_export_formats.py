"""What every format shares: the registry, empty exports, and writing files atomically."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pyreadstat
import pytest
from test_export_forms import export_bytes, intake_schema, intake_submissions, schema_of

from samen.exports import WRITERS, write_export
from samen.rows import table_layout

ONE_QUESTION = """
| survey |
| | type | name | label |
| | text | note | Note |
| settings |
| | form_id |
| | one/question |
"""


def test_download_names_and_media_types():
    intake = table_layout(intake_schema())
    flat = table_layout(schema_of(ONE_QUESTION))

    assert {name: (writer.filename(intake), writer.media_type(intake)) for name, writer in WRITERS.items()} == {
        "csv": ("intake.csv.zip", "application/zip"),
        "xlsx": ("intake.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "sav": ("intake.sav.zip", "application/zip"),
        "jsonl": ("intake.jsonl", "application/jsonl"),
    }
    assert [writer.filename(flat) for writer in WRITERS.values()] == [
        "onequestion.csv.zip",  # a "/" in a form id never becomes a path
        "onequestion.xlsx",
        "onequestion.sav",
        "onequestion.jsonl",
    ]
    assert WRITERS["sav"].media_type(flat) == "application/x-spss-sav"


def test_an_export_without_submissions_is_a_valid_file_with_headers(tmp_path):
    layout = table_layout(intake_schema())

    with zipfile.ZipFile(io.BytesIO(export_bytes("csv", layout, []))) as archive:
        assert archive.read("intake-members.csv") == b"member_name,age,needs,PARENT_KEY,KEY\n"
    book = openpyxl.load_workbook(io.BytesIO(export_bytes("xlsx", layout, [])), read_only=True)
    assert [len(list(book[name].values)) for name in book.sheetnames] == [1, 1, 1]
    with zipfile.ZipFile(io.BytesIO(export_bytes("sav", layout, []))) as archive:
        (tmp_path / "intake.sav").write_bytes(archive.read("intake.sav"))
    frame, _ = pyreadstat.read_sav(str(tmp_path / "intake.sav"))
    assert len(frame) == 0 and "household_size" in frame.columns
    assert export_bytes("jsonl", layout, []) == b""


@pytest.mark.parametrize("export_format", sorted(WRITERS))
def test_every_format_writes_atomically(tmp_path, export_format):
    layout = table_layout(intake_schema())
    target = tmp_path / WRITERS[export_format].filename(layout)

    def interrupted():
        yield from intake_submissions(layout)
        raise ConnectionError("lost the database mid-export")

    with pytest.raises(ConnectionError):
        write_export(export_format, target, layout, interrupted())
    assert list(tmp_path.iterdir()) == []

    write_export(export_format, target, layout, intake_submissions(layout))
    assert list(tmp_path.iterdir()) == [target] and target.stat().st_size > 0
