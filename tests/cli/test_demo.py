"""``mimamori demo`` as a newcomer runs it: a separate process, its stdout read as a user would.

The JSON lines are a fixed contract (issue 8): one object per step with at/kind/channel/to/
incident. The human story must name the graph file it wrote, and that file must be a PNG.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

KINDS = ["incident_opened", "resident_contact", "watcher_alerted", "group_alerted", "acknowledged",
         "incident_closed"]


@pytest.fixture
def empty_database() -> Iterator[list[str]]:
    """On PostgreSQL runs, the demo gets its own empty database (``--database-url``)."""
    url = os.environ.get("DATABASE_URL")
    if not url or make_url(url).get_backend_name() != "postgresql":
        yield []  # the demo's own temporary SQLite file
        return
    name = f"mimamori_demo_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield ["--database-url", make_url(url).set(database=name).render_as_string(hide_password=False)]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_demo(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "mimamori.cli.main", "demo", *args], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=300)


def test_json_story_tells_the_whole_morning_in_order(tmp_path: Path, empty_database: list[str]) -> None:
    done = run_demo(tmp_path, "--json", "--out", str(tmp_path / "g.png"), *empty_database)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    steps = [json.loads(line) for line in lines]  # every stdout line is JSON, nothing else
    assert steps
    for step in steps:
        assert {"at", "kind", "channel", "to", "incident"} <= set(step)
        assert datetime.fromisoformat(step["at"]).utcoffset() is not None
        assert step["kind"] in KINDS
    assert {s["incident"] for s in steps} == {steps[0]["incident"]}
    times = [datetime.fromisoformat(s["at"]) for s in steps]
    assert times == sorted(times)

    def first(kind: str, channel: str | None = None) -> int:
        return next(i for i, s in enumerate(steps) if s["kind"] == kind and channel in (None, s["channel"]))

    calls = [s for s in steps if s["kind"] == "resident_contact" and s["channel"] == "voice"]
    assert len(calls) >= 3
    assert all(c["outcome"] == "no_answer" for c in calls)  # no one answered (two rings, one voicemail)
    order = [first("incident_opened"), first("resident_contact"), first("watcher_alerted", "line"),
             first("group_alerted"), first("acknowledged"), first("incident_closed")]
    assert order == sorted(order)
    assert steps[first("watcher_alerted", "line")]["graph_url"].endswith(".png")
    assert "+81" not in done.stdout  # labels, never phone numbers
    assert "acting directly" not in done.stderr  # the family's taps went through the bot's webhook


def test_human_story_names_the_graph_it_wrote(tmp_path: Path, empty_database: list[str]) -> None:
    out = tmp_path / "morning.png"
    done = run_demo(tmp_path, "--out", str(out), *empty_database)
    assert done.returncode == 0, done.stderr[-3000:]
    assert str(out) in done.stdout
    assert "対応します" in done.stdout and "留守番電話" in done.stdout
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


# ---- mimamori demo --heat: the hot afternoon's steps, in order, once each ----------------
HEAT_KINDS = ["forecast", "no_cooling", "resident_nudged", "watcher_told", "watcher_told_cooling_on",
              "cooling_seen", "incident_closed"]


def test_heat_story_goes_from_forecast_to_the_air_conditioner(tmp_path: Path, empty_database: list[str]) -> None:
    done = run_demo(tmp_path, "--heat", "--json", "--out", str(tmp_path / "h.png"), *empty_database)
    assert done.returncode == 0, done.stderr
    steps = [json.loads(line) for line in done.stdout.splitlines()]
    assert [s["kind"] for s in steps] == HEAT_KINDS
    assert steps[0]["heat_alert"] is True and steps[0]["t_max"] >= 31
    nudge, family = steps[2], steps[3]
    assert nudge["channel"] == "line" and family["channel"] == "line" and nudge["at"] < family["at"]
    assert steps[-1]["reason"] == "cooling_seen"
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
