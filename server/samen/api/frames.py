"""Central's wire shapes: which fields a response carries, in camelCase, and nothing else.

A frame names every key it renders and that key's JSON type, so an ORM row is
never serialised wholesale (a token hash or an XML body cannot slip out by a
new column) and the OpenAPI document is generated from the same declaration.
Keys that pyodk's pydantic models require are present even when null.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import Response

from samen.models import (
    AppUser,
    Comment,
    Form,
    FormAttachment,
    FormVersion,
    Project,
    ProjectKey,
    Submission,
    SubmissionVersion,
    User,
)

FRAMES: dict[str, "Frame"] = {}


@dataclass(frozen=True)
class Frame:
    """A named wire shape: key → JSON type ("string", "integer", "boolean", "date-time", "object", "array";
    a trailing "?" means null is allowed)."""

    name: str
    fields: Mapping[str, str]

    def __post_init__(self) -> None:
        FRAMES[self.name] = self

    def render(self, **values: Any) -> dict[str, Any]:
        if values.keys() != self.fields.keys():
            raise KeyError(f"{self.name} frame: got {sorted(values)}, declared {sorted(self.fields)}")
        return {key: _wire(values[key]) for key in self.fields}


def iso(moment: datetime | None) -> str | None:
    """Central's timestamp format: UTC with milliseconds and a Z."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _wire(value: Any) -> Any:
    return iso(value) if isinstance(value, datetime) else value


SUCCESS = {"success": True}

SESSION = Frame("Session", {"token": "string", "expiresAt": "date-time", "createdAt": "date-time"})
USER = Frame("User", {"id": "integer", "type": "string", "displayName": "string", "email": "string",
                      "createdAt": "date-time", "updatedAt": "date-time?", "deletedAt": "date-time?"})
PROJECT = Frame("Project", {"id": "integer", "name": "string", "description": "string?", "archived": "boolean",
                            "keyId": "integer?", "createdAt": "date-time", "updatedAt": "date-time?",
                            "deletedAt": "date-time?"})
ROLE = Frame("Role", {"id": "integer", "name": "string", "system": "string", "verbs": "array",
                      "createdAt": "date-time?", "updatedAt": "date-time?"})
ASSIGNMENT = Frame("Assignment", {"actorId": "integer", "roleId": "integer"})
FORM = Frame("Form", {"projectId": "integer", "xmlFormId": "string", "name": "string?", "version": "string",
                      "enketoId": "string?", "hash": "string", "sha256": "string", "keyId": "integer?",
                      "state": "string", "draftToken": "string?", "publishedAt": "date-time?",
                      "createdAt": "date-time", "updatedAt": "date-time?"})
FORM_ATTACHMENT = Frame("FormAttachment", {"name": "string", "type": "string", "hash": "string?",
                                           "exists": "boolean", "blobExists": "boolean", "datasetExists": "boolean",
                                           "updatedAt": "date-time?"})
APP_USER = Frame("AppUser", {"projectId": "integer", "id": "integer", "type": "string", "displayName": "string",
                             "token": "string?", "createdAt": "date-time", "updatedAt": "date-time?",
                             "deletedAt": "date-time?"})
SUBMISSION_VERSION = Frame("SubmissionVersion", {
    "instanceId": "string", "instanceName": "string?", "submitterId": "integer", "deviceId": "string?",
    "userAgent": "string?", "createdAt": "date-time", "current": "boolean"})
SUBMISSION = Frame("Submission", {
    "instanceId": "string", "submitterId": "integer", "deviceId": "string?", "createdAt": "date-time",
    "updatedAt": "date-time?", "reviewState": "string?", "userAgent": "string?", "instanceName": "string?",
    "currentVersion": "object"})
SUBMISSION_ATTACHMENT = Frame("SubmissionAttachment", {"name": "string", "exists": "boolean"})
COMMENT = Frame("Comment", {"body": "string", "actorId": "integer", "createdAt": "date-time"})
KEY = Frame("Key", {"id": "integer", "public": "string", "managed": "boolean", "hint": "string?"})
UNLOCK = Frame("Unlock", {"keyIds": "array", "expiresAt": "date-time"})


def user_json(user: User) -> dict[str, Any]:
    return USER.render(id=user.id, type="user", displayName=user.display_name, email=user.email,
                       createdAt=user.created_at, updatedAt=user.updated_at, deletedAt=user.deleted_at)


def project_json(project: Project, key: ProjectKey | None) -> dict[str, Any]:
    return PROJECT.render(id=project.id, name=project.name, description=project.description,
                          archived=bool(project.archived), keyId=key.id if key else None,
                          createdAt=project.created_at, updatedAt=project.updated_at, deletedAt=project.deleted_at)


def form_json(form: Form, version: FormVersion | None, *, draft_token: str | None = None) -> dict[str, Any]:
    """The form as its `version` (the current one, or the draft for draft endpoints) describes it.

    Only the draft endpoint shows the draft's testing token, as Central does: it is a credential."""
    return FORM.render(
        projectId=form.project_id, xmlFormId=form.xml_form_id,
        name=(version.title if version else None) or form.name,
        version=version.version if version else "", enketoId=None,
        hash=version.md5 if version else "", sha256=version.sha256 if version else "",
        keyId=version.key_id if version else None, state=form.state,
        draftToken=draft_token,
        publishedAt=version.published_at if version else None,
        createdAt=form.created_at, updatedAt=form.updated_at,
    )


def form_attachment_json(attachment: FormAttachment, content_md5: str | None) -> dict[str, Any]:
    uploaded = attachment.blob_sha256 is not None
    linked = attachment.dataset_name is not None
    return FORM_ATTACHMENT.render(name=attachment.name, type=attachment.kind, hash=content_md5,
                                  exists=uploaded or linked, blobExists=uploaded, datasetExists=linked,
                                  updatedAt=attachment.updated_at)


def app_user_json(app_user: AppUser) -> dict[str, Any]:
    # Central shows the token until the app user is revoked; pyodk skips names whose token is null.
    return APP_USER.render(projectId=app_user.project_id, id=app_user.id, type="field_key",
                           displayName=app_user.display_name, token=app_user.token,
                           createdAt=app_user.created_at, updatedAt=app_user.updated_at,
                           deletedAt=app_user.deleted_at or app_user.revoked_at)


def submission_version_json(version: SubmissionVersion) -> dict[str, Any]:
    return SUBMISSION_VERSION.render(
        instanceId=version.instance_id, instanceName=version.instance_name, submitterId=version.submitter_id or 0,
        deviceId=version.device_id, userAgent=version.user_agent, createdAt=version.created_at,
        current=bool(version.current))


def submission_json(submission: Submission, current: SubmissionVersion) -> dict[str, Any]:
    return SUBMISSION.render(
        instanceId=submission.instance_id, submitterId=submission.submitter_id or 0, deviceId=submission.device_id,
        createdAt=submission.created_at, updatedAt=submission.updated_at, reviewState=submission.review_state,
        userAgent=current.user_agent, instanceName=current.instance_name,
        currentVersion=submission_version_json(current))


def comment_json(comment: Comment) -> dict[str, Any]:
    return COMMENT.render(body=comment.body, actorId=comment.actor_id, createdAt=comment.created_at)


def key_json(key: ProjectKey) -> dict[str, Any]:
    # Managed: the server holds the private key wrapped under custodians' passphrases.
    return KEY.render(id=key.id, public=key.public_key, managed=True, hint=key.hint)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")


def json_array(items: Iterable[dict[str, Any]]) -> Response:
    """A JSON array sent as it is produced: lists of submissions grow with the data."""

    def chunks() -> Iterator[str]:
        yield "["
        for number, item in enumerate(items):
            yield ("," if number else "") + json.dumps(item, ensure_ascii=False)
        yield "]"

    return Response(chunks(), content_type="application/json")
