"""The report's charts, drawn with matplotlib (Agg, no display) and returned as SVG text.

Every chart is readable printed in greyscale: series differ by lightness and
by hatching or marker shape, never by colour alone. Charts receive numbers
after small-cell suppression: a hidden value is `None` and is drawn as a
labelled gap (or folded into a "hidden" segment), so a chart never shows what
the table beside it hides.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

# Lightness steps that stay distinct in greyscale, each with its own hatch.
INK = "#1f2a44"
SHADES = ("#1f2a44", "#4f6d9a", "#8fa9cc", "#c9d6e8", "#eef2f8", "#ffffff")
HATCHES = ("", "//", "..", "xx", "\\\\", "oo")
HIDDEN_SHADE, HIDDEN_HATCH = "#d9d9d9", "////"
FONT = "DejaVu Sans"

plt.rcParams.update({
    "font.family": FONT,
    "font.size": 9,
    "svg.fonttype": "none",  # text stays text: smaller files, selectable in the PDF
    "axes.edgecolor": "#666666",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "hatch.linewidth": 0.6,
})


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: hidden by small-cell suppression
    shown: str  # the value as the table shows it ("12", "<5", "x")


def _wrapped(label: str, width: int = 30) -> str:
    """Long category labels on two or more lines, so they do not squeeze the plot."""
    return "\n".join(textwrap.wrap(label, width)) or label


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})  # no date: same input, same bytes
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def horizontal_bars(bars: Sequence[Bar], *, xlabel: str, reference: tuple[float, str] | None = None) -> str:
    """One bar per category, its value written at its end; an optional dashed reference line (a target)."""
    height = 0.5 + 0.36 * sum(1 + _wrapped(bar.label).count("\n") * 0.6 for bar in bars)
    figure, axes = plt.subplots(figsize=(4.4, height))
    positions = range(len(bars))
    values = [bar.value or 0 for bar in bars]
    axes.barh(positions, values, color=SHADES[1], edgecolor=INK, hatch=HATCHES[1], height=0.62)
    top = max(values + [reference[0] if reference else 0, 1])
    for position, bar in zip(positions, bars):
        axes.text((bar.value or 0) + top * 0.01, position, bar.shown, va="center", fontsize=8.5,
                  color=INK if bar.value is not None else "#555555", style="normal" if bar.value is not None else "italic")
    if reference:
        axes.axvline(reference[0], color=INK, linestyle="--", linewidth=1)
        axes.text(reference[0], len(bars) - 0.45, f" {reference[1]}", fontsize=8, va="bottom", color=INK)
    axes.set_yticks(list(positions), [_wrapped(bar.label) for bar in bars])
    axes.invert_yaxis()
    axes.set_xlim(0, top * 1.12)
    axes.set_xlabel(xlabel)
    return _svg(figure)


def progress(value: int, target: int, *, label: str) -> str:
    """A single bar filled to `value` against `target`, with the share written on it."""
    figure, axes = plt.subplots(figsize=(4.4, 0.75))
    axes.barh([0], [target], color="white", edgecolor=INK, height=0.6)
    axes.barh([0], [min(value, target)], color=SHADES[1], edgecolor=INK, hatch=HATCHES[1], height=0.6)
    axes.text(target, 0, f"  {label}", va="center", fontsize=8.5, color=INK)
    axes.set_xlim(0, target * 1.35)
    axes.set_yticks([])
    axes.spines["left"].set_visible(False)
    return _svg(figure)


@dataclass(frozen=True)
class Distribution:
    label: str  # the question
    counts: Sequence[int | None]  # per answer category, None where hidden
    total: int  # all answers, hidden ones included


def stacked_distributions(rows: Sequence[Distribution], categories: Sequence[str], *, hidden_label: str,
                          xlabel: str) -> str:
    """100% stacked bars, one per question; hidden cells are pooled into one hatched grey segment.

    The pooled segment is the total minus what is shown, which the table beside
    the chart gives away too; suppression hides at least two cells, so the pool
    never reveals a single one.
    """
    figure, axes = plt.subplots(figsize=(6.4, 0.6 + 0.5 * max(len(rows), 1)))
    for position, row in enumerate(rows):
        left = 0.0
        for index, count in enumerate(row.counts):
            if not count or not row.total:
                continue
            width = count / row.total * 100
            axes.barh(position, width, left=left, color=SHADES[index % len(SHADES)], edgecolor=INK,
                      hatch=HATCHES[index % len(HATCHES)], height=0.62, linewidth=0.6)
            if width >= 7:
                axes.text(left + width / 2, position, f"{width:.0f}%", ha="center", va="center", fontsize=7.5,
                          color=INK, bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
            left += width
        if row.total and any(count is None for count in row.counts):
            axes.barh(position, 100 - left, left=left, color=HIDDEN_SHADE, edgecolor=INK,
                      hatch=HIDDEN_HATCH, height=0.62, linewidth=0.6)
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=SHADES[i % len(SHADES)], edgecolor=INK,
                             hatch=HATCHES[i % len(HATCHES)]) for i in range(len(categories))]
    handles.append(plt.Rectangle((0, 0), 1, 1, facecolor=HIDDEN_SHADE, edgecolor=INK, hatch=HIDDEN_HATCH))
    axes.legend(handles, [*categories, hidden_label], loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.5 / max(len(rows), 1)),
                ncol=len(categories) + 1, frameon=False, fontsize=7.5, handlelength=1.6, columnspacing=1.0)
    axes.set_yticks(range(len(rows)), [_wrapped(row.label, 40) for row in rows])
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel(xlabel)
    return _svg(figure)


@dataclass(frozen=True)
class Dumbbell:
    label: str  # the scale
    pre: float | None  # None: too few pairs to show
    post: float | None
    low: float  # the scale's range, for its own axis
    high: float


_PRE_MARKER = {"marker": "o", "markersize": 8, "markerfacecolor": "white", "markeredgecolor": INK,
               "markeredgewidth": 1.5, "linestyle": "none"}
_POST_MARKER = {"marker": "s", "markersize": 8, "color": INK, "linestyle": "none"}


def dumbbells(rows: Sequence[Dumbbell], *, pre_label: str, post_label: str, hidden_text: str) -> str:
    """Mean before (open circle) and after (filled square) per scale, each scale on its own axis."""
    figure, axes_list = plt.subplots(len(rows), 1, figsize=(5.0, 0.2 + 0.8 * len(rows)), squeeze=False)
    for axes, row in zip((axes[0] for axes in axes_list), rows):
        axes.set_xlim(row.low, row.high)
        axes.set_ylim(-0.6, 0.6)
        axes.set_yticks([0], [_wrapped(row.label)])
        axes.spines["left"].set_visible(False)
        axes.tick_params(axis="y", length=0)
        axes.grid(axis="x", color="#dddddd", linewidth=0.6)
        axes.set_axisbelow(True)
        if row.pre is None or row.post is None:
            axes.text((row.low + row.high) / 2, 0, hidden_text, ha="center", va="center", style="italic", color="#555555")
            continue
        axes.annotate("", xy=(row.post, 0), xytext=(row.pre, 0),
                      arrowprops={"arrowstyle": "-|>", "color": INK, "linewidth": 1.4, "shrinkA": 5, "shrinkB": 6})
        axes.plot([row.pre], [0], **_PRE_MARKER)
        axes.plot([row.post], [0], **_POST_MARKER)
    legend = [Line2D([], [], **_PRE_MARKER), Line2D([], [], **_POST_MARKER)]
    axes_list[0][0].legend(legend, [pre_label, post_label], loc="lower right", bbox_to_anchor=(1.0, 0.9), ncol=2,
                           frameon=False, fontsize=8, numpoints=1)
    figure.subplots_adjust(hspace=0.9)
    return _svg(figure)
