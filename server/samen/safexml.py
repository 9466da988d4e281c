"""Parse untrusted XML without ever expanding a DTD or an entity.

Phones and API clients send XML; a DTD could read server files (XXE) or
explode in memory (billion laughs). Any document that declares a DTD is
refused before lxml builds a tree, and the parser itself neither loads DTDs,
resolves entities nor touches the network, so nothing is expanded or fetched.
"""

from __future__ import annotations

from lxml import etree

from samen.problems import InvalidXmlError

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=False
)


def parse_xml(data: bytes) -> etree._Element:
    """Parse bytes into an element tree, or raise InvalidXmlError with the reason."""
    # XML requires these keywords in upper case; in text content "<" is always escaped.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise InvalidXmlError("The XML declares a DTD or entities, which this server never processes.")
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as error:
        raise InvalidXmlError(f"The XML is not well formed: {error.msg}.", line=error.lineno) from error
    if root.getroottree().docinfo.internalDTD is not None:  # belt and braces: the byte check above should catch it
        raise InvalidXmlError("The XML declares a DTD or entities, which this server never processes.")
    return root


def local_name(element: etree._Element) -> str:
    """The tag without its namespace: envelopes differ in namespace between Collect and Enketo."""
    return etree.QName(element).localname


def child(element: etree._Element, name: str) -> etree._Element | None:
    """The first child with this local name, in any namespace."""
    for item in element:
        if isinstance(item.tag, str) and local_name(item) == name:
            return item
    return None


def children(element: etree._Element, name: str) -> list[etree._Element]:
    """Every child with this local name, in document order."""
    return [item for item in element if isinstance(item.tag, str) and local_name(item) == name]
