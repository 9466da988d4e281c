"""An Excel workbook: one sheet for the submissions and one per repeat, Central's columns.

xlsxwriter runs in constant_memory mode: each row is flushed to a per-sheet
scratch file as soon as the next row starts, so memory stays flat in the
number of submissions; the workbook is assembled from those files at the end
and then streamed. Headers are column names or labels in a chosen language;
select cells show values or choice labels (`ExportOptions`). Numbers are
written as numbers, everything else as text (never as a formula or link).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import xlsxwriter

from samen.exports.cells import choice_labels, header, is_numeric, labelled, number
from samen.exports.output import ExportOptions, file_chunks, scratch_directory
from samen.problems import NotImplementedProblem
from samen.rows import SubmissionRows, Table, TableLayout

MAX_ROWS = 1_048_576  # Excel's limit per sheet, header included
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def iter_xlsx(
    layout: TableLayout,
    submissions: Iterable[SubmissionRows],
    options: ExportOptions = ExportOptions(),
    media: Iterable[tuple[str, bytes]] = (),
) -> Iterator[bytes]:
    """The .xlsx file as byte chunks. Media are not included: a workbook has no place for them."""
    with scratch_directory() as scratch:
        path = scratch / "export.xlsx"
        workbook = xlsxwriter.Workbook(
            str(path), {"constant_memory": True, "tmpdir": str(scratch)}
        )
        try:
            sheets = [_Sheet(workbook, layout, table, options, name) for table, name in zip(layout.tables, sheet_names(layout))]
            by_path = {sheet.table.path: sheet for sheet in sheets}
            for submission in submissions:
                for table_path, rows in submission.tables.items():
                    for row in rows:
                        by_path[table_path].write(row)
        finally:
            workbook.close()
        yield from file_chunks(path)


def sheet_names(layout: TableLayout) -> list[str]:
    """Table names made valid sheet names: at most 31 characters, no []:*?/\\, unique ignoring case."""
    names: list[str] = []
    for table in layout.tables:
        base = _SHEET_FORBIDDEN.sub("_", table.name).strip("'")[:31] or "Sheet"
        name, number_suffix = base, 1
        while name.lower() in (taken.lower() for taken in names):
            number_suffix += 1
            suffix = f"~{number_suffix}"
            name = base[: 31 - len(suffix)] + suffix
        names.append(name)
    return names


class _Sheet:
    """One worksheet being filled row by row."""

    def __init__(self, workbook: xlsxwriter.Workbook, layout: TableLayout, table: Table, options: ExportOptions, name: str):
        self.table = table
        self.worksheet = workbook.add_worksheet(name)
        self.numeric = [is_numeric(column) for column in table.columns]
        self.labels = [choice_labels(layout, column, options.language) if options.labels else None for column in table.columns]
        bold = workbook.add_format({"bold": True})
        for index, column in enumerate(table.columns):
            self.worksheet.write_string(0, index, header(layout, column, options), bold)
        self.worksheet.freeze_panes(1, 0)
        self.next_row = 1

    def write(self, row: list) -> None:
        if self.next_row >= MAX_ROWS:
            raise NotImplementedProblem(
                f"The table {self.table.name} has more rows than an Excel sheet can hold; export as CSV or SPSS instead."
            )
        for index, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, int) or self.numeric[index]:
                as_number = number(value)
                if as_number is not None:
                    self.worksheet.write_number(self.next_row, index, as_number)
                    continue
            labels = self.labels[index]
            text = labelled(value, labels, self.table.columns[index].type) if labels is not None else str(value)
            self.worksheet.write_string(self.next_row, index, text)
        self.next_row += 1
