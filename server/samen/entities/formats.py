"""Entity lists on the wire, apart from handlers: the CSV phones read, the integrity document, OData rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any
from xml.sax.saxutils import quoteattr

from samen.odata.entities import odata_name

# Collect reads these columns by name; __version feeds the follow-up form's baseVersion.
CSV_SYSTEM_COLUMNS = ("name", "label", "__version")


def entity_list_csv(properties: list[str], rows: Iterable[tuple[str, str, int, dict[str, Any]]]) -> bytes:
    """`name,label,__version,<properties…>`, one row per (uuid, label, version, data)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CSV_SYSTEM_COLUMNS, *properties])
    for uuid, label, version, data in rows:
        writer.writerow([uuid, label, version, *(data.get(name, "") for name in properties)])
    return buffer.getvalue().encode("utf-8")


def integrity_document(states: Iterable[tuple[str, bool]]) -> str:
    """The OpenRosa integrity document: which of the entities a phone holds were deleted on the server."""
    entities = "".join(f"<entity id={quoteattr(uuid)}><deleted>{'true' if deleted else 'false'}</deleted></entity>"
                       for uuid, deleted in states)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<data><entities>{entities}</entities></data>'


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def odata_entity(*, uuid: str, label: str, data: dict[str, Any], properties: list[str], created_at: datetime,
                 updated_at: datetime | None, creator_id: int | None, creator_name: str | None, version: int,
                 conflict: str | None) -> dict[str, Any]:
    """One row of `GET …/datasets/{name}.svc/Entities`, keyed as Central keys it."""
    row: dict[str, Any] = {
        "__id": uuid,
        "label": label,
        "__system": {
            "createdAt": _iso(created_at), "creatorId": str(creator_id) if creator_id is not None else None,
            "creatorName": creator_name, "updates": version - 1, "updatedAt": _iso(updated_at),
            "version": version, "conflict": conflict,
        },
    }
    for name in properties:
        row[odata_name(name)] = data.get(name)
    return row
