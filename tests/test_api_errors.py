"""Every error under /v1 is JSON {"code","message","details"} with status floor(code), except OpenRosa's XML."""

from __future__ import annotations

import math

import pytest

from api_client import sign_in


@pytest.fixture
def app(sqlite_url, tmp_path):
    from samen.app import create_app

    app = create_app({"data_dir": tmp_path / "data", "database_url": sqlite_url, "secret_key": "test",
                      "max_upload_bytes": 1000})

    @app.get("/v1/explode")  # an unexpected failure, registered outside any blueprint
    def explode():
        raise RuntimeError("secret detail that must not reach the client")

    yield app
    app.extensions["samen"].database.dispose()


def assert_problem(response, code):
    assert response.content_type == "application/json"
    body = response.json
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code and response.status_code == math.floor(code)
    assert body["message"]


def test_unknown_route_is_404_1(app):
    assert_problem(app.test_client().get("/v1/no/such/thing"), 404.1)


def test_wrong_method_is_405_json_with_allow(app):
    response = app.test_client().put("/v1/projects")
    assert_problem(response, 405.1)
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_body_over_the_limit_is_413_1(app):
    response = app.test_client().post("/v1/sessions", data=b"x" * 5000, content_type="application/json")
    assert_problem(response, 413.1)


def test_unexpected_failure_is_500_json_without_the_exception_text(app):
    response = app.test_client().get("/v1/explode")
    assert_problem(response, 500.1)
    assert b"secret detail" not in response.data


def test_no_credentials_is_401_2_with_a_challenge(app):
    response = app.test_client().get("/v1/projects")
    assert_problem(response, 401.2)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_project_is_404_1_for_an_administrator(app):
    admin = sign_in(app.extensions["samen"], "admin@example.org", admin=True)
    assert_problem(app.test_client().get("/v1/projects/99", headers=admin.headers), 404.1)


def test_openrosa_routes_keep_their_xml_envelope(app):
    response = app.test_client().get("/v1/key/nope/projects/1/formList", headers={"X-OpenRosa-Version": "1.0"})
    assert response.status_code == 403
    assert response.content_type.startswith("text/xml")


def test_non_api_paths_are_not_turned_into_json(app):
    response = app.test_client().get("/no-such-page-outside-the-api")
    assert response.status_code == 404
    assert response.content_type != "application/json"
