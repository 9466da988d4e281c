"""Keeping credentials out of the server's logs.

A phone's token is part of every URL it requests (`/v1/key/{token}/…`, as in
Central; draft testing uses `/v1/test/{token}/…`), so a plain access log or
Flask's "Exception on <path>" line would write a working credential to disk.
Both go through `redact`.
"""

from __future__ import annotations

import re

from flask import Flask, request
from gunicorn.glogging import Logger

_TOKEN_IN_PATH = re.compile(r"/v1/(key|test)/[^/?\s]+")
_SECRET_HEADER_ATOMS = ("{authorization}i", "{cookie}i", "{http_authorization}e", "{http_cookie}e")


def redact(text: str) -> str:
    """The text with every path token replaced by a marker."""
    return _TOKEN_IN_PATH.sub(r"/v1/\1/[token]", text)


class AccessLogger(Logger):
    """gunicorn's access log, with path tokens and credential headers redacted (`--logger-class`)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "{raw_uri}e", "{path_info}e", "{request_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        for key in _SECRET_HEADER_ATOMS:
            if key in atoms:
                atoms[key] = "[redacted]"
        return atoms


class RedactingFlask(Flask):
    """Flask, whose log line for an unhandled error names the path without its token."""

    def log_exception(self, exc_info) -> None:
        self.logger.error(f"Exception on {redact(request.path)} [{request.method}]", exc_info=exc_info)
