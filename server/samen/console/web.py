"""Request plumbing for every console page: who is signed in, CSRF, security headers, errors.

The console's session cookie (Flask's signed cookie) carries a random session
token; the database keeps only its SHA-256 in `SessionToken`, and key unlocks
are bound to the same token (`samen.keyring.start_unlock`). The cookie is
HttpOnly, SameSite=Lax, and Secure whenever the request arrived over https.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import RequestEntityTooLarge

from samen.app import services
from samen.auth import Actor, session_user, user_actor
from samen.console import console
from samen.console.i18n import LOCALES, translate
from samen.models import Form, Project
from samen.problems import AuthenticationError, ForbiddenError, NotFoundError, PayloadTooLargeError, Problem
from samen.queries import get_form, get_project
from samen.request_auth import request_is_https

SESSION_TOKEN = "console_token"
CSRF_KEY = "csrf"
LOCALE_KEY = "locale"
DISPLAY_ZONE = ZoneInfo("Europe/Amsterdam")  # every SAMEN city is in it

# All script and style come from /static: an injected <script> or on*= attribute cannot run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_PUBLIC_ENDPOINTS = {"console.login", "console.switch_locale"}


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over https (directly or via a proxy)."""

    def get_cookie_secure(self, app) -> bool:
        return bool(super().get_cookie_secure(app) or request_is_https())

    def open_session(self, app, request):
        # Phones and API clients send no cookie: an empty session without building the signer, which
        # every phone's every POST would otherwise pay for.
        if "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)


@console.record_once
def _install_session_interface(state) -> None:
    state.app.session_interface = ConsoleSessionInterface()


@dataclass(frozen=True)
class ConsoleUser:
    id: int
    email: str
    display_name: str
    locale: str


def actor() -> Actor:
    return g.actor


def console_token() -> str:
    """The raw session token: what this browser's key unlocks are bound to."""
    return session[SESSION_TOKEN]


def csrf_token() -> str:
    token = session.get(CSRF_KEY)
    if token is None:
        token = session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def _csrf_matches() -> bool:
    expected = session.get(CSRF_KEY)
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    return bool(expected) and hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


def current_locale() -> str:
    user = g.get("user")
    if user is not None:
        return user.locale
    chosen = session.get(LOCALE_KEY)
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or LOCALES[0]


def _(text: str, **values: Any) -> str:
    return translate(current_locale(), text, **values)


@console.before_request
def _authenticate_and_check_csrf() -> Response | None:
    g.actor = g.user = None
    token = session.get(SESSION_TOKEN)
    if token:
        with services().database.session() as db:
            try:
                user, digest = session_user(db, token)
            except AuthenticationError:
                session.pop(SESSION_TOKEN, None)
            else:
                g.user = ConsoleUser(user.id, user.email, user.display_name, user.locale if user.locale in LOCALES else LOCALES[0])
                g.actor = user_actor(db, user, digest)
    if request.method == "POST" and not _csrf_matches():
        raise ForbiddenError("This form has expired or did not come from this site. Reload the page and try again.")
    if g.actor is None and request.endpoint not in _PUBLIC_ENDPOINTS:
        return redirect(url_for("console.login", next=request.full_path if request.method == "GET" else None))
    return None


@console.after_request
def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    # Pages can hold decrypted answers: keep them out of every cache, including the back button's.
    response.headers["Cache-Control"] = "no-store"
    return response


@console.errorhandler(Problem)
def _problem_page(problem: Problem):
    return page("error.html", problem=problem), problem.status


@console.errorhandler(RequestEntityTooLarge)
def _too_large_page(_error):
    return _problem_page(PayloadTooLargeError())


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def day_range(first: str | None, last: str | None) -> tuple[datetime | None, datetime | None]:
    """Two days typed in a form (YYYY-MM-DD, both inclusive, in the Netherlands) as bounds [since, until)."""
    since, until = _day(first), _day(last)
    return (datetime.combine(since, time(), DISPLAY_ZONE) if since else None,
            datetime.combine(until + timedelta(days=1), time(), DISPLAY_ZONE) if until else None)


def format_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(DISPLAY_ZONE).strftime("%d-%m-%Y %H:%M")


@console.context_processor
def _template_helpers() -> dict[str, Any]:
    return {"_": _, "csrf_token": csrf_token, "locale": current_locale(), "locales": LOCALES,
            "current_user": g.get("user"), "can": lambda verb, pid, fid=None: g.actor is not None and g.actor.can(verb, pid, fid),
            "format_time": format_time, "unlock_minutes": services().settings.unlock_minutes}


def page(template: str, **context: Any) -> str:
    return render_template(f"console/{template}", **context)


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: an open redirect would make the login page a phishing tool."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def readable_project(db, project_id: int) -> Project:
    """The project, or 404 for someone without a role in it: they must not learn it exists."""
    if not actor().can("project.read", project_id):
        raise NotFoundError("There is no project with that id.")
    return get_project(db, project_id)


def readable_form(db, project_id: int, xml_form_id: str) -> tuple[Project, Form]:
    project = readable_project(db, project_id)
    form = get_form(db, project_id, xml_form_id)
    if not actor().can("form.read", project_id, form.id):
        raise NotFoundError(f"There is no form '{xml_form_id}' in this project.")
    return project, form
