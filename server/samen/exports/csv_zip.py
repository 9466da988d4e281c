"""Central's submissions.csv.zip: `<formId>.csv`, one `<formId>-<repeat>.csv` per repeat, media/.

Streaming: the submission table goes straight into the archive as rows
arrive; each repeat table is spooled (memory up to 1 MB, then an unlinked
temporary file) until the submission table is complete, because a zip entry
must be written in one piece. Memory stays flat in the number of
submissions. Submissions that could not be decrypted or parsed are listed
with their reason in `problems.csv` (only present when there are any).
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from samen.exports.output import CHUNK_SIZE, ChunkBuffer, ExportOptions, safe_filename, zip_entry_chunks
from samen.rows import SubmissionRows, TableLayout

SPOOL_BYTES = 1 << 20
PROBLEMS_HEADER = ("KEY", "SubmissionDate", "Problem")


def iter_csv_zip(
    layout: TableLayout,
    submissions: Iterable[SubmissionRows],
    options: ExportOptions = ExportOptions(),
    media: Iterable[tuple[str, bytes]] = (),
) -> Iterator[bytes]:
    """The zip archive as byte chunks. `options` does not apply: Central's CSV shows names and values."""
    buffer = ChunkBuffer()
    root, *repeats = layout.tables
    spools = {table.path: _spool() for table in repeats}
    problems = _spool()
    try:
        repeat_writers = {path: _csv_writer(spool) for path, spool in spools.items()}
        for table in repeats:
            repeat_writers[table.path].writerow(column.name for column in table.columns)
        problem_writer = _csv_writer(problems)
        problem_writer.writerow(PROBLEMS_HEADER)
        problem_count = 0
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            with archive.open(safe_filename(f"{layout.schema.form_id}.csv"), "w", force_zip64=True) as entry:
                text = io.TextIOWrapper(entry, encoding="utf-8", newline="")
                root_writer = _csv_writer(text)
                root_writer.writerow(column.name for column in root.columns)
                for submission in submissions:
                    root_writer.writerow(submission.root)
                    for path, rows in submission.tables.items():
                        if path:
                            repeat_writers[path].writerows(rows)
                    if submission.problem is not None:
                        problem_writer.writerow((submission.instance_id, submission.root[0], submission.problem))
                        problem_count += 1
                    yield from buffer.pending()
                text.flush()
                text.detach()
            for table in repeats:
                name = safe_filename(f"{layout.schema.form_id}-{table.name}.csv")
                yield from zip_entry_chunks(archive, buffer, name, _spooled_chunks(spools[table.path]))
            if problem_count:
                yield from zip_entry_chunks(archive, buffer, "problems.csv", _spooled_chunks(problems))
            for name, data in media:
                archive.writestr(zipfile.ZipInfo(f"media/{safe_filename(name)}"), data, compress_type=zipfile.ZIP_STORED)
                yield from buffer.pending()
        yield from buffer.pending()
    finally:
        for spool in (*spools.values(), problems):
            spool.close()


def _csv_writer(out: IO[str]) -> Any:
    # Central writes "\n" line ends (csv-stringify's default); quoting only where needed, as Python's csv does.
    return csv.writer(out, lineterminator="\n")


def _spool() -> IO[str]:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+", encoding="utf-8", newline="")


def _spooled_chunks(spool: IO[str]) -> Iterator[bytes]:
    spool.seek(0)
    while text := spool.read(CHUNK_SIZE):
        yield text.encode("utf-8")
