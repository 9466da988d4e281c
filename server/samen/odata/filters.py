"""OData `$filter`: a parser, a Python predicate, and SQL for the parts the database can answer.

The subset is what ODK Central supports and what Power BI, Excel and pyodk
send: comparisons (`eq ne gt ge lt le`), `and`, `or`, `not`, parentheses,
string / number / boolean / null / date / date-time literals and the date
functions `year() month() day() hour() minute() second()` plus `now()`.
Members are paths with `/` (`__system/submissionDate`, `household/size`,
`__id`). Anything else raises NotImplementedProblem (501.1), which is what
Central answers, or MalformedRequestError for text that is not a filter.

    expression = parse_filter("__system/submissionDate ge 2024-05-01 and age gt 17")
    matches(expression, lookup)          # lookup(("age",)) -> value in an entity
    filter_sql(expression, {("__system", "submissionDate"): Submission.created_at})  # None: needs rows
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import and_, extract, false, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from samen.problems import MalformedRequestError, NotImplementedProblem

Member = tuple[str, ...]

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
}
COMPARISONS = tuple(OPERATORS)
_MIRRORED = {"gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
DATE_PARTS = ("year", "month", "day", "hour", "minute", "second")

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
    | (?P<date>\d{4}-\d{2}-\d{2})
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<name>[A-Za-z_][\w]*(?:/[A-Za-z_][\w]*)*)
    | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Property:
    path: Member


@dataclass(frozen=True)
class Call:
    name: str
    arguments: tuple[Expression, ...]


@dataclass(frozen=True)
class Comparison:
    operator: str
    left: Expression
    right: Expression


@dataclass(frozen=True)
class Logical:
    operator: str  # "and" | "or"
    left: Expression
    right: Expression


@dataclass(frozen=True)
class Negation:
    operand: Expression


Expression = Literal | Property | Call | Comparison | Logical | Negation


def parse_filter(text: str) -> Expression:
    """The expression tree of a `$filter` value."""
    parser = _Parser(_tokens(text))
    expression = parser.disjunction()
    if parser.peek() is not None:
        raise MalformedRequestError(f"$filter: unexpected '{parser.peek()[1]}' after a complete expression.")
    return expression


def members(expression: Expression) -> set[Member]:
    """Every property path the expression reads."""
    if isinstance(expression, Property):
        return {expression.path}
    if isinstance(expression, Call):
        return set().union(*(members(argument) for argument in expression.arguments))
    if isinstance(expression, (Comparison, Logical)):
        return members(expression.left) | members(expression.right)
    if isinstance(expression, Negation):
        return members(expression.operand)
    return set()


def matches(expression: Expression, lookup: Callable[[Member], Any]) -> bool:
    """Whether an entity matches; `lookup(path)` gives a property's value (None when missing)."""
    return bool(_value(expression, lookup))


def filter_sql(expression: Expression, columns: Mapping[Member, ColumnElement]) -> ColumnElement | None:
    """The expression as a SQL condition, or None when it reads a property `columns` does not map."""
    if not members(expression) <= set(columns):
        return None
    return _sql(expression, columns)


# --- parsing -------------------------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise MalformedRequestError(f"$filter: cannot read '{text[position:position + 20]}'.")
        position = match.end()
        kind = match.lastgroup
        raw = match[kind]
        if kind == "string":
            tokens.append(("literal", raw[1:-1].replace("''", "'")))
        elif kind == "datetime":
            tokens.append(("literal", _parse_datetime(raw)))
        elif kind == "date":
            tokens.append(("literal", date.fromisoformat(raw)))
        elif kind == "number":
            tokens.append(("literal", float(raw) if any(c in raw for c in ".eE") else int(raw)))
        elif kind == "name" and raw in ("true", "false"):
            tokens.append(("literal", raw == "true"))
        elif kind == "name" and raw == "null":
            tokens.append(("literal", None))
        elif kind == "name" and raw in (*COMPARISONS, "and", "or", "not"):
            tokens.append(("keyword", raw))
        else:
            tokens.append((kind, raw))
    return tokens


def _parse_datetime(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(timezone.utc)


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise MalformedRequestError("$filter: the expression ends too early.")
        self.position += 1
        return token

    def accept(self, kind: str, value: Any) -> bool:
        if self.peek() == (kind, value):
            self.position += 1
            return True
        return False

    def disjunction(self) -> Expression:
        expression = self.conjunction()
        while self.accept("keyword", "or"):
            expression = Logical("or", expression, self.conjunction())
        return expression

    def conjunction(self) -> Expression:
        expression = self.negation()
        while self.accept("keyword", "and"):
            expression = Logical("and", expression, self.negation())
        return expression

    def negation(self) -> Expression:
        if self.accept("keyword", "not"):
            return Negation(self.negation())
        left = self.operand()
        token = self.peek()
        if token is not None and token[0] == "keyword" and token[1] in COMPARISONS:
            self.position += 1
            return Comparison(token[1], left, self.operand())
        if token is not None and token[0] == "name":
            raise NotImplementedProblem(f"$filter: the operator '{token[1]}' is not supported.")
        return left

    def operand(self) -> Expression:
        kind, value = self.take()
        if kind == "literal":
            return Literal(value)
        if (kind, value) == ("punct", "("):
            expression = self.disjunction()
            if not self.accept("punct", ")"):
                raise MalformedRequestError("$filter: a '(' is not closed.")
            return expression
        if kind == "name" and self.accept("punct", "("):
            return self.call(value)
        if kind == "name":
            return Property(tuple(value.split("/")))
        raise MalformedRequestError(f"$filter: unexpected '{value}'.")

    def call(self, name: str) -> Call:
        if name not in (*DATE_PARTS, "now"):
            raise NotImplementedProblem(f"$filter: the function {name}() is not supported.")
        arguments: list[Expression] = []
        if not self.accept("punct", ")"):
            arguments.append(self.disjunction())
            while self.accept("punct", ","):
                arguments.append(self.disjunction())
            if not self.accept("punct", ")"):
                raise MalformedRequestError(f"$filter: {name}( is not closed.")
        if len(arguments) != (0 if name == "now" else 1):
            raise MalformedRequestError(f"$filter: {name}() takes {'no' if name == 'now' else 'one'} argument.")
        return Call(name, tuple(arguments))


# --- evaluation over entities --------------------------------------------------------------------


def _value(expression: Expression, lookup: Callable[[Member], Any]) -> Any:
    if isinstance(expression, Literal):
        return expression.value
    if isinstance(expression, Property):
        return lookup(expression.path)
    if isinstance(expression, Call):
        if expression.name == "now":
            return datetime.now(timezone.utc)
        moment = _as_moment(_value(expression.arguments[0], lookup))
        return getattr(moment, expression.name) if moment is not None else None
    if isinstance(expression, Negation):
        return not _value(expression.operand, lookup)
    if isinstance(expression, Logical):
        left = bool(_value(expression.left, lookup))
        if expression.operator == "and":
            return left and bool(_value(expression.right, lookup))
        return left or bool(_value(expression.right, lookup))
    return _compare(expression.operator, _value(expression.left, lookup), _value(expression.right, lookup))


def _as_moment(value: Any) -> date | None:
    """A date or date-time from a literal or an entity's ISO text (submissions store dates as text)."""
    if isinstance(value, (date, datetime)):
        return value
    if isinstance(value, str):
        try:
            if "T" in value:
                return _parse_datetime(value)
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Bring an entity's text to the other side's type: dates and numbers arrive as text in XML."""
    return _coerce(left, right), _coerce(right, left)


def _coerce(value: Any, other: Any) -> Any:
    if not isinstance(value, str) or isinstance(other, (str, bool)) or other is None:
        return value
    if isinstance(other, date):
        moment = _as_moment(value)
        if isinstance(other, datetime):
            if isinstance(moment, datetime) or moment is None:
                return moment if moment is not None else value
            return datetime(moment.year, moment.month, moment.day, tzinfo=timezone.utc)
        return moment.date() if isinstance(moment, datetime) else (moment if moment is not None else value)
    if isinstance(other, (int, float)):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _compare(name: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        # OData: null equals only null, and orders before nothing.
        return {"eq": left is right, "ne": left is not right}.get(name, False)
    left, right = _comparable(left, right)
    try:
        return bool(OPERATORS[name](left, right))
    except TypeError:  # e.g. text against a number that is not one: they differ, neither is greater
        return name == "ne"


# --- SQL -----------------------------------------------------------------------------------------


def _sql(expression: Expression, columns: Mapping[Member, ColumnElement]) -> Any:
    if isinstance(expression, Literal):
        value = expression.value
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
        return value
    if isinstance(expression, Property):
        column = columns[expression.path]
        # ORM attributes (Submission.created_at) stand for a column; comparisons below need the column itself.
        return column.__clause_element__() if hasattr(column, "__clause_element__") else column
    if isinstance(expression, Call):
        if expression.name == "now":
            return datetime.now(timezone.utc)
        return extract(expression.name, _sql(expression.arguments[0], columns))
    if isinstance(expression, Negation):
        return not_(_condition(_sql(expression.operand, columns)))
    if isinstance(expression, Logical):
        combine = and_ if expression.operator == "and" else or_
        return combine(_condition(_sql(expression.left, columns)), _condition(_sql(expression.right, columns)))
    left, right = _sql(expression.left, columns), _sql(expression.right, columns)
    if not isinstance(left, ColumnElement) and not isinstance(right, ColumnElement):
        return true() if _compare(expression.operator, left, right) else false()
    if left is None or right is None:
        column = right if left is None else left
        return {"eq": column.is_(None), "ne": column.is_not(None)}.get(expression.operator, false())
    name = expression.operator
    if not isinstance(left, ColumnElement):
        left, right, name = right, left, _MIRRORED.get(name, name)
    condition = OPERATORS[name](left, right)
    # SQL compares NULL as unknown, which `not` keeps unknown; OData compares a missing value as
    # different from every value (so `ne` and `not eq` include it). Make both explicit.
    if name == "ne":
        return or_(condition, left.is_(None))
    return and_(condition, left.is_not(None))


def _condition(value: Any) -> ColumnElement:
    if isinstance(value, bool):
        return true() if value else false()
    return value
