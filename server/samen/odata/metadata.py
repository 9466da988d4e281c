"""The OData service document and EDMX 4.0 `$metadata` of a form, from its merged schema.

Layout follows ODK Central so that Power BI and Excel see the same model:
the complex type `org.opendatakit.submission.metadata` for `__system`, the
entity type `Submissions` keyed by `__id`, one complex type per group and
one entity type per repeat (`Submissions.visits`, with `__id` and its
parent's id), all in the namespace `org.opendatakit.user.<formId>`.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from samen.odata.entities import ROOT_TABLE, FormEntities, odata_name, table_name
from samen.schema import Path

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"
SYSTEM_NAMESPACE = "org.opendatakit.submission"

EDM_TYPES = {
    "int": "Edm.Int64",
    "decimal": "Edm.Decimal",
    "date": "Edm.Date",
    "dateTime": "Edm.DateTimeOffset",
    "boolean": "Edm.Boolean",
    "geopoint": "Edm.GeographyPoint",
    "geotrace": "Edm.GeographyLineString",
    "geoshape": "Edm.GeographyPolygon",
}
SYSTEM_PROPERTIES = (
    ("submissionDate", "Edm.DateTimeOffset"),
    ("updatedAt", "Edm.DateTimeOffset"),
    ("submitterId", "Edm.String"),
    ("submitterName", "Edm.String"),
    ("attachmentsPresent", "Edm.Int64"),
    ("attachmentsExpected", "Edm.Int64"),
    ("status", "Edm.String"),
    ("reviewState", "Edm.String"),
    ("deviceId", "Edm.String"),
    ("edits", "Edm.Int64"),
    ("formVersion", "Edm.String"),
)
_CAPABILITIES = "Org.OData.Capabilities.V1"


def service_document(entities: FormEntities, metadata_url: str) -> dict[str, Any]:
    """The service document: `Submissions` and one entity set per repeat."""
    names = [ROOT_TABLE, *(table_name(path) for path in entities.repeat_paths())]
    return {
        "@odata.context": metadata_url,
        "value": [{"name": name, "kind": "EntitySet", "url": name} for name in names],
    }


def edmx(entities: FormEntities) -> bytes:
    """The EDMX 4.0 document describing the form's entity sets."""
    namespace = f"org.opendatakit.user.{entities.schema.form_id}"
    root = etree.Element(f"{{{EDMX}}}Edmx", nsmap={"edmx": EDMX}, Version="4.0")
    services = etree.SubElement(root, f"{{{EDMX}}}DataServices")

    system = etree.SubElement(services, f"{{{EDM}}}Schema", nsmap={None: EDM}, Namespace=SYSTEM_NAMESPACE)
    metadata = etree.SubElement(system, f"{{{EDM}}}ComplexType", Name="metadata")
    for name, edm_type in SYSTEM_PROPERTIES:
        etree.SubElement(metadata, f"{{{EDM}}}Property", Name=name, Type=edm_type)

    user = etree.SubElement(services, f"{{{EDM}}}Schema", nsmap={None: EDM}, Namespace=namespace)
    submissions = _entity_type(user, ROOT_TABLE)
    etree.SubElement(submissions, f"{{{EDM}}}Property", Name="__system", Type=f"{SYSTEM_NAMESPACE}.metadata")
    _properties(entities, user, submissions, (), namespace)
    for path in entities.repeat_paths():
        name = table_name(path)
        entity_type = _entity_type(user, name)
        _properties(entities, user, entity_type, path, namespace)
        etree.SubElement(entity_type, f"{{{EDM}}}Property", Name=entities.parent_property(path), Type="Edm.String")

    container = etree.SubElement(user, f"{{{EDM}}}EntityContainer", Name=odata_name(entities.schema.form_id))
    for name in (ROOT_TABLE, *(table_name(path) for path in entities.repeat_paths())):
        entity_set = etree.SubElement(container, f"{{{EDM}}}EntitySet", Name=name, EntityType=f"{namespace}.{name}")
        _annotations(entity_set)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _entity_type(schema: etree._Element, name: str) -> etree._Element:
    entity_type = etree.SubElement(schema, f"{{{EDM}}}EntityType", Name=name)
    key = etree.SubElement(entity_type, f"{{{EDM}}}Key")
    etree.SubElement(key, f"{{{EDM}}}PropertyRef", Name="__id")
    etree.SubElement(entity_type, f"{{{EDM}}}Property", Name="__id", Type="Edm.String")
    return entity_type


def _properties(entities: FormEntities, schema: etree._Element, owner: etree._Element, path: Path,
                namespace: str) -> None:
    """The fields below `path` as properties of `owner`; groups become complex types, repeats navigation."""
    for item in entities.children.get(path, ()):
        name = odata_name(item.name)
        if item.kind == "group":
            complex_name = table_name(item.path)
            etree.SubElement(owner, f"{{{EDM}}}Property", Name=name, Type=f"{namespace}.{complex_name}")
            complex_type = etree.SubElement(schema, f"{{{EDM}}}ComplexType", Name=complex_name)
            _properties(entities, schema, complex_type, item.path, namespace)
        elif item.kind == "repeat":
            etree.SubElement(owner, f"{{{EDM}}}NavigationProperty", Name=name,
                             Type=f"Collection({namespace}.{table_name(item.path)})")
        else:
            etree.SubElement(owner, f"{{{EDM}}}Property", Name=name, Type=EDM_TYPES.get(item.type, "Edm.String"))


def _annotations(entity_set: etree._Element) -> None:
    """What Central declares, so clients do not try what the service refuses."""
    etree.SubElement(entity_set, f"{{{EDM}}}Annotation", Term=f"{_CAPABILITIES}.ConformanceLevel",
                     EnumMember=f"{_CAPABILITIES}.ConformanceLevelType/Minimal")
    etree.SubElement(entity_set, f"{{{EDM}}}Annotation", Term=f"{_CAPABILITIES}.BatchSupported", Bool="false")
    count = etree.SubElement(entity_set, f"{{{EDM}}}Annotation", Term=f"{_CAPABILITIES}.CountRestrictions")
    record = etree.SubElement(count, f"{{{EDM}}}Record")
    etree.SubElement(record, f"{{{EDM}}}PropertyValue", Property="Countable", Bool="true")
    functions = etree.SubElement(entity_set, f"{{{EDM}}}Annotation", Term=f"{_CAPABILITIES}.FilterFunctions")
    collection = etree.SubElement(functions, f"{{{EDM}}}Collection")
    for name in ("eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "year", "month", "day", "hour", "minute",
                 "second", "now"):
        etree.SubElement(collection, f"{{{EDM}}}String").text = name
