"""Credentials stay out of logs: the token in a phone's URL, and Authorization headers."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config

from samen.log_redaction import AccessLogger, RedactingFlask, redact

TOKEN = "kJ3v9Qw-secret_token.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"


def test_redact_replaces_app_user_and_draft_tokens_and_nothing_else():
    assert redact(f"GET /v1/key/{TOKEN}/projects/1/formList?deviceID=collect:x HTTP/1.1") == (
        "GET /v1/key/[token]/projects/1/formList?deviceID=collect:x HTTP/1.1")
    assert redact(f"/v1/test/{TOKEN}/projects/1/forms/f/draft/submission") == (
        "/v1/test/[token]/projects/1/forms/f/draft/submission")
    assert redact("/v1/projects/1/forms/f/submissions") == "/v1/projects/1/forms/f/submissions"


def test_access_log_atoms_hide_the_path_token_and_credential_headers():
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": f"/v1/key/{TOKEN}/projects/1/submission?deviceID=collect:x",
               "PATH_INFO": f"/v1/key/{TOKEN}/projects/1/submission", "SERVER_PROTOCOL": "HTTP/1.1",
               "QUERY_STRING": "deviceID=collect:x", "REMOTE_ADDR": "127.0.0.1"}
    request = SimpleNamespace(headers=[("AUTHORIZATION", "Basic c2VjcmV0"), ("COOKIE", "session=abc")])
    response = SimpleNamespace(status="201 Created", sent=120, headers=[])
    atoms = AccessLogger(Config()).atoms(response, request, environ, timedelta(milliseconds=3))
    assert atoms["r"] == "POST /v1/key/[token]/projects/1/submission?deviceID=collect:x HTTP/1.1"
    assert atoms["U"] == "/v1/key/[token]/projects/1/submission"
    assert atoms["{authorization}i"] == atoms["{cookie}i"] == "[redacted]"
    assert TOKEN not in repr(atoms)


def test_an_unhandled_error_is_logged_without_the_token(caplog):
    app = RedactingFlask(__name__)

    @app.get("/v1/key/<token>/projects/<int:project_id>/formList")
    def broken(token, project_id):
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get(f"/v1/key/{TOKEN}/projects/1/formList")
    assert response.status_code == 500
    assert "Exception on /v1/key/[token]/projects/1/formList [GET]" in caplog.text
    assert TOKEN not in caplog.text
