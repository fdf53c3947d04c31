"""The one place that makes engines and sessions.

``init_db(settings)`` builds the engine once per process; ``session_scope()`` gives a
transaction that commits on success and rolls back on error. SQLite gets WAL and a
busy timeout so the web app and scheduler threads can share the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson
from sqlalchemy import ARRAY, DateTime, Engine, Integer, MetaData, any_, bindparam, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from core.settings import Settings, get_settings

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (no tz) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use core.clock / aware values")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


BUSY_TIMEOUT_MS = 30_000  # how long a SQLite writer waits for another's lock
_engine: Engine | None = None
_factory: sessionmaker[Session] | None = None


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; for SQLite the folder is created and pragmas set per connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # JSON columns parsed by orjson: a cycle reads 100,000 stored baselines after a restart
    # (18 kB of JSON each), 6x faster than the standard library.
    kwargs.setdefault("json_deserializer", orjson.loads)
    if "poolclass" not in kwargs:
        # Kept connections cover a web process's 16 request threads: past pool_size a returned
        # connection is closed, and each new one forks a PostgreSQL backend (ms of CPU on a busy box).
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


def init_db(settings: Settings | None = None, engine: Engine | None = None) -> Engine:
    """Bind the process-wide session factory (idempotent for the same URL)."""
    global _engine, _factory
    if engine is None:
        settings = settings or get_settings()
        if _engine is not None and str(_engine.url) == str(make_url(settings.database_url)):
            return _engine
        engine = make_engine(settings.database_url)
    _engine = engine
    _factory = sessionmaker(bind=engine, expire_on_commit=False)
    return engine


def get_engine() -> Engine:
    if _engine is None:
        return init_db()
    return _engine


def session_factory() -> sessionmaker[Session]:
    if _factory is None:
        init_db()
    assert _factory is not None
    return _factory


@contextmanager
def session_scope() -> Iterator[Session]:
    """One transaction: commit if the block returns, roll back if it raises."""
    session = session_factory()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(bind: Engine | Session) -> bool:
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "postgresql"


def id_in(bind: Engine | Session, column: Any, ids: Any) -> Any:
    """``column IN ids`` for many ids: one array parameter on PostgreSQL (``= ANY(:ids)``).

    An IN list of 5,000 placeholders costs the driver ~0.1 s to parse on every execution;
    detection runs several per 5,000 homes."""
    if is_postgres(bind):
        return column == any_(bindparam(None, [int(i) for i in ids], type_=ARRAY(Integer)))
    return column.in_(list(ids))
