"""A submission's files: which are expected and present, download, and upload after the XML.

pyodk uploads each file with `POST S/attachments/{name}` right after creating
the submission, then lists them; a data collector may do both for their own
submission (Central's formfill role cannot, so pyodk fails there).
"""

from __future__ import annotations

import mimetypes

from flask import Response, request
from sqlalchemy import select

from samen import audit
from samen.api import api
from samen.api.context import project_for, request_actor
from samen.api.frames import SUCCESS, SUBMISSION_ATTACHMENT, json_response
from samen.api.submissions import S, find_submission, is_own_submission
from samen.app import services
from samen.auth import Actor
from samen.models import SubmissionAttachment
from samen.problems import AlreadyExistsError, ForbiddenError, NotFoundError
from samen.queries import get_form, record_blob


def _submission_for(session, actor: Actor, project_id: int, xml_form_id: str, instance_id: str, verb: str):
    """The form, submission and current version, if the caller has `verb` or submitted it themself."""
    for_any = actor.can(verb, project_id)
    needed = verb if for_any else "submission.create"
    project_for(session, actor, project_id, needed)
    form = get_form(session, project_id, xml_form_id)
    actor.require(needed, project_id, form.id)
    submission, current = find_submission(session, form, instance_id)
    if not for_any and not is_own_submission(actor, submission):
        raise ForbiddenError()
    return form, submission, current


def _attachments(session, version_id: int) -> list[SubmissionAttachment]:
    return list(session.scalars(select(SubmissionAttachment).where(
        SubmissionAttachment.submission_version_id == version_id).order_by(SubmissionAttachment.position)))


def _attachment(session, version_id: int, name: str) -> SubmissionAttachment:
    for attachment in _attachments(session, version_id):
        if attachment.name == name:
            return attachment
    raise NotFoundError(f"The submission does not reference a file named '{name}'.", name=name)


@api.get(S + "/attachments")
def list_submission_attachments(project_id: int, xml_form_id: str, instance_id: str):
    """The files the current version references, and whether each has arrived."""
    with services().database.session() as session:
        _form, _submission, current = _submission_for(session, request_actor(session), project_id, xml_form_id,
                                                      instance_id, "submission.read")
        return json_response([SUBMISSION_ATTACHMENT.render(name=a.name, exists=a.blob_sha256 is not None)
                              for a in _attachments(session, current.id)])


@api.get(S + "/attachments/<name>")
def get_submission_attachment(project_id: int, xml_form_id: str, instance_id: str, name: str):
    """One file as stored (still encrypted, `.enc`, for encrypted submissions)."""
    with services().database.session() as session:
        actor = request_actor(session)
        project_for(session, actor, project_id, "submission.read")
        form = get_form(session, project_id, xml_form_id)
        actor.require("submission.read", project_id, form.id)
        _submission, current = find_submission(session, form, instance_id)
        attachment = _attachment(session, current.id, name)
        if attachment.blob_sha256 is None:
            raise NotFoundError(f"The file '{name}' has not been uploaded yet.", name=name)
        data = services().blobs.get(attachment.blob_sha256)
    return Response(data, content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")


@api.post(S + "/attachments/<name>")
def upload_submission_attachment(project_id: int, xml_form_id: str, instance_id: str, name: str):
    """Upload one referenced file (raw bytes as the body). The submitter may add a missing file;
    replacing one takes the right to update submissions."""
    with services().database.session() as session:
        actor = request_actor(session)
        form, _submission, current = _submission_for(session, actor, project_id, xml_form_id, instance_id,
                                                     "submission.update")
        attachment = _attachment(session, current.id, name)
        if attachment.blob_sha256 is not None and not actor.can("submission.update", project_id, form.id):
            raise AlreadyExistsError(f"The file '{name}' was already uploaded.", name=name)
        data = request.get_data()
        digest = services().blobs.put(data)  # durable before the row that points at it commits
        record_blob(session, digest, len(data), request.mimetype or None)
        attachment.blob_sha256 = digest
        audit.record(session, "submission.attachment.update", actor_id=actor.id, project_id=project_id,
                     xmlFormId=form.xml_form_id, instanceId=instance_id, name=name)
    return json_response(SUCCESS)
