"""What the server needs to know about an XForm, read without touching storage.

Publishing, the form list and ingest need a handful of facts: the form id and
version Collect will submit with, whether the form carries a public key, which
media and CSV files it expects, and which entity lists it reads or writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from lxml import etree

from samen.problems import InvalidFormError
from samen.safexml import child, parse_xml

XFORMS = "http://www.w3.org/2002/xforms"
HTML = "http://www.w3.org/1999/xhtml"
ENTITIES = "http://www.opendatakit.org/xforms/entities"
ODK = "http://www.opendatakit.org/xforms"

# Collect downloads every jr:// reference it finds as a form attachment.
_MEDIA_REFERENCE = re.compile(r"jr://(images|audio|video|file|file-csv)/([^\s\"'<>)]+)")
_KIND_BY_SCHEME = {"images": "image", "audio": "audio", "video": "video", "file": "file", "file-csv": "file"}


T = TypeVar("T")


class Definition(Protocol):
    """A stored form version: its digest, and its XML (a deferred column, loaded only when read)."""

    sha256: str
    xml: bytes


def per_definition(compute: Callable[[bytes], T]) -> Callable[[Definition], T]:
    """Memoise a fact of a form definition by its SHA-256, reading the XML only the first time.

    Every submission needs facts of its form version; the XML of a seven-language
    form is over 100 KB, so it is neither loaded nor parsed again per request.
    """
    known: dict[str, T] = {}

    def lookup(definition: Definition) -> T:
        if definition.sha256 not in known:
            known[definition.sha256] = compute(definition.xml)
        return known[definition.sha256]

    return lookup


@dataclass(frozen=True)
class Attachment:
    name: str
    kind: str


@dataclass(frozen=True)
class EntityDeclaration:
    """A form's `meta/entity` block: what it does to which dataset."""

    dataset: str
    creates: bool
    updates: bool
    properties: tuple[tuple[str, str], ...]  # (property name, instance path it is saved from)


@dataclass(frozen=True)
class XFormFacts:
    form_id: str
    version: str
    title: str | None
    public_key: str | None
    has_instance_id: bool
    attachments: tuple[Attachment, ...] = field(default=())
    entity: EntityDeclaration | None = None

    @property
    def datasets_read(self) -> tuple[str, ...]:
        """Entity lists the form reads: a CSV attachment named after a dataset."""
        return tuple(a.name.removesuffix(".csv") for a in self.attachments if a.name.endswith(".csv"))


def _primary_instance(root: etree._Element) -> etree._Element:
    model = root.find(f"{{{HTML}}}head/{{{XFORMS}}}model")
    if model is None:
        raise InvalidFormError("This is not an XForm: there is no h:head/model.")
    for instance in model.findall(f"{{{XFORMS}}}instance"):
        if instance.get("id") is None:
            content = [c for c in instance if isinstance(c.tag, str)]
            if content:
                return content[0]
    raise InvalidFormError("The form has no primary instance.")


def read_xform(xml: bytes) -> XFormFacts:
    """Read the facts of an XForm, or raise InvalidFormError saying what is wrong."""
    root = parse_xml(xml)
    instance = _primary_instance(root)
    form_id = instance.get("id")
    if not form_id:
        raise InvalidFormError("The form's primary instance has no id attribute: Collect cannot submit it.")
    title_element = root.find(f"{{{HTML}}}head/{{{HTML}}}title")
    meta = child(instance, "meta")
    has_instance_id = meta is not None and child(meta, "instanceID") is not None
    model = root.find(f"{{{HTML}}}head/{{{XFORMS}}}model")
    submission = model.find(f"{{{XFORMS}}}submission")
    public_key = submission.get("base64RsaPublicKey") if submission is not None else None

    names: dict[str, Attachment] = {}
    for scheme, name in _MEDIA_REFERENCE.findall(xml.decode("utf-8")):
        names.setdefault(name, Attachment(name=name, kind=_KIND_BY_SCHEME[scheme]))
    return XFormFacts(
        form_id=form_id,
        version=instance.get("version") or "",
        title=title_element.text if title_element is not None else None,
        public_key=public_key or None,
        has_instance_id=has_instance_id,
        attachments=tuple(names.values()),
        entity=_entity_declaration(model, instance, meta),
    )


def _entity_declaration(model, instance, meta) -> EntityDeclaration | None:
    entity = child(meta, "entity") if meta is not None else None
    if entity is None or not entity.get("dataset"):
        return None
    properties = []
    for bind in model.findall(f"{{{XFORMS}}}bind"):
        saveto = bind.get(f"{{{ENTITIES}}}saveto")
        if saveto:
            properties.append((saveto, bind.get("nodeset", "")))
    return EntityDeclaration(
        dataset=entity.get("dataset"),
        creates=entity.get("create") is not None,
        updates=entity.get("update") is not None,
        properties=tuple(properties),
    )


def with_public_key(xml: bytes, public_key: str, version: str) -> bytes:
    """The same form, set to encrypt with this key and carrying a new version string.

    Central does the same when managed encryption is on: phones must see a new
    version, or they would keep submitting plaintext with the old definition.
    """
    root = parse_xml(xml)
    instance = _primary_instance(root)
    instance.set("version", version)
    model = root.find(f"{{{HTML}}}head/{{{XFORMS}}}model")
    submission = model.find(f"{{{XFORMS}}}submission")
    if submission is None:
        submission = etree.SubElement(model, f"{{{XFORMS}}}submission")
    submission.set("base64RsaPublicKey", public_key)
    submission.set("method", "post")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def with_version(xml: bytes, version: str) -> bytes:
    """The same form with a new version string (publishing a draft `?version=`)."""
    root = parse_xml(xml)
    _primary_instance(root).set("version", version)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
