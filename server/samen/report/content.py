"""The report's content: indicators turned into suppressed tables and charts, in Dutch or English.

Pure: takes `Indicators` (exact numbers) and returns a `Report` whose tables
hold the text readers see. Every count passes through `Cells`, which hides
small numbers; charts are drawn from the same suppressed cells, so no chart
shows what its table hides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from samen.report import charts
from samen.report.indicators import (
    CITIES, NO_ANSWER, OUTREACH_COUNTS, RECOMMEND_ITEM, Change, Indicators, ItemSummary, PrePost,
)
from samen.report.texts import text

HIDDEN_MARK = "x"  # a second number hidden so that the first cannot be worked out (CBS writes "x" too)
NO_VALUE = "\u2013"
SCALE_RANGES = {"wellbeing_who5": (0.0, 100.0)}
DEFAULT_RANGE = (1.0, 5.0)


@dataclass(frozen=True)
class Cell:
    """A number as shown: `value` is None when it is hidden."""

    value: int | None
    shown: str


class Cells:
    """Small-cell suppression at one threshold (counts 1..threshold-1 hidden; 0 is shown)."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold

    def count(self, n: int) -> Cell:
        return Cell(None, f"<{self.threshold}") if 0 < n < self.threshold else Cell(n, str(n))

    def breakdown(self, counts: Sequence[int]) -> list[Cell]:
        """Counts that add up to a shown total: if only one is hidden, the smallest other non-zero one (the
        first, on a tie) is hidden too, or the total would give the hidden one away."""
        cells = [self.count(n) for n in counts]
        hidden = [index for index, cell in enumerate(cells) if cell.value is None]
        if len(hidden) == 1:
            others = [(n, index) for index, n in enumerate(counts) if index not in hidden and n > 0]
            if others:
                cells[min(others)[1]] = Cell(None, HIDDEN_MARK)
        return cells


@dataclass(frozen=True)
class Table:
    key: str  # file name of its CSV
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Figure:
    """A chart (SVG) and the table with its numbers; a table alone when a chart would not help."""

    table: Table
    chart_svg: str | None = None


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    lead: str
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class Report:
    project_name: str
    period: str
    language: str
    threshold: int
    generated_at: str
    headline: tuple[tuple[str, str, str], ...]  # (label, value, detail)
    sections: tuple[Section, ...]
    notices: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    file_stem: str = "samen-report"

    @property
    def title(self) -> str:
        return text("title", self.language)

    def t(self, key: str) -> str:
        """One of the report's own words, in its language (for the template)."""
        return text(key, self.language)

    @property
    def tables(self) -> tuple[Table, ...]:
        return tuple(figure.table for section in self.sections for figure in section.figures)

    def __repr__(self) -> str:
        return f"Report(project={self.project_name!r}, period={self.period!r}, sections={len(self.sections)})"


@dataclass(frozen=True)
class Vocabulary:
    """Labels from the forms in the report's language: questions by field name, answers by field and value."""

    questions: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def question(self, name: str) -> str:
        return self.questions.get(name) or name.replace("_", " ")

    def choice(self, name: str, value: str) -> str:
        return self.choices.get(name, {}).get(value) or value.replace("_", " ")

    def values(self, name: str) -> tuple[str, ...]:
        return tuple(self.choices.get(name, {}))


class _Writer:
    """Shared state while assembling: language, suppression and labels."""

    def __init__(self, language: str, cells: Cells, vocabulary: Vocabulary) -> None:
        self.language, self.cells, self.vocabulary = language, cells, vocabulary

    def t(self, key: str, **values: object) -> str:
        return text(key, self.language, **values)

    def number(self, value: float | None, digits: int = 2) -> str:
        if value is None:
            return NO_VALUE
        shown = f"{value:.{digits}f}"
        return shown.replace(".", ",") if self.language == "nl" else shown

    def signed(self, value: float | None) -> str:
        return NO_VALUE if value is None else ("+" if value > 0 else "") + self.number(value)

    def p_value(self, value: float | None) -> str:
        if value is None:
            return NO_VALUE
        return "<" + self.number(0.001, 3) if value < 0.001 else self.number(value, 3)

    def mean_over(self, n: int, mean: float | None) -> str:
        """A mean is shown only over at least `threshold` answers."""
        return self.number(mean) if n >= self.cells.threshold else NO_VALUE

    def count_table(self, key: str, title: str, label_header: str, counts: Mapping[str, int],
                    label: Callable[[str], str], value_header: str) -> tuple[Table, list[charts.Bar]]:
        """A one-column breakdown with its total, and the bars for its chart."""
        names = list(counts)
        cells = self.cells.breakdown([counts[name] for name in names])
        rows = [(label(name), cell.shown) for name, cell in zip(names, cells)]
        rows.append((self.t("total"), self.cells.count(sum(counts.values())).shown))
        bars = [charts.Bar(label(name), cell.value, cell.shown) for name, cell in zip(names, cells)]
        return Table(key, title, (label_header, value_header), tuple(rows)), bars


def assemble_report(indicators: Indicators, *, project_name: str, period: str, language: str, threshold: int,
                    generated_at: str, vocabulary: Vocabulary, notices: Sequence[str] = (),
                    file_stem: str = "samen-report") -> Report:
    w = _Writer(language, Cells(threshold), vocabulary)
    reach = indicators.reach
    share = f"{reach.share_of_target:.0%}" if reach.adults >= threshold else NO_VALUE
    headline = (
        (w.t("headline_adults"), w.cells.count(reach.adults).shown, w.t("of_target", target=reach.target, share=share)),
        (w.t("headline_professionals"), w.cells.count(indicators.trained.professionals).shown, ""),
        (w.t("headline_sessions"), w.cells.count(indicators.sessions.sessions).shown, ""),
        (w.t("headline_referrals"), w.cells.count(indicators.referrals.total).shown, ""),
    )
    sections = (
        _reach_section(w, indicators),
        _trained_section(w, indicators),
        _sessions_section(w, indicators),
        _change_section(w, indicators),
        _referrals_section(w, indicators),
        _outreach_section(w, indicators),
    )
    notes = (
        w.t("privacy_note", threshold=threshold, below=threshold - 1),
        w.t("method_period"),
        w.t("method_scales"),
    )
    return Report(project_name, period, language, threshold, generated_at, headline, sections, tuple(notices), notes,
                  file_stem)


def _reach_section(w: _Writer, indicators: Indicators) -> Section:
    reach = indicators.reach
    adults = w.cells.count(reach.adults)
    share = f"{reach.share_of_target:.0%}" if adults.value is not None else NO_VALUE
    total_table = Table("reach_total", w.t("reach_total"), (w.t("adults"), w.t("target"), w.t("share")),
                        ((adults.shown, str(reach.target), share),))
    progress = charts.progress(adults.value or 0, reach.target, label=f"{adults.shown} / {reach.target} ({share})")
    city_label = lambda city: w.vocabulary.choice("city", city)  # noqa: E731
    city_table, city_bars = w.count_table("reach_by_city", w.t("reach_city"), w.t("city"), reach.adults_by_city,
                                          city_label, w.t("adults"))
    group_table, _ = w.count_table("reach_by_target_group", w.t("reach_group"), w.t("target_group"),
                                   reach.by_target_group, lambda g: w.vocabulary.choice("target_group", g), w.t("people"))
    priority = [(w.t(group), w.cells.count(n).shown) for group, n in reach.adults_priority.items()]
    priority_table = Table("reach_priority_groups", w.t("reach_priority"), (w.t("group"), w.t("adults")), tuple(priority),
                           note=w.t("reach_notes", refusals=w.cells.count(reach.refusals).shown,
                                    invalid=w.cells.count(reach.invalid_codes).shown))
    return Section("reach", w.t("reach"), w.t("reach_lead", target=reach.target), (
        Figure(total_table, progress),
        Figure(city_table, charts.horizontal_bars(city_bars, xlabel=w.t("adults"))),
        Figure(group_table),
        Figure(priority_table),
    ))


def _trained_section(w: _Writer, indicators: Indicators) -> Section:
    trained = indicators.trained
    sector_table, sector_bars = w.count_table(
        "professionals_by_sector", w.t("trained_sector"), w.t("sector"), trained.by_sector,
        lambda s: w.vocabulary.choice("sector", s), w.t("professionals"))
    city_table, _ = w.count_table("professionals_by_city", w.t("trained_city"), w.t("city"), trained.by_city,
                                  lambda c: w.vocabulary.choice("city", c), w.t("professionals"))
    return Section("trained", w.t("trained"), w.t("trained_lead"), (
        Figure(sector_table, charts.horizontal_bars(sector_bars, xlabel=w.t("professionals")) if sector_bars else None),
        Figure(city_table),
    ))


def _distribution_rows(w: _Writer, item: ItemSummary, categories: Sequence[str]) -> tuple[list[Cell], int]:
    counts = [item.distribution.get(category, 0) for category in categories]
    return w.cells.breakdown(counts), sum(counts)


def _sessions_section(w: _Writer, indicators: Indicators) -> Section:
    sessions = indicators.sessions
    by_type_rows = tuple(
        (w.vocabulary.choice("session_type", row.session_type), w.cells.count(row.sessions).shown,
         w.cells.count(row.responses).shown, w.mean_over(row.satisfaction_rated, row.mean_satisfaction))
        for row in sessions.by_type
    )
    type_table = Table("sessions_by_type", w.t("sessions_type"),
                       (w.t("session_type"), w.t("n_sessions"), w.t("responses"), w.t("mean_satisfaction")), by_type_rows)
    scores = ("1", "2", "3", "4", "5", NO_ANSWER)
    score_labels = [*scores[:-1], w.t("no_answer")]
    item_rows, distributions = [], []
    for item in sessions.items:
        cells, total = _distribution_rows(w, item, scores)
        item_rows.append((w.vocabulary.question(item.item), w.cells.count(item.rated).shown,
                          w.mean_over(item.rated, item.mean), *(cell.shown for cell in cells)))
        distributions.append(charts.Distribution(w.vocabulary.question(item.item), [c.value for c in cells], total))
    item_table = Table("satisfaction_items", w.t("satisfaction_items"),
                       (w.t("question"), w.t("rated"), w.t("mean"), *score_labels), tuple(item_rows),
                       note=_scale_note(w))
    chart = charts.stacked_distributions(distributions, score_labels, hidden_label=w.t("hidden"),
                                         xlabel=w.t("share_of_answers")) if sessions.responses else None
    recommend = sessions.recommend
    answers = w.vocabulary.values(RECOMMEND_ITEM) or tuple(recommend.distribution)
    recommend_cells = w.cells.breakdown([recommend.distribution.get(answer, 0) for answer in answers])
    recommend_table = Table("recommend", w.t("recommend_title"), (w.t("answer"), w.t("responses")), tuple(
        (w.vocabulary.choice(RECOMMEND_ITEM, answer), cell.shown) for answer, cell in zip(answers, recommend_cells)))
    lead = w.t("sessions_lead", responses=w.cells.count(sessions.responses).shown,
               sessions=w.cells.count(sessions.sessions).shown)
    return Section("sessions", w.t("sessions"), lead, (
        Figure(type_table), Figure(item_table, chart), Figure(recommend_table),
    ))


def _scale_note(w: _Writer) -> str:
    """What 1 and 5 mean: satisfaction has its own answers, the other questions ask for agreement."""
    choice = w.vocabulary.choice
    return (f"{w.vocabulary.question('satisfaction')}: 1 = {choice('satisfaction', '1')}, 5 = {choice('satisfaction', '5')}. "
            f"{w.t('other_questions')}: 1 = {choice('useful', '1')}, 5 = {choice('useful', '5')}.")


def _change_figures(w: _Writer, change: PrePost) -> tuple[Figure, Figure]:
    rows, dumbbells = [], []
    for item in change.changes:
        enough = item.pairs >= w.cells.threshold
        rows.append(_change_row(w, item, enough))
        low, high = SCALE_RANGES.get(item.scale, DEFAULT_RANGE)
        dumbbells.append(charts.Dumbbell(w.t(item.scale), item.pre_mean if enough else None,
                                         item.post_mean if enough else None, low, high))
    table = Table(f"change_{change.group}", w.t(f"change_{change.group}"),
                  (w.t("scale"), w.t("pairs"), w.t("before"), w.t("after"), w.t("mean_change"), w.t("ci"), w.t("p_value")),
                  tuple(rows))
    chart = charts.dumbbells(dumbbells, pre_label=w.t("before"), post_label=w.t("after"), hidden_text=w.t("too_few_pairs"))
    statuses = ("paired", "pre_only", "post_only", "ambiguous", "invalid")
    counts = [change.paired, change.pre_only, change.post_only, change.ambiguous, change.invalid]
    pairing = Table(f"pairing_{change.group}", w.t(f"pairing_{change.group}"), (w.t("status"), w.t("codes")),
                    tuple((w.t(status), w.cells.count(n).shown) for status, n in zip(statuses, counts)))
    return Figure(table, chart), Figure(pairing)


def _change_row(w: _Writer, item: Change, enough: bool) -> tuple[str, ...]:
    if not enough:
        return (w.t(item.scale), w.cells.count(item.pairs).shown, *([NO_VALUE] * 5))
    ci = f"{w.signed(item.ci_low)} \u2026 {w.signed(item.ci_high)}" if item.ci_low is not None else NO_VALUE
    return (w.t(item.scale), str(item.pairs), w.number(item.pre_mean), w.number(item.post_mean),
            w.signed(item.mean_change), ci, w.p_value(item.p_value))


def _change_section(w: _Writer, indicators: Indicators) -> Section:
    return Section("change", w.t("change"), w.t("change_lead"),
                   (*_change_figures(w, indicators.participants), *_change_figures(w, indicators.professionals)))


def _referrals_section(w: _Writer, indicators: Indicators) -> Section:
    referrals = indicators.referrals
    types = [value for value in w.vocabulary.values("referrals_made") if value in referrals.by_type] or sorted(referrals.by_type)
    label = lambda partner: w.vocabulary.choice("referrals_made", partner)  # noqa: E731
    cells = w.cells.breakdown([referrals.by_type[t] for t in types])
    shared = [w.cells.count(referrals.with_consent_to_share.get(t, 0)).shown for t in types]
    type_rows = [(label(t), cell.shown, share) for t, cell, share in zip(types, cells, shared)]
    type_rows.append((w.t("total"), w.cells.count(referrals.total).shown,
                      w.cells.count(sum(referrals.with_consent_to_share.values())).shown))
    type_table = Table("referrals_by_type", w.t("referrals_type"), (w.t("organisation"), w.t("n_referrals"),
                       w.t("consent_share")), tuple(type_rows))
    bars = [charts.Bar(label(t), cell.value, cell.shown) for t, cell in zip(types, cells)]
    city_rows = []
    for t in types:
        city_cells = w.cells.breakdown([referrals.by_type_and_city.get((t, city), 0) for city in CITIES])
        city_rows.append((label(t), *(cell.shown for cell in city_cells)))
    city_table = Table("referrals_by_type_and_city", w.t("referrals_city"),
                       (w.t("organisation"), *(w.vocabulary.choice("city", city) for city in CITIES)), tuple(city_rows))
    return Section("referrals", w.t("referrals"), w.t("referrals_lead"), (
        Figure(type_table, charts.horizontal_bars(bars, xlabel=w.t("n_referrals")) if bars else None),
        Figure(city_table),
    ))


def _outreach_section(w: _Writer, indicators: Indicators) -> Section:
    outreach = indicators.outreach
    columns = ("activities", *OUTREACH_COUNTS)
    cities = list(outreach.by_city)
    per_column = {column: w.cells.breakdown([outreach.by_city[city][column] for city in cities]) for column in columns}
    rows = [(w.vocabulary.choice("city", city), *(per_column[column][index].shown for column in columns))
            for index, city in enumerate(cities)]
    rows.append((w.t("total"), w.cells.count(outreach.activities).shown,
                 *(w.cells.count(outreach.totals[count]).shown for count in OUTREACH_COUNTS)))
    city_table = Table("outreach_by_city", w.t("outreach_city"), (w.t("city"), *(w.t(c) for c in columns)), tuple(rows))
    bars = [charts.Bar(w.vocabulary.choice("city", city), cell.value, cell.shown)
            for city, cell in zip(cities, per_column["reached_migrant_adults"])]
    type_table, _ = w.count_table("outreach_by_activity_type", w.t("outreach_type"), w.t("activity_type"),
                                  outreach.activities_by_type, lambda a: w.vocabulary.choice("activity_type", a),
                                  w.t("activities"))
    lead = w.t("outreach_lead", activities=w.cells.count(outreach.activities).shown)
    return Section("outreach", w.t("outreach"), lead, (
        Figure(city_table, charts.horizontal_bars(bars, xlabel=w.t("reached_migrant_adults"))),
        Figure(type_table),
    ))
