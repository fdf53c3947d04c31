"""Shared fixtures: a database per test run (SQLite or PostgreSQL), a controlled clock,
a local LINE API, factories, and a guard that fails any test reaching the internet.

Database: ``DATABASE_URL`` picks the engine (default: a SQLite file in a temp folder).
For PostgreSQL a fresh database named ``mimamori_test_<random>`` is created beside the
one in the URL and dropped afterwards, so parallel runs never share tables.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core import clock as clock_module
from core import db as db_module
from core import migrate
from core.clock import ManualClock
from core.db import Base, make_engine
from core.settings import Settings, use_settings
from tests.processes import processes  # noqa: F401 (a fixture for every test that starts real processes)

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
LCL_READINGS = SHARED / "data" / "lcl-dev" / "readings.csv.gz"
LINE_SPECS = SHARED / "specs" / "line"


# ---- no internet ------------------------------------------------------------------
_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None and self.family in (socket.AF_INET, socket.AF_INET6):
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            raise RuntimeError(f"test tried to reach {host!r}: tests never use the network") from None
        if not ip.is_loopback:
            raise RuntimeError(f"test tried to reach {host}: tests never use the network")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


# ---- reference data -----------------------------------------------------------------
def require_shared(path: Path) -> Path:
    """Skip (on a newcomer's machine) or fail (in CI) when ../shared is missing."""
    if path.exists():
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{path} is missing; CI must have ../shared beside the checkout")
    pytest.skip(f"{path} not found: the reference data lives in ../shared beside the checkout")


@pytest.fixture
def lcl_readings() -> Path:
    return require_shared(LCL_READINGS)


# ---- database -----------------------------------------------------------------------
def _test_database_url(tmp_root: Path) -> tuple[str, Callable[[], None]]:
    url = os.environ.get("DATABASE_URL")
    if not url or make_url(url).get_backend_name() == "sqlite":
        path = tmp_root / "test.db"
        return f"sqlite:///{path}", lambda: None
    base = make_url(url)
    name = f"mimamori_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        db_module.get_engine().dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, drop = _test_database_url(tmp_path_factory.mktemp("db"))
    migrate.upgrade(url)
    yield url
    drop()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    db_module.init_db(engine=eng)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Iterator[Settings]:
    """Dev settings on the test database; install them process-wide for the test."""
    s = Settings(
        database_url=database_url,
        mimamori_env="dev",
        public_base_url="http://127.0.0.1:8000",
        line_channel_secret="test-channel-secret",
        line_channel_access_token="test-access-token",
        mimamori_secret_key="test-secret-key",
    )
    use_settings(s)
    yield s
    use_settings(None)


def _wipe(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def db(engine: Engine, settings: Settings) -> Iterator[Engine]:
    """A committed-data database, emptied after the test: for code that opens its own
    sessions or runs in other threads (web app, dispatcher, servers)."""
    db_module.init_db(engine=engine)
    yield engine
    _wipe(engine)


@pytest.fixture
def session(engine: Engine, settings: Settings) -> Iterator[Session]:
    """A session inside a transaction rolled back at the end: for single-session tests."""
    conn = engine.connect()
    outer = conn.begin()
    sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield sess
    sess.close()
    outer.rollback()
    conn.close()


# ---- time ---------------------------------------------------------------------------
@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """A controllable clock starting Monday 2026-06-01 09:00 JST; move it with ``advance``."""
    manual = ManualClock(datetime(2026, 6, 1, 0, 0, tzinfo=UTC))
    with clock_module.use_clock(manual):
        yield manual


# ---- LINE ---------------------------------------------------------------------------
@pytest.fixture
def fake_line(settings: Settings) -> Iterator[Any]:
    """A local LINE Messaging API on its own port; settings point line-bot-sdk at it."""
    from bot.dev.line_emulator import FakeLineServer

    with FakeLineServer() as server:
        settings.line_api_base_url = server.url
        settings.line_data_api_base_url = server.url
        yield server


# ---- factories ----------------------------------------------------------------------
@pytest.fixture
def make_home(db: Engine) -> Callable[..., Any]:
    from tests.factories import make_home as factory

    return factory


@pytest.fixture
def make_watcher(db: Engine) -> Callable[..., Any]:
    from tests.factories import make_watcher as factory

    return factory
