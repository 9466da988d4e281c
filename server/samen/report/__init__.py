"""SAMEN's M&E report: indicators over decrypted submissions, as HTML, PDF and CSV.

Layers: `pairing` and `indicators` compute exact numbers from plain rows;
`content` suppresses small cells and words them (`texts`); `charts` draws;
`render` writes HTML, PDF and CSV; `build` is the only part that reads the
database (and writes the audit event). Callers use `build_report` and
`write_report`.
"""

from samen.report.build import DEFAULT_THRESHOLD, Period, build_report, write_report
from samen.report.content import Report

__all__ = ["DEFAULT_THRESHOLD", "Period", "Report", "build_report", "write_report"]
