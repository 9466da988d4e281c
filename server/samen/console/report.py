"""The M&E report for a date range, after unlock: the same report `samen report` writes, as a download.

Nothing is kept on the server: the report is built from the keys this browser
session has unlocked, rendered, and sent. It holds only suppressed counts and
means (samen.report), never codes or free text; building it is audited.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from flask import Response, request

from samen.app import services
from samen.console import console
from samen.console.reading import project_keychain
from samen.console.unlock import key_status
from samen.console.web import _, actor, console_token, page, readable_project
from samen.report import Period, build_report
from samen.report.render import render_html, render_pdf
from samen.report.texts import LANGUAGES

FORMATS = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _period() -> Period:
    return Period(_day(request.form.get("from")), _day(request.form.get("to")))


@console.route("/projects/<int:project_id>/report", methods=["GET", "POST"])
def project_report(project_id: int):
    with services().database.session() as db:
        project = readable_project(db, project_id)
        actor().require("export.run", project_id)
        actor().require("submission.read", project_id)
        status = key_status(db, project_id)
        if request.method == "GET":
            return page("report.html", project=project, key_status=status, languages=LANGUAGES, error=None)
        if status.encrypted and not status.unlocked_until:
            return page("report.html", project=project, key_status=status, languages=LANGUAGES,
                        error=_("Unlock the project key first: the report is computed from the encrypted answers.")), 400
        try:
            period = _period()
        except ValueError:
            return page("report.html", project=project, key_status=status, languages=LANGUAGES,
                        error=_("Give the dates as year-month-day.")), 400
        language = request.form.get("language") if request.form.get("language") in LANGUAGES else "nl"
        report = build_report(db, services().blobs, project_id, project_keychain(db, project_id, console_token()),
                              period, language, actor_id=actor().id)
    chosen = request.form.get("format") if request.form.get("format") in FORMATS else "pdf"
    html = render_html(report)
    body = render_pdf(html) if chosen == "pdf" else html.encode("utf-8")
    response = Response(body, mimetype=FORMATS[chosen])
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(report.file_stem)}.{chosen}"
    return response
