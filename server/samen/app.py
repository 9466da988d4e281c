"""The Flask application factory."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Mapping

from flask import Flask, current_app, request

from samen.blobs import BlobStore
from samen.config import Settings, settings_from_env
from samen.db import Database
from samen.log_redaction import RedactingFlask


@dataclass
class Services:
    """What request handlers need, created once per app and passed down explicitly."""

    settings: Settings
    database: Database
    blobs: BlobStore


def services() -> Services:
    return current_app.extensions["samen"]


def public_base_url() -> str:
    """Where phones reach this server: the public URL, else the request's host (https behind a proxy that says so).
    Form lists, manifests and every QR code name it."""
    host = services().settings.public_url or request.host_url.rstrip("/")
    if request.headers.get("X-Forwarded-Proto", "").lower() == "https" and host.startswith("http://"):
        host = "https://" + host[len("http://"):]
    return host


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. No side effects: the schema is created by `samen init`, not here."""
    settings = settings_from_env().with_overrides(config)
    app = RedactingFlask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.config["SECRET_KEY"] = settings.secret_key or _stored_secret_key(settings) or secrets.token_hex(32)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.extensions["samen"] = Services(
        settings=settings, database=Database(settings.sqlalchemy_url), blobs=BlobStore(settings.blob_dir)
    )

    from samen.console import console
    from samen.api import api
    from samen.openrosa import openrosa

    app.register_blueprint(openrosa)
    app.register_blueprint(api)
    app.register_blueprint(console)
    return app


def _stored_secret_key(settings: Settings) -> str | None:
    """The key `samen init` wrote: every gunicorn worker must sign console cookies with the same one."""
    path = settings.data_dir / "secret.key"
    return path.read_text().strip() if path.is_file() else None
