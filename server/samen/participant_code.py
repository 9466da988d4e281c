"""Pseudonymous participant codes: the only key that links a participant's forms.

Two kinds of code exist:

* The *phone code* is drawn at random by the intake form (an XPath calculate,
  see `xlsform_src/samen_intake.md`) and shown to the participant to keep.
  Six characters from a 31-symbol alphabet plus one check character.
  The alphabet leaves out letters that are read or written like another
  symbol (I, L, O, U, Z); people still type them, so `normalise_code` maps
  them to the symbol they were meant to be (Crockford's base32 rule, plus
  Z→2). 31 is prime, so a check character weighted by position catches
  every single wrong symbol and every swap of two neighbours.
* The *self-generated code* of professionals (pre↔post pairing of training
  questionnaires) is composed by the professional from a fixed recipe, so it
  can be re-made from memory; see `normalise_self_code`.

The XLSForm expressions mirror `check_character`; tests evaluate them against
this module so the phone and the server never disagree.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXY"
BODY_LENGTH = 6
CODE_LENGTH = BODY_LENGTH + 1

# Symbols people type for a symbol of the alphabet; separators are dropped.
_CONFUSABLES = {"O": "0", "I": "1", "L": "1", "U": "V", "Z": "2"}
_SEPARATORS = re.compile(r"[\s\-_.]+")

_SELF_CODE = re.compile(r"[A-Z]{2}(0[1-9]|1[0-2])[0-9]")


def normalise_code(code: str) -> str:
    """Upper-case, drop spaces and hyphens, and map confusable symbols (O→0, I/L→1, U→V, Z→2)."""
    compact = _SEPARATORS.sub("", code).upper()
    return "".join(_CONFUSABLES.get(symbol, symbol) for symbol in compact)


def check_character(body: str) -> str:
    """The check symbol for a normalised code body: sum of (position × value) mod 31."""
    try:
        total = sum(position * ALPHABET.index(symbol) for position, symbol in enumerate(body, start=1))
    except ValueError:
        raise ValueError("A code body may only use the symbols of the participant-code alphabet.") from None
    return ALPHABET[total % len(ALPHABET)]


def is_valid_phone_code(code: str) -> bool:
    """True when the code, once normalised, has the right length, alphabet and check character."""
    normalised = normalise_code(code)
    if len(normalised) != CODE_LENGTH or any(symbol not in ALPHABET for symbol in normalised):
        return False
    return check_character(normalised[:BODY_LENGTH]) == normalised[BODY_LENGTH]


def format_code(code: str) -> str:
    """The code as shown on the participant's card: two groups, easier to read aloud (K7M4-TQX)."""
    normalised = normalise_code(code)
    return f"{normalised[:4]}-{normalised[4:]}"


def normalise_self_code(code: str) -> str:
    """A professional's self-generated code (2 letters, birth month 01-12, 1 digit), upper-cased."""
    return _SEPARATORS.sub("", code).upper()


def is_valid_self_code(code: str) -> bool:
    """True when the self-generated code follows the recipe's shape (e.g. MA037)."""
    return _SELF_CODE.fullmatch(normalise_self_code(code)) is not None
