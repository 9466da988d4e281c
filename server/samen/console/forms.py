"""A form's page: upload an XLSForm as a draft, read pyxform's warnings and errors, test the draft, publish."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from flask import redirect, request, url_for
from markupsafe import Markup

from samen.app import public_base_url, services
from samen.collect_settings import draft_testing_server_url, draft_testing_settings, qr_svg, settings_payload
from samen.console import console
from samen.console.queries import FormSummary, draft_submission_count, form_summaries, published_versions
from samen.console.unlock import key_status
from samen.console.web import _, actor, page, readable_form, readable_project
from samen.models import Project
from samen.problems import InvalidFormError, MissingParameterError, Problem
from samen.publishing import FormUpload, PreparedForm, prepare_definition, publish_draft, save_draft
from samen.queries import find_form

UPLOAD_TYPES = {".xlsx": "xlsx", ".xls": "xls", ".xml": "xml"}


def _upload() -> FormUpload:
    file = request.files.get("definition")
    if file is None or not file.filename:
        raise MissingParameterError(_("Choose an XLSForm (.xlsx or .xls) or an XForm (.xml) to upload."))
    name = PurePath(file.filename)
    file_type = UPLOAD_TYPES.get(name.suffix.lower())
    if file_type is None:
        raise InvalidFormError(_("Upload an XLSForm (.xlsx or .xls) or an XForm (.xml)."))
    return FormUpload(file.read(), file_type, form_id_fallback=name.stem)


@dataclass(frozen=True)
class DraftTesting:
    """The draft's testing QR code, for those who may change the form: the token in it is a credential."""

    server_url: str
    qr: Markup
    submissions: int


def _draft_testing(db, project: Project, summary: FormSummary) -> DraftTesting | None:
    form, draft = summary.form, summary.draft
    if draft is None or draft.draft_token is None or not actor().can("form.update", project.id, form.id):
        return None
    url = draft_testing_server_url(public_base_url(), project.id, form.xml_form_id, draft.draft_token)
    name = _("[Draft] {name}", name=draft.title or form.name or form.xml_form_id)
    qr = qr_svg(settings_payload(draft_testing_settings(url, name)), scale=4)
    return DraftTesting(url, Markup(qr), draft_submission_count(db, form.id))  # segno's own SVG: no user text inside


def _form_page(db, project_id: int, xml_form_id: str, *, warnings: tuple[str, ...] = (), uploaded: bool = False,
               error: str | None = None, status: int = 200):
    project, form = readable_form(db, project_id, xml_form_id)
    [summary] = form_summaries(db, project_id, [form])
    body = page("form.html", project=project, summary=summary, versions=published_versions(db, form.id),
                warnings=warnings, uploaded=uploaded, error=error, key_status=key_status(db, project_id),
                draft_testing=_draft_testing(db, project, summary))
    return body, status


@console.route("/projects/<int:project_id>/forms", methods=["POST"])
def create_form(project_id: int):
    with services().database.session() as db:
        project = readable_project(db, project_id)
        actor().require("form.create", project_id)
        try:
            prepared = prepare_definition(_upload())
        except Problem as problem:
            return page("form_new.html", project=project, error=problem.message), 400
        return _save(db, project, prepared)


@console.route("/projects/<int:project_id>/new-form")
def new_form(project_id: int):
    with services().database.session() as db:
        project = readable_project(db, project_id)
        actor().require("form.create", project_id)
        return page("form_new.html", project=project, error=None)


def _save(db, project, prepared: PreparedForm):
    existing = find_form(db, project.id, prepared.facts.form_id)
    if existing is not None:
        actor().require("form.update", project.id, existing.id)
    encrypt = request.form.get("encrypt", "yes") == "yes"
    form = save_draft(db, services().blobs, project, prepared, actor(), encrypt_with_project_key=encrypt)
    return _form_page(db, project.id, form.xml_form_id, warnings=prepared.warnings, uploaded=True)


@console.route("/projects/<int:project_id>/forms/<xml_form_id>")
def form_page(project_id: int, xml_form_id: str):
    with services().database.session() as db:
        return _form_page(db, project_id, xml_form_id)


@console.route("/projects/<int:project_id>/forms/<xml_form_id>/draft", methods=["POST"])
def upload_draft(project_id: int, xml_form_id: str):
    with services().database.session() as db:
        project, form = readable_form(db, project_id, xml_form_id)
        actor().require("form.update", project_id, form.id)
        try:
            prepared = prepare_definition(_upload())
            if prepared.facts.form_id != form.xml_form_id:
                raise InvalidFormError(_("This file is the form '{other}', not '{this}'. Upload it from the project page.",
                                         other=prepared.facts.form_id, this=form.xml_form_id))
        except Problem as problem:
            return _form_page(db, project_id, xml_form_id, error=problem.message, status=400)
        return _save(db, project, prepared)


@console.route("/projects/<int:project_id>/forms/<xml_form_id>/publish", methods=["POST"])
def publish_form(project_id: int, xml_form_id: str):
    with services().database.session() as db:
        _project, form = readable_form(db, project_id, xml_form_id)
        actor().require("form.update", project_id, form.id)
        try:
            publish_draft(db, services().blobs, form, actor(), request.form.get("version") or None)
        except Problem as problem:
            db.rollback()
            return _form_page(db, project_id, xml_form_id, error=problem.message, status=problem.status)
    return redirect(url_for("console.form_page", project_id=project_id, xml_form_id=xml_form_id))
