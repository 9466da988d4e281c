"""Keeping credentials out of the server's logs.

A phone's token is part of every URL it requests (`/v1/key/{token}/…`, as in
Central; draft testing uses `/v1/test/{token}/…`), so a plain access log or
Flask's "Exception on <path>" line would write a working credential to disk.
Both go through `redact`.
"""

from __future__ import annotations

import os
import re

from flask import Flask, request
from gunicorn.glogging import Logger

_TOKEN_IN_PATH = re.compile(r"/v1/(key|test)/[^/?\s]+")


def redact(text: str) -> str:
    """The text with every path token replaced by a marker."""
    return _TOKEN_IN_PATH.sub(r"/v1/\1/[token]", text)


class AccessLogger(Logger):
    """gunicorn's access log, with the path's token redacted (`--logger-class`).

    Only the request-line and response atoms exist; a format naming a header or
    environ atom (`%({authorization}i)s`, `%({http_cookie}e)s`) prints "-". gunicorn's
    own atoms copy every header and environ entry, credentials among them, into a
    dict on every request, about a twentieth of the CPU of a phone's POST.
    """

    def atoms(self, resp, req, environ, request_time):
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        sent = getattr(resp, "sent", None)
        method, protocol = environ["REQUEST_METHOD"], environ["SERVER_PROTOCOL"]
        return {
            "h": environ.get("REMOTE_ADDR", "-"), "l": "-", "u": self._get_user(environ) or "-", "t": self.now(),
            "r": redact(f"{method} {environ['RAW_URI']} {protocol}"), "s": status, "m": method,
            "U": redact(environ.get("PATH_INFO", "")), "q": environ.get("QUERY_STRING"), "H": protocol,
            "b": str(sent) if sent is not None else "-", "B": sent, "f": environ.get("HTTP_REFERER", "-"),
            "a": environ.get("HTTP_USER_AGENT", "-"), "T": request_time.seconds,
            "D": request_time.seconds * 1_000_000 + request_time.microseconds,
            "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
            "L": f"{request_time.seconds}.{request_time.microseconds:06d}", "p": f"<{os.getpid()}>",
        }


class RedactingFlask(Flask):
    """Flask, whose log line for an unhandled error names the path without its token."""

    def log_exception(self, exc_info) -> None:
        self.logger.error(f"Exception on {redact(request.path)} [{request.method}]", exc_info=exc_info)
