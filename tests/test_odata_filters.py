"""OData $filter: parsing, evaluation over entities, and the SQL the database answers."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, insert, select

from samen.odata.filters import (
    Comparison,
    Literal,
    Logical,
    Negation,
    Property,
    filter_sql,
    matches,
    members,
    parse_filter,
)
from samen.odata.query import lookup
from samen.problems import MalformedRequestError, NotImplementedProblem

ENTITY = {
    "__id": "uuid:1",
    "__system": {"submissionDate": "2024-05-01T12:30:15.250Z", "reviewState": None, "submitterId": "5"},
    "name": "O'Neill",
    "age": 34,
    "score": 7.5,
    "household": {"size": 3},
    "seen_on": "2024-04-30",
}


def check(text: str) -> bool:
    return matches(parse_filter(text), lambda path: lookup(ENTITY, path))


def test_precedence_not_over_and_over_or():
    assert parse_filter("a eq 1 or b eq 2 and not c eq 3") == Logical(
        "or",
        Comparison("eq", Property(("a",)), Literal(1)),
        Logical("and", Comparison("eq", Property(("b",)), Literal(2)),
                Negation(Comparison("eq", Property(("c",)), Literal(3)))),
    )


@pytest.mark.parametrize("text, expected", [
    ("age eq 34", True),
    ("age ne 34", False),
    ("age gt 33 and age lt 35", True),
    ("age ge 35 or score le 7.5", True),
    ("not (age eq 34)", False),
    ("name eq 'O''Neill'", True),
    ("household/size eq 3", True),
    ("__id eq 'uuid:1'", True),
    ("__system/reviewState eq null", True),
    ("__system/reviewState ne null", False),
    ("__system/submitterId eq '5'", True),
    ("__system/submissionDate gt 2024-05-01T12:00:00Z", True),
    ("__system/submissionDate lt 2024-05-01T14:00:00+02:00", False),  # 12:00 UTC
    ("__system/submissionDate ge 2024-05-01", True),
    ("seen_on lt 2024-05-01", True),
    ("year(__system/submissionDate) eq 2024 and month(seen_on) eq 4", True),
    ("day(__system/submissionDate) eq 2", False),
    ("missing eq null", True),
    ("missing gt 3", False),
    ("name gt 3", False),  # text that is not a number is neither greater nor smaller
])
def test_evaluation_over_an_entity(text, expected):
    assert check(text) is expected


def test_members_lists_every_property_read():
    assert members(parse_filter("year(__system/submissionDate) eq 2024 or not age gt 3")) == {
        ("__system", "submissionDate"), ("age",)}


@pytest.mark.parametrize("text", ["age eq", "(age eq 1", "age eq 1 1", "'open", "age eq 1 and", "year() eq 1"])
def test_malformed_filters_are_400(text):
    with pytest.raises(MalformedRequestError):
        parse_filter(text)


@pytest.mark.parametrize("text", ["contains(name, 'a')", "age add 1 eq 2", "name has 'x'"])
def test_unsupported_functions_and_operators_are_501(text):
    with pytest.raises(NotImplementedProblem) as raised:
        parse_filter(text)
    assert raised.value.code == 501.1


@pytest.fixture
def table():
    engine = create_engine("sqlite://")
    metadata = MetaData()
    rows = Table("rows", metadata, Column("id", Integer, primary_key=True), Column("created", DateTime),
                 Column("state", String, nullable=True))
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(rows), [
            {"id": 1, "created": datetime(2024, 4, 30, 23, 0), "state": None},
            {"id": 2, "created": datetime(2024, 5, 1, 8, 0), "state": "approved"},
            {"id": 3, "created": datetime(2025, 1, 1, 8, 0), "state": "rejected"},
        ])
    columns = {("__system", "submissionDate"): rows.c.created, ("__system", "reviewState"): rows.c.state}

    def ids(text: str) -> list[int]:
        condition = filter_sql(parse_filter(text), columns)
        with engine.connect() as connection:
            return list(connection.scalars(select(rows.c.id).where(condition).order_by(rows.c.id)))

    return ids


@pytest.mark.parametrize("text, expected", [
    ("__system/submissionDate ge 2024-05-01", [2, 3]),
    ("__system/submissionDate lt 2024-05-01T08:00:00Z", [1]),
    ("year(__system/submissionDate) eq 2025", [3]),
    ("__system/reviewState eq null", [1]),
    ("__system/reviewState ne 'approved'", [1, 3]),  # a missing state differs from 'approved', as in OData
    ("not (__system/reviewState eq 'rejected') and __system/submissionDate gt 2024-01-01", [1, 2]),
    ("2024-05-02 gt __system/submissionDate", [1, 2]),
])
def test_sql_gives_the_same_answer_as_odata(table, text, expected):
    assert table(text) == expected


def test_filters_on_answers_have_no_sql():
    assert filter_sql(parse_filter("age gt 3 and __system/reviewState eq null"),
                      {("__system", "reviewState"): Column("state", String)}) is None


def test_date_literals_are_dates():
    assert parse_filter("seen_on eq 2024-05-01").right == Literal(date(2024, 5, 1))
    assert parse_filter("x eq 2024-05-01T10:00:00+02:00").right == Literal(datetime(2024, 5, 1, 8, tzinfo=timezone.utc))
