"""Credentials stay out of logs: the token in a phone's URL, and Authorization headers."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config

from samen.log_redaction import AccessLogger, RedactingFlask, redact

BASIC = "Y29vcmRpbmF0b3JAZXhhbXBsZS5vcmc6aHVudGVyMg=="  # coordinator@example.org:hunter2
TOKEN = "kJ3v9Qw-secret_token.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"


def test_redact_replaces_app_user_and_draft_tokens_and_nothing_else():
    assert redact(f"GET /v1/key/{TOKEN}/projects/1/formList?deviceID=collect:x HTTP/1.1") == (
        "GET /v1/key/[token]/projects/1/formList?deviceID=collect:x HTTP/1.1")
    assert redact(f"/v1/test/{TOKEN}/projects/1/forms/f/draft/submission") == (
        "/v1/test/[token]/projects/1/forms/f/draft/submission")
    assert redact("/v1/projects/1/forms/f/submissions") == "/v1/projects/1/forms/f/submissions"


def test_access_log_lines_hide_the_path_token_and_credential_headers():
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": f"/v1/key/{TOKEN}/projects/1/submission?deviceID=collect:x",
               "PATH_INFO": f"/v1/key/{TOKEN}/projects/1/submission", "SERVER_PROTOCOL": "HTTP/1.1",
               "QUERY_STRING": "deviceID=collect:x", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_AUTHORIZATION": f"Basic {BASIC}", "HTTP_COOKIE": "session=abc", "HTTP_USER_AGENT": "Collect"}
    request = SimpleNamespace(headers=[("AUTHORIZATION", f"Basic {BASIC}"), ("COOKIE", "session=abc")])
    response = SimpleNamespace(status="201 Created", sent=120, headers=[("Set-Cookie", "session=abc")])
    logger = AccessLogger(Config())
    atoms = logger.atoms_wrapper_class(logger.atoms(response, request, environ, timedelta(milliseconds=3)))
    assert Config().access_log_format % atoms == (
        f'127.0.0.1 - coordinator@example.org {atoms["t"]} "POST /v1/key/[token]/projects/1/submission?deviceID=collect:x HTTP/1.1" '
        '201 120 "-" "Collect"')
    # A format an operator might write, naming every place a credential travels:
    every_atom = ("%(U)s %({authorization}i)s %({cookie}i)s %({set-cookie}o)s %({http_authorization}e)s "
                  "%({http_cookie}e)s %({raw_uri}e)s %({path_info}e)s")
    assert every_atom % atoms == "/v1/key/[token]/projects/1/submission - - - - - - -"


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
