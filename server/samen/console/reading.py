"""Submissions as the console shows them: read through `samen.decrypting`, laid out by `samen.rows`.

Plaintext exists only while a page is rendered; the keys come from this
browser session's unlock (`samen.keyring.unlocked_keys`) and nothing read here
is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from samen.blobs import BlobStore
from samen.decrypting import KEY_LOCKED, KeyChain, ReadableSubmission, read_submission
from samen.export_service import form_schema
from samen.exports.cells import choice_labels, labelled
from samen.keyring import unlocked_keys
from samen.models import Form, Submission, SubmissionVersion
from samen.problems import NotFoundError
from samen.rows import Column, RowOptions, SubmissionMeta, Table, TableLayout, submission_rows, table_layout
from samen.schema import FormSchema

CITY_FIELD = "city"
META_GROUP = "meta"  # instanceID, instanceName, deprecatedID: shown from the submission row instead


def project_keychain(session: Session, project_id: int, console_token: str) -> KeyChain:
    return KeyChain(unlocked_keys(session, project_id, console_token).values())


def form_layout(session: Session, form: Form) -> TableLayout | None:
    """All published versions merged (as exports lay them out); None before the first publish."""
    try:
        return table_layout(form_schema(session, form), RowOptions())
    except NotFoundError:
        return None


def form_language(schema: FormSchema, locale: str) -> str | None:
    """The form's label language for the console's locale, e.g. "Nederlands (nl)" for nl; None: the default."""
    return next((language for language in schema.languages if language.endswith(f"({locale})")), None)


@dataclass(frozen=True)
class ShownCell:
    column: Column
    value: str  # as submitted
    text: str  # as shown: choice values replaced by their labels


@dataclass(frozen=True, repr=False)
class ShownSubmission:
    """One submission as a page shows it; `problem` says why there are no answers (e.g. the key is locked)."""

    submission: Submission
    version: SubmissionVersion
    readable: ReadableSubmission
    answers: tuple[ShownCell, ...]  # the root table's questions (metadata columns left out)
    repeats: tuple[tuple[Table, tuple[tuple[ShownCell, ...], ...]], ...]

    @property
    def problem(self) -> str | None:
        return self.readable.status if self.readable.xml is None else None

    @property
    def locked(self) -> bool:
        return self.readable.status == KEY_LOCKED

    def answer(self, field_name: str) -> ShownCell | None:
        return next((cell for cell in self.answers if cell.column.field is not None
                     and cell.column.field.name == field_name and cell.value), None)


class SubmissionReader:
    """Shows submissions of one form: decrypts with the keys given, labels values in one language."""

    def __init__(self, session: Session, blobs: BlobStore, layout: TableLayout, keys: KeyChain, locale: str) -> None:
        self._session = session
        self._blobs = blobs
        self._layout = layout
        self._keys = keys
        self._language = form_language(layout.schema, locale)
        self._labels = {(table.path, column.name): choice_labels(layout, column, self._language)
                        for table in layout.tables for column in table.columns}
        self.decrypted = 0  # how many encrypted submissions were read: callers record it in the audit log

    @property
    def layout(self) -> TableLayout:
        return self._layout

    def header(self, column: Column) -> str:
        return self._layout.schema.text(column.labels, self._language) or column.name

    def show(self, submission: Submission, version: SubmissionVersion, *, with_media: bool = False) -> ShownSubmission:
        readable = read_submission(self._session, self._blobs, version, self._keys, with_media=with_media)
        if version.encrypted and readable.xml is not None:
            self.decrypted += 1
        meta = SubmissionMeta(instance_id=submission.instance_id, submission_date=submission.created_at)
        rows = submission_rows(self._layout, readable.xml, meta)
        tables = []
        for table in self._layout.tables:
            shown_rows = tuple(self._cells(table, row) for row in rows.tables[table.path])
            tables.append((table, shown_rows))
        answers = tables[0][1][0] if readable.xml is not None else ()
        return ShownSubmission(submission, version, readable, answers, tuple(tables[1:]))

    def show_all(self, pairs: Iterable[tuple[Submission, SubmissionVersion]]) -> Iterator[ShownSubmission]:
        for submission, version in pairs:
            yield self.show(submission, version)

    def _cells(self, table: Table, row: list) -> tuple[ShownCell, ...]:
        cells = []
        for column, value in zip(table.columns, row):
            if column.field is None or column.field.path[0] == META_GROUP:
                continue  # metadata: the page shows it from the submission itself
            labels = self._labels[(table.path, column.name)]
            value = "" if value is None else str(value)
            cells.append(ShownCell(column, value, labelled(value, labels, column.type) if labels and value else value))
        return tuple(cells)
