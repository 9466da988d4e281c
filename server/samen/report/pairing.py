"""Pre↔post pairing by pseudonymous code, robust to the errors people make with codes.

Codes arrive typed by hand or picked from a list: lower case, spaces, a
hyphen, an O for a 0. `samen.participant_code` says how each kind of code is
normalised and checked; here we only apply it. A response whose code fails
the check (a phone code with a wrong check character, a self-made code that
does not follow the recipe) is counted as invalid and never matched: a typo
could otherwise pair two different people. A code with two pre or two post
responses is *ambiguous*: we cannot know which of them belongs with the
other phase, so none of its responses is paired, and the report says so.

Pure functions over row dicts (field name → value); no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from samen.participant_code import is_valid_phone_code, is_valid_self_code, normalise_code, normalise_self_code

Row = Mapping[str, Any]

PRE, POST = "pre", "post"


@dataclass(frozen=True)
class CodeScheme:
    """How one kind of code is normalised and checked."""

    name: str
    normalise: Callable[[str], str]
    is_valid: Callable[[str], bool]

    def canonical(self, code: object) -> str | None:
        """The normalised code, or None when it is missing or fails the check."""
        if not isinstance(code, str) or not code.strip() or not self.is_valid(code):
            return None
        return self.normalise(code)


PHONE_CODE = CodeScheme("phone", normalise_code, is_valid_phone_code)
SELF_CODE = CodeScheme("self", normalise_self_code, is_valid_self_code)


@dataclass(frozen=True)
class Pairing:
    """Responses matched pre↔post, and what could not be matched and why (counts only: no codes)."""

    pairs: tuple[tuple[Row, Row], ...]  # (pre, post)
    pre_only: int  # codes with one pre response and no post
    post_only: int  # codes with one post response and no pre
    ambiguous: int  # codes with two or more pre or post responses: never paired
    invalid: int  # responses whose code is missing or fails the check

    def __repr__(self) -> str:  # rows hold answers: keep them out of logs and tracebacks
        return (f"Pairing(paired={len(self.pairs)}, pre_only={self.pre_only}, post_only={self.post_only}, "
                f"ambiguous={self.ambiguous}, invalid={self.invalid})")


def pair_by_code(rows: Iterable[Row], *, code_field: str, phase_field: str, scheme: CodeScheme) -> Pairing:
    """Pair each code's pre response with its post response; rows without a pre/post phase are ignored."""
    by_code: dict[str, dict[str, list[Row]]] = defaultdict(lambda: {PRE: [], POST: []})
    invalid = 0
    for row in rows:
        phase = row.get(phase_field)
        if phase not in (PRE, POST):
            continue
        code = scheme.canonical(row.get(code_field))
        if code is None:
            invalid += 1
            continue
        by_code[code][phase].append(row)
    pairs: list[tuple[Row, Row]] = []
    pre_only = post_only = ambiguous = 0
    for phases in by_code.values():
        pres, posts = phases[PRE], phases[POST]
        if len(pres) > 1 or len(posts) > 1:
            ambiguous += 1
        elif pres and posts:
            pairs.append((pres[0], posts[0]))
        elif pres:
            pre_only += 1
        else:
            post_only += 1
    return Pairing(tuple(pairs), pre_only, post_only, ambiguous, invalid)


def distinct_codes(rows: Iterable[Row], *, code_field: str, scheme: CodeScheme) -> tuple[dict[str, Row], int]:
    """The first row of each distinct valid code (rows in the order given), and how many rows had no valid code."""
    first: dict[str, Row] = {}
    invalid = 0
    for row in rows:
        code = scheme.canonical(row.get(code_field))
        if code is None:
            invalid += 1
        else:
            first.setdefault(code, row)
    return first, invalid
