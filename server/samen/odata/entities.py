"""OData entities from a submission's instance XML, shaped as ODK Central serves them.

Pure functions, no I/O. A submission is one `Submissions` entity: `__id`,
`__system`, then its fields in form order with groups as nested objects,
missing values as null and each repeat as a navigation link (or, with
`$expand=*`, the list of its rows). A repeat's table (`Submissions.visits`)
has one entity per repeat instance: `__id` (stable per instance, path and
position), its fields, and the parent's id (`__Submissions-id`,
`__Submissions-visits-id` for a repeat within a repeat).

Names are made OData identifiers the way Central does (`-` and `.` become
`_`), so Power BI reports written against Central keep working.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from samen.safexml import local_name
from samen.schema import Field, FormSchema, Path

ROOT_TABLE = "Submissions"
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class EntityOptions:
    expand: bool = False  # $expand=*: repeats inline instead of navigation links
    wkt: bool = False  # $wkt=true: geo values as Well-Known Text instead of GeoJSON


def odata_name(name: str) -> str:
    """An element name as an OData identifier: Central replaces what OData forbids with '_'."""
    cleaned = _NOT_IDENTIFIER.sub("_", name)
    return f"_{cleaned}" if cleaned[:1].isdigit() else cleaned


def table_name(repeat: Path) -> str:
    """`Submissions` for () and `Submissions.group.visits` for a repeat at group/visits."""
    return ".".join((ROOT_TABLE, *(odata_name(step) for step in repeat)))




class FormEntities:
    """Entities of one form's submissions; build once per request from the merged schema."""

    def __init__(self, schema: FormSchema) -> None:
        self.schema = schema
        self.fields: dict[Path, Field] = {item.path: item for item in schema.fields}
        self.children: dict[Path, list[Field]] = {}
        for item in schema.fields:
            self.children.setdefault(item.path[:-1], []).append(item)

    def repeat_paths(self) -> tuple[Path, ...]:
        return tuple(item.path for item in self.schema.fields if item.kind == "repeat")

    def parent_property(self, repeat: Path) -> str:
        """The property naming a repeat row's parent row: `__Submissions-id`, `__Submissions-visits-id`, …

        The parent is the enclosing repeat (or the submission), not a group in between.
        """
        return f"__{table_name(self.fields[repeat].repeat).replace('.', '-')}-id"

    def submission(self, instance_id: str, instance: etree._Element | None, system: Mapping[str, Any],
                   options: EntityOptions = EntityOptions()) -> dict[str, Any]:
        """The `Submissions` entity; `instance=None` (not readable) gives nulls and the system fields."""
        base = f"{ROOT_TABLE}('{instance_id}')"
        entity: dict[str, Any] = {"__id": instance_id, "__system": dict(system)}
        entity.update(self._object(instance, (), base, instance_id, options))
        return entity

    def repeat_rows(self, repeat: Path, instance_id: str, instance: etree._Element | None,
                    options: EntityOptions = EntityOptions()) -> Iterator[dict[str, Any]]:
        """The rows of one repeat table that belong to this submission, in document order."""
        if instance is None:
            return
        parent_property = self.parent_property(repeat)
        for element, key, parent_id, link in self._repeat_elements(instance, (), repeat, instance_id,
                                                                    instance_id, f"{ROOT_TABLE}('{instance_id}')"):
            row: dict[str, Any] = {"__id": repeat_row_id(key)}
            row.update(self._object(element, repeat, link, key, options))
            row[parent_property] = parent_id
            yield row

    def _repeat_elements(self, element: etree._Element, path: Path, target: Path, key: str, parent_id: str,
                         link: str) -> Iterator[tuple[etree._Element, str, str, str]]:
        """(element, key, parent row id, navigation base) for each instance of `target` below `element`.

        Keys follow Central's CSV (`uuid:…/household/members[2]`) so that a
        row's __id is the same in every request and in every export.
        """
        counts: dict[str, int] = {}
        for node in _elements(element):
            name = local_name(node)
            node_path = (*path, name)
            item = self.fields.get(node_path)
            if item is None or node_path != target[: len(node_path)] or item.kind == "field":
                continue
            if item.kind == "group":
                yield from self._repeat_elements(node, node_path, target, f"{key}/{name}", parent_id, f"{link}/{odata_name(name)}")
                continue
            counts[name] = counts.get(name, 0) + 1
            row_key = f"{key}/{name}[{counts[name]}]"
            row_link = f"{link}/{odata_name(name)}('{repeat_row_id(row_key)}')"
            if node_path == target:
                yield node, row_key, parent_id, row_link
            else:
                yield from self._repeat_elements(node, node_path, target, row_key, repeat_row_id(row_key), row_link)

    def _object(self, element: etree._Element | None, path: Path, link: str, key: str,
                options: EntityOptions) -> dict[str, Any]:
        present = _children_by_name(element) if element is not None else {}
        result: dict[str, Any] = {}
        for item in self.children.get(path, ()):
            name = odata_name(item.name)
            nodes = present.get(item.name, [])
            if item.kind == "group":
                node = nodes[0] if nodes else None
                result[name] = self._object(node, item.path, f"{link}/{name}", f"{key}/{item.name}", options)
            elif item.kind == "repeat":
                if options.expand:
                    result[name] = [
                        {"__id": repeat_row_id(row_key),
                         **self._object(node, item.path, f"{link}/{name}('{repeat_row_id(row_key)}')", row_key, options)}
                        for position, node in enumerate(nodes, start=1)
                        for row_key in (f"{key}/{item.name}[{position}]",)
                    ]
                else:
                    result[f"{name}@odata.navigationLink"] = f"{link}/{name}"
            else:
                text = nodes[0].text if nodes else None
                result[name] = field_value(item.type, text, options.wkt)
        return result


def repeat_row_id(key: str) -> str:
    """A repeat row's __id: a digest of its key, as Central's are (and no instance id in clear)."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def field_value(field_type: str, text: str | None, wkt: bool = False) -> Any:
    """A question's value as JSON: numbers for int/decimal, GeoJSON (or WKT) for geo types, else text."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    if field_type == "int":
        try:
            return int(text)
        except ValueError:
            return None
    if field_type == "decimal":
        try:
            return float(text)
        except ValueError:
            return None
    if field_type == "boolean":
        return text in ("true", "1")
    if field_type in ("geopoint", "geotrace", "geoshape"):
        return _geo(field_type, text, wkt)
    return text


def _geo(field_type: str, text: str, wkt: bool) -> Any:
    points = []
    for part in text.split(";"):
        numbers = part.split()
        if len(numbers) < 2:
            continue
        try:
            values = [float(number) for number in numbers]
        except ValueError:
            return None
        points.append(values)
    if not points:
        return None
    # ODK writes "lat lon alt accuracy"; GeoJSON and WKT want lon lat alt.
    coordinates = [[point[1], point[0], *point[2:3]] for point in points]
    if field_type == "geopoint":
        if wkt:
            return f"POINT ({_wkt_point(coordinates[0])})"
        value: dict[str, Any] = {"type": "Point", "coordinates": coordinates[0]}
        if len(points[0]) > 3:
            value["properties"] = {"accuracy": points[0][3]}
        return value
    if field_type == "geotrace":
        if wkt:
            return f"LINESTRING ({', '.join(_wkt_point(point) for point in coordinates)})"
        return {"type": "LineString", "coordinates": coordinates}
    if wkt:
        return f"POLYGON (({', '.join(_wkt_point(point) for point in coordinates)}))"
    return {"type": "Polygon", "coordinates": [coordinates]}


def _wkt_point(coordinates: list[float]) -> str:
    return " ".join(_number_text(value) for value in coordinates)


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _elements(element: etree._Element) -> Iterator[etree._Element]:
    return (node for node in element if isinstance(node.tag, str))


def _children_by_name(element: etree._Element) -> dict[str, list[etree._Element]]:
    grouped: dict[str, list[etree._Element]] = {}
    for node in _elements(element):
        grouped.setdefault(local_name(node), []).append(node)
    return grouped
