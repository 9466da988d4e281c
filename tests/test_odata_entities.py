"""OData entities, $metadata and query options from a form and its instance XML (pure, no server)."""

from __future__ import annotations

import pytest
from lxml import etree

from helpers import xform
from samen.odata.entities import EntityOptions, FormEntities, field_value, odata_name
from samen.odata.metadata import edmx, service_document
from samen.odata.query import ODataQuery, known_properties, paged, read_query, selected
from samen.problems import MalformedRequestError, NotImplementedProblem
from samen.safexml import parse_xml
from samen.schema import parse_form_schema
from submission_seed import VISITS_FORM_MD, visit_instance

EDM = {"edm": "http://docs.oasis-open.org/odata/ns/edm"}


@pytest.fixture(scope="module")
def entities() -> FormEntities:
    return FormEntities(parse_form_schema(xform(VISITS_FORM_MD)))


@pytest.fixture(scope="module")
def instance():
    return parse_xml(visit_instance("1", "uuid:x", "Amira", visits=2))


def test_submission_entity_nests_groups_and_links_repeats(entities, instance):
    entity = entities.submission("uuid:x", instance, {"status": None})
    assert entity["__id"] == "uuid:x" and entity["__system"] == {"status": None}
    assert (entity["name"], entity["age"], entity["score"], entity["seen_on"]) == ("Amira", 30, 7.5, "2024-05-01")
    assert entity["household"] == {"size": 3, "members@odata.navigationLink": "Submissions('uuid:x')/household/members"}
    assert entity["visit@odata.navigationLink"] == "Submissions('uuid:x')/visit"
    assert entity["photo"] is None and entity["meta"] == {"instanceID": "uuid:x"}


def test_unreadable_submission_has_nulls_and_no_repeat_rows(entities):
    entity = entities.submission("uuid:locked", None, {"status": "key locked"})
    assert entity["name"] is None and entity["household"]["size"] is None
    assert list(entities.repeat_rows(("visit",), "uuid:locked", None)) == []


def test_expand_puts_repeat_rows_inline_with_the_same_ids_as_their_table(entities, instance):
    expanded = entities.submission("uuid:x", instance, {}, EntityOptions(expand=True))
    table = list(entities.repeat_rows(("visit",), "uuid:x", instance))
    assert [row["__id"] for row in expanded["visit"]] == [row["__id"] for row in table]
    assert [row["visit_date"] for row in table] == ["2024-05-01", "2024-05-02"]
    assert all(row["__Submissions-id"] == "uuid:x" for row in table)
    assert [row["member_name"] for row in expanded["household"]["members"]] == ["Selam", "Yonas"]


def test_repeat_row_ids_are_stable_and_distinct(entities, instance):
    first = [row["__id"] for row in entities.repeat_rows(("household", "members"), "uuid:x", instance)]
    again = [row["__id"] for row in entities.repeat_rows(("household", "members"), "uuid:x", parse_xml(
        visit_instance("1", "uuid:x", "Amira", visits=2)))]
    other = [row["__id"] for row in entities.repeat_rows(("household", "members"), "uuid:y", instance)]
    assert first == again and len(set(first)) == 2 and not set(first) & set(other)


def test_nested_repeats_name_their_parent_row():
    md = """
| survey |              |        |        |
|        | type         | name   | label  |
|        | begin_repeat | child  | Child  |
|        | text         | cname  | Name   |
|        | begin_repeat | toy    | Toy    |
|        | text         | tname  | Toy    |
|        | end_repeat   |        |        |
|        | end_repeat   |        |        |
"""
    nested = FormEntities(parse_form_schema(xform(md)))
    xml = parse_xml(b'<data id="data"><child><cname>A</cname><toy><tname>ball</tname></toy><toy><tname>kite</tname></toy>'
                    b'</child><child><cname>B</cname></child><meta><instanceID>uuid:n</instanceID></meta></data>')
    children = list(nested.repeat_rows(("child",), "uuid:n", xml))
    toys = list(nested.repeat_rows(("child", "toy"), "uuid:n", xml))
    assert [toy["__Submissions-child-id"] for toy in toys] == [children[0]["__id"]] * 2
    assert toys[0]["tname"] == "ball"
    assert children[0]["toy@odata.navigationLink"] == f"Submissions('uuid:n')/child('{children[0]['__id']}')/toy"


@pytest.mark.parametrize("field_type, text, wkt, expected", [
    ("geopoint", "52.09 5.12 3.5 4.8", False, {"type": "Point", "coordinates": [5.12, 52.09, 3.5], "properties": {"accuracy": 4.8}}),
    ("geopoint", "52.09 5.12", False, {"type": "Point", "coordinates": [5.12, 52.09]}),
    ("geopoint", "52.09 5.12 3.5 4.8", True, "POINT (5.12 52.09 3.5)"),
    ("geotrace", "52.1 5.1 0 0;52.2 5.2 0 0", False, {"type": "LineString", "coordinates": [[5.1, 52.1, 0.0], [5.2, 52.2, 0.0]]}),
    ("geotrace", "52.1 5.1 0 0;52.2 5.2 0 0", True, "LINESTRING (5.1 52.1 0, 5.2 52.2 0)"),
    ("geoshape", "1 2;3 4;1 2", True, "POLYGON ((2 1, 4 3, 2 1))"),
    ("geopoint", "not a point", False, None),
    ("int", "12", False, 12),
    ("int", "twelve", False, None),
    ("decimal", "1250.50", False, 1250.5),
    ("string", "  ", False, None),
    ("select", "a b", False, "a b"),
])
def test_field_values(field_type, text, wkt, expected):
    assert field_value(field_type, text, wkt) == expected


def test_names_become_odata_identifiers():
    assert (odata_name("first-name"), odata_name("a.b"), odata_name("9lives")) == ("first_name", "a_b", "_9lives")


def test_metadata_is_edmx_with_system_groups_and_repeats(entities):
    root = etree.fromstring(edmx(entities))
    assert root.get("Version") == "4.0"
    submissions = root.find(".//edm:EntityType[@Name='Submissions']", EDM)
    assert submissions.find("edm:Key/edm:PropertyRef", EDM).get("Name") == "__id"
    types = {p.get("Name"): p.get("Type") for p in submissions.findall("edm:Property", EDM)}
    assert types["__system"] == "org.opendatakit.submission.metadata"
    assert (types["age"], types["score"], types["seen_on"], types["location"]) == (
        "Edm.Int64", "Edm.Decimal", "Edm.Date", "Edm.GeographyPoint")
    assert types["household"] == "org.opendatakit.user.visits.Submissions.household"
    visit = root.find(".//edm:EntityType[@Name='Submissions.visit']", EDM)
    assert {p.get("Name") for p in visit.findall("edm:Property", EDM)} == {"__id", "visit_date", "place", "__Submissions-id"}
    sets = [s.get("Name") for s in root.findall(".//edm:EntitySet", EDM)]
    assert sets == ["Submissions", "Submissions.household.members", "Submissions.visit"]
    system = {p.get("Name") for p in root.findall(".//edm:ComplexType[@Name='metadata']/edm:Property", EDM)}
    assert {"submissionDate", "submitterName", "reviewState", "edits", "formVersion"} <= system


def test_service_document_lists_every_table(entities):
    document = service_document(entities, "https://x/v1/projects/1/forms/visits.svc/$metadata")
    assert [entry["url"] for entry in document["value"]] == ["Submissions", "Submissions.household.members", "Submissions.visit"]


def test_query_options_read_as_central_does():
    query = read_query({"$top": "5", "$skip": "2", "$count": "True", "$expand": "*", "$wkt": "true",
                        "$select": "__id,household/size", "$filter": "age gt 3"}, repeat=False)
    assert (query.top, query.skip, query.count, query.expand, query.wkt) == (5, 2, True, True, True)
    assert query.select == (("__id",), ("household", "size"))


@pytest.mark.parametrize("arguments, repeat", [
    ({"$apply": "groupby((age))"}, False),
    ({"$search": "x"}, False),
    ({"$expand": "visit"}, False),
    ({"$orderby": "age"}, False),
    ({"$orderby": "__id"}, True),
    ({"$format": "xml"}, False),
])
def test_unsupported_options_are_501(arguments, repeat):
    with pytest.raises(NotImplementedProblem):
        read_query(arguments, repeat=repeat)


@pytest.mark.parametrize("arguments", [{"$top": "-1"}, {"$skip": "x"}, {"$skiptoken": "garbage!"}])
def test_bad_values_are_400(arguments):
    with pytest.raises(MalformedRequestError):
        read_query(arguments, repeat=False)


def test_select_keeps_only_the_chosen_paths(entities, instance):
    entity = entities.submission("uuid:x", instance, {"status": None, "edits": 0})
    assert selected(entity, [("__id",), ("household", "size"), ("__system", "edits"), ("visit",)]) == {
        "__id": "uuid:x", "household": {"size": 3}, "__system": {"edits": 0},
        "visit@odata.navigationLink": "Submissions('uuid:x')/visit"}
    assert ("household", "members") in known_properties(entities, ())
    assert ("__Submissions-id",) in known_properties(entities, ("visit",))


@pytest.mark.parametrize("top, skip, count, page_size, rows, more, total", [
    (None, 0, False, 100, [0, 1, 2, 3, 4], False, None),
    (2, 0, True, 100, [0, 1], False, 5),  # $top itself is not cut: nothing more was asked for
    (2, 4, False, 100, [4], False, None),
    (10, 1, True, 3, [1, 2, 3], True, 5),  # the page size cuts a $top of 10
    (3, 1, True, 3, [1, 2, 3], False, 5),
    (3, 2, True, 3, [2, 3, 4], False, 5),
])
def test_paging(top, skip, count, page_size, rows, more, total):
    page = paged(iter([{"n": n} for n in range(5)]), ODataQuery(top=top, skip=skip, count=count), page_size)
    assert ([row["n"] for row in page.rows], page.more, page.count) == (rows, more, total)
