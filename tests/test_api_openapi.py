"""GET /v1/openapi.json describes exactly the routes the app serves, each with a summary and its wire shape."""

from __future__ import annotations

import re

import pytest

from samen.api.frames import FRAMES
from samen.api.openapi import RESPONSES, SUMMARIES


@pytest.fixture
def app(sqlite_url, tmp_path):
    from samen.app import create_app

    app = create_app({"data_dir": tmp_path / "data", "database_url": sqlite_url, "secret_key": "test"})
    yield app
    app.extensions["samen"].database.dispose()


def registered(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) for every /v1 rule, read straight from Werkzeug's map."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        methods = rule.methods - {"OPTIONS"}
        if "GET" in methods:
            methods = methods - {"HEAD"}
        operations |= {(path, method.lower()) for method in methods}
    return operations


def test_document_lists_every_served_route_and_nothing_else(app):
    response = app.test_client().get("/v1/openapi.json")  # public: it holds no data
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.")
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert documented == registered(app)
    assert ("/v1/projects/{project_id}/forms/{xml_form_id}/submissions/{instance_id}", "put") in documented


def test_every_operation_has_a_summary_and_its_path_parameters(app):
    document = app.test_client().get("/v1/openapi.json").json
    for path, operations in document["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, operation in operations.items():
            assert operation["summary"], f"{method.upper()} {path} has no summary: give the view a docstring"
            assert {p["name"] for p in operation["parameters"]} == names


def test_description_tables_are_not_stale(app):
    assert set(SUMMARIES) <= set(app.view_functions), "SUMMARIES names endpoints that no longer exist"
    assert set(RESPONSES) <= set(app.view_functions), "RESPONSES names endpoints that no longer exist"
    assert {frame for frame, _is_list in RESPONSES.values()} <= set(FRAMES)


def test_response_schemas_are_the_frames(app):
    document = app.test_client().get("/v1/openapi.json").json
    form = document["components"]["schemas"]["Form"]
    assert set(form["required"]) >= {"projectId", "xmlFormId", "version", "hash", "state", "createdAt", "name",
                                     "enketoId", "keyId", "updatedAt", "publishedAt"}
    assert form["properties"]["publishedAt"]["type"] == ["string", "null"]
    forms = document["paths"]["/v1/projects/{project_id}/forms"]["get"]
    assert forms["responses"]["200"]["content"]["application/json"]["schema"]["items"] == \
        {"$ref": "#/components/schemas/Form"}
    assert document["paths"]["/v1/sessions"]["post"]["security"] == []
