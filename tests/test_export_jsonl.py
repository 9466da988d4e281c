"""JSON Lines: one line per submission, Central's column names, repeats alongside."""

from __future__ import annotations

import json

from test_export_forms import export_bytes, intake_schema, intake_submissions

from samen.exports import WRITERS, ExportOptions
from samen.rows import table_layout


def test_one_line_per_submission_with_its_repeat_rows():
    layout = table_layout(intake_schema())

    data = export_bytes("jsonl", layout, intake_submissions(layout))

    lines = data.decode("utf-8").splitlines()
    assert len(lines) == 3 and data.endswith(b"\n")
    first, second, locked = (json.loads(line) for line in lines)
    assert first["submission"]["name"] == "Amanuel"
    assert first["submission"]["old_note"] == "ጽቡቕ\nsecond line"
    assert (first["submission"]["SubmitterID"], first["submission"]["Edits"]) == (3, 0)
    assert [row["KEY"] for row in first["repeats"]["members"]] == [
        "uuid:v1-0001/household/members[1]",
        "uuid:v1-0001/household/members[2]",
    ]
    assert first["repeats"]["visits"][1] == {
        "visit_date": "2024-04-09",
        "visit_location-Latitude": None,
        "visit_location-Longitude": None,
        "visit_location-Altitude": None,
        "visit_location-Accuracy": None,
        "PARENT_KEY": "uuid:v1-0001/household/members[1]",
        "KEY": "uuid:v1-0001/household/members[1]/visits[2]",
    }
    assert second["repeats"] == {"members": second["repeats"]["members"], "visits": []}
    assert locked["submission"]["Status"] == "not decrypted: wrong key"
    assert "سلام".encode() in data  # UTF-8, not \\u escapes


def test_each_submission_is_its_own_chunk():
    layout = table_layout(intake_schema())

    chunks = list(WRITERS["jsonl"].iterate(layout, intake_submissions(layout), ExportOptions(), ()))

    assert len(chunks) == 3 and all(chunk.count(b"\n") == 1 for chunk in chunks)
