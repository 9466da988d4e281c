"""JSON Lines: one line per submission, for scripts and pipelines.

Each line is ``{"submission": {column: value}, "repeats": {table name:
[{column: value}, ...]}}`` with Central's column names and raw values (text,
integers for counts, null when missing); nested repeats are their own tables,
linked by KEY and PARENT_KEY as in the CSV export. Streams row by row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from samen.exports.output import ExportOptions
from samen.rows import SubmissionRows, TableLayout


def iter_jsonl(
    layout: TableLayout,
    submissions: Iterable[SubmissionRows],
    options: ExportOptions = ExportOptions(),
    media: Iterable[tuple[str, bytes]] = (),
) -> Iterator[bytes]:
    """UTF-8 JSON Lines as byte chunks, one per submission. Options and media do not apply."""
    root, *repeats = layout.tables
    root_names = [column.name for column in root.columns]
    repeat_names = {table.path: (table.name, [column.name for column in table.columns]) for table in repeats}
    for submission in submissions:
        record = {
            "submission": dict(zip(root_names, submission.root)),
            "repeats": {
                name: [dict(zip(columns, row)) for row in submission.tables[path]]
                for path, (name, columns) in repeat_names.items()
            },
        }
        yield (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
