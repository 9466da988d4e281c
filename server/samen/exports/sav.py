"""SPSS .sav files: variable labels from question labels, value labels from choice labels.

One .sav per table; a form with repeats gives a zip of them (`<formId>.sav`,
`<formId>-<repeat>.sav`), linked by KEY and PARENT_KEY as in the CSV export.

Two passes, because a .sav declares every variable's type and width before
its first case. The first streams each table's rows into a sealed scratch
file (`spill.RowSpill`) and notes, per column, whether every answer is a
number and how many UTF-8 bytes the widest takes. The second writes the
dictionary from those facts and streams the cases back out of the scratch
file through `sav_format`, straight into the download or its zip entry: no
.sav is ever written to disk.

Memory profile: flat in the number of submissions. At any time the writer
holds one scratch block (about a megabyte), one output chunk and a few
numbers per column. bench/export.py (a 40-question form with one repeat,
two rows each) measured a peak of 83 MB RSS at both 10,000 and 100,000
submissions, 8 MB above the process before the export; CSV and XLSX stay
within 7 MB of it too. (Through pyreadstat, which wanted every row in one
DataFrame, the peak was 326 MB at 100,000.) Disk: the scratch files hold
each row once, about 0.8 KB per submission of that form (80 MB at 100,000),
sealed under a key that exists only in memory, and go when the export ends.

A numeric question with one answer that is not a number becomes a text
variable keeping every answer as given. Text longer than SPSS's limit of
32,767 bytes is cut there, at a character boundary.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

from samen.exports.cells import is_numeric
from samen.exports.output import ChunkBuffer, ExportOptions, safe_filename, scratch_directory, zip_entry_chunks
from samen.exports.sav_format import MAX_NAME_BYTES, MAX_STRING_WIDTH, RESERVED_NAMES, Variable, system_file_chunks
from samen.exports.spill import RowSpill
from samen.rows import Column, SubmissionRows, Table, TableLayout, Value

_NOT_NAME_CHARACTER = re.compile(r"[^A-Za-z0-9_.]")


def iter_sav(
    layout: TableLayout,
    submissions: Iterable[SubmissionRows],
    options: ExportOptions = ExportOptions(),
    media: Iterable[tuple[str, bytes]] = (),
) -> Iterator[bytes]:
    """The .sav file (or, with repeats, a zip of .sav files) as byte chunks. Media are not included."""
    # ExitStack inside scratch_directory: the scratch files are closed before their directory goes.
    with scratch_directory() as scratch, ExitStack() as stack:
        tables = [
            stack.enter_context(_SpilledTable(layout, table, scratch / f"table-{number}.rows"))
            for number, table in enumerate(layout.tables)
        ]
        by_path = {spilled.table.path: spilled for spilled in tables}
        for submission in submissions:
            for path, rows in submission.tables.items():
                spilled = by_path[path]
                for row in rows:
                    spilled.append(row)
        created = datetime.now()
        files = [(spilled.filename(), spilled.sav_chunks(options.language, created)) for spilled in tables]
        if len(files) == 1:
            yield from files[0][1]
        else:
            yield from _zipped(files)


def sav_filename(layout: TableLayout) -> str:
    """The download name: a bare .sav when the form has no repeats, else a zip of one .sav per table."""
    return f"{layout.schema.form_id}.sav" if len(layout.tables) == 1 else f"{layout.schema.form_id}.sav.zip"


def spss_names(names: Iterable[str]) -> list[str]:
    """SPSS-safe variable names: ASCII letters, digits, _ and ., starting with a letter,
    at most 64 bytes, not a keyword, unique ignoring case (a numeric suffix resolves clashes)."""
    result: list[str] = []
    taken: set[str] = set()
    for name in names:
        base = _NOT_NAME_CHARACTER.sub("_", name).rstrip(".")
        if not base or not base[0].isascii() or not base[0].isalpha() or base.upper() in RESERVED_NAMES:
            base = f"v{base}"
        base = base[:MAX_NAME_BYTES].rstrip(".")
        candidate, counter = base, 1
        while candidate.lower() in taken:
            counter += 1
            suffix = f"_{counter}"
            candidate = base[: MAX_NAME_BYTES - len(suffix)] + suffix
        taken.add(candidate.lower())
        result.append(candidate)
    return result


class _SpilledTable:
    """One table's rows in a sealed scratch file, and what the first pass learnt about each column."""

    def __init__(self, layout: TableLayout, table: Table, path: Path) -> None:
        self.layout = layout
        self.table = table
        self.spill = RowSpill(path)
        # Still numeric: every answer so far was a number (or empty). Widths: the longest answer as text, in bytes.
        self.numeric = [is_numeric(column) or _has_numeric_choices(column) for column in table.columns]
        self.widths = [0] * len(table.columns)

    def append(self, row: Sequence[Value]) -> None:
        self.spill.append(row)
        numeric, widths = self.numeric, self.widths
        for index, value in enumerate(row):
            if value is None:
                continue
            width = len(value.encode("utf-8")) if isinstance(value, str) else len(str(value))
            if width > widths[index]:
                widths[index] = width
            if numeric[index] and value != "" and _as_number(value) is None:
                numeric[index] = False  # one non-number in a numeric question: keep every answer, as text

    def filename(self) -> str:
        form_id = self.layout.schema.form_id
        return safe_filename(f"{form_id}.sav" if not self.table.path else f"{form_id}-{self.table.name}.sav")

    def sav_chunks(self, language: str | None, created: datetime) -> Iterator[bytes]:
        variables = self._variables(language)
        yield from system_file_chunks(
            variables, self._cases(variables), self.spill.row_count, file_label=self.layout.schema.title, created=created
        )

    def _cases(self, variables: list[Variable]) -> Iterator[list[Value | float]]:
        """The spilled rows with numbers as doubles. Text columns pass as they are, str or None: rows.py puts
        ints only in int columns, which start numeric and stay so, since an int is always a number."""
        numeric = [index for index, variable in enumerate(variables) if variable.numeric]
        for row in self.spill.rows():
            cells: list[Value | float] = list(row)
            for index in numeric:
                cells[index] = _as_number(row[index])
            yield cells

    def _variables(self, language: str | None) -> list[Variable]:
        text = self.layout.schema.text
        names = spss_names(column.name for column in self.table.columns)
        variables = []
        for name, column, numeric, width in zip(names, self.table.columns, self.numeric, self.widths):
            label = text(column.labels, language) or ""
            labels = _value_labels(self.layout, column, numeric, language)
            if numeric:
                whole = column.type == "int" or bool(labels)  # counts and choice codes
                variables.append(
                    Variable(
                        name,
                        label=label,
                        # F18.8, not SPSS's usual F8.2, so that coordinates are shown unrounded.
                        format_width=12 if whole else 18,
                        decimals=0 if whole else 8,
                        measure="nominal" if labels else "scale",
                        value_labels=labels,
                    )
                )
            else:
                # Wide enough for every answer and every labelled choice, so that each label finds its value.
                width = max([width, 1, *(len(str(value).encode("utf-8")) for value in labels)])
                variables.append(Variable(name, width=min(width, MAX_STRING_WIDTH), label=label, value_labels=labels))
        return variables

    def close(self) -> None:
        self.spill.close()

    def __enter__(self) -> _SpilledTable:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()


def _as_number(value: Value) -> float | None:
    """The number a cell holds as SPSS stores it (a double), or None: empty, not a number, or beyond a double.

    Accepts what `cells.number` accepts, straight to float: the whole numbers
    it would keep as int come out the same, and skipping its int() attempt
    halves the time of an export with many decimals.
    """
    if value is None:
        return None
    try:
        result = float(value)
    except (ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def _has_numeric_choices(column: Column) -> bool:
    """A select_one whose choice values are all numbers is stored as numbers, as SPSS users expect."""
    choices = column.field.choices if column.field is not None and column.type == "select1" else ()
    return bool(choices) and all(_as_number(choice.value) is not None for choice in choices)


def _value_labels(layout: TableLayout, column: Column, numeric: bool, language: str | None) -> dict[Any, str]:
    """A select_one's choice labels by value: keyed by number when its variable is numeric, else by the value."""
    if column.type != "select1" or column.field is None:
        return {}
    labelled = [(choice.value, layout.schema.text(choice.labels, language)) for choice in column.field.choices]
    return {(_as_number(value) if numeric else value): label for value, label in labelled if label}


def _zipped(files: list[tuple[str, Iterator[bytes]]]) -> Iterator[bytes]:
    buffer = ChunkBuffer()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, chunks in files:
            yield from zip_entry_chunks(archive, buffer, name, chunks)
    yield from buffer.pending()
