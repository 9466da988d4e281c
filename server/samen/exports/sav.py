"""SPSS .sav files: variable labels from question labels, value labels from choice labels.

One .sav per table; a form with repeats gives a zip of them (`<formId>.sav`,
`<formId>-<repeat>.sav`), linked by KEY and PARENT_KEY as in the CSV export.

Memory profile, honestly: pyreadstat writes a .sav only from a complete
pandas DataFrame and cannot append, so this writer holds every row of every
table until the end. It keeps them as compactly as it can while rows stream
in: a numeric column costs 8 bytes per row (array of doubles), a text column
8 bytes per row (a pointer) plus its strings, repeated values stored once.
At the end each table in turn becomes a DataFrame for pyreadstat (the lists
become arrays that point at the same strings; little is copied). Memory
therefore grows linearly with the number of submissions, mostly with distinct
free text: bench/export.py measured about 2 KB per submission for a
40-question form with one repeat (two rows each), i.e. a peak of 313 MB RSS
at 100,000 submissions, 207 MB above the process's 106 MB before the export
(CSV, XLSX and JSON Lines stay within 7 MB of it at any size). Use CSV or
XLSX when that matters.
"""

from __future__ import annotations

import re
import zipfile
from array import array
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from samen.exports.cells import is_numeric, number
from samen.exports.output import ChunkBuffer, ExportOptions, file_chunks, safe_filename, scratch_directory, zip_entry_chunks
from samen.rows import Column, SubmissionRows, Table, TableLayout, Value

MAX_NAME_BYTES = 64
MAX_VARIABLE_LABEL_BYTES = 256
MAX_VALUE_LABEL_BYTES = 120
SHARED_VALUES = 1024  # distinct values per column that are stored once
# SPSS keywords that cannot name a variable.
RESERVED_NAMES = frozenset({"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"})
_NOT_NAME_CHARACTER = re.compile(r"[^A-Za-z0-9_.]")


def iter_sav(
    layout: TableLayout,
    submissions: Iterable[SubmissionRows],
    options: ExportOptions = ExportOptions(),
    media: Iterable[tuple[str, bytes]] = (),
) -> Iterator[bytes]:
    """The .sav file (or, with repeats, a zip of .sav files) as byte chunks. Media are not included."""
    stores = {table.path: _TableStore(layout, table) for table in layout.tables}
    for submission in submissions:
        for path, rows in submission.tables.items():
            store = stores[path]
            for row in rows:
                store.append(row)
    with scratch_directory() as scratch:
        files = []
        for table in layout.tables:
            name = f"{layout.schema.form_id}.sav" if not table.path else f"{layout.schema.form_id}-{table.name}.sav"
            path = scratch / safe_filename(name)
            stores.pop(table.path).write(path, options.language)  # pop: free each table once written
            files.append(path)
        if len(files) == 1:
            yield from file_chunks(files[0])
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


def _truncate(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes, never cutting a character in half."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


class _ColumnStore:
    """One column's values, compact: doubles for numbers; for text, one shared str per repeated value."""

    def __init__(self, numeric: bool) -> None:
        self.numeric = numeric
        self.numbers = array("d")
        self.texts: list[str | None] = []
        # Repeated values (choices, dates, versions) share one str; free text fills the cache once and then
        # bypasses it, so a column of unique answers costs its strings and a pointer each, not a dict entry.
        self.shared: dict[str, str] = {}

    def append(self, value: Value) -> None:
        if self.numeric:
            as_number = number(value)
            if as_number is not None or value is None or value == "":
                self.numbers.append(float("nan") if as_number is None else float(as_number))
                return
            self._become_text()  # one non-number in a numeric question: keep it, as text
        if value is None or value == "":
            self.texts.append(None)
            return
        text = str(value)
        shared = self.shared.get(text)
        if shared is None and len(self.shared) < SHARED_VALUES:
            shared = self.shared[text] = text
        self.texts.append(shared or text)

    def _become_text(self) -> None:
        self.numeric = False
        for value in self.numbers:
            self.append(_number_text(value) if value == value else None)
        self.numbers = array("d")

    def values(self) -> np.ndarray:
        if self.numeric:
            return np.frombuffer(self.numbers, dtype=np.float64)
        values = np.array(self.texts, dtype=object)
        self.texts = []  # the array holds the strings now
        return values


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


class _TableStore:
    def __init__(self, layout: TableLayout, table: Table) -> None:
        self.layout = layout
        self.table = table
        self.names = spss_names(column.name for column in table.columns)
        self.columns = [_ColumnStore(is_numeric(column) or _has_numeric_choices(column)) for column in table.columns]

    def append(self, row: list[Value]) -> None:
        for store, value in zip(self.columns, row):
            store.append(value)

    def write(self, path: Path, language: str | None) -> None:
        frame = pd.DataFrame({name: store.values() for name, store in zip(self.names, self.columns)}, copy=False)
        text = self.layout.schema.text
        variable_labels = {
            name: _truncate(label, MAX_VARIABLE_LABEL_BYTES)
            for name, column in zip(self.names, self.table.columns)
            if (label := text(column.labels, language))
        }
        value_labels, measures, formats = {}, {}, {}
        for name, column, store in zip(self.names, self.table.columns, self.columns):
            labels = _value_labels(self.layout, column, store.numeric, language)
            if labels:
                value_labels[name] = labels
            measures[name] = "scale" if store.numeric and not labels else "nominal"
            if store.numeric:
                # pyreadstat's default F8.2 would show coordinates rounded to two decimals
                formats[name] = "F12.0" if column.type == "int" or labels else "F18.8"
        pyreadstat.write_sav(
            frame,
            str(path),
            file_label=_truncate(self.layout.schema.title, 64),
            column_labels=variable_labels,
            variable_value_labels=value_labels,
            variable_measure=measures,
            variable_format=formats,
        )


def _has_numeric_choices(column: Column) -> bool:
    """A select_one whose choice values are all numbers is stored as numbers, as SPSS users expect."""
    choices = column.field.choices if column.field is not None and column.type == "select1" else ()
    return bool(choices) and all(number(choice.value) is not None for choice in choices)


def _value_labels(layout: TableLayout, column: Column, numeric: bool, language: str | None) -> Mapping[object, str]:
    if column.type != "select1" or column.field is None:
        return {}
    labels = {}
    for choice in column.field.choices:
        label = layout.schema.text(choice.labels, language)
        if label:
            key = float(number(choice.value)) if numeric else choice.value
            labels[key] = _truncate(label, MAX_VALUE_LABEL_BYTES)
    return labels


def _zipped(files: list[Path]) -> Iterator[bytes]:
    buffer = ChunkBuffer()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            yield from zip_entry_chunks(archive, buffer, path.name, file_chunks(path))
    yield from buffer.pending()
