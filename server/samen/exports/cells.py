"""Cell values and headers for writers that show more than the raw text (XLSX, SPSS)."""

from __future__ import annotations

from collections.abc import Mapping

from samen.exports.output import ExportOptions
from samen.rows import Column, TableLayout, Value

NUMERIC_TYPES = frozenset({"int", "decimal"})
SELECT_TYPES = frozenset({"select1", "select", "rank"})
# Labels may contain spaces, so a select_multiple's labels cannot be space-separated like its values.
LABEL_SEPARATOR = "; "


def header(layout: TableLayout, column: Column, options: ExportOptions) -> str:
    """The column's wire name, or its label in the chosen language when labels were asked for."""
    if not options.labels:
        return column.name
    return layout.schema.text(column.labels, options.language) or column.name


def is_numeric(column: Column) -> bool:
    """Whether the column holds numbers: int/decimal questions, geopoint parts, counts, 0/1 choices."""
    return column.type in NUMERIC_TYPES


def number(value: Value) -> int | float | None:
    """The number a cell holds, or None when it is empty or not a number (then write it as text)."""
    if value is None or isinstance(value, int):
        return value
    try:
        return int(value)
    except ValueError:
        pass
    try:
        result = float(value)
    except ValueError:
        return None
    return result if result == result and result not in (float("inf"), float("-inf")) else None


def choice_labels(layout: TableLayout, column: Column, language: str | None) -> dict[str, str] | None:
    """value -> label for a select column's choices (compute once per column), None for other columns."""
    if column.type not in SELECT_TYPES or column.field is None:
        return None
    return {choice.value: layout.schema.text(choice.labels, language) or choice.value for choice in column.field.choices}


def labelled(value: str, labels: Mapping[str, str], column_type: str) -> str:
    """A select's value shown as its choice label(s); values without a known choice stay as they are."""
    if column_type == "select1":
        return labels.get(value, value)
    return LABEL_SEPARATOR.join(labels.get(item, item) for item in value.split())
