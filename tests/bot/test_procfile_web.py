"""The Procfile's ``web`` line itself, run as production runs it (gunicorn's gevent worker):
a burst of signed LINE webhooks is stored once each, redeliveries vanish, a forged body is
refused (400) and an oversized one too (413), before anything is stored.

Why a real gunicorn: under the gevent worker every socket, lock and sleep of the intake path
(bot/webhook_store.py's group writer, its SQLite retries, psycopg's waits) is cooperative; a
Flask test client would not show a call that blocks the worker or a lock that greenlets share
wrongly. benchmarks/webhook_bench.py measures the same line's latency.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import session_scope
from core.models import WebhookEvent
from tests.bot.conftest import sign

REPO = Path(__file__).resolve().parents[2]
BURST = 40


def _procfile_web() -> str:
    line = next(line for line in (REPO / "Procfile").read_text().splitlines() if line.startswith("web:"))
    return line.split(":", 1)[1].strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(port: int, body: bytes, signature: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/callback", body, {"Content-Type": "application/json", "X-Line-Signature": signature})
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.fixture
def web(db: Any, settings: Any, tmp_path: Path) -> Any:
    """The Procfile's web line on a free port, on the test database; stopped with SIGTERM."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "MIMAMORI_ENV": "dev", "PORT": str(port),
           "LINE_CHANNEL_SECRET": settings.line_secrets[0], "LINE_CHANNEL_ACCESS_TOKEN": "test-access-token",
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING",
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    log = (tmp_path / "web.log").open("w")
    proc = subprocess.Popen(["bash", "-c", _procfile_web()], cwd=REPO, env=env, stdout=log, stderr=log,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "web.log").read_text()[-3000:]
            time.sleep(0.2)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def _stored() -> list[str]:
    with session_scope() as s:
        return list(s.scalars(select(WebhookEvent.webhook_event_id)))


def test_the_procfile_web_line_stores_a_burst_once_each_and_refuses_bad_bodies(
    web: int, chat_factory: Any, settings: Any,
) -> None:
    secret = settings.line_secrets[0]
    chats = [chat_factory() for _ in range(8)]
    bodies = [json.dumps(chats[i % len(chats)].event("message__text")).encode() for i in range(BURST)]
    redelivered = bodies[:5]
    with ThreadPoolExecutor(BURST + len(redelivered)) as pool:
        codes = list(pool.map(lambda b: _post(web, b, sign(b, secret)), bodies + redelivered))
    assert codes == [200] * len(codes)
    ids = [json.loads(b)["events"][0]["webhookEventId"] for b in bodies]
    stored = _stored()
    assert sorted(stored) == sorted(ids)  # every event once; the redeliveries vanished

    forged = json.dumps(chats[0].event("message__text")).encode()
    assert _post(web, forged, sign(forged, "not-the-secret")) == 400
    flood = json.dumps({"destination": "x", "events": [], "pad": "x" * (1024 * 1024)}).encode()
    assert _post(web, flood, sign(flood, secret)) == 413
    with session_scope() as s:
        assert s.scalar(select(func.count(WebhookEvent.id))) == BURST  # nothing more stored
