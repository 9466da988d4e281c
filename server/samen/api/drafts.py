"""Form drafts: a new definition or new attachments are staged as a draft, then published as a version.

pyodk's `forms.update` posts an empty body to copy the published definition
when only the attachments change, uploads them, and publishes with `?version=`.
`GET …/draft` shows the draft's testing token (`draftToken`), and
`…/draft/submissions` lists what phones sent with it (`samen.draft_testing`).
"""

from __future__ import annotations

from flask import Response, request
from sqlalchemy import select

from samen import audit
from samen.api import api
from samen.api.context import current_version, form_for, request_actor
from samen.api.forms import F, attachment_list, form_upload, prepare_upload
from samen.api.frames import SUCCESS, form_json, json_response, submission_json
from samen.api.submissions import find_submission, submission_list
from samen.app import services
from samen.models import Form, FormAttachment, FormVersion, utcnow
from samen.problems import MalformedRequestError, NotFoundError
from samen.publishing import PreparedForm, abandon_draft, publish_draft, save_draft
from samen.queries import get_project, record_blob
from samen.xform import read_xform


def _draft(session, form: Form) -> FormVersion:
    if form.draft_version_id is None:
        raise NotFoundError(f"The form '{form.xml_form_id}' has no draft. Create one with POST …/draft.")
    return session.get(FormVersion, form.draft_version_id)


@api.post(F + "/draft")
def create_draft(project_id: int, xml_form_id: str):
    """Stage a new definition as the draft; an empty body copies the published definition (and its files)."""
    database = services().database
    with database.session() as session:
        form_for(session, request_actor(session), project_id, xml_form_id, "form.update")
    prepared = prepare_upload(form_upload()) if request.content_length or request.get_data() else None
    with database.session() as session:
        actor = request_actor(session)
        form = form_for(session, actor, project_id, xml_form_id, "form.update")
        published: FormVersion | None = None
        if prepared is None:
            published = current_version(session, form)
            prepared = PreparedForm(xml=published.xml, facts=read_xform(published.xml), warnings=())
        elif prepared.facts.form_id != form.xml_form_id:
            raise MalformedRequestError(
                f"The definition's form id '{prepared.facts.form_id}' is not '{form.xml_form_id}'. "
                "A new version must keep the form id.", xmlFormId=form.xml_form_id)
        save_draft(session, services().blobs, get_project(session, project_id), prepared, actor)
        if published is not None and published.key_id is not None:
            # The copy carries the project key it was published with; forget it so that publishing
            # injects the project's active key again (it may have been rotated since).
            session.get(FormVersion, form.draft_version_id).public_key = None
    return json_response(SUCCESS)


@api.get(F + "/draft")
def get_draft(project_id: int, xml_form_id: str):
    """The draft, as a form, with its testing token (`draftToken`)."""
    with services().database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "form.update")
        draft = _draft(session, form)
        return json_response(form_json(form, draft, draft_token=draft.draft_token))


@api.get(F + "/draft.xml")
def get_draft_xml(project_id: int, xml_form_id: str):
    """The draft's XForm."""
    with services().database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "form.update")
        return Response(_draft(session, form).xml, content_type="application/xml")


@api.delete(F + "/draft")
def delete_draft(project_id: int, xml_form_id: str):
    """Abandon the draft; its testing token stops working and its test submissions are deleted."""
    with services().database.session() as session:
        actor = request_actor(session)
        form = form_for(session, actor, project_id, xml_form_id, "form.update")
        _draft(session, form)
        abandon_draft(session, services().blobs, form, actor)
    return json_response(SUCCESS)


@api.post(F + "/draft/publish")
def publish_form_draft(project_id: int, xml_form_id: str):
    """Publish the draft, optionally under a new `?version=`; a version string already published is 409.6.
    The draft's test submissions are deleted."""
    with services().database.session() as session:
        actor = request_actor(session)
        form = form_for(session, actor, project_id, xml_form_id, "form.update")
        _draft(session, form)
        publish_draft(session, services().blobs, form, actor, request.args.get("version") or None)
    return json_response(SUCCESS)


@api.get(F + "/draft/submissions")
def list_draft_submissions(project_id: int, xml_form_id: str):
    """The draft's test submissions (sent with its testing token), oldest first, as submissions are listed."""
    database = services().database
    with database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "form.update")
        _draft(session, form)
    return submission_list(database, form.id, draft=True)


@api.get(F + "/draft/submissions/<path:instance_id>")
def get_draft_submission(project_id: int, xml_form_id: str, instance_id: str):
    """One test submission's metadata."""
    with services().database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "form.update")
        _draft(session, form)
        return json_response(submission_json(*find_submission(session, form, instance_id, draft=True)))


@api.get(F + "/draft/attachments")
def list_draft_attachments(project_id: int, xml_form_id: str):
    """The files the draft expects, and whether each was uploaded."""
    with services().database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "form.update")
        return json_response(attachment_list(session, services().blobs, _draft(session, form).id))


@api.post(F + "/draft/attachments/<name>")
def upload_draft_attachment(project_id: int, xml_form_id: str, name: str):
    """Upload one file the draft expects (the raw bytes are the body; pyodk sends them chunked)."""
    with services().database.session() as session:
        actor = request_actor(session)
        form = form_for(session, actor, project_id, xml_form_id, "form.update")
        draft = _draft(session, form)
        attachment = session.scalar(select(FormAttachment).where(
            FormAttachment.form_version_id == draft.id, FormAttachment.name == name))
        if attachment is None:
            raise NotFoundError(f"The draft does not expect a file named '{name}'. Reference it in the form first.",
                                name=name)
        data = request.get_data()
        digest = services().blobs.put(data)
        record_blob(session, digest, len(data), request.mimetype or None)
        attachment.blob_sha256 = digest
        attachment.updated_at = utcnow()
        audit.record(session, "form.attachment.update", actor_id=actor.id, project_id=project_id,
                     xmlFormId=form.xml_form_id, name=name)
    return json_response(SUCCESS)
