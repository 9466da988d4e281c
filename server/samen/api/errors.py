"""The one place where problems become JSON: `{"code", "message", "details"}`, status floor(code).

pyodk calls `.json()` on every non-2xx response, so routing errors (404, 405),
oversized bodies (413) and unexpected failures (500) on `/v1` are JSON too.
Requests routed to the OpenRosa blueprint keep its XML envelope: Collect shows
that message to the ambassador.
"""

from __future__ import annotations

import logging
import traceback

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from samen.api import api
from samen.problems import PayloadTooLargeError, Problem

log = logging.getLogger(__name__)

_OWN_ERRORS = "openrosa"  # blueprints that render problems their own way


def problem_response(problem: Problem) -> Response:
    response = jsonify(problem.to_json())
    response.status_code = problem.status
    if problem.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="SAMEN Forms"'
    return response


def _is_api_request() -> bool:
    return request.path.startswith("/v1/") and request.blueprint != _OWN_ERRORS


class _HttpProblem(Problem):
    """A routing or protocol error Werkzeug raised, given Central's code shape (404 → 404.1)."""


def _from_http(error: HTTPException) -> Problem:
    if isinstance(error, RequestEntityTooLarge):
        return PayloadTooLargeError()
    problem = _HttpProblem(error.description or error.name)
    problem.code = error.code + 0.1 if error.code else 500.1
    return problem


@api.errorhandler(Problem)
def _problem(problem: Problem) -> Response:
    return problem_response(problem)


@api.app_errorhandler(HTTPException)
def _http_error(error: HTTPException):
    if not _is_api_request() or error.code is None or error.code < 400:
        return error
    if error.code == 500 and error.original_exception is not None:  # type: ignore[attr-defined]
        return _unexpected(error)
    response = problem_response(_from_http(error))
    if error.code == 405 and error.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    return response


def _unexpected(error: HTTPException):
    # Log the type and where, never the message: it may quote a request body.
    original = error.original_exception  # type: ignore[attr-defined]
    log.error("unexpected %s on %s %s\n%s", type(original).__name__, request.method, request.path,
              "".join(traceback.format_tb(original.__traceback__)))
    return problem_response(Problem(
        "Something went wrong on the server. Try again; if it keeps happening, tell the administrator."))
