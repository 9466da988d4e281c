"""The staff web console: server-rendered pages at `/` for coordinators and custodians.

Pages are plain HTML forms that work without JavaScript; `static/console/console.js`
adds the unlock dialog, the countdown and export progress. Every page asks
`samen.auth.Actor` (the API's role matrix) before showing or changing anything,
and decrypted data is read through `samen.decrypting` only while this browser
session holds an unlock.
"""

from __future__ import annotations

from flask import Blueprint

console = Blueprint("console", __name__)

from samen.console import (  # noqa: E402  (route modules register themselves on the blueprint)
    app_users,
    audit_log,
    exports,
    forms,
    projects,
    report,
    sessions,
    submissions,
    unlock,
    web,
)

__all__ = ["console"]
