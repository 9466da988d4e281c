"""The report's I/O shell: stored submissions → plaintext rows → indicators → a `Report` → files.

    report = build_report(session, blobs, project_id, keys, Period(date(2026, 1, 1), None), "nl", 5,
                          actor_id=user.id)
    paths = write_report(report, Path("exports"))

Submissions are read through `export_service.read_form_submissions` (and so
through `decrypting`), one at a time; each becomes a plain row dict of field
name → value and only the rows of the period are kept, in memory, for the
length of the call. Nothing decrypted is written except the report files the
caller asked for, which hold aggregates only. Each report writes one
`report.generate` audit event and, per form, one `submission.decrypt` event.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy.orm import Session

from samen import audit
from samen.blobs import BlobStore
from samen.crypto.keys import RsaPrivateKey
from samen.decrypting import KeyChain, record_decryption
from samen.export_service import form_schema, read_form_submissions, submissions_condition
from samen.exports import atomic_output
from samen.queries import find_form, get_project
from samen.report.content import Report, Vocabulary, assemble_report
from samen.report.indicators import (
    ACTIVITY, FEEDBACK, FORM_IDS, INTAKE, PREPOST_PARTICIPANT, PREPOST_PROFESSIONAL, compute_indicators,
)
from samen.report.render import report_files
from samen.report.texts import LANGUAGES, text
from samen.rows import RowOptions, submission_rows, table_layout
from samen.schema import FormSchema

DEFAULT_THRESHOLD = 5
# The date each form was filled in (forms are filled offline and may reach the server days later).
DATE_FIELDS = {
    INTAKE: "intake_date",
    FEEDBACK: "session_date",
    PREPOST_PARTICIPANT: "response_date",
    PREPOST_PROFESSIONAL: "response_date",
    ACTIVITY: "activity_date",
}


@dataclass(frozen=True)
class Period:
    """Reporting period by the date a form was filled in; both ends inclusive, None for open."""

    start: date | None = None
    end: date | None = None

    def contains(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def describe(self, language: str) -> str:
        if self.start is None and self.end is None:
            return text("all_time", language)
        parts = []
        if self.start:
            parts.append(f"{text('from', language)} {self.start.isoformat()}")
        if self.end:
            parts.append(f"{text('until', language)} {self.end.isoformat()}")
        return " ".join(parts)

    @property
    def slug(self) -> str:
        return f"{self.start.isoformat() if self.start else 'start'}_{self.end.isoformat() if self.end else 'now'}"


def _language_key(schema: FormSchema, language: str) -> str | None:
    """The form's name for a language code: 'Nederlands (nl)' for 'nl'."""
    return next((name for name in schema.languages if name.endswith(f"({language})")), None)


def _add_vocabulary(schema: FormSchema, language: str, questions: dict, choices: dict) -> None:
    key = _language_key(schema, language)
    for item in schema.fields:
        if item.kind != "field" or item.name in questions:
            continue
        questions[item.name] = schema.text(item.labels, key) or item.name
        if item.choices:
            choices[item.name] = {choice.value: schema.text(choice.labels, key) or choice.value for choice in item.choices}


def _row_date(value: object, received: datetime) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return received.date()


def _keychain(keys: KeyChain | Mapping[int, RsaPrivateKey] | Iterable[RsaPrivateKey]) -> KeyChain:
    if isinstance(keys, KeyChain):
        return keys
    return KeyChain(keys.values() if isinstance(keys, Mapping) else keys)


def build_report(session: Session, blobs: BlobStore, project_id: int,
                 keys: KeyChain | Mapping[int, RsaPrivateKey], period: Period = Period(), lang: str = "en",
                 threshold: int = DEFAULT_THRESHOLD, *, actor_id: int | None = None,
                 now: datetime | None = None) -> Report:
    """Read the project's SAMEN forms with the unlocked keys and assemble the report (audited)."""
    if lang not in LANGUAGES:
        raise ValueError(f"The report is written in {' or '.join(LANGUAGES)}, not '{lang}'.")
    if threshold < 1:
        raise ValueError("The small-cell threshold must be at least 1.")
    project = get_project(session, project_id)
    keychain = _keychain(keys)
    questions: dict[str, str] = {}
    choices: dict[str, dict[str, str]] = {}
    rows_by_form: dict[str, list[dict]] = {}
    notices: list[str] = []
    counted = 0
    for form_id in FORM_IDS:
        form = find_form(session, project_id, form_id)
        if form is None:
            continue
        schema = form_schema(session, form)
        _add_vocabulary(schema, lang, questions, choices)
        layout = table_layout(schema, RowOptions(group_paths=False, removed_fields=True))
        names = [column.name for column in layout.tables[0].columns]
        dated: list[tuple[date, int, dict]] = []
        unreadable: Counter[str] = Counter()
        decrypted = 0
        for position, item in enumerate(read_form_submissions(session, blobs, submissions_condition(form), keychain)):
            decrypted += item.decrypted
            rows = submission_rows(layout, item.readable.xml, item.meta)
            if rows.problem is not None:
                unreadable[rows.problem] += 1
                continue
            row = dict(zip(names, rows.root))
            day = _row_date(row.get(DATE_FIELDS.get(form_id, "")), item.meta.submission_date)
            if period.contains(day):
                dated.append((day, position, row))
        record_decryption(session, actor_id=actor_id, project_id=project_id, xml_form_id=form_id, count=decrypted,
                          purpose="report")
        rows_by_form[form_id] = [row for _, _, row in sorted(dated, key=lambda entry: entry[:2])]
        counted += len(dated)
        notices += [text("unreadable", lang, count=count, form=schema.title, reason=reason)
                    for reason, count in sorted(unreadable.items())]
    moment = now or datetime.now(timezone.utc)
    report = assemble_report(
        compute_indicators(rows_by_form), project_name=project.name, period=period.describe(lang), language=lang,
        threshold=threshold, generated_at=moment.strftime("%Y-%m-%d %H:%M UTC"),
        vocabulary=Vocabulary(questions, choices), notices=notices,
        file_stem=f"samen-report-project{project_id}-{period.slug}-{lang}",
    )
    audit.record(session, "report.generate", actor_id=actor_id, project_id=project_id, language=lang,
                 threshold=threshold, periodStart=period.start, periodEnd=period.end, submissions=counted)
    return report


def write_report(report: Report, out_dir: Path) -> list[Path]:
    """Write the HTML, the PDF and one CSV per table into `out_dir` (each file complete or absent)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in report_files(report, report.file_stem).items():
        path = out_dir / re.sub(r"[^\w.-]", "_", name)
        with atomic_output(path) as out:
            out.write(data)
        paths.append(path)
    return paths
