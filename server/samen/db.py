"""The database: engine, sessions, and migrations to the newest schema."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets phones submit while staff export; FULL sync makes a commit durable before the 201.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            # No pre-ping: it costs a round trip on every request; recycling covers server-side timeouts.
            self.engine = create_engine(url, pool_recycle=1800, pool_size=10, max_overflow=10)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection on which each statement is its own transaction: no BEGIN or COMMIT round trips.
        Only for reads, and for writes that are one statement (samen.phone_ingest)."""
        with self._autocommit_engine.connect() as connection:
            yield connection

    @contextmanager
    def driver_autocommit(self) -> Iterator[Any]:
        """The driver's own connection (psycopg), borrowed from the pool, in autocommit: for the one
        statement on the busiest path (samen.phone_ingest), where SQLAlchemy's work cost more than the statement."""
        pooled = self.engine.raw_connection()
        try:
            connection = pooled.driver_connection
            connection.autocommit = True
            try:
                yield connection
            finally:
                connection.autocommit = False
        finally:
            pooled.close()  # back to the pool, which resets it

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest migration; safe to run again."""
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()
