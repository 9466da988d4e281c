"""Evaluate the subset of ODK XPath that SAMEN's forms use, so tests can run the forms' own expressions.

Covers literals, absolute paths and `.`, the operators or/and/=/!=/</<=/>/>=/+/-/*/div/mod, and the
functions the sources call (substr, translate, string-length, substring-before, concat, int, random,
once, if, not, selected, count-selected, regex, today). Paths are resolved by a caller-supplied
function, so the same evaluator serves calculations, constraints and relevance.
"""

from __future__ import annotations

import datetime
import random as random_module
import re
from collections.abc import Callable
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<string>'[^']*'|\"[^\"]*\")|(?P<path>/[A-Za-z_][\w/.-]*)"
    r"|(?P<op>!=|<=|>=|[=<>+*(),-])|(?P<dot>\.)|(?P<name>[A-Za-z_][\w]*(?:-[A-Za-z_]\w*)*))"
)


class XPathSubsetError(Exception):
    """An expression uses syntax or a function outside the supported subset."""


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(expression.rstrip()):
        match = _TOKEN.match(expression, position)
        if not match:
            raise XPathSubsetError(f"Cannot read {expression[position:position + 20]!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _boolean(value: Any) -> bool:
    if isinstance(value, str):
        return value != ""
    if isinstance(value, float):
        return value != 0 and value == value
    return bool(value)


def _substr(text: Any, start: Any, end: Any = None) -> str:
    text = _string(text)
    stop = len(text) if end is None else int(_number(end))
    return text[int(_number(start)):stop]


def _translate(text: Any, source: Any, target: Any) -> str:
    source, target = _string(source), _string(target)
    table = {ord(char): (target[index] if index < len(target) else None) for index, char in reversed(list(enumerate(source)))}
    return _string(text).translate(table)


def _substring_before(text: Any, marker: Any) -> str:
    text, marker = _string(text), _string(marker)
    return text.split(marker, 1)[0] if marker and marker in text else ""


def _compare(operator: str, left: Any, right: Any) -> bool:
    if operator in ("=", "!="):
        if isinstance(left, float) or isinstance(right, float):
            equal = _number(left) == _number(right)
        else:
            equal = _string(left) == _string(right)
        return equal if operator == "=" else not equal
    left_number, right_number = _number(left), _number(right)
    return {"<": left_number < right_number, "<=": left_number <= right_number,
            ">": left_number > right_number, ">=": left_number >= right_number}[operator]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], resolve: Callable[[str], Any], context: Any,
                 functions: dict[str, Callable[..., Any]]) -> None:
        self.tokens, self.index = tokens, 0
        self.resolve, self.context, self.functions = resolve, context, functions

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, *values: str) -> bool:
        token = self.peek()
        return token is not None and token[0] in ("op", "name") and token[1] in values

    def expression(self) -> Any:
        value = self.conjunction()
        while self.at("or"):
            self.take()
            right = self.conjunction()
            value = _boolean(value) or _boolean(right)
        return value

    def conjunction(self) -> Any:
        value = self.comparison()
        while self.at("and"):
            self.take()
            right = self.comparison()
            value = _boolean(value) and _boolean(right)
        return value

    def comparison(self) -> Any:
        value = self.additive()
        while self.at("=", "!=", "<", "<=", ">", ">="):
            operator = self.take()[1]
            value = _compare(operator, value, self.additive())
        return value

    def additive(self) -> Any:
        value = self.multiplicative()
        while self.at("+", "-"):
            operator = self.take()[1]
            right = _number(self.multiplicative())
            value = _number(value) + right if operator == "+" else _number(value) - right
        return value

    def multiplicative(self) -> Any:
        value = self.unary()
        while self.at("*", "div", "mod"):
            operator = self.take()[1]
            right = _number(self.unary())
            left = _number(value)
            value = left * right if operator == "*" else left / right if operator == "div" else float(int(left) % int(right))
        return value

    def unary(self) -> Any:
        if self.at("-"):
            self.take()
            return -_number(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "number":
            return float(text)
        if kind == "string":
            return text[1:-1]
        if kind == "path":
            return self.resolve(text)
        if kind == "dot":
            return self.context
        if kind == "op" and text == "(":
            value = self.expression()
            self.expect(")")
            return value
        if kind == "name" and self.at("("):
            self.take()
            arguments = []
            while not self.at(")"):
                arguments.append(self.expression())
                if self.at(","):
                    self.take()
            self.expect(")")
            if text not in self.functions:
                raise XPathSubsetError(f"Function {text}() is outside the supported subset")
            return self.functions[text](*arguments)
        raise XPathSubsetError(f"Unexpected {text!r}")

    def expect(self, value: str) -> None:
        kind, text = self.take()
        if text != value:
            raise XPathSubsetError(f"Expected {value!r}, found {text!r}")


def evaluate(expression: str, resolve: Callable[[str], Any] = lambda path: "", context: Any = "",
             rng: random_module.Random | None = None) -> Any:
    """Evaluate an expression; `resolve` maps an absolute path to its value, `context` is `.`."""
    rng = rng or random_module.Random()
    functions: dict[str, Callable[..., Any]] = {
        "substr": _substr,
        "translate": _translate,
        "string-length": lambda text: float(len(_string(text))),
        "substring-before": _substring_before,
        "concat": lambda *parts: "".join(_string(part) for part in parts),
        "int": lambda value: float(int(_number(value))),
        "random": rng.random,
        "once": lambda value: value,
        "if": lambda condition, then, otherwise: then if _boolean(condition) else otherwise,
        "not": lambda value: not _boolean(value),
        "selected": lambda values, value: _string(value) in _string(values).split(),
        "count-selected": lambda values: float(len(_string(values).split())),
        "regex": lambda text, pattern: re.search(_string(pattern), _string(text)) is not None,
        "today": lambda: datetime.date.today().isoformat(),
    }
    parser = _Parser(_tokens(expression), resolve, context, functions)
    value = parser.expression()
    if parser.peek() is not None:
        raise XPathSubsetError(f"Unexpected {parser.peek()[1]!r} after the expression")
    return value
