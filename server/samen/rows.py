"""Submissions as table rows, laid out the way ODK Central's CSV export lays them out.

Pure functions, no I/O:

- `table_layout(schema, options=RowOptions()) -> TableLayout`: the tables of an
  export, the submission table first and then one per repeat in document order,
  each with its columns (`Column`: wire name, type, labels, the field it shows).
- `submission_rows(layout, instance_xml, meta) -> SubmissionRows`: one
  submission's rows, one list of values per row aligned with the table's
  columns. `instance_xml=None` means the submission could not be decrypted:
  the root row then carries only metadata and `meta.status` says why. XML that
  does not parse gives the same kind of row, with the parser's reason.

Column names follow Central exactly (`SubmissionDate`, group paths joined with
`-`, geopoints split into `-Latitude/-Longitude/-Altitude/-Accuracy`,
`select/value` 0/1 columns, then `KEY`, `SubmitterID`, ... `FormVersion`;
repeat tables end with `PARENT_KEY`, `KEY`), so scripts written against
Central's submissions.csv.zip keep working. Values are the submission's text
(`str`), metadata counts are `int`, missing values are `None`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field as dataclass_field
from datetime import datetime, timezone

from lxml import etree

from samen.problems import InvalidXmlError
from samen.safexml import local_name, parse_xml
from samen.schema import NO_LANGUAGE, Choice, Field, FormSchema, Path

Value = str | int | None

GEOPOINT_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")
# (wire name, type, label) after the fields of the submission table, in Central's order.
ROOT_METADATA = (
    ("KEY", "string", "Key"),
    ("SubmitterID", "int", "Submitter ID"),
    ("SubmitterName", "string", "Submitter name"),
    ("AttachmentsPresent", "int", "Attachments present"),
    ("AttachmentsExpected", "int", "Attachments expected"),
    ("Status", "string", "Status"),
    ("ReviewState", "string", "Review state"),
    ("DeviceID", "string", "Device ID"),
    ("Edits", "int", "Edits"),
    ("FormVersion", "string", "Form version"),
)


@dataclass(frozen=True)
class SubmissionMeta:
    """What the server knows about a submission besides its XML."""

    instance_id: str
    submission_date: datetime  # naive datetimes are taken as UTC
    submitter_id: int | None = None
    submitter_name: str | None = None
    attachments_present: int = 0
    attachments_expected: int = 0
    status: str | None = None  # why the XML is missing, e.g. "not decrypted: wrong key"
    review_state: str | None = None
    device_id: str | None = None
    edits: int = 0
    form_version: str = ""


@dataclass(frozen=True)
class RowOptions:
    """Central's export options: groupPaths, splitSelectMultiples, deletedFields."""

    group_paths: bool = True
    split_select_multiples: bool = False
    removed_fields: bool = True  # columns for fields only older form versions have


@dataclass(frozen=True)
class Column:
    """One column: its wire name, value type, header labels and the field (and choice) it shows."""

    name: str
    type: str
    labels: Mapping[str, str]
    field: Field | None = None  # None for metadata columns
    choice: Choice | None = None  # set on the 0/1 columns of a split select_multiple


@dataclass(frozen=True)
class Table:
    """The submission table (`path=()`, named after the form id) or one repeat's table."""

    path: Path
    name: str  # the repeat's name, with Central's ~N suffix when two repeats share a name
    labels: Mapping[str, str]
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class _Slot:
    table: Path
    index: int
    choices: Mapping[str, int] | None = None  # split select_multiple: value -> offset of its 0/1 column


@dataclass(frozen=True)
class TableLayout:
    """The tables of one export; build with `table_layout`."""

    schema: FormSchema
    options: RowOptions
    tables: tuple[Table, ...]
    _fields: Mapping[Path, Field] = dataclass_field(repr=False, compare=False)
    _slots: Mapping[Path, _Slot] = dataclass_field(repr=False, compare=False)
    _blank: Mapping[Path, tuple[Value, ...]] = dataclass_field(repr=False, compare=False)


@dataclass
class SubmissionRows:
    """One submission's rows: `tables[()]` holds the one root row, `tables[repeat_path]` the repeat rows."""

    instance_id: str
    problem: str | None
    tables: dict[Path, list[list[Value]]]

    @property
    def root(self) -> list[Value]:
        return self.tables[()][0]


def table_layout(schema: FormSchema, options: RowOptions = RowOptions()) -> TableLayout:
    """The tables and columns of an export of this schema with these options."""
    fields = {item.path: item for item in schema.fields if options.removed_fields or not item.removed}
    repeats = [item for item in fields.values() if item.kind == "repeat"]
    columns: dict[Path, list[Column]] = {(): [Column("SubmissionDate", "dateTime", {NO_LANGUAGE: "Submission date"})]}
    columns.update({repeat.path: [] for repeat in repeats})
    slots: dict[Path, _Slot] = {}
    for item in fields.values():
        if item.kind != "field":
            continue
        table = columns[item.repeat]
        base = "-".join(item.path[len(item.repeat) :]) if options.group_paths else item.name
        slot_choices = None
        if item.type == "geopoint":
            parts = [Column(f"{base}-{part}", "decimal", _suffixed(item.labels, part.lower()), item) for part in GEOPOINT_PARTS]
        elif item.type == "select" and options.split_select_multiples:
            parts = [Column(base, item.type, item.labels, item)]
            parts += [Column(f"{base}/{choice.value}", "int", _combined(item.labels, choice.labels), item, choice) for choice in item.choices]
            slot_choices = {choice.value: offset for offset, choice in enumerate(item.choices, start=1)}
        else:
            parts = [Column(base, item.type, item.labels, item)]
        slots[item.path] = _Slot(item.repeat, len(table), slot_choices)
        table.extend(parts)
    columns[()] += [Column(name, kind, {NO_LANGUAGE: label}) for name, kind, label in ROOT_METADATA]
    for repeat in repeats:
        columns[repeat.path] += [
            Column("PARENT_KEY", "string", {NO_LANGUAGE: "Parent key"}),
            Column("KEY", "string", {NO_LANGUAGE: "Key"}),
        ]
    tables = (Table((), schema.form_id, {NO_LANGUAGE: schema.title}, tuple(columns[()])),) + tuple(
        Table(repeat.path, name, repeat.labels, tuple(columns[repeat.path]))
        for repeat, name in zip(repeats, _repeat_table_names(repeats))
    )
    blank = {table.path: tuple(0 if column.choice is not None else None for column in table.columns) for table in tables}
    return TableLayout(schema, options, tables, fields, slots, blank)


def submission_rows(layout: TableLayout, instance_xml: bytes | None, meta: SubmissionMeta) -> SubmissionRows:
    """One submission as rows of the layout's tables; never raises for a bad submission."""
    tables: dict[Path, list[list[Value]]] = {table.path: [] for table in layout.tables}
    root_table = layout.tables[0]
    problem: str | None = None
    root: list[Value] = [None] * len(root_table.columns)  # Central leaves even 0/1 columns empty here
    if instance_xml is None:
        problem = meta.status or "not decrypted"
    else:
        try:
            instance = parse_xml(instance_xml)
        except InvalidXmlError as error:
            problem = f"not parsed: {error.message}"
        else:
            root = list(layout._blank[()])
            _fill(layout, instance, (), root, meta.instance_id, meta.instance_id, {}, tables)
    _write_metadata(root, meta, problem)
    tables[()] = [root]
    return SubmissionRows(meta.instance_id, problem, tables)


def _fill(
    layout: TableLayout,
    element: etree._Element,
    path: Path,
    row: list[Value],
    row_key: str,
    path_key: str,
    counts: dict[Path, int],
    tables: dict[Path, list[list[Value]]],
) -> None:
    """Walk the instance below `element`, writing values into `row` and repeat rows into `tables`.

    Keys follow Central (and Briefcase before it): the instance id, then every
    group and repeat on the path, repeats with their 1-based position within
    their parent, e.g. ``uuid:…/household/members[2]``.
    """
    for node in element:
        if not isinstance(node.tag, str):
            continue
        name = local_name(node)
        node_path = (*path, name)
        item = layout._fields.get(node_path)
        if item is None:  # not in any version of the form: Central ignores it too
            continue
        if item.kind == "group":
            _fill(layout, node, node_path, row, row_key, f"{path_key}/{name}", counts, tables)
        elif item.kind == "repeat":
            counts[node_path] = counts.get(node_path, 0) + 1
            key = f"{path_key}/{name}[{counts[node_path]}]"
            repeat_row = list(layout._blank[node_path])
            repeat_row[-2:] = [row_key, key]
            tables[node_path].append(repeat_row)
            _fill(layout, node, node_path, repeat_row, key, key, {}, tables)
        elif node.text:
            _write_value(row, layout._slots[node_path], item, node.text)


def _write_value(row: list[Value], slot: _Slot, item: Field, text: str) -> None:
    if item.type == "geopoint":
        parts = text.split()
        row[slot.index : slot.index + 4] = (parts + [None] * 4)[:4]
        return
    row[slot.index] = text
    if slot.choices is not None:
        for value in text.split():
            if value in slot.choices:
                row[slot.index + slot.choices[value]] = 1


def _write_metadata(row: list[Value], meta: SubmissionMeta, problem: str | None) -> None:
    row[0] = _central_timestamp(meta.submission_date)
    row[-len(ROOT_METADATA) :] = [
        meta.instance_id,
        meta.submitter_id,
        meta.submitter_name,
        meta.attachments_present,
        meta.attachments_expected,
        problem if problem is not None else meta.status,
        meta.review_state,
        meta.device_id,
        meta.edits,
        meta.form_version,
    ]


def _central_timestamp(moment: datetime) -> str:
    """UTC with milliseconds, as JavaScript's toISOString writes it in Central's exports."""
    utc = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _repeat_table_names(repeats: list[Field]) -> list[str]:
    """Repeat names, numbered name~1, name~2 in document order where two repeats share a name (as Central)."""
    totals: dict[str, int] = {}
    for repeat in repeats:
        totals[repeat.name] = totals.get(repeat.name, 0) + 1
    seen: dict[str, int] = {}
    names = []
    for repeat in repeats:
        if totals[repeat.name] > 1:
            seen[repeat.name] = seen.get(repeat.name, 0) + 1
            names.append(f"{repeat.name}~{seen[repeat.name]}")
        else:
            names.append(repeat.name)
    return names


def _suffixed(labels: Mapping[str, str], suffix: str) -> dict[str, str]:
    return {language: f"{text} ({suffix})" for language, text in labels.items()}


def _combined(question: Mapping[str, str], choice: Mapping[str, str]) -> dict[str, str]:
    languages = list(question) + [language for language in choice if language not in question]
    return {
        language: f"{question.get(language) or question.get(NO_LANGUAGE, '')}: {choice.get(language) or choice.get(NO_LANGUAGE, '')}"
        for language in languages
    }
