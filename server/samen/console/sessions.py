"""Signing in and out, and the interface language."""

from __future__ import annotations

from flask import g, redirect, request, session, url_for

from samen import audit
from samen.app import services
from samen.auth import authenticate_password, start_session, token_sha256
from samen.console import console
from samen.console.i18n import LOCALES
from samen.console.queries import end_console_session
from samen.console.web import LOCALE_KEY, SESSION_TOKEN, _, actor, csrf_token, page, safe_next
from samen.models import User
from samen.problems import AuthenticationError, RateLimitedError


@console.route("/login", methods=["GET", "POST"])
def login():
    if g.actor is not None:
        return redirect(safe_next(request.args.get("next"), url_for("console.project_list")))
    if request.method == "GET":
        return page("login.html", error=None, email="")
    email = request.form.get("email", "").strip()
    try:
        with services().database.session() as db:
            user = authenticate_password(db, email, request.form.get("password", ""), request.remote_addr)
            token, _row = start_session(db, user, services().settings.session_hours)
            audit.record(db, "user.session.create", actor_id=user.id)
            locale = user.locale
    except RateLimitedError:
        return page("login.html", error=_("Too many failed attempts. Wait a few minutes before trying again."), email=email), 429
    except AuthenticationError:
        return page("login.html", error=_("The email address or password is not right."), email=email), 401
    # A fresh cookie: nothing from before signing in (CSRF token included) carries over.
    session.clear()
    session[SESSION_TOKEN] = token
    session[LOCALE_KEY] = locale
    csrf_token()
    return redirect(safe_next(request.form.get("next"), url_for("console.project_list")))


@console.route("/logout", methods=["POST"])
def logout():
    with services().database.session() as db:
        end_console_session(db, token_sha256(session[SESSION_TOKEN]))
        audit.record(db, "user.session.end", actor_id=actor().id)
    session.clear()
    return redirect(url_for("console.login"))


@console.route("/locale", methods=["POST"])
def switch_locale():
    locale = request.form.get("locale")
    if locale in LOCALES:
        session[LOCALE_KEY] = locale
        if g.user is not None:
            with services().database.session() as db:
                db.get(User, g.user.id).locale = locale
    return redirect(safe_next(request.form.get("next"), url_for("console.project_list")))
