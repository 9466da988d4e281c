"""Pre↔post pairing by code: the real errors people make with codes, and codes that must never pair."""

from __future__ import annotations

from samen.report.pairing import PHONE_CODE, SELF_CODE, pair_by_code

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXY"


def phone_code(body: str) -> str:
    """A valid phone code, its check symbol computed here from the recipe (sum of position × value, mod 31)."""
    return body + ALPHABET[sum(i * ALPHABET.index(s) for i, s in enumerate(body, start=1)) % 31]


def response(code: str, phase: str, score: str = "3") -> dict:
    return {"participant_code": code, "self_code": code, "phase": phase, "k_rights": score, "consent": "yes"}


def pair(rows, scheme=PHONE_CODE):
    field = "participant_code" if scheme is PHONE_CODE else "self_code"
    return pair_by_code(rows, code_field=field, phase_field="phase", scheme=scheme)


def test_case_spaces_hyphens_and_confusable_symbols_still_pair():
    code = phone_code("K10M4T")  # holds a 1 and a 0, which people write as I/L and O
    typed = "k" + "I" + "o" + "m4-t " + code[-1].lower()
    result = pair([response(code, "pre", "2"), response(typed, "post", "4")])
    assert len(result.pairs) == 1
    pre, post = result.pairs[0]
    assert (pre["k_rights"], post["k_rights"]) == ("2", "4")
    assert (result.pre_only, result.post_only, result.ambiguous, result.invalid) == (0, 0, 0, 0)


def test_a_wrong_check_character_is_invalid_and_never_matched():
    code = phone_code("ABC123")
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    result = pair([response(code, "pre"), response(wrong, "post")])
    assert result.pairs == ()
    assert (result.pre_only, result.post_only, result.invalid) == (1, 0, 1)


def test_two_pres_or_two_posts_are_ambiguous_and_not_paired():
    twice_pre, twice_post, clean = phone_code("AAAAAA"), phone_code("BBBBBB"), phone_code("CCCCCC")
    rows = [response(twice_pre, "pre"), response(twice_pre.lower(), "pre"), response(twice_pre, "post"),
            response(twice_post, "pre"), response(twice_post, "post"), response(twice_post, "post"),
            response(clean, "pre"), response(clean, "post")]
    result = pair(rows)
    assert len(result.pairs) == 1 and result.pairs[0][0]["participant_code"] == clean
    assert result.ambiguous == 2


def test_unpaired_responses_are_counted_by_phase_and_rows_without_phase_ignored():
    rows = [response(phone_code("DDDDDD"), "pre"), response(phone_code("EEEEEE"), "pre"),
            response(phone_code("FFFFFF"), "post"), response(phone_code("GGGGGG"), ""),
            {"phase": "post", "consent": "yes"}]
    result = pair(rows)
    assert (len(result.pairs), result.pre_only, result.post_only, result.ambiguous, result.invalid) == (0, 2, 1, 0, 1)


def test_self_made_codes_pair_regardless_of_case_and_spacing_and_must_follow_the_recipe():
    rows = [response("ma031", "pre", "1"), response("MA 031", "post", "5"),
            response("MA131", "pre"), response("XY135", "post")]  # month 13 does not exist
    result = pair(rows, SELF_CODE)
    assert len(result.pairs) == 1
    assert result.invalid == 2


def test_repr_shows_counts_not_answers():
    result = pair([response(phone_code("HHHHHH"), "pre"), response(phone_code("HHHHHH"), "post")])
    assert "k_rights" not in repr(result) and "HHHHHH" not in repr(result)
