"""The submissions table (paging, filters) and one submission's page (answers, media, review, comments)."""

from __future__ import annotations

import mimetypes
from itertools import islice
from urllib.parse import quote, urlencode

from flask import Response, redirect, request, url_for

from samen import audit
from samen.app import services
from samen.console import console
from samen.console.queries import (
    PAGE_SIZE,
    REVIEW_STATES,
    SubmissionFilters,
    app_user_names,
    comments,
    edit_count,
    filtered_submissions,
    get_submission,
    user_names,
)
from samen.console.exports import export_choices
from samen.console.reading import CITY_FIELD, ShownSubmission, SubmissionReader, form_layout, project_keychain
from samen.console.unlock import key_status
from samen.console.web import _, actor, console_token, current_locale, day_range, page, readable_form
from samen.decrypting import record_decryption
from samen.models import Comment, utcnow
from samen.problems import MissingParameterError, NotFoundError

# Shown inline only if the browser cannot be talked into running them (no SVG, no HTML).
INLINE_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
TABLE_COLUMNS = 6


def _filters() -> SubmissionFilters:
    """From the query string; dates are days in the Netherlands, `to` inclusive."""
    since, until = day_range(request.args.get("from"), request.args.get("to"))
    review = request.args.get("review") if request.args.get("review") in REVIEW_STATES else None
    return SubmissionFilters(since=since, until=until, review_state=review,
                             city=(request.args.get("city") or "").strip() or None)


def _city_matches(shown: ShownSubmission, city: str) -> bool:
    cell = shown.answer(CITY_FIELD)
    wanted = city.casefold()
    return cell is not None and wanted in (cell.value.casefold(), cell.text.casefold())


def _reader(db, project_id: int, form) -> SubmissionReader | None:
    layout = form_layout(db, form)
    if layout is None:
        return None
    return SubmissionReader(db, services().blobs, layout, project_keychain(db, project_id, console_token()), current_locale())


@console.route("/projects/<int:project_id>/forms/<xml_form_id>/submissions")
def submission_table(project_id: int, xml_form_id: str):
    filters = _filters()
    page_number = max(request.args.get("page", 1, type=int) or 1, 1)
    offset = (page_number - 1) * PAGE_SIZE
    with services().database.session() as db:
        project, form = readable_form(db, project_id, xml_form_id)
        actor().require("submission.read", project_id, form.id)
        reader = _reader(db, project_id, form)
        rows: list[ShownSubmission] = []
        if reader is not None:
            pairs = filtered_submissions(db, form.id, filters)
            if filters.city is None:  # page in the database; a city filter has to read every row
                shown = reader.show_all(islice(pairs, offset, offset + PAGE_SIZE + 1))
            else:
                shown = islice((s for s in reader.show_all(pairs) if _city_matches(s, filters.city)),
                               offset, offset + PAGE_SIZE + 1)
            rows = list(shown)
            record_decryption(db, actor_id=actor().id, project_id=project_id, xml_form_id=form.xml_form_id,
                              count=reader.decrypted, purpose="console.table")
        has_next = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        columns = _columns_with_answers(rows)
        return page("submissions.html", project=project, form=form, rows=rows, columns=columns, reader=reader,
                    filters=request.args, review_states=REVIEW_STATES, page_number=page_number, has_next=has_next, page_url=_page_url,
                    submitters=app_user_names(db, (row.submission.submitter_id for row in rows)),
                    key_status=key_status(db, project_id), **(export_choices(reader.layout) if reader else {}))


def _page_url(number: int) -> str:
    return "?" + urlencode({**request.args.to_dict(), "page": number})


def _columns_with_answers(rows: list[ShownSubmission]) -> list[int]:
    """Positions of the first question columns that hold an answer on this page (notes and skipped questions left out)."""
    if not rows:
        return []
    width = max(len(row.answers) for row in rows)
    filled = [index for index in range(width) if any(index < len(row.answers) and row.answers[index].text for row in rows)]
    city = next((index for row in rows for index, cell in enumerate(row.answers)
                 if cell.column.field is not None and cell.column.field.name == CITY_FIELD), None)
    if city in filled:  # the city first: it is what coordinators sort their work by
        filled.remove(city)
        filled.insert(0, city)
    return filled[:TABLE_COLUMNS]


def _submission(db, project_id: int, xml_form_id: str, instance_id: str, *, verb: str):
    project, form = readable_form(db, project_id, xml_form_id)
    actor().require(verb, project_id, form.id)
    found = get_submission(db, form.id, instance_id)
    if found is None:
        raise NotFoundError(_("There is no such submission."))
    return project, form, found


@console.route("/projects/<int:project_id>/forms/<xml_form_id>/submissions/<instance_id>")
def submission_page(project_id: int, xml_form_id: str, instance_id: str):
    with services().database.session() as db:
        project, form, (submission, version) = _submission(db, project_id, xml_form_id, instance_id, verb="submission.read")
        reader = _reader(db, project_id, form)
        shown = reader.show(submission, version, with_media=True)
        record_decryption(db, actor_id=actor().id, project_id=project_id, xml_form_id=form.xml_form_id,
                          count=reader.decrypted, purpose="console.submission")
        notes = comments(db, submission.id)
        media = sorted(shown.readable.media)
        return page("submission.html", project=project, form=form, shown=shown, reader=reader, media=media,
                    inline_media={name for name in media if mimetypes.guess_type(name)[0] in INLINE_MEDIA_TYPES},
                    comments=notes, authors=user_names(db, (note.actor_id for note in notes)),
                    submitter=app_user_names(db, [submission.submitter_id]).get(submission.submitter_id),
                    edits=edit_count(db, submission.id), review_states=REVIEW_STATES, key_status=key_status(db, project_id))


@console.route("/projects/<int:project_id>/forms/<xml_form_id>/submissions/<instance_id>/media/<name>")
def submission_media(project_id: int, xml_form_id: str, instance_id: str, name: str):
    with services().database.session() as db:
        _project, form, (submission, version) = _submission(db, project_id, xml_form_id, instance_id, verb="submission.read")
        shown = _reader(db, project_id, form).show(submission, version, with_media=True)
        if name not in shown.readable.media:
            raise NotFoundError(_("This file is not available: it has not arrived, or the key is locked."))
        if version.encrypted:
            record_decryption(db, actor_id=actor().id, project_id=project_id, xml_form_id=form.xml_form_id,
                              count=1, purpose="console.media")
        data = shown.readable.media[name]
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    inline = media_type in INLINE_MEDIA_TYPES
    response = Response(data, mimetype=media_type if inline else "application/octet-stream")
    response.headers["Content-Disposition"] = f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(name)}"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@console.route("/projects/<int:project_id>/forms/<xml_form_id>/submissions/<instance_id>/review", methods=["POST"])
def review_submission(project_id: int, xml_form_id: str, instance_id: str):
    state = request.form.get("review_state")
    if state not in REVIEW_STATES:
        raise MissingParameterError(_("Choose a review state."))
    with services().database.session() as db:
        _project, form, (submission, _version) = _submission(db, project_id, xml_form_id, instance_id, verb="submission.update")
        submission.review_state = state
        submission.updated_at = utcnow()
        audit.record(db, "submission.update", actor_id=actor().id, project_id=project_id, xmlFormId=form.xml_form_id,
                     instanceId=instance_id, reviewState=state)
    return redirect(url_for("console.submission_page", project_id=project_id, xml_form_id=xml_form_id, instance_id=instance_id))


@console.route("/projects/<int:project_id>/forms/<xml_form_id>/submissions/<instance_id>/comments", methods=["POST"])
def comment_submission(project_id: int, xml_form_id: str, instance_id: str):
    body = request.form.get("body", "").strip()
    if not body:
        raise MissingParameterError(_("Write a comment first."))
    with services().database.session() as db:
        _project, form, (submission, _version) = _submission(db, project_id, xml_form_id, instance_id, verb="submission.update")
        db.add(Comment(submission_id=submission.id, actor_id=actor().id, body=body))
        audit.record(db, "submission.comment", actor_id=actor().id, project_id=project_id, xmlFormId=form.xml_form_id,
                     instanceId=instance_id)
    return redirect(url_for("console.submission_page", project_id=project_id, xml_form_id=xml_form_id, instance_id=instance_id)
                    + "#comments")
