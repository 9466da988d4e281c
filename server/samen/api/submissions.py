"""Submissions: list, read (metadata and XML), create and edit through ingest, review, versions, comments.

Instance ids may contain `/` too; the rules with more literal parts
(`/versions`, `/comments`, `/attachments`, `.xml`) are tried before the bare one.
A draft's test submissions are not among them: `api.drafts` lists those.
"""

from __future__ import annotations

from flask import Response, request
from sqlalchemy import select

from samen import audit
from samen.api import api
from samen.api.context import form_for, json_body, request_actor, text_field
from samen.api.forms import F
from samen.api.frames import comment_json, json_array, json_response, submission_json, submission_version_json
from samen.api.keys import caller_key_chain
from samen.app import services
from samen.auth import Actor
from samen.decrypting import read_submission, record_decryption
from samen.ingest import IncomingSubmission, IngestResult, ingest_with_retry
from samen.models import Comment, Form, Submission, SubmissionVersion, utcnow
from samen.problems import DecryptionError, MalformedRequestError, NotFoundError, SubmissionConflictError
from samen.safexml import child, parse_xml

S = F + "/submissions/<path:instance_id>"
REVIEW_STATES = ("received", "hasIssues", "edited", "approved", "rejected")


def find_submission(session, form: Form, instance_id: str, *,
                    draft: bool = False) -> tuple[Submission, SubmissionVersion]:
    """The logical submission its first instanceID names, and its current version (`draft`: a test submission)."""
    row = session.execute(
        select(Submission, SubmissionVersion)
        .join(SubmissionVersion, SubmissionVersion.submission_id == Submission.id)
        .where(Submission.form_id == form.id, Submission.instance_id == instance_id, Submission.draft.is_(draft),
               Submission.deleted_at.is_(None), SubmissionVersion.current.is_(True))
    ).first()
    if row is None:
        raise NotFoundError(f"There is no submission '{instance_id}' of this form.", instanceId=instance_id)
    return row[0], row[1]


def is_own_submission(actor: Actor, submission: Submission) -> bool:
    return submission.submitter_id == actor.id and submission.submitter_kind == actor.kind


def _incoming(form: Form) -> IncomingSubmission:
    if request.mimetype not in ("application/xml", "text/xml"):
        raise MalformedRequestError("Send the submission as XML (Content-Type: application/xml).")
    xml = request.get_data()
    root = parse_xml(xml)
    if root.get("id") != form.xml_form_id:
        raise MalformedRequestError(
            f"The submission is for form '{root.get('id')}', not '{form.xml_form_id}'. Send it to its own form.",
            xmlFormId=form.xml_form_id)
    return IncomingSubmission(xml=xml, device_id=request.args.get("deviceID"),
                              user_agent=request.headers.get("User-Agent"))


def _deprecated_id(xml: bytes) -> str | None:
    meta = child(parse_xml(xml), "meta")
    deprecated = child(meta, "deprecatedID") if meta is not None else None
    return deprecated.text.strip() if deprecated is not None and deprecated.text else None


def _ingested_json(database, result: IngestResult):
    with database.session() as session:
        submission = session.get(Submission, result.submission_id)
        return json_response(submission_json(submission, session.get(SubmissionVersion, result.version_id)))


def submission_list(database, form_id: int, *, draft: bool = False):
    """Every submission's metadata, oldest first, streamed (`draft`: the test submissions instead)."""

    def rows():
        with database.session() as session:
            query = (select(Submission, SubmissionVersion)
                     .join(SubmissionVersion, SubmissionVersion.submission_id == Submission.id)
                     .where(Submission.form_id == form_id, Submission.draft.is_(draft), Submission.deleted_at.is_(None),
                            SubmissionVersion.current.is_(True))
                     .order_by(Submission.created_at, Submission.id)
                     .execution_options(yield_per=500))
            for submission, current in session.execute(query):
                yield submission_json(submission, current)

    return json_array(rows())


@api.get(F + "/submissions")
def list_submissions(project_id: int, xml_form_id: str):
    """Every submission's metadata, oldest first (streamed)."""
    database = services().database
    with database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "submission.read")
    return submission_list(database, form.id)


@api.post(F + "/submissions")
def create_submission(project_id: int, xml_form_id: str):
    """Submit an instance as XML (`?deviceID=` optional); files follow with POST …/attachments/{name}."""
    database = services().database
    with database.session() as session:
        actor = request_actor(session)
        form = form_for(session, actor, project_id, xml_form_id, "submission.create")
    incoming = _incoming(form)
    result = ingest_with_retry(database, services().blobs, project_id, lambda _session: actor, lambda: incoming)
    return _ingested_json(database, result)


@api.get(S)
def get_submission(project_id: int, xml_form_id: str, instance_id: str):
    """One submission's metadata."""
    with services().database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "submission.read")
        return json_response(submission_json(*find_submission(session, form, instance_id)))


@api.get(S + ".xml")
def get_submission_xml(project_id: int, xml_form_id: str, instance_id: str):
    """The current version's XML: decrypted if the caller unlocked the project key, else the envelope as stored."""
    with services().database.session() as session:
        actor = request_actor(session)
        form = form_for(session, actor, project_id, xml_form_id, "submission.read")
        _submission, current = find_submission(session, form, instance_id)
        keys = caller_key_chain(session, actor, project_id) if current.encrypted else None
        if not keys:
            return Response(current.xml, content_type="application/xml")
        readable = read_submission(session, services().blobs, current, keys)
        if readable.xml is None:
            raise DecryptionError(f"The submission could not be decrypted ({readable.status}).",
                                  instanceId=instance_id)
        record_decryption(session, actor_id=actor.id, project_id=project_id, xml_form_id=form.xml_form_id,
                          count=1, purpose="api.submission.xml")
        response = Response(readable.xml, content_type="application/xml")
    response.headers["Cache-Control"] = "no-store"  # plaintext must not rest in a cache
    return response


@api.put(S)
def edit_submission(project_id: int, xml_form_id: str, instance_id: str):
    """Edit: the body is a new version whose meta/deprecatedID names the current version's instanceID."""
    database = services().database
    with database.session() as session:
        actor = request_actor(session)
        form = form_for(session, actor, project_id, xml_form_id, "submission.update")
        _submission, current = find_submission(session, form, instance_id)
    incoming = _incoming(form)
    deprecated = _deprecated_id(incoming.xml)
    if deprecated is None:
        raise MalformedRequestError("An edit must name the version it replaces in meta/deprecatedID.")
    if deprecated != current.instance_id:
        raise SubmissionConflictError(
            f"meta/deprecatedID must be {current.instance_id}, the current version of this submission.",
            instanceId=instance_id)
    result = ingest_with_retry(database, services().blobs, project_id, lambda _session: actor, lambda: incoming)
    return _ingested_json(database, result)


@api.patch(S)
def review_submission(project_id: int, xml_form_id: str, instance_id: str):
    """Set the review state (received, hasIssues, edited, approved, rejected)."""
    with services().database.session() as session:
        actor = request_actor(session)
        form = form_for(session, actor, project_id, xml_form_id, "submission.update")
        submission, current = find_submission(session, form, instance_id)
        state = text_field(json_body(), "reviewState")
        if state not in REVIEW_STATES:
            raise MalformedRequestError(f"reviewState must be one of {', '.join(REVIEW_STATES)}.", field="reviewState")
        # Central shows a submission nobody reviewed yet as null, and "received" means just that.
        submission.review_state = None if state == "received" else state
        submission.updated_at = utcnow()
        audit.record(session, "submission.update", actor_id=actor.id, project_id=project_id,
                     xmlFormId=form.xml_form_id, instanceId=instance_id, reviewState=state)
        return json_response(submission_json(submission, current))


@api.get(S + "/versions")
def list_submission_versions(project_id: int, xml_form_id: str, instance_id: str):
    """Every version of the submission (the original and each edit), newest first."""
    with services().database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "submission.read")
        submission, _current = find_submission(session, form, instance_id)
        versions = session.scalars(select(SubmissionVersion).where(SubmissionVersion.submission_id == submission.id)
                                   .order_by(SubmissionVersion.created_at.desc(), SubmissionVersion.id.desc()))
        return json_response([submission_version_json(v) for v in versions])


@api.get(S + "/comments")
def list_comments(project_id: int, xml_form_id: str, instance_id: str):
    """The reviewers' comments on a submission, oldest first."""
    with services().database.session() as session:
        form = form_for(session, request_actor(session), project_id, xml_form_id, "submission.read")
        submission, _current = find_submission(session, form, instance_id)
        comments = session.scalars(select(Comment).where(Comment.submission_id == submission.id)
                                   .order_by(Comment.created_at, Comment.id))
        return json_response([comment_json(c) for c in comments])


@api.post(S + "/comments")
def create_comment(project_id: int, xml_form_id: str, instance_id: str):
    """Comment on a submission."""
    with services().database.session() as session:
        actor = request_actor(session)
        form = form_for(session, actor, project_id, xml_form_id, "submission.update")
        submission, _current = find_submission(session, form, instance_id)
        comment = Comment(submission_id=submission.id, actor_id=actor.id, body=text_field(json_body(), "body"))
        session.add(comment)
        session.flush()
        audit.record(session, "submission.comment", actor_id=actor.id, project_id=project_id,
                     xmlFormId=form.xml_form_id, instanceId=instance_id)
        return json_response(comment_json(comment))
