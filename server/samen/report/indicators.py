"""SAMEN's M&E indicators, computed over plain rows: {field name: value as submitted}.

Pure functions, no database and no files. The caller hands over the rows of
each form (already limited to the reporting period, consenting or not) and
gets exact numbers back; small-cell suppression and wording happen later, in
`report.content`, so that these numbers can be tested against the truth.

Field names are those of the SAMEN form set (`xlsform_src/`); each is named
once, here, next to the indicator that reads it.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats

from samen.report.pairing import PHONE_CODE, SELF_CODE, CodeScheme, Pairing, Row, distinct_codes, pair_by_code

INTAKE = "samen_intake"
FEEDBACK = "samen_session_feedback"
PREPOST_PARTICIPANT = "samen_prepost_participant"
PREPOST_PROFESSIONAL = "samen_prepost_professional"
ACTIVITY = "samen_ambassador_activity"
FORM_IDS = (INTAKE, FEEDBACK, PREPOST_PARTICIPANT, PREPOST_PROFESSIONAL, ACTIVITY)

CITIES = ("amsterdam", "arnhem", "den_haag", "nijmegen", "rotterdam", "utrecht")
ADULTS_TARGET = 500
ADULT = "migrant_adult"
NO_ANSWER = "pna"  # "I prefer not to answer": counted in distributions, never in a mean
NO_REFERRAL = "none"


def consented(rows: Iterable[Row]) -> list[Row]:
    """Every SAMEN form except the activity log starts with consent; without it nothing else was asked."""
    return [row for row in rows if row.get("consent") == "yes"]


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _choices(value: Any) -> list[str]:
    """A select_multiple answer: space-separated choice names."""
    return value.split() if isinstance(value, str) else []


# --- reach -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reach:
    """Distinct adults registered at intake with consent, against the programme's target."""

    adults: int
    target: int
    adults_by_city: Mapping[str, int]
    by_target_group: Mapping[str, int]  # distinct codes of every consenting intake, per target group
    adults_priority: Mapping[str, int]  # women, young adults and LGBTQI+ people among the adults
    refusals: int  # intakes that ended at the consent question
    invalid_codes: int  # consenting intakes whose code is missing or fails its check

    @property
    def share_of_target(self) -> float:
        return self.adults / self.target if self.target else 0.0


def reach(intake_rows: Sequence[Row], target: int = ADULTS_TARGET) -> Reach:
    """Each person counts once: the first intake of a code (rows in date order) gives their city and group."""
    people, invalid = distinct_codes(consented(intake_rows), code_field="participant_code", scheme=PHONE_CODE)
    adults = [row for row in people.values() if row.get("target_group") == ADULT]
    priority = {
        "women": sum(row.get("gender_identity") == "woman" for row in adults),
        "young_adults": sum(row.get("age_band") == "18_24" for row in adults),
        "lgbtqi": sum(row.get("lgbtqi") == "yes" for row in adults),
    }
    return Reach(
        adults=len(adults),
        target=target,
        adults_by_city=_count_by(adults, "city", CITIES),
        by_target_group=dict(Counter(row.get("target_group") for row in people.values() if row.get("target_group"))),
        adults_priority=priority,
        refusals=sum(row.get("consent") == "no" for row in intake_rows),
        invalid_codes=invalid,
    )


def _count_by(rows: Iterable[Row], field: str, known: Sequence[str] = ()) -> dict[str, int]:
    """Counts per value, with every known value present (a city with no one reached shows 0)."""
    counts = Counter(row.get(field) for row in rows if row.get(field))
    return {**{value: 0 for value in known}, **counts}


# --- professionals trained ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Trained:
    """Distinct professionals who filled in a training questionnaire (before or after), by sector and city."""

    professionals: int
    by_sector: Mapping[str, int]
    by_city: Mapping[str, int]
    invalid_codes: int


def professionals_trained(professional_rows: Sequence[Row]) -> Trained:
    people, invalid = distinct_codes(consented(professional_rows), code_field="self_code", scheme=SELF_CODE)
    return Trained(len(people), _count_by(people.values(), "sector"), _count_by(people.values(), "city", CITIES), invalid)


# --- sessions and satisfaction -----------------------------------------------------------------------------

SATISFACTION_ITEMS = ("satisfaction", "felt_safe", "felt_respected", "useful", "understood", "language_ok")
RECOMMEND_ITEM = "recommend"


@dataclass(frozen=True)
class ItemSummary:
    """One feedback question: how many rated it, their mean (1–5), and how often each answer was given."""

    item: str
    rated: int
    mean: float | None
    distribution: Mapping[str, int]  # answer value → count, "prefer not to answer" included


@dataclass(frozen=True)
class SessionType:
    session_type: str
    sessions: int
    responses: int
    satisfaction_rated: int
    mean_satisfaction: float | None


@dataclass(frozen=True)
class Sessions:
    """Sessions delivered, as seen through their feedback, and what participants thought of them.

    The feedback form has no session identifier, so a session is a distinct
    (date, city, session type) among the feedback responses: two sessions of
    one type in one city on one day count once, and a session without any
    feedback is not counted.
    """

    sessions: int
    responses: int
    by_type: tuple[SessionType, ...]
    items: tuple[ItemSummary, ...]
    recommend: ItemSummary


def _summary(rows: Sequence[Row], item: str) -> ItemSummary:
    answers = [row.get(item) for row in rows if row.get(item)]
    scores = [score for answer in answers if (score := _number(answer)) is not None]
    return ItemSummary(item, len(scores), statistics.fmean(scores) if scores else None, dict(Counter(answers)))


def _session_key(row: Row) -> tuple:
    return (row.get("session_date"), row.get("city"), row.get("session_type"))


def sessions(feedback_rows: Sequence[Row]) -> Sessions:
    responses = consented(feedback_rows)
    by_type = []
    for session_type in sorted({row.get("session_type") for row in responses if row.get("session_type")}):
        of_type = [row for row in responses if row.get("session_type") == session_type]
        satisfaction = _summary(of_type, "satisfaction")
        by_type.append(SessionType(session_type, len({_session_key(row) for row in of_type}), len(of_type),
                                   satisfaction.rated, satisfaction.mean))
    return Sessions(
        sessions=len({_session_key(row) for row in responses}),
        responses=len(responses),
        by_type=tuple(by_type),
        items=tuple(_summary(responses, item) for item in SATISFACTION_ITEMS),
        recommend=_summary(responses, RECOMMEND_ITEM),
    )


# --- pre → post change -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scale:
    """Items scored together. `mean`: mean of the answered items (1–5), if at least half were answered.
    `who5`: the WHO-5 percentage score (raw sum × 4, 0–100), only when all five items were answered."""

    key: str
    items: tuple[str, ...]
    scoring: str = "mean"

    def score(self, row: Row) -> float | None:
        values = [value for item in self.items if (value := _number(row.get(item))) is not None]
        if self.scoring == "who5":
            return sum(values) * 4 if len(values) == len(self.items) else None
        return statistics.fmean(values) if values and len(values) * 2 >= len(self.items) else None


PARTICIPANT_SCALES = (
    Scale("knowledge", ("k_rights", "k_where_help", "k_veilig_thuis", "k_gp", "k_confidential")),
    Scale("attitudes", ("a_help_ok", "a_equal_say", "a_never_ok", "a_support_friend", "a_respect_lgbtqi")),
    Scale("wellbeing_who5", ("who5_1", "who5_2", "who5_3", "who5_4", "who5_5"), "who5"),
)
PROFESSIONAL_SCALES = (
    Scale("professional_knowledge", ("pk_forms", "pk_barriers", "pk_pathways", "pk_meldcode", "pk_culture")),
    Scale("self_efficacy", ("se_recognise", "se_ask", "se_interpreter", "se_refer", "se_safety")),
)


@dataclass(frozen=True)
class Change:
    """Paired change on one scale: post − pre for every pair with a score at both moments."""

    scale: str
    pairs: int
    pre_mean: float | None
    post_mean: float | None
    mean_change: float | None
    ci_low: float | None  # 95% confidence interval of the mean change (t distribution)
    ci_high: float | None
    p_value: float | None  # Wilcoxon signed-rank, two-sided; None when it cannot be computed


@dataclass(frozen=True)
class PrePost:
    group: str  # "participants" or "professionals"
    paired: int
    pre_only: int
    post_only: int
    ambiguous: int
    invalid: int
    changes: tuple[Change, ...]


def paired_change(scale: str, pre: Sequence[float], post: Sequence[float]) -> Change:
    """Mean change with its 95% CI and the Wilcoxon signed-rank p-value, for aligned pre and post scores."""
    n = len(pre)
    if n == 0:
        return Change(scale, 0, None, None, None, None, None, None)
    differences = [after - before for before, after in zip(pre, post)]
    mean = statistics.fmean(differences)
    low = high = p_value = None
    if n >= 2:
        margin = float(stats.t.ppf(0.975, n - 1)) * statistics.stdev(differences) / math.sqrt(n)
        low, high = mean - margin, mean + margin
        if any(differences):  # all-zero differences leave Wilcoxon nothing to rank
            p_value = float(stats.wilcoxon(differences).pvalue)
    return Change(scale, n, statistics.fmean(pre), statistics.fmean(post), mean, low, high, p_value)


def pre_post(group: str, rows: Sequence[Row], *, code_field: str, scheme: CodeScheme,
             scales: Sequence[Scale]) -> PrePost:
    pairing: Pairing = pair_by_code(consented(rows), code_field=code_field, phase_field="phase", scheme=scheme)
    changes = []
    for scale in scales:
        scored = [(scale.score(before), scale.score(after)) for before, after in pairing.pairs]
        complete = [(before, after) for before, after in scored if before is not None and after is not None]
        changes.append(paired_change(scale.key, [b for b, _ in complete], [a for _, a in complete]))
    return PrePost(group, len(pairing.pairs), pairing.pre_only, pairing.post_only, pairing.ambiguous,
                   pairing.invalid, tuple(changes))


def participant_change(rows: Sequence[Row]) -> PrePost:
    return pre_post("participants", rows, code_field="participant_code", scheme=PHONE_CODE, scales=PARTICIPANT_SCALES)


def professional_change(rows: Sequence[Row]) -> PrePost:
    return pre_post("professionals", rows, code_field="self_code", scheme=SELF_CODE, scales=PROFESSIONAL_SCALES)


# --- referrals ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Referrals:
    """Referrals made at intake, one per partner ticked; sharing consent is asked per partner."""

    total: int
    by_type: Mapping[str, int]
    by_type_and_city: Mapping[tuple[str, str], int]
    with_consent_to_share: Mapping[str, int]


def referrals(intake_rows: Sequence[Row]) -> Referrals:
    by_type: Counter[str] = Counter()
    by_type_and_city: Counter[tuple[str, str]] = Counter()
    shared: Counter[str] = Counter()
    for row in consented(intake_rows):
        for partner in _choices(row.get("referrals_made")):
            if partner == NO_REFERRAL:
                continue
            by_type[partner] += 1
            by_type_and_city[(partner, row.get("city") or "")] += 1
            shared[partner] += row.get(f"consent_share_{partner}") == "yes"
    return Referrals(sum(by_type.values()), dict(by_type), dict(by_type_and_city), dict(shared))


# --- ambassador outreach -----------------------------------------------------------------------------------

OUTREACH_COUNTS = ("reached_migrant_adults", "reached_women", "reached_young_adults", "reached_professionals",
                   "referrals_count")


@dataclass(frozen=True)
class Outreach:
    """Totals of the ambassadors' activity log (numbers only: the log holds no personal data)."""

    activities: int
    activities_by_type: Mapping[str, int]
    by_city: Mapping[str, Mapping[str, int]]  # city → {"activities", *OUTREACH_COUNTS} → total
    totals: Mapping[str, int]


def outreach(activity_rows: Sequence[Row]) -> Outreach:
    by_city = {city: {"activities": 0, **{count: 0 for count in OUTREACH_COUNTS}} for city in CITIES}
    for row in activity_rows:
        city = by_city.setdefault(row.get("city") or "", {"activities": 0, **{count: 0 for count in OUTREACH_COUNTS}})
        city["activities"] += 1
        for count in OUTREACH_COUNTS:
            city[count] += int(_number(row.get(count)) or 0)
    totals = {count: sum(city[count] for city in by_city.values()) for count in OUTREACH_COUNTS}
    return Outreach(len(activity_rows), _count_by(activity_rows, "activity_type"), by_city, totals)


# --- all together ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Indicators:
    reach: Reach
    trained: Trained
    sessions: Sessions
    participants: PrePost
    professionals: PrePost
    referrals: Referrals
    outreach: Outreach


def compute_indicators(rows_by_form: Mapping[str, Sequence[Row]], target: int = ADULTS_TARGET) -> Indicators:
    """Every indicator from each form's rows (a missing form counts as no rows), oldest row first."""
    rows = {form_id: list(rows_by_form.get(form_id, ())) for form_id in FORM_IDS}
    return Indicators(
        reach=reach(rows[INTAKE], target),
        trained=professionals_trained(rows[PREPOST_PROFESSIONAL]),
        sessions=sessions(rows[FEEDBACK]),
        participants=participant_change(rows[PREPOST_PARTICIPANT]),
        professionals=professional_change(rows[PREPOST_PROFESSIONAL]),
        referrals=referrals(rows[INTAKE]),
        outreach=outreach(rows[ACTIVITY]),
    )
