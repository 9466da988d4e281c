"""The OpenAPI document of the API as served, built from Flask's URL map so it cannot drift.

Every `/v1` rule becomes a path; its summary is the view's docstring (or, for
views that have none, such as OpenRosa's, an entry in `SUMMARIES`); response
shapes come from the frames in `samen.api.frames`. A test checks that both
tables name only endpoints that exist.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from samen.api import api
from samen.api.frames import FRAMES, Frame, json_response

SUMMARIES = {
    "openrosa.form_list": "OpenRosa form list for Collect (X-OpenRosa-Version: 1.0).",
    "openrosa.form_xml": "The published XForm, byte for byte as its formList hash describes it.",
    "openrosa.form_manifest": "OpenRosa manifest of the form's media and CSV files.",
    "openrosa.form_attachment": "One file of the published form (media, CSV).",
    "openrosa.submission_head": "OpenRosa pre-flight: 204 when the caller may submit.",
    "openrosa.submission_post": "OpenRosa submission: multipart with xml_submission_file and the files.",
    "openrosa.dataset_integrity": "OpenRosa entity-list integrity check for Collect's offline entities.",
    "api.odata_service": "OData service document: Submissions and one entity set per repeat.",
    "api.odata_metadata": "OData $metadata (EDMX 4.0) of the form's submissions.",
    "api.odata_table": "OData rows of Submissions or a repeat ($top, $skip, $count, $filter, $select, $expand, $wkt).",
    "api.export_csv": "CSV zip export in Central's layout (encrypted forms: passphrase in a POST body or unlock first).",
    "api.export_xlsx": "XLSX export, one sheet per table.",
    "api.export_sav": "SPSS .sav export.",
    "api.export_jsonl": "JSON Lines export, one submission per line.",
}

# Endpoint → (frame, is a list). Endpoints not named answer {"success": true}, XML or bytes.
RESPONSES: dict[str, tuple[str, bool]] = {
    "api.create_session": ("Session", False),
    "api.current_user": ("User", False),
    "api.list_users": ("User", True),
    "api.create_user": ("User", False),
    "api.get_user": ("User", False),
    "api.list_roles": ("Role", True),
    "api.get_role": ("Role", False),
    "api.list_project_assignments": ("Assignment", True),
    "api.list_project_role_assignments": ("Assignment", True),
    "api.list_projects": ("Project", True),
    "api.create_project": ("Project", False),
    "api.get_project_details": ("Project", False),
    "api.update_project": ("Project", False),
    "api.enable_encryption": ("Project", False),
    "api.list_forms": ("Form", True),
    "api.create_form": ("Form", False),
    "api.get_form_details": ("Form", False),
    "api.update_form": ("Form", False),
    "api.list_form_versions": ("Form", True),
    "api.get_draft": ("Form", False),
    "api.list_form_attachments": ("FormAttachment", True),
    "api.list_draft_attachments": ("FormAttachment", True),
    "api.list_app_users": ("AppUser", True),
    "api.create_app_user": ("AppUser", False),
    "api.list_form_assignments": ("Assignment", True),
    "api.list_form_role_assignments": ("Assignment", True),
    "api.list_submissions": ("Submission", True),
    "api.list_draft_submissions": ("Submission", True),
    "api.get_draft_submission": ("Submission", False),
    "api.create_submission": ("Submission", False),
    "api.get_submission": ("Submission", False),
    "api.edit_submission": ("Submission", False),
    "api.review_submission": ("Submission", False),
    "api.list_submission_versions": ("SubmissionVersion", True),
    "api.list_comments": ("Comment", True),
    "api.create_comment": ("Comment", False),
    "api.list_submission_attachments": ("SubmissionAttachment", True),
    "api.list_form_keys": ("Key", True),
    "api.unlock_key": ("Unlock", False),
}

PUBLIC = {"api.create_session", "api.openapi_document"}

_VARIABLE = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")


def openapi_path(rule: str) -> str:
    return _VARIABLE.sub(lambda m: "{" + m.group("name") + "}", rule)


def _parameters(rule: str) -> list[dict[str, Any]]:
    parameters = []
    for match in _VARIABLE.finditer(rule):
        converter = match.group("converter")
        parameter: dict[str, Any] = {"name": match.group("name"), "in": "path", "required": True,
                                     "schema": {"type": "integer" if converter == "int" else "string"}}
        if converter == "path":
            parameter["description"] = "May contain '/' and any Unicode: percent-encode it (pyodk does)."
        parameters.append(parameter)
    return parameters


def _schema(json_type: str) -> dict[str, Any]:
    nullable = json_type.endswith("?")
    base = json_type.rstrip("?")
    schema: dict[str, Any] = {"type": "string", "format": "date-time"} if base == "date-time" else {"type": base}
    if nullable:
        schema["type"] = [schema["type"], "null"]
    return schema


def _frame_schema(frame: Frame) -> dict[str, Any]:
    return {"type": "object", "required": list(frame.fields),
            "properties": {key: _schema(json_type) for key, json_type in frame.fields.items()}}


def summary(endpoint: str, view) -> str:
    if endpoint in SUMMARIES:
        return SUMMARIES[endpoint]
    doc = (view.__doc__ or "").strip()
    return " ".join(doc.split("\n\n")[0].split())


def _operation(endpoint: str, view, rule: str) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "Success"}
    if endpoint in RESPONSES:
        name, is_list = RESPONSES[endpoint]
        reference = {"$ref": f"#/components/schemas/{name}"}
        success["content"] = {"application/json": {"schema": {"type": "array", "items": reference}
                                                   if is_list else reference}}
    operation = {
        "operationId": endpoint, "summary": summary(endpoint, view), "parameters": _parameters(rule),
        "responses": {"200": success, "default": {"description": "A problem", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
    }
    if endpoint in PUBLIC:
        operation["security"] = []
    return operation


def served_operations(app) -> list[tuple[str, str, str]]:
    """(rule, method, endpoint) for every `/v1` route the app serves."""
    operations = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1/"):
            continue
        methods = set(rule.methods or ()) - {"OPTIONS"}
        if "GET" in methods:
            methods.discard("HEAD")  # Flask adds HEAD to every GET
        operations += [(rule.rule, method, rule.endpoint) for method in sorted(methods)]
    return operations


def build_document(app) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule, method, endpoint in served_operations(app):
        paths.setdefault(openapi_path(rule), {})[method.lower()] = _operation(
            endpoint, app.view_functions[endpoint], rule)
    schemas = {name: _frame_schema(frame) for name, frame in FRAMES.items()}
    schemas["Problem"] = {"type": "object", "required": ["code", "message", "details"], "properties": {
        "code": {"type": "number", "description": "Central's code; the HTTP status is its integer part."},
        "message": {"type": "string"}, "details": {"type": "object"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "SAMEN Forms API (ODK Central compatible)", "version": "1"},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "A token from POST /v1/sessions."},
            "basic": {"type": "http", "scheme": "basic", "description": "Email and password; https only."}}},
        "security": [{"bearer": []}, {"basic": []}],
    }


@api.get("/openapi.json")
def openapi_document():
    """This document: every route the server answers under /v1."""
    return json_response(build_document(current_app))
