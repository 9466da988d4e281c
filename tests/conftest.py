"""Fixtures shared by the suite: a real database (SQLite and PostgreSQL), the app, a live server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from api_client import sign_in
from helpers import SIMPLE_FORM_MD, make_phone, make_project, publish, xform
from samen.app import create_app
from samen.auth import Actor
from samen.db import Database
from samen.models import Base

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "fixtures" / "encryption"
POSTGRES_URL = os.environ.get("SAMEN_TEST_POSTGRES_URL")

SYSTEM = Actor(kind="user", id=0, display_name="test set-up", is_admin=True)


def _postgres_database() -> str:
    """A fresh database for this test run, dropped at the end."""
    name = f"samen_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


def _drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_url():
    if not POSTGRES_URL:
        pytest.skip("SAMEN_TEST_POSTGRES_URL is not set (make test and .ci/run set it)")
    url = _postgres_database()
    Database(url.replace("postgresql://", "postgresql+psycopg://", 1)).migrate()
    yield url
    _drop_postgres_database(url)


def _truncate(url: str) -> None:
    database = Database(url.replace("postgresql://", "postgresql+psycopg://", 1))
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """Each storage and ingest test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'samen.db'}"
        Database(url).migrate()
        return url
    url = request.getfixturevalue("postgres_url")
    _truncate(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path):
    """For tests whose subject is not storage: SQLite only."""
    url = f"sqlite:///{tmp_path / 'samen.db'}"
    Database(url).migrate()
    return url


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app({"data_dir": tmp_path / "data", "database_url": database_url, "secret_key": "test",
                      "export_dir": tmp_path / "exports"})
    yield app
    app.extensions["samen"].database.dispose()


@pytest.fixture
def services(app):
    return app.extensions["samen"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin(services):
    """An administrator with a bearer session for the API."""
    return sign_in(services, "admin@example.org", admin=True)


@pytest.fixture
def project_id(services):
    return make_project(services)


@pytest.fixture
def phone(services):
    """An app user of a new project, assigned to the published simple form."""
    project_id = make_project(services)
    publish(services, project_id, xform(SIMPLE_FORM_MD))
    return make_phone(services, project_id, ["simple"])


@dataclass
class LiveServer:
    url: str
    env: dict
    process: subprocess.Popen

    @property
    def env_data_dir(self) -> Path:
        return Path(self.env["SAMEN_DATA_DIR"])

    def cli_argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "samen.cli", *args]

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(self.cli_argv(*args), env=self.env, input=input, capture_output=True, text=True,
                              timeout=300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_live_server(data_dir: Path, database_url: str | None, workers: int = 2) -> LiveServer:
    env = {**os.environ, "SAMEN_DATA_DIR": str(data_dir), "SAMEN_ADMIN_EMAIL": "admin@example.org",
           "SAMEN_ADMIN_PASSWORD": "correct horse battery staple", "SAMEN_SECRET_KEY": "live-test"}
    env.pop("SAMEN_DATABASE_URL", None)
    if database_url:
        env["SAMEN_DATABASE_URL"] = database_url
    port = _free_port()
    env["SAMEN_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    subprocess.run([sys.executable, "-m", "samen.cli", "init"], env=env, check=True, capture_output=True, timeout=120)
    log_file = data_dir / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "samen.cli", "serve", "--workers", str(workers), "--port", str(port)],  # as staff start it
        # Files, not pipes: a pipe nobody reads would fill and stall the server. stdout is the access log.
        env=env, stdout=(data_dir / "access.log").open("wb"), stderr=log_file.open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log_file.read_text(errors="replace")[-4000:])
        try:
            # Any HTTP answer means a worker has booted (the master binds before workers load the app).
            urllib.request.urlopen(url + "/v1/projects", timeout=1)
        except urllib.error.HTTPError:
            return LiveServer(url, env, process)
        except OSError:
            time.sleep(0.1)
            continue
        return LiveServer(url, env, process)
    process.kill()
    raise RuntimeError("the live server did not start: " + log_file.read_text(errors="replace")[-4000:])


@pytest.fixture
def live_server(tmp_path, database_url):
    """A real gunicorn server in a subprocess, on the same database kinds as the storage tests."""
    url = None if database_url.startswith("sqlite") else database_url
    server = start_live_server(tmp_path / "live", url)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture
def samen(services, database_url, monkeypatch, tmp_path):
    """`samen …` in-process against the test database, as staff type it."""
    from click.testing import CliRunner

    from samen.cli import main

    monkeypatch.setenv("SAMEN_DATA_DIR", str(services.settings.data_dir))
    monkeypatch.setenv("SAMEN_DATABASE_URL", database_url)
    monkeypatch.setenv("SAMEN_EXPORT_DIR", str(tmp_path / "exports"))

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke
