"""Export writers: submissions.csv.zip (Central's layout), XLSX, SPSS .sav and JSON Lines.

Every writer is a generator with one signature,

    iterate(layout, submissions, options=ExportOptions(), media=()) -> Iterator[bytes]

consuming `rows.SubmissionRows` made by `rows.submission_rows(layout, ...)`
with the same `layout`, and yielding the file as byte chunks: hand the
iterator to an HTTP response as it is, or use `write_export` for a file on
disk (written under a temporary name and renamed when complete). `media` is
an iterable of (file name, bytes) that only the CSV zip includes (media/).

    layout = table_layout(merge_schemas(versions), RowOptions(group_paths=True))
    rows = (submission_rows(layout, xml_or_none, meta) for xml_or_none, meta in ...)
    write_export("xlsx", target, layout, rows, ExportOptions(language="Arabic (ar)", labels=True))

Formats: "csv" (streams), "jsonl" (streams), "xlsx" (flat memory, assembled
from scratch files at the end), "sav" (flat memory, two passes over sealed
scratch files: see sav.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from samen.exports.csv_zip import iter_csv_zip
from samen.exports.jsonl import iter_jsonl
from samen.exports.output import ExportOptions, atomic_output, safe_filename
from samen.exports.sav import iter_sav, sav_filename
from samen.exports.xlsx import iter_xlsx
from samen.rows import SubmissionRows, TableLayout

__all__ = ["WRITERS", "ExportOptions", "Writer", "atomic_output", "write_export"]

Iterate = Callable[[TableLayout, Iterable[SubmissionRows], ExportOptions, Iterable[tuple[str, bytes]]], Iterator[bytes]]


MEDIA_TYPES = {
    ".zip": "application/zip",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".sav": "application/x-spss-sav",
    ".jsonl": "application/jsonl",
}


@dataclass(frozen=True)
class Writer:
    """One export format: how to produce it, and what to call and label the download."""

    format: str
    iterate: Iterate
    filename: Callable[[TableLayout], str]

    def media_type(self, layout: TableLayout) -> str:
        """The Content-Type of the download, which for SPSS depends on whether the form has repeats."""
        return MEDIA_TYPES[Path(self.filename(layout)).suffix]


def _named(extension: str) -> Callable[[TableLayout], str]:
    return lambda layout: safe_filename(f"{layout.schema.form_id}.{extension}")


WRITERS: dict[str, Writer] = {
    "csv": Writer("csv", iter_csv_zip, _named("csv.zip")),
    "xlsx": Writer("xlsx", iter_xlsx, _named("xlsx")),
    "sav": Writer("sav", iter_sav, lambda layout: safe_filename(sav_filename(layout))),
    "jsonl": Writer("jsonl", iter_jsonl, _named("jsonl")),
}


def write_export(
    export_format: str,
    path: str | os.PathLike[str],
    layout: TableLayout,
    submissions: Iterable[SubmissionRows],
    options: ExportOptions = ExportOptions(),
    media: Iterable[tuple[str, bytes]] = (),
) -> Path:
    """Write an export file atomically: it appears under `path` only once complete. Returns the path."""
    writer = WRITERS[export_format]
    with atomic_output(path) as out:
        for chunk in writer.iterate(layout, submissions, options, media):
            out.write(chunk)
    return Path(path)
