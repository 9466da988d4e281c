"""Participant codes: normalisation, the check symbol, and what the phone may produce."""

from __future__ import annotations

import random

import pytest

from samen.participant_code import (
    ALPHABET,
    BODY_LENGTH,
    check_character,
    format_code,
    is_valid_phone_code,
    is_valid_self_code,
    normalise_code,
    normalise_self_code,
)


def _random_code(rng: random.Random) -> str:
    body = "".join(rng.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_character(body)


def test_alphabet_leaves_out_confusable_letters_and_has_prime_size() -> None:
    assert not set("ILOUZ") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 31


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [("k7m4-tq5", "K7M4TQ5"), (" K7M4 TQ5 ", "K7M4TQ5"), ("O0I1L", "00111"), ("uz", "V2"), ("ab_c.d", "ABCD")],
)
def test_normalise_code_maps_case_separators_and_confusables(typed: str, normalised: str) -> None:
    assert normalise_code(typed) == normalised


def test_check_character_is_position_weighted_sum_mod_31() -> None:
    # "000001": only position 6 carries value 1 → 6; "100000": position 1 × value 1 → 1.
    assert check_character("000001") == ALPHABET[6]
    assert check_character("100000") == ALPHABET[1]
    assert check_character("000000") == "0"
    assert check_character("Y00000") == ALPHABET[30]


def test_check_character_refuses_symbols_outside_the_alphabet() -> None:
    with pytest.raises(ValueError):
        check_character("ABCDEI")


def test_valid_codes_survive_sloppy_typing() -> None:
    rng = random.Random(7)
    for _ in range(200):
        code = _random_code(rng)
        assert is_valid_phone_code(code)
        sloppy = format_code(code).lower().replace("0", "o").replace("1", "l")
        assert is_valid_phone_code(sloppy)
        assert normalise_code(sloppy) == code


def test_every_single_substitution_and_neighbour_swap_is_caught() -> None:
    rng = random.Random(11)
    for _ in range(30):
        code = _random_code(rng)
        for position in range(len(code)):
            for symbol in ALPHABET:
                if symbol != code[position]:
                    assert not is_valid_phone_code(code[:position] + symbol + code[position + 1:])
        for position in range(len(code) - 1):
            swapped = code[:position] + code[position + 1] + code[position] + code[position + 2:]
            if swapped != code:
                assert not is_valid_phone_code(swapped)


@pytest.mark.parametrize("code", ["", "K7M4TQ", "K7M4TQ55", "K7M4TQ!", "K7M4-TQ5-X"])
def test_wrong_length_or_symbols_are_invalid(code: str) -> None:
    assert not is_valid_phone_code(code)


def test_format_code_groups_four_and_three() -> None:
    assert format_code("k7m4tq5") == "K7M4-TQ5"


@pytest.mark.parametrize(("code", "valid"), [("MA031", True), ("ma 03-1", True), ("MA131", False), ("MA001", False),
                                             ("M0031", False), ("MA03", False)])
def test_self_generated_code_shape(code: str, valid: bool) -> None:
    assert is_valid_self_code(code) is valid
    assert normalise_self_code(code) == code.replace(" ", "").replace("-", "").upper()
