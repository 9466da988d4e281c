"""Indicators and their suppression on small inline data sets whose truth is worked out here by hand."""

from __future__ import annotations

import math
import statistics

from scipy import stats

from samen.report.content import Cells, Vocabulary, assemble_report
from samen.report.indicators import (
    PARTICIPANT_SCALES, compute_indicators, outreach, paired_change, reach, referrals, sessions,
)
from samen.report.render import render_html

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXY"


def phone_code(body: str) -> str:
    return body + ALPHABET[sum(i * ALPHABET.index(s) for i, s in enumerate(body, start=1)) % 31]


def intake(code: str, city: str, **fields) -> dict:
    return {"consent": "yes", "participant_code": code, "city": city, "target_group": "migrant_adult", **fields}


def test_reach_counts_each_code_once_by_its_first_intake_and_leaves_out_refusals_and_bad_codes():
    a, b, c = phone_code("AAAAA1"), phone_code("BBBBB2"), phone_code("CCCCC3")
    rows = [
        intake(a, "utrecht", gender_identity="woman", age_band="18_24"),
        intake(a.lower(), "arnhem"),  # the same person again, elsewhere: counted once, in Utrecht
        intake(b, "utrecht", lgbtqi="yes"),
        intake(c, "rotterdam", target_group="professional"),
        intake(c[:-1] + "Z", "rotterdam"),  # Z reads as 2: a wrong check symbol
        {"consent": "no"},
    ]
    result = reach(rows, target=500)
    assert result.adults == 2
    assert result.adults_by_city["utrecht"] == 2 and result.adults_by_city["arnhem"] == 0
    assert result.by_target_group == {"migrant_adult": 2, "professional": 1}
    assert result.adults_priority == {"women": 1, "young_adults": 1, "lgbtqi": 1}
    assert (result.refusals, result.invalid_codes) == (1, 1)
    assert result.share_of_target == 2 / 500


def test_paired_change_matches_a_t_interval_and_scipys_wilcoxon():
    pre = [2.0, 3.0, 2.4, 1.8, 3.2, 2.0, 2.6]
    post = [3.0, 3.4, 3.4, 2.0, 4.0, 2.6, 2.6]
    differences = [b - a for a, b in zip(pre, post)]
    mean = sum(differences) / len(differences)
    half_width = 2.4469118511449692 * statistics.stdev(differences) / math.sqrt(7)  # t(0.975, df=6)
    change = paired_change("knowledge", pre, post)
    assert change.pairs == 7
    assert math.isclose(change.mean_change, mean)
    assert math.isclose(change.ci_low, mean - half_width) and math.isclose(change.ci_high, mean + half_width)
    assert math.isclose(change.p_value, stats.wilcoxon(post, pre).pvalue)
    assert math.isclose(change.pre_mean, sum(pre) / 7) and math.isclose(change.post_mean, sum(post) / 7)


def test_paired_change_without_variation_or_pairs_gives_no_test():
    assert paired_change("x", [2.0, 3.0], [2.0, 3.0]).p_value is None
    assert paired_change("x", [], []).mean_change is None
    single = paired_change("x", [2.0], [3.0])
    assert (single.mean_change, single.ci_low, single.p_value) == (1.0, None, None)


def test_scale_scores_need_half_the_items_and_who5_needs_all_five():
    knowledge, _, who5 = PARTICIPANT_SCALES
    assert knowledge.score({"k_rights": "4", "k_where_help": "2", "k_gp": "pna"}) is None  # 2 of 5 answered
    assert knowledge.score({"k_rights": "4", "k_where_help": "2", "k_gp": "3"}) == 3.0
    answers = {f"who5_{i}": "3" for i in range(1, 6)}
    assert who5.score(answers) == 60
    assert who5.score({**answers, "who5_5": "pna"}) is None


def test_sessions_are_distinct_date_city_type_and_no_answer_stays_out_of_the_mean():
    rows = [
        {"consent": "yes", "session_date": "2026-03-01", "city": "utrecht", "session_type": "training", "satisfaction": "5"},
        {"consent": "yes", "session_date": "2026-03-01", "city": "utrecht", "session_type": "training", "satisfaction": "3"},
        {"consent": "yes", "session_date": "2026-03-02", "city": "utrecht", "session_type": "training", "satisfaction": "pna"},
        {"consent": "yes", "session_date": "2026-03-01", "city": "arnhem", "session_type": "group_activity", "recommend": "yes"},
        {"consent": "no", "session_date": "2026-03-05", "city": "arnhem", "session_type": "training"},
    ]
    result = sessions(rows)
    assert (result.sessions, result.responses) == (3, 4)
    training = next(row for row in result.by_type if row.session_type == "training")
    assert (training.sessions, training.responses, training.satisfaction_rated, training.mean_satisfaction) == (2, 3, 2, 4.0)
    satisfaction = result.items[0]
    assert satisfaction.distribution == {"5": 1, "3": 1, "pna": 1}
    assert result.recommend.distribution == {"yes": 1}


def test_referrals_count_each_partner_ticked_and_its_own_sharing_consent():
    rows = [intake("X", "utrecht", referrals_made="veilig_thuis csg", consent_share_veilig_thuis="yes"),
            intake("Y", "arnhem", referrals_made="veilig_thuis", consent_share_veilig_thuis="no"),
            intake("Z", "arnhem", referrals_made="none")]
    result = referrals(rows)
    assert result.total == 3
    assert result.by_type == {"veilig_thuis": 2, "csg": 1}
    assert result.by_type_and_city == {("veilig_thuis", "utrecht"): 1, ("csg", "utrecht"): 1, ("veilig_thuis", "arnhem"): 1}
    assert result.with_consent_to_share == {"veilig_thuis": 1, "csg": 0}


def test_outreach_sums_per_city():
    rows = [{"city": "utrecht", "activity_type": "outreach", "reached_migrant_adults": "12", "referrals_count": "2"},
            {"city": "utrecht", "activity_type": "info_session", "reached_migrant_adults": "8"},
            {"city": "arnhem", "activity_type": "outreach", "reached_migrant_adults": ""}]
    result = outreach(rows)
    assert result.by_city["utrecht"]["reached_migrant_adults"] == 20 and result.by_city["utrecht"]["activities"] == 2
    assert result.totals["referrals_count"] == 2 and result.activities_by_type == {"outreach": 2, "info_session": 1}


def test_small_cells_are_hidden_and_a_lone_hidden_cell_gets_a_companion():
    cells = Cells(5)
    assert [c.shown for c in cells.breakdown([10, 3, 7])] == ["10", "<5", "x"]
    assert [c.shown for c in cells.breakdown([0, 3, 2, 20])] == ["0", "<5", "<5", "20"]
    assert [c.shown for c in cells.breakdown([0, 4, 0])] == ["0", "<5", "0"]
    assert [c.value for c in cells.breakdown([10, 3, 7])] == [10, None, None]
    assert Cells(10).count(9).shown == "<10"


def test_the_report_shows_no_codes_no_free_text_and_states_its_threshold():
    code = phone_code("QWERTY")
    rows = {"samen_intake": [intake(code, "utrecht", improve="my neighbour Ahmed")] * 3,
            "samen_session_feedback": [{"consent": "yes", "session_type": "training", "satisfaction": "4",
                                        "improve": "the room was cold, ask Fatima"}]}
    report = assemble_report(compute_indicators(rows), project_name="SAMEN", period="all", language="en",
                             threshold=7, generated_at="now", vocabulary=Vocabulary())
    html = render_html(report)
    assert code not in html and code.lower() not in html
    assert "Fatima" not in html and "Ahmed" not in html
    assert "&lt;7" in html and "Counts from 1 to 6" in html
