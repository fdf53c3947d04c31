"""``mimamori demo --heat``: a hot afternoon, told as it happens (core.demo_heat), with local fakes only.

The same frame as ``mimamori demo``: a temporary SQLite database, the web app on a free
loopback port (the LINE emulator receives the pushes), a ManualClock the story moves.
``--json`` prints one JSON object per step on stdout and nothing else.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from core.texts import t


def describe(event: Any, lang: str) -> str:
    d = event.detail
    if event.kind == "forecast":
        alert = t("demo.heat.alert", lang, wbgt=d["wbgt_max"]) if d.get("heat_alert") else ""
        return t("demo.heat.forecast", lang, t_max=d["t_max"], alert=alert)
    if event.kind == "no_cooling":
        return t("demo.heat.no_cooling", lang, since=d.get("since"))
    if event.kind in ("resident_nudged", "watcher_told", "watcher_told_cooling_on"):
        return t(f"demo.heat.{event.kind}", lang, to=event.to, channel=str(event.channel).upper(),
                 text=d.get("text") or "")
    if event.kind == "cooling_seen":
        return t("demo.heat.cooling_seen", lang)
    reason = d.get("reason")
    known = {"cooling_seen", "exhausted", "paused"}
    return t("demo.heat.closed", lang, reason=t(f"demo.heat.reason.{reason}", lang) if reason in known else reason)


def run_heat_demo(*, as_json: bool, lang: str, out: Path | None, database_url: str | None) -> int:
    started = time.monotonic()
    from core import demo_heat
    from core.db import session_scope
    from core.models import Home
    from core.reports.graph import render_day
    from mimamori.cli.demo import _local, demo_world, write_graph

    def say(text: str = "") -> None:
        click.echo(text, err=as_json)

    with ExitStack() as stack:
        clock, _server = demo_world(stack, prefix="mimamori-heat-", database_url=database_url,
                                    start=demo_heat._jst(demo_heat.HEAT_DAY, 3), meter_source="none",
                                    weather_source="fixtures")
        with session_scope() as session:
            if session.scalar(select(func.count(Home.id))):
                raise click.ClickException(f"{database_url} already has homes: the demo needs an empty database")
            cast = demo_heat.setup(session, clock.now(), lang)
            home = session.get(Home, cast.home_id)
            assert home is not None and home.resident is not None
            say(t("demo.heat.intro", lang, resident=home.resident.display_name,
                  watcher=t("demo.watcher_name", lang), status=home.status.value))

        def on_event(event: Any) -> None:
            if as_json:
                click.echo(json.dumps(event.as_json(), ensure_ascii=False))
            else:
                click.echo(f"  {_local(event.at)}  {describe(event, lang)}")

        say(t("demo.heat.day", lang, resident=home.resident.display_name))
        incident_id = demo_heat.play_afternoon(clock, cast, lang=lang, on_event=on_event)
        if incident_id is None:
            click.echo(t("demo.heat.nothing", lang), err=True)
            return 1
        with session_scope() as session:
            png = render_day(session, cast.home_id, demo_heat.HEAT_DAY, lang=lang)
        path = write_graph(png, out, f"heat-{demo_heat.HEAT_DAY.isoformat()}.png")
        say()
        say(t("demo.heat.graph_written", lang, path=str(path)))
        say(t("demo.took", lang, seconds=time.monotonic() - started))
    return 0
