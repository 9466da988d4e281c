"""Build a realistic filled instance from a compiled SAMEN XForm, for submissions in tests.

`fill_instance(xform_bytes, seed)` answers like a phone would: consent and the safety check "yes",
valid choice values, relevance honoured (fields that Collect would skip stay empty), a participant code
that `samen.participant_code` accepts, an entity block for forms that create or update entities, and a
`uuid:` instanceID. The same seed gives the same bytes.
"""

from __future__ import annotations

import datetime
import random
import re
import uuid
from typing import Any

from lxml import etree
from xpath_subset import XPathSubsetError, evaluate

from samen.participant_code import ALPHABET, BODY_LENGTH, check_character, format_code

_XF = "{http://www.w3.org/2002/xforms}"
_JR = "{http://openrosa.org/javarosa}"
_ALWAYS_YES = ("consent", "safe_to_talk")
_PREFERRED = {"target_group": "migrant_adult", "code_source": "list", "contact_made": "yes"}


def fill_instance(xform_bytes: bytes, seed: int) -> bytes:
    """A filled, serialised instance of the form's main instance."""
    rng = random.Random(seed)
    html = etree.fromstring(xform_bytes)
    model = next(html.iter(f"{_XF}model"))
    template = next(instance for instance in model.iter(f"{_XF}instance") if instance.get("id") is None)
    root = _without_namespace(next(element for element in template if isinstance(element.tag, str)))
    binds = {bind.get("nodeset"): bind for bind in model.iter(f"{_XF}bind")}
    choices, multiple = _choices(html, model)
    code = _phone_code(rng)
    values: dict[str, str] = {}

    for element in root.iter():
        if len(element) or not isinstance(element.tag, str):
            continue
        path = _path(element)
        if "/meta/" in path:
            continue
        bind = binds.get(path)
        if not _relevant(path, binds, values):
            values[path] = ""
            continue
        values[path] = _answer(path, bind, choices.get(path), path in multiple, values, code, rng)
        element.text = values[path]

    meta = root.find("meta")
    instance_id = meta.find("instanceID")
    instance_id.text = f"uuid:{_uuid(rng)}"
    entity = meta.find("entity")
    if entity is not None:
        _fill_entity(entity, root, values, code, rng)
    return etree.tostring(root, xml_declaration=False, encoding="utf-8")


def _answer(path: str, bind: etree._Element | None, options: list[str] | None, multiple: bool,
            values: dict[str, str], code: str, rng: random.Random) -> str:
    name = path.rsplit("/", 1)[-1]
    data_type = (bind.get("type") if bind is not None else "") or "string"
    calculation = bind.get("calculate") if bind is not None else None
    if bind is not None and bind.get("readonly") == "true()" and calculation is None:
        return ""  # a note
    if name in ("participant_code", "participant_code_display", "pc_body", "pc_check"):
        return {"participant_code": code, "participant_code_display": format_code(code),
                "pc_body": code[:BODY_LENGTH], "pc_check": code[BODY_LENGTH:]}[name]
    if calculation is not None:
        return _calculated(calculation, values)
    if options is not None:
        return _choose(name, options, multiple, rng)
    if data_type == "int":
        limit = re.search(r"<=\s*(/[\w/]+)", bind.get("constraint") or "")
        ceiling = int(values.get(limit.group(1), "0") or 0) if limit else 25
        return str(rng.randint(0, ceiling))
    if data_type == "date":
        return (datetime.date.today() - datetime.timedelta(days=rng.randint(0, 30))).isoformat()
    if name == "code_typed":
        return format_code(code).lower()
    if name == "self_code":
        return "".join(rng.choice("ABCDEFGHJKLMNPRSTVWZ") for _ in range(2)) + f"{rng.randint(1, 12):02d}{rng.randint(0, 4)}"
    return rng.choice(["Meer tijd voor vragen.", "Graag vaker in het Arabisch.", "More breaks, please."])


def _choose(name: str, options: list[str], multiple: bool, rng: random.Random) -> str:
    if name.startswith(_ALWAYS_YES) and "yes" in options:
        return "yes"
    if _PREFERRED.get(name) in options:
        return _PREFERRED[name]
    if name == "participant":
        return options[0]
    ordinary = [option for option in options if option not in ("none", "pna")] or options
    if multiple:
        return " ".join(sorted(rng.sample(ordinary, k=min(2, len(ordinary)))))
    return rng.choice(ordinary)


def _calculated(calculation: str, values: dict[str, str]) -> str:
    try:
        result = evaluate(calculation, resolve=lambda path: values.get(path.strip(), ""))
    except XPathSubsetError:
        return ""  # lookups into secondary instances (e.g. the participant list) are left to the server
    if isinstance(result, bool):
        return "true" if result else "false"
    if isinstance(result, float):
        return str(int(result)) if result.is_integer() else str(result)
    return str(result)


def _relevant(path: str, binds: dict[str, etree._Element], values: dict[str, str]) -> bool:
    parts = path.split("/")
    for depth in range(3, len(parts) + 1):
        bind = binds.get("/".join(parts[:depth]))
        expression = bind.get("relevant") if bind is not None else None
        if expression:
            try:
                if not evaluate(expression, resolve=lambda p: values.get(p.strip(), "")):
                    return False
            except XPathSubsetError:
                continue
    return True


def _fill_entity(entity: etree._Element, root: etree._Element, values: dict[str, str], code: str,
                 rng: random.Random) -> None:
    if entity.get("create") is not None:
        entity.set("id", str(_uuid(rng)))
        label = entity.find("label")
        if label is not None:
            label.text = code
    else:
        entity.set("id", values.get(f"/{root.tag}/participant", ""))
        entity.set("baseVersion", "1")
        entity.set("trunkVersion", "1")
        entity.set("branchId", str(_uuid(rng)))


def _choices(html: etree._Element, model: etree._Element) -> tuple[dict[str, list[str]], set[str]]:
    """Allowed values per select field (a select from the entity list gets an entity id), and the multi-selects."""
    secondary = {instance.get("id"): instance for instance in model.iter(f"{_XF}instance") if instance.get("id")}
    multiple = {control.get("ref") for control in html.iter(f"{_XF}select")}
    found: dict[str, list[str]] = {}
    for control in html.iter(f"{_XF}select1", f"{_XF}select"):
        ref = control.get("ref")
        itemset = control.find(f"{_XF}itemset")
        if itemset is None:
            found[ref] = [value.text for value in control.iter(f"{_XF}value")]
            continue
        instance_id = re.match(r"instance\('([^']+)'\)", itemset.get("nodeset")).group(1)
        instance = secondary[instance_id]
        if instance.get("src"):
            found[ref] = [str(uuid.UUID(int=random.Random(ref).getrandbits(128), version=4))]
            continue
        excluded = set(re.findall(r"name\s*!=\s*'([^']+)'", itemset.get("nodeset")))
        found[ref] = [item.findtext(f"{_XF}name") for item in instance.iter(f"{_XF}item")
                      if item.findtext(f"{_XF}name") not in excluded]
    return found, multiple


def _without_namespace(element: etree._Element) -> etree._Element:
    """Collect submits the instance without the XForms default namespace."""
    copy = etree.Element(etree.QName(element).localname, dict(element.attrib))
    for item in element:
        if isinstance(item.tag, str):
            copy.append(_without_namespace(item))
    return copy


def _phone_code(rng: random.Random) -> str:
    body = "".join(rng.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_character(body)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _path(element: Any) -> str:
    names = [ancestor.tag for ancestor in reversed(list(element.iterancestors()))] + [element.tag]
    return "/" + "/".join(names)
