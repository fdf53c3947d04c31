"""``mimamori demo --heat`` as a newcomer runs it: the hot afternoon's steps, in order, once each."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_demo import empty_database, run_demo  # noqa: F401  (the fixture is used by name)

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
