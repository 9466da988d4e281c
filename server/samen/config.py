"""Settings from `SAMEN_*` environment variables, with safe defaults for one machine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

DEFAULT_MAX_UPLOAD_BYTES = 100_000_000  # Central advertises the same X-OpenRosa-Accept-Content-Length


@dataclass(frozen=True)
class Settings:
    """Everything the app and the CLI read from the environment."""

    data_dir: Path = Path("var")
    database_url: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    public_url: str | None = None  # e.g. https://forms.example.org, when behind a proxy
    session_hours: float = 24.0
    unlock_minutes: float = 30.0
    secret_key: str | None = field(default=None, repr=False)
    export_dir: Path = Path("exports")
    export_ttl_hours: float = 24.0  # export files the server wrote are deleted after this (samen.retention)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return _normalise_postgres_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'samen.db').resolve()}"

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> "Settings":
        if not overrides:
            return self
        known = {k: v for k, v in overrides.items() if k in self.__dataclass_fields__}
        unknown = {k: v for k, v in overrides.items() if k not in self.__dataclass_fields__}
        if "data_dir" in known:
            known["data_dir"] = Path(known["data_dir"])
        if "export_dir" in known:
            known["export_dir"] = Path(known["export_dir"])
        return replace(self, **known, extra={**self.extra, **unknown})


def _normalise_postgres_url(url: str) -> str:
    # Operators paste libpq URLs; SQLAlchemy needs the driver named to pick psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if "SAMEN_DATA_DIR" in env:
        values["data_dir"] = Path(env["SAMEN_DATA_DIR"])
    if env.get("SAMEN_DATABASE_URL"):
        values["database_url"] = env["SAMEN_DATABASE_URL"]
    if "SAMEN_MAX_UPLOAD_BYTES" in env:
        values["max_upload_bytes"] = int(env["SAMEN_MAX_UPLOAD_BYTES"])
    if env.get("SAMEN_PUBLIC_URL"):
        values["public_url"] = env["SAMEN_PUBLIC_URL"].rstrip("/")
    if "SAMEN_SESSION_HOURS" in env:
        values["session_hours"] = float(env["SAMEN_SESSION_HOURS"])
    if "SAMEN_UNLOCK_MINUTES" in env:
        values["unlock_minutes"] = float(env["SAMEN_UNLOCK_MINUTES"])
    if env.get("SAMEN_SECRET_KEY"):
        values["secret_key"] = env["SAMEN_SECRET_KEY"]
    if env.get("SAMEN_EXPORT_DIR"):
        values["export_dir"] = Path(env["SAMEN_EXPORT_DIR"])
    if env.get("SAMEN_EXPORT_TTL_HOURS"):
        values["export_ttl_hours"] = float(env["SAMEN_EXPORT_TTL_HOURS"])
    return Settings(**values)
