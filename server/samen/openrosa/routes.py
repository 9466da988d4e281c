"""OpenRosa endpoints, served under Central's two prefixes.

Phones use `/v1/key/{token}/projects/{pid}/…` (the token is the credential in
the QR code); web users use `/v1/projects/{pid}/…` with HTTP Basic over https.
Draft testing (`samen.openrosa.draft_testing`) serves the same documents from
the helpers here, under a third prefix.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from urllib.parse import quote

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from samen import form_media
from samen.app import public_base_url, services
from samen.auth import Actor, app_user_actor
from samen.entities import lists as entity_lists
from samen.entities import store as entity_store
from samen.entities.formats import integrity_document
from samen.ingest import IncomingSubmission, Submitter, ingest_with_retry
from samen.models import Form, FormAttachment, FormVersion
from samen.openrosa import responses
from samen.openrosa.upload import incoming_submission
from samen.phone_ingest import receive_from_phone
from samen.problems import AuthenticationError, MalformedRequestError, NotFoundError, Problem
from samen.queries import get_form, get_project
from samen.request_auth import web_actor

openrosa = Blueprint("openrosa", __name__)

PREFIXES = ("/v1/key/<token>/projects/<int:project_id>", "/v1/projects/<int:project_id>")
SUCCESS = "Thank you: your form has been received."


def _routes(rule: str, **options):
    def register(view):
        for prefix in PREFIXES:
            openrosa.add_url_rule(prefix + rule, view_func=view, **options)
        return view
    return register


class _OpenRosaVersionMissing(MalformedRequestError):
    """Collect always sends X-OpenRosa-Version: a request without it is not from an OpenRosa client."""


def require_openrosa_header() -> None:
    if request.headers.get("X-OpenRosa-Version") != "1.0":
        raise _OpenRosaVersionMissing("This is an OpenRosa endpoint: send the header X-OpenRosa-Version: 1.0.")


def _actor(session, token: str | None) -> Actor:
    if token is not None:
        return app_user_actor(session, token)
    actor = web_actor(session)
    if actor is None:
        raise AuthenticationError("Sign in to use this server.")
    return actor


def _base_url(token: str | None, project_id: int) -> str:
    prefix = f"/v1/key/{token}/projects/{project_id}" if token else f"/v1/projects/{project_id}"
    return public_base_url() + prefix


def _form_url(token: str | None, project_id: int, xml_form_id: str) -> str:
    return f"{_base_url(token, project_id)}/forms/{quote(xml_form_id, safe='')}"


def form_attachments(session, version_id: int) -> list[FormAttachment]:
    return list(session.scalars(
        select(FormAttachment).where(FormAttachment.form_version_id == version_id).order_by(FormAttachment.name)
    ))


def form_list_entry(session, form: Form, version: FormVersion, form_url: str, served_version: str,
                    md5: str) -> responses.FormListEntry:
    """`form_url` is where the form lives (…/forms/{id}, or …/forms/{id}/draft): the definition is at
    `form_url.xml`, the manifest at `form_url/manifest` (named only when the form has files)."""
    has_media = bool(form_attachments(session, version.id))
    return responses.FormListEntry(
        form_id=form.xml_form_id, name=version.title or form.name or form.xml_form_id, version=served_version,
        md5=md5, download_url=form_url + ".xml", manifest_url=form_url + "/manifest" if has_media else None,
    )


def definition_response(xml: bytes) -> Response:
    # The formList hash is the MD5 of exactly these bytes: never re-serialise here.
    return Response(xml, content_type=responses.XML_CONTENT_TYPE)


def manifest_response(session, form: Form, version_id: int, form_url: str) -> Response:
    attachments = form_attachments(session, version_id)
    entries = form_media.manifest_entries(session, services().blobs, form, attachments, form_url)
    return responses.xml_response(responses.manifest(entries))


def attachment_response(session, form: Form, version_id: int, name: str) -> Response:
    """One of the form's files, with an ETag Collect can revalidate."""
    attachment = next((a for a in form_attachments(session, version_id) if a.name == name), None)
    if attachment is None:
        raise NotFoundError(f"The form has no attachment named '{name}'.")
    body, etag = form_media.attachment_content(session, services().blobs, form, attachment)
    if etag and request.headers.get("If-None-Match") == f'"{etag}"':
        return Response(status=304)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = Response(body, content_type=content_type)
    if etag:
        response.headers["ETag"] = f'"{etag}"'
    return response


def receive_submission(project_id: int, submitter_of: Callable[[Session], Submitter],
                       phone_token: str | None = None) -> Response:
    """Store one of Collect's multipart POSTs, and thank the phone only once it is committed.
    A phone (`phone_token`) goes the short way on PostgreSQL (samen.phone_ingest)."""
    require_openrosa_header()
    max_upload_bytes = services().settings.max_upload_bytes
    database, blobs = services().database, services().blobs

    def read_incoming() -> IncomingSubmission:
        return incoming_submission(request, max_upload_bytes)

    if phone_token is not None:
        receive_from_phone(database, blobs, project_id, phone_token, read_incoming, request.content_length)
    else:
        ingest_with_retry(database, blobs, project_id, submitter_of, read_incoming)
    return responses.message_response(SUCCESS, "submit_success", 201)


@openrosa.after_request
def _headers(response: Response) -> Response:
    return responses.openrosa_headers(response, services().settings.max_upload_bytes)


@openrosa.errorhandler(Problem)
def _problem(problem: Problem) -> Response:
    response = responses.message_response(problem.message, "error", problem.status)
    if problem.status == 401:
        # Collect answers only a 401 that names a scheme; Basic is the one we accept.
        response.headers["WWW-Authenticate"] = 'Basic realm="SAMEN Forms", charset="UTF-8"'
    return response


@openrosa.errorhandler(RequestEntityTooLarge)
def _too_large(_error) -> Response:
    limit_mb = services().settings.max_upload_bytes // 1_000_000
    return responses.message_response(
        f"This submission is larger than the server accepts ({limit_mb} MB). Send it over several uploads.",
        "error", 413,
    )


@_routes("/formList", methods=["GET"])
def form_list(project_id: int, token: str | None = None) -> Response:
    require_openrosa_header()
    only = request.args.get("formID")
    with services().database.session() as session:
        actor = _actor(session, token)
        actor.require("form.list", project_id)
        get_project(session, project_id)
        query = select(Form, FormVersion).join(FormVersion, Form.current_version_id == FormVersion.id).where(
            Form.project_id == project_id, Form.deleted_at.is_(None), Form.state == "open"
        )
        if only:
            query = query.where(Form.xml_form_id == only)
        entries = [form_list_entry(session, form, version, _form_url(token, project_id, form.xml_form_id),
                                   version.version, version.md5)
                   for form, version in session.execute(query.order_by(Form.xml_form_id))
                   if actor.can("form.read", project_id, form.id)]
    return responses.xml_response(responses.form_list(entries))


def _readable_form(session, project_id: int, xml_form_id: str, actor: Actor) -> tuple[Form, FormVersion]:
    form = get_form(session, project_id, xml_form_id)
    actor.require("form.read", project_id, form.id)
    if form.current_version_id is None:
        raise NotFoundError(f"The form '{xml_form_id}' has no published version.")
    return form, session.get(FormVersion, form.current_version_id)


@_routes("/forms/<path:xml_form_id>.xml", methods=["GET"])
def form_xml(project_id: int, xml_form_id: str, token: str | None = None) -> Response:
    with services().database.session() as session:
        _form, version = _readable_form(session, project_id, xml_form_id, _actor(session, token))
        return definition_response(version.xml)


@_routes("/forms/<path:xml_form_id>/manifest", methods=["GET"])
def form_manifest(project_id: int, xml_form_id: str, token: str | None = None) -> Response:
    require_openrosa_header()
    with services().database.session() as session:
        form, version = _readable_form(session, project_id, xml_form_id, _actor(session, token))
        return manifest_response(session, form, version.id, _form_url(token, project_id, form.xml_form_id))


@_routes("/forms/<path:xml_form_id>/attachments/<name>", methods=["GET"])
def form_attachment(project_id: int, xml_form_id: str, name: str, token: str | None = None) -> Response:
    with services().database.session() as session:
        form, version = _readable_form(session, project_id, xml_form_id, _actor(session, token))
        return attachment_response(session, form, version.id, name)


@_routes("/datasets/<name>/integrity", methods=["GET"])
def dataset_integrity(project_id: int, name: str, token: str | None = None) -> Response:
    """Which of the entities a phone holds were deleted here (the manifest's integrityUrl)."""
    with services().database.session() as session:
        actor = _actor(session, token)
        actor.require("form.list", project_id)  # whoever may download the forms that carry the list
        dataset = entity_lists.get_dataset(session, project_id, name)
        ids = [uuid.strip() for uuid in request.args.get("id", "").split(",") if uuid.strip()]
        states = entity_store.deleted_states(session, dataset, ids)
    return responses.xml_response(integrity_document(states))


@_routes("/submission", methods=["HEAD"])
def submission_head(project_id: int, token: str | None = None) -> Response:
    require_openrosa_header()
    with services().database.session() as session:
        actor = _actor(session, token)
        actor.require("project.read" if actor.kind == "user" else "form.list", project_id)
        get_project(session, project_id)
    return Response(status=204)


@_routes("/submission", methods=["POST"])
def submission_post(project_id: int, token: str | None = None) -> Response:
    return receive_submission(project_id, lambda session: _actor(session, token), phone_token=token)
