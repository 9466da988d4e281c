"""OData query options: reading them, `$select`, and cutting a stream of entities into a page.

Supported, as in ODK Central: `$top $skip $count $filter $select $expand=*
$wkt $skiptoken`, and `$orderby` on `Submissions` by `__id` or a
`__system` date. Any other system query option answers 501.1, so that a
client learns it was not applied instead of getting unfiltered data.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from samen.odata.entities import FormEntities, odata_name
from samen.odata.filters import Expression, Member, parse_filter
from samen.odata.metadata import SYSTEM_PROPERTIES
from samen.problems import MalformedRequestError, NotImplementedProblem
from samen.schema import Path

SUPPORTED = frozenset({"$top", "$skip", "$count", "$filter", "$select", "$expand", "$wkt", "$skiptoken",
                       "$orderby", "$format"})
ORDERABLE = {("__id",), ("__system", "submissionDate"), ("__system", "updatedAt")}


@dataclass(frozen=True)
class Ordering:
    member: Member
    descending: bool = False


@dataclass(frozen=True)
class ODataQuery:
    top: int | None = None
    skip: int = 0
    count: bool = False
    filter: Expression | None = None
    select: tuple[Member, ...] | None = None
    expand: bool = False
    wkt: bool = False
    after: int | None = None  # from $skiptoken: continue after this submission (received order)
    order: tuple[Ordering, ...] = field(default_factory=tuple)


def read_query(arguments: Mapping[str, str], *, repeat: bool) -> ODataQuery:
    """The query options of a request; raises 501.1 for what is not supported and 400 for bad values."""
    for name in arguments:
        if name.startswith("$") and name not in SUPPORTED:
            raise NotImplementedProblem(f"The OData option {name} is not supported.", option=name)
    expand = arguments.get("$expand")
    if expand not in (None, "*"):
        raise NotImplementedProblem("Only $expand=* is supported.", option="$expand")
    if arguments.get("$format", "json").lower() != "json":
        raise NotImplementedProblem("Only JSON is served ($format=json).", option="$format")
    order = _ordering(arguments.get("$orderby"), repeat)
    return ODataQuery(
        top=_whole_number(arguments, "$top"),
        skip=_whole_number(arguments, "$skip") or 0,
        count=_boolean(arguments, "$count"),
        filter=parse_filter(arguments["$filter"]) if arguments.get("$filter") else None,
        select=_selection(arguments.get("$select")),
        expand=expand == "*",
        wkt=_boolean(arguments, "$wkt"),
        after=_skiptoken(arguments.get("$skiptoken")),
        order=order,
    )


def skiptoken(submission_id: int) -> str:
    """An opaque continuation token: where the next page starts in received order."""
    return base64.urlsafe_b64encode(json.dumps({"after": submission_id}).encode()).decode().rstrip("=")


def known_properties(entities: FormEntities, repeat: Path) -> set[Member]:
    """Every path `$select` and `$filter` may name in this table."""
    known: set[Member] = {("__id",)}
    if repeat:
        known.add((entities.parent_property(repeat),))
    else:
        known.add(("__system",))
        known |= {("__system", name) for name, _type in SYSTEM_PROPERTIES}

    def visit(path: Path, prefix: Member) -> None:
        for item in entities.children.get(path, ()):
            member = (*prefix, odata_name(item.name))
            known.add(member)
            if item.kind == "group":
                visit(item.path, member)

    visit(repeat, ())
    return known


def check_properties(paths: Iterable[Member], known: set[Member], option: str) -> None:
    for path in paths:
        if path not in known:
            raise MalformedRequestError(f"{option}: there is no property '{'/'.join(path)}' in this table.",
                                        property="/".join(path))


def lookup(entity: Mapping[str, Any], path: Member) -> Any:
    """A property's value in an entity, None when absent."""
    value: Any = entity
    for step in path:
        if not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    return value


def selected(entity: Mapping[str, Any], paths: Iterable[Member]) -> dict[str, Any]:
    """Only the selected properties; a selected repeat keeps its navigation link or expanded rows."""
    result: dict[str, Any] = {}
    for path in paths:
        source: Any = entity
        target = result
        for step in path[:-1]:
            source = source.get(step) if isinstance(source, Mapping) else None
            target = target.setdefault(step, {})
        if not isinstance(source, Mapping):
            continue
        last = path[-1]
        if last in source:
            target[last] = source[last]
        link = f"{last}@odata.navigationLink"
        if link in source:
            target[link] = source[link]
    return result


@dataclass
class Page:
    """One page of entities, with the total when $count asked for it."""

    rows: list[dict[str, Any]]
    count: int | None
    more: bool  # the page size cut the page: entities the request asked for remain


def paged(entities: Iterator[dict[str, Any]], query: ODataQuery, page_size: int) -> Page:
    """Skip, take $top (at most `page_size`), and keep counting only when $count needs the total."""
    limit = min(query.top, page_size) if query.top is not None else page_size
    rows: list[dict[str, Any]] = []
    seen = 0
    more = False
    for entity in entities:
        seen += 1
        if seen <= query.skip:
            continue
        if len(rows) < limit:
            rows.append(entity)
            continue
        more = more or query.top is None or seen - query.skip <= query.top
        if not query.count:
            break
    return Page(rows, seen if query.count else None, more)


def _whole_number(arguments: Mapping[str, str], name: str) -> int | None:
    text = arguments.get(name)
    if text is None or text == "":
        return None
    if not text.isdigit():
        raise MalformedRequestError(f"{name} must be a whole number.", option=name)
    return int(text)


def _boolean(arguments: Mapping[str, str], name: str) -> bool:
    # pyodk sends Python's True/False: compare without case.
    return arguments.get(name, "false").lower() == "true"


def _selection(text: str | None) -> tuple[Member, ...] | None:
    if text is None or text.strip() in ("", "*"):
        return None
    return tuple(tuple(part.strip().split("/")) for part in text.split(",") if part.strip())


def _ordering(text: str | None, repeat: bool) -> tuple[Ordering, ...]:
    if not text:
        return ()
    if repeat:
        raise NotImplementedProblem("$orderby is supported on Submissions only, not on repeat tables.", option="$orderby")
    order = []
    for part in text.split(","):
        words = part.split()
        member = tuple(words[0].split("/")) if words else ()
        direction = words[1].lower() if len(words) > 1 else "asc"
        if member not in ORDERABLE or direction not in ("asc", "desc") or len(words) > 2:
            raise NotImplementedProblem(
                f"$orderby {part.strip()} is not supported: order by __id or __system/submissionDate or "
                "__system/updatedAt, asc or desc.", option="$orderby")
        order.append(Ordering(member, direction == "desc"))
    return tuple(order)


def _skiptoken(text: str | None) -> int | None:
    if not text:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return int(value["after"])
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise MalformedRequestError("$skiptoken is not one this server gave out.") from error
