"""The console's SVG charts: one bar per count, scaled to the largest, labels escaped."""

from __future__ import annotations

import re
from datetime import date, timedelta

from lxml import etree

from samen.console.charts import daily_columns, labelled_bars

SVG = "{http://www.w3.org/2000/svg}"



def test_daily_columns_have_one_bar_per_day_scaled_to_the_busiest_day():
    first = date(2026, 11, 1)
    counts = [(first + timedelta(days=offset), count) for offset, count in enumerate([0, 2, 4, 1])]
    svg = etree.fromstring(str(daily_columns(counts, "Per day")).encode())
    rects = list(svg.iter(f"{SVG}rect"))
    assert [rect.findtext(f"{SVG}title") for rect in rects] == ["2026-11-01: 0", "2026-11-02: 2", "2026-11-03: 4", "2026-11-04: 1"]
    heights = [float(rect.get("height")) for rect in rects]
    assert heights[0] == 0 and heights[2] == max(heights) and abs(heights[1] - heights[2] / 2) < 0.2
    assert svg.get("role") == "img" and svg.findtext(f"{SVG}title") == "Per day"


def test_labelled_bars_put_the_largest_first_and_escape_labels():
    hostile = '<script>alert(1)</script>"onerror='
    markup = str(labelled_bars([("Utrecht", 1), (hostile, 3), ("Rotterdam", 2)], "Per city"))
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    svg = etree.fromstring(markup.encode())
    titles = [rect.findtext(f"{SVG}title") for rect in svg.iter(f"{SVG}rect")]
    assert titles == [f"{hostile}: 3", "Rotterdam: 2", "Utrecht: 1"]
    widths = [float(rect.get("width")) for rect in svg.iter(f"{SVG}rect")]
    assert widths[0] > widths[1] > widths[2] > 0
    assert not re.search(r'\sstyle="', markup)  # the CSP forbids inline style
