"""A `Report` as one self-contained HTML page, as PDF (WeasyPrint), and as one CSV per table.

The HTML carries everything inline (styles, charts as SVG data URIs): it can
be mailed or archived and opens the same offline. The PDF is rendered from
that very HTML, so both always agree.
"""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates" / "report"

_environment = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html"]),
                           trim_blocks=True, lstrip_blocks=True)
_environment.filters["svg_data_uri"] = lambda svg: "data:image/svg+xml;base64," + base64.b64encode(
    svg.encode("utf-8")).decode("ascii")

WIDE_TABLE_COLUMNS = 4  # wider tables go under their chart instead of beside it


def render_html(report) -> str:
    return _environment.get_template("report.html").render(report=report, wide=WIDE_TABLE_COLUMNS)


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: it loads Pango, which only this needs

    return HTML(string=html).write_pdf()


def table_csv(table) -> bytes:
    """The table as shown (suppressed cells included), UTF-8 with a BOM so spreadsheet programs read it right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.header)
    writer.writerows(table.rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def report_files(report, stem: str) -> dict[str, bytes]:
    """Every file of the report by name: `<stem>.html`, `<stem>.pdf` and `<stem>-<table>.csv`."""
    html = render_html(report)
    files = {f"{stem}.html": html.encode("utf-8"), f"{stem}.pdf": render_pdf(html)}
    files.update({f"{stem}-{table.key}.csv": table_csv(table) for table in report.tables})
    return files
