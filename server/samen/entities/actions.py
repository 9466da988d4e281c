"""What a submission asks of an entity list, read from its plaintext — no storage, no Flask.

Collect fills `meta/entity` from the form's entities sheet:
`<entity dataset="participants" create="1" update="0" id="…" baseVersion="2"><label>…</label></entity>`;
the values of fields with `save_to` become the entity's properties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from samen.safexml import child, parse_xml
from samen.xform import EntityDeclaration

# Central's rule for property names: an XML name that is not `name`/`label` and does not start with `__`.
_PROPERTY_NAME = re.compile(r"^(?!__)[A-Za-z_][A-Za-z0-9_.\-]*$")
RESERVED_PROPERTY_NAMES = frozenset({"name", "label"})


class EntityActionError(Exception):
    """A submission's entity block cannot be applied (no id, no label, unknown entity…); recorded in the audit log."""


@dataclass(frozen=True, repr=False)
class EntityAction:
    """A create and/or update of one entity. `repr` names no values: they are participant data."""

    dataset: str
    uuid: str
    create: bool
    update: bool
    label: str | None
    base_version: int | None
    branch_id: str | None
    data: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"EntityAction(dataset={self.dataset!r}, uuid={self.uuid!r}, create={self.create}, update={self.update})"


def is_valid_property_name(name: str) -> bool:
    return bool(_PROPERTY_NAME.match(name)) and name.lower() not in RESERVED_PROPERTY_NAMES


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true")


def _relative_path(nodeset: str) -> list[str]:
    """`/data/group/field` → ["group", "field"] (the root element's name is the form's, not the instance's)."""
    return [part for part in nodeset.strip().strip("/").split("/")[1:] if part]


def _find(root, path: list[str]):
    element = root
    for name in path:
        element = child(element, name)
        if element is None:
            return None
    return element


def entity_action(instance_xml: bytes, declaration: EntityDeclaration, allowed_properties: set[str]) -> EntityAction | None:
    """The entity change a submission carries, or None when it asks for none (e.g. create="0").

    Only `allowed_properties` are read: a property the list does not carry
    (one the form linter calls identifying) never leaves the submission.
    """
    root = parse_xml(instance_xml)
    meta = child(root, "meta")
    entity = child(meta, "entity") if meta is not None else None
    if entity is None:
        return None
    create, update = _truthy(entity.get("create")), _truthy(entity.get("update"))
    if not (create or update):
        return None
    uuid = (entity.get("id") or "").strip().lower().removeprefix("uuid:")
    if not uuid:
        raise EntityActionError("The submission's entity has no id.")
    label_element = child(entity, "label")
    label = label_element.text.strip() if label_element is not None and label_element.text else None
    base = (entity.get("baseVersion") or "").strip()
    if base and not base.isdigit():
        raise EntityActionError("The submission's entity baseVersion is not a number.")
    data: dict[str, str] = {}
    for name, nodeset in declaration.properties:
        if name not in allowed_properties:
            continue
        element = _find(root, _relative_path(nodeset))
        if element is not None:  # absent: leave the property as it is; empty: set it empty
            data[name] = "".join(element.itertext()).strip()
    return EntityAction(
        dataset=entity.get("dataset") or declaration.dataset, uuid=uuid, create=create, update=update,
        label=label, base_version=int(base) if base else None, branch_id=entity.get("branchId") or None, data=data,
    )


def conflicting_properties(changed_since_base: set[str], update_changes: dict[str, str],
                           base_values: dict[str, str]) -> list[str]:
    """Properties this update changes that someone else also changed after its base version."""
    return sorted(name for name, value in update_changes.items()
                  if name in changed_since_base and base_values.get(name) != value)
