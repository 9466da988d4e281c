"""The export dialog: format, language, labels or values, date range → a download.

The console calls `samen.export_service.prepare_export`, the function the CLI
and the API call, with the keys this browser session has unlocked. A plain file
streams to the browser as it is made; a password-protected one (the default for
encrypted forms) is written, encrypted, sent, and deleted when it expires.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, request, send_file

from samen.app import services
from samen.console import console
from samen.console.reading import form_layout, project_keychain
from samen.console.unlock import key_status
from samen.console.web import _, actor, console_token, day_range, page, readable_form
from samen.export_service import ExportRequest, prepare_export, write_kept_export
from samen.exports import WRITERS
from samen.problems import NotFoundError
from samen.protect import MIN_PASSWORD_LENGTH, Protection, ProtectionError
from samen.rows import TableLayout

FORMAT_NAMES = {"xlsx": "Excel (.xlsx)", "csv": "CSV (.csv.zip)", "sav": "SPSS (.sav)", "jsonl": "JSON Lines (.jsonl)"}


def export_choices(layout: TableLayout) -> dict:
    """What the export dialog offers for this form: formats (Excel first) and the form's label languages."""
    return {"formats": [(name, FORMAT_NAMES.get(name, name)) for name in sorted(WRITERS, key=list(FORMAT_NAMES).index)],
            "languages": layout.schema.languages}


def _export_request() -> ExportRequest:
    since, until = day_range(request.form.get("from"), request.form.get("to"))
    return ExportRequest(format=request.form.get("format", "xlsx"), language=request.form.get("language") or None,
                         labels=request.form.get("labels") == "labels", since=since, until=until)


@console.route("/projects/<int:project_id>/forms/<xml_form_id>/export", methods=["GET", "POST"])
def export_form(project_id: int, xml_form_id: str):
    with services().database.session() as db:
        project, form = readable_form(db, project_id, xml_form_id)
        actor().require("export.run", project_id, form.id)
        actor().require("submission.read", project_id, form.id)
        layout = form_layout(db, form)
        if layout is None:
            raise NotFoundError(_("This form has no published version yet, so there is nothing to export."))
        if request.method == "GET":
            return page("export.html", project=project, form=form, key_status=key_status(db, project_id),
                        **export_choices(layout))
        keys = project_keychain(db, project_id, console_token())
    protection = None
    if request.form.get("protect") == "yes":
        try:
            protection = Protection(password=request.form.get("password") or "")
        except ProtectionError:
            return Response(_("Use a password of at least {count} characters.", count=MIN_PASSWORD_LENGTH), 400,
                            mimetype="text/plain")
        if not protection:
            return Response(_("Choose a password for the file, or untick the protection."), 400, mimetype="text/plain")
    export = prepare_export(services().database, services().blobs, project_id, xml_form_id, _export_request(), keys,
                            actor_id=actor().id, purpose="console.export")
    if protection:
        # A protected file is written, kept for the configured hours, then deleted (samen.retention).
        settings = services().settings
        summary = write_kept_export(export, settings.export_dir, protection, settings.export_ttl_hours)
        response = send_file(summary.path.resolve(), mimetype=export.media_type)
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(summary.path.name)}"
        response.headers["X-Export-Total"] = str(export.total)
        return response
    response = Response(export.chunks(), mimetype=export.media_type)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(export.filename)}"
    response.headers["X-Export-Total"] = str(export.total)  # console.js shows it while the file arrives
    return response
