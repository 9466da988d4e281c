"""Forms: list, upload (XForm or XLSForm), read, open/close, delete, and the published versions.

Form ids may contain `/` and any Unicode: pyodk percent-encodes them, Werkzeug
decodes `%2F` before routing, so every form route uses a `<path:>` converter and
Werkzeug tries the rule with the most literal parts first (`/draft/publish`
before `/draft` before the bare form).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote

from flask import request
from sqlalchemy import select

from samen import audit
from samen.api import api
from samen.api.context import bool_arg, form_for, json_body, project_for, request_actor, text_field
from samen.api.frames import SUCCESS, form_attachment_json, form_json, json_response
from samen.app import services
from samen.auth import Actor
from samen.blobs import BlobStore
from samen.models import Form, FormAttachment, FormVersion, utcnow
from samen.problems import AlreadyExistsError, MalformedRequestError, NotFoundError
from samen.publishing import FormUpload, PreparedForm, prepare_definition, publish_draft, save_draft
from samen.xlsform import XLSFORM_CONTENT_TYPES

F = "/projects/<int:project_id>/forms/<path:xml_form_id>"
FORM_STATES = ("open", "closing", "closed")
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def form_upload() -> FormUpload:
    """The definition in the request body, typed by Content-Type as pyodk sends it."""
    if request.mimetype in ("application/xml", "text/xml"):
        file_type = "xml"
    elif request.mimetype in XLSFORM_CONTENT_TYPES:
        file_type = XLSFORM_CONTENT_TYPES[request.mimetype]
    else:
        raise MalformedRequestError(
            "Send the form as an XForm (Content-Type: application/xml) or an XLSForm "
            "(application/vnd.openxmlformats-officedocument.spreadsheetml.sheet or application/vnd.ms-excel).")
    # pyodk percent-encodes the fallback id, since a header cannot carry '/' or non-ASCII safely. It sends
    # "uuid:…" when it has no file name; convert_xlsform uses the fallback as the instance's root element
    # name, so only a valid XML name is passed on (pyxform would reject the form otherwise).
    fallback = unquote(request.headers.get("X-XlsForm-FormId-Fallback", ""))
    fallback = fallback if _XML_NAME.match(fallback) else None
    return FormUpload(request.get_data(), file_type, fallback, ignore_warnings=bool_arg("ignoreWarnings", False))


def prepare_upload(upload: FormUpload) -> PreparedForm:
    if not upload.data:
        raise MalformedRequestError("The request has no form definition in its body.")
    return prepare_definition(upload)


def visible_forms(session, actor: Actor, project_id: int) -> list[Form]:
    """Managers see drafts too; viewers every published form; collectors and phones the open ones they may fill."""
    query = select(Form).where(Form.project_id == project_id, Form.deleted_at.is_(None)).order_by(Form.xml_form_id)
    if not actor.can("form.update", project_id):
        query = query.where(Form.current_version_id.is_not(None))
        if not actor.can("submission.read", project_id):
            query = query.where(Form.state == "open")
    return [form for form in session.scalars(query) if actor.can("form.read", project_id, form.id)]


def shown_version(session, form: Form) -> FormVersion | None:
    version_id = form.current_version_id or form.draft_version_id
    return session.get(FormVersion, version_id) if version_id else None


def attachment_list(session, blobs: BlobStore, version_id: int) -> list[dict]:
    attachments = session.scalars(select(FormAttachment).where(FormAttachment.form_version_id == version_id)
                                  .order_by(FormAttachment.name))
    return [form_attachment_json(a, hashlib.md5(blobs.get(a.blob_sha256)).hexdigest() if a.blob_sha256 else None)
            for a in attachments]


@api.get("/projects/<int:project_id>/forms")
def list_forms(project_id: int):
    """The project's forms the caller may see."""
    with services().database.session() as session:
        actor = request_actor(session)
        project_for(session, actor, project_id, "form.list")
        return json_response([form_json(f, shown_version(session, f)) for f in visible_forms(session, actor, project_id)])


@api.post("/projects/<int:project_id>/forms")
def create_form(project_id: int):
    """Upload a new form (XForm XML or XLSForm); `publish=false` keeps it a draft, `ignoreWarnings=true` accepts
    XLSForm warnings (400.16 otherwise)."""
    database = services().database
    with database.session() as session:
        project_for(session, request_actor(session), project_id, "form.create")
    prepared = prepare_upload(form_upload())  # pyxform and ODK Validate run outside any transaction
    with database.session() as session:
        actor = request_actor(session)
        project = project_for(session, actor, project_id, "form.create")
        form_id = prepared.facts.form_id
        if session.scalar(select(Form.id).where(Form.project_id == project_id, Form.xml_form_id == form_id)):
            raise AlreadyExistsError(f"A form with the id '{form_id}' already exists in this project "
                                     "(perhaps deleted). Upload a new version as a draft instead.", xmlFormId=form_id)
        form = save_draft(session, services().blobs, project, prepared, actor)
        version = session.get(FormVersion, form.draft_version_id)
        if bool_arg("publish", True):
            version = publish_draft(session, services().blobs, form, actor)
        audit.record(session, "form.create", actor_id=actor.id, project_id=project_id, xmlFormId=form_id)
        return json_response(form_json(form, version))


@api.get(F)
def get_form_details(project_id: int, xml_form_id: str):
    """One form, described by its published version (or its draft, before the first publish)."""
    with services().database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "form.read")
        return json_response(form_json(form, shown_version(session, form)))


@api.patch(F)
def update_form(project_id: int, xml_form_id: str):
    """Open, close (`closed`: no more submissions) or retire (`closing`: hidden from phones) a form."""
    with services().database.session() as session:
        actor = request_actor(session)
        form = form_for(session, actor, project_id, xml_form_id, "form.update")
        state = text_field(json_body(), "state")
        if state not in FORM_STATES:
            raise MalformedRequestError(f"state must be one of {', '.join(FORM_STATES)}.", field="state")
        form.state = state
        form.updated_at = utcnow()
        audit.record(session, "form.update.state", actor_id=actor.id, project_id=project_id,
                     xmlFormId=form.xml_form_id, state=state)
        return json_response(form_json(form, shown_version(session, form)))


@api.delete(F)
def delete_form(project_id: int, xml_form_id: str):
    """Delete a form: phones stop seeing it; its submissions stay until retention removes them."""
    with services().database.session() as session:
        actor = request_actor(session)
        form = form_for(session, actor, project_id, xml_form_id, "form.delete")
        form.deleted_at = utcnow()
        audit.record(session, "form.delete", actor_id=actor.id, project_id=project_id, xmlFormId=form.xml_form_id)
    return json_response(SUCCESS)


@api.get(F + "/versions")
def list_form_versions(project_id: int, xml_form_id: str):
    """Every published version of the form, newest first."""
    with services().database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "form.read")
        versions = session.scalars(select(FormVersion).where(
            FormVersion.form_id == form.id, FormVersion.published_at.is_not(None))
            .order_by(FormVersion.published_at.desc(), FormVersion.id.desc()))
        return json_response([form_json(form, v) for v in versions])


@api.get(F + "/attachments")
def list_form_attachments(project_id: int, xml_form_id: str):
    """The files the published version expects, and whether each was uploaded."""
    with services().database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "form.read")
        if form.current_version_id is None:
            raise NotFoundError(f"The form '{form.xml_form_id}' has no published version yet.")
        return json_response(attachment_list(session, services().blobs, form.current_version_id))
