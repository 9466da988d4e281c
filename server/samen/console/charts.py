"""Small server-rendered SVG charts (no script, no CDN). Pure functions: counts in, markup out.

Every label is escaped: city names come from submissions, which anyone with a
phone can write. Colours are presentation attributes, not style attributes,
because the Content-Security-Policy forbids inline style.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

ACCENT = "#7b2d8e"
AXIS = "#6b6470"


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def daily_columns(counts: Sequence[tuple[date, int]], title: str, width: int = 480, height: int = 160) -> Markup:
    """One column per day, oldest left; the axis names the first, middle and last day."""
    top, bottom, left = 16, 28, 32
    plot_height = height - top - bottom
    peak = max((count for _, count in counts), default=0) or 1
    slot = (width - left) / max(len(counts), 1)
    body = [f'<line x1="{left}" y1="{top + plot_height}" x2="{width}" y2="{top + plot_height}" stroke="{AXIS}" stroke-width="1"/>',
            f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11" fill="{AXIS}">{peak}</text>',
            f'<text x="{left - 6}" y="{top + plot_height}" text-anchor="end" font-size="11" fill="{AXIS}">0</text>']
    for index, (day, count) in enumerate(counts):
        bar_height = plot_height * count / peak
        x = left + index * slot + slot * 0.15
        body.append(f'<rect x="{x:.1f}" y="{top + plot_height - bar_height:.1f}" width="{slot * 0.7:.1f}" '
                    f'height="{bar_height:.1f}" fill="{ACCENT}" rx="1"><title>{day.isoformat()}: {count}</title></rect>')
        anchors = {0: "start", len(counts) // 2: "middle", len(counts) - 1: "end"}
        if index in anchors:
            body.append(f'<text x="{x + slot * 0.35:.1f}" y="{height - 8}" text-anchor="{anchors[index]}" font-size="11" '
                        f'fill="{AXIS}">{day.strftime("%d-%m")}</text>')
    return _svg(width, height, title, body)


def labelled_bars(counts: Sequence[tuple[str, int]], title: str, width: int = 480) -> Markup:
    """One horizontal bar per label, largest first, with the count at its end."""
    ordered = sorted(counts, key=lambda item: (-item[1], item[0]))
    row, label_width = 26, 150
    height = max(len(ordered), 1) * row + 8
    peak = max((count for _, count in ordered), default=0) or 1
    body = []
    for index, (label, count) in enumerate(ordered):
        y = 4 + index * row
        bar_width = (width - label_width - 48) * count / peak
        shown = label if len(label) <= 22 else label[:21] + "…"
        body.append(f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" font-size="13" fill="#2b2530">'
                    f'{escape(shown)}</text>')
        body.append(f'<rect x="{label_width}" y="{y + 3}" width="{bar_width:.1f}" height="{row - 8}" fill="{ACCENT}" rx="2">'
                    f'<title>{escape(label)}: {count}</title></rect>')
        body.append(f'<text x="{label_width + bar_width + 6:.1f}" y="{y + 16}" font-size="13" fill="#2b2530">{count}</text>')
    return _svg(width, height, title, body)
