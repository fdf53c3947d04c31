"""``mimamori demo``: one morning of the service, told as it happens, with no credentials.

The web app runs in this process on a free loopback port (so Twilio's fake can call its
callbacks and the family's taps go through the real LINE webhook), on a fresh SQLite
database in a temporary folder, with a ManualClock the story moves. The story itself is
core.demo's: the real jobs run and what they recorded is read back and printed.
``--json`` prints one JSON object per step on stdout and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import func, select

from core.texts import t

WEEKDAYS = {"ja": "月火水木金土日", "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}
START = datetime(2026, 6, 9, 12, 0, tzinfo=UTC)  # a fixed day: the story is the same every run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server:
    """The Flask app served by werkzeug in a thread (the Twilio emulator's callbacks need HTTP)."""

    def __init__(self, app: Any, port: int) -> None:
        from werkzeug.serving import make_server

        self.app = app
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


class WebhookHands:
    """The family's taps as LINE delivers them: signed postbacks to /callback (if the bot is
    installed), falling back to core.incidents when it is not."""

    def __init__(self, settings: Any, twilio_state: Any, warn: Any) -> None:
        from core.demo import Hands

        self.settings = settings
        self.direct = Hands()
        self.twilio_state = twilio_state
        self.warn = warn

    def _postback(self, user_id: str, data: str) -> bool:
        try:
            from bot.dev.chat import DESTINATION, build_event
        except ImportError:
            return False
        import requests

        event = build_event("postback", user_id, None, user_id, data=data)
        body = json.dumps({"destination": DESTINATION, "events": [event]}, ensure_ascii=False).encode()
        secret = self.settings.line_secrets[0].encode()
        signature = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
        resp = requests.post(f"{self.settings.base_url}/callback", data=body, timeout=10,
                             headers={"X-Line-Signature": signature, "Content-Type": "application/json"})
        return resp.status_code == 200

    def _wait(self, incident_id: int, done: Any) -> bool:
        from core.db import session_scope
        from core.models import Incident

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with session_scope() as session:
                incident = session.get(Incident, incident_id)
                if incident is not None and done(incident):
                    return True
            time.sleep(0.05)
        return False

    def _tap(self, action: str, incident_id: int, watcher_id: int, done: Any, **extra: str) -> bool:
        from core.db import session_scope
        from core.escalation.messages import postback
        from core.models import Watcher

        with session_scope() as session:
            watcher = session.get(Watcher, watcher_id)
            user_id = watcher.line_user_id if watcher else None
        if user_id and self._postback(user_id, postback(action, incident_id, **extra)):
            if self._wait(incident_id, done):
                return True
            self.warn(f"demo: the bot did not handle the {action} tap; acting directly")
        return False

    def acknowledge(self, incident_id: int, watcher_id: int) -> None:
        if not self._tap("ack", incident_id, watcher_id, lambda i: i.acknowledged_at is not None):
            self.direct.acknowledge(incident_id, watcher_id)

    def close_safe(self, incident_id: int, watcher_id: int) -> None:
        if not self._tap("close", incident_id, watcher_id, lambda i: i.closed_at is not None, reason="safe"):
            self.direct.close_safe(incident_id, watcher_id)

    def settle(self, incident_id: int) -> None:
        """Twilio's callbacks arrive over HTTP a moment after each call: wait for them."""
        from core.db import session_scope
        from core.demo import voice_settled

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with session_scope() as session:
                if voice_settled(session, incident_id):
                    return
            time.sleep(0.02)



def demo_world(stack: ExitStack, *, prefix: str, database_url: str | None, start: datetime, **settings: Any) -> Any:
    """A demo's temporary world, torn down by ``stack``: settings, migrated database, a manual clock
    at ``start`` and the real web app served on a free local port. Returns (clock, server)."""
    from bot.app import create_app
    from core import clock as clock_module
    from core import migrate
    from core.db import init_db
    from core.settings import Settings, use_settings

    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix)))
    port = _free_port()
    config = Settings(database_url=database_url or f"sqlite:///{folder / 'demo.db'}", mimamori_env="dev",
                      host="127.0.0.1", port=port, public_base_url=None, log_level="ERROR", **settings)
    use_settings(config)
    stack.callback(use_settings, None)
    migrate.upgrade(config.database_url)
    engine = init_db(config)
    stack.callback(engine.dispose)
    clock = clock_module.ManualClock(start)
    stack.enter_context(clock_module.use_clock(clock))
    app = create_app(config)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per HTTP request is noise here
    return clock, stack.enter_context(_Server(app, port))


def write_graph(png: bytes, out: Path | None, default_name: str) -> Path:
    """Write a demo's graph to ``out`` (default var/demo/``default_name``); its absolute path."""
    path = (out or Path("var") / "demo" / default_name).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path


def _local(at: datetime, tz: str = "Asia/Tokyo") -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%H:%M")


def _day_label(day: Any, lang: str) -> str:
    wd = WEEKDAYS[lang][day.weekday()]
    return f"{day.month}月{day.day}日({wd})" if lang == "ja" else f"{wd} {day.isoformat()}"


def describe(event: Any, lang: str) -> list[str]:
    """An event in words (the human output); any extra lines are printed under it."""
    d = event.detail
    if event.kind == "incident_opened":
        return [t("demo.opened", lang, evidence=d.get("evidence", ""))]
    if event.kind == "resident_contact":
        outcome_key = "machine" if str(d.get("answered_by") or "").startswith("machine") else d.get("outcome")
        known = {"no_answer", "machine", "failed", "succeeded"}
        outcome = t(f"demo.outcome.{outcome_key}", lang) if outcome_key in known else \
            t("demo.outcome.other", lang, state=outcome_key)
        if event.channel == "voice":
            return [t("demo.call", lang, to=event.to, n=d.get("attempt", 1), outcome=outcome)]
        return [t("demo.resident_other", lang, to=event.to, channel=event.channel.upper(), outcome=outcome)]
    if event.kind == "watcher_alerted":
        if event.channel == "line":  # its graph link dies with the demo's server: the PNG is written at the end
            return [t("demo.watcher_line", lang, to=event.to)]
        return [t("demo.watcher_other", lang, to=event.to, channel=event.channel.upper())]
    if event.kind == "group_alerted":
        return [t("demo.group", lang, to=event.to)]
    if event.kind == "acknowledged":
        return [t("demo.ack", lang, who=event.to, source=str(event.channel).replace("_", " ").upper())]
    reason = d.get("reason")
    text = t(f"demo.reason.{reason}", lang) if reason in {"safe", "usage_seen", "resident_ok"} else \
        t("demo.reason.other", lang, reason=reason)
    return [t("demo.closed", lang, reason=text)]


def run_demo(*, as_json: bool, lang: str, out: Path | None, database_url: str | None) -> int:
    started = time.monotonic()
    from core import demo
    from core.db import session_scope
    from core.models import Home
    from core.reports.graph import render_day
    from core.settings import get_settings

    err = click.get_text_stream("stderr")

    def say(text: str = "") -> None:
        click.echo(text, err=as_json)

    with ExitStack() as stack:
        begin, still_from = demo.demo_morning(START)
        clock, server = demo_world(stack, prefix="mimamori-demo-", database_url=database_url, start=begin,
                                   meter_source="simulator")
        twilio = server.app.extensions.get("twilio_emulator")
        if twilio is not None:
            twilio.script("no_answer", "no_answer", "machine")  # nobody picks up; then the voicemail

        with session_scope() as session:
            if session.scalar(select(func.count(Home.id))):
                raise click.ClickException(f"{database_url} already has homes: the demo needs an empty database")
            cast = demo.create_home(session, clock.now(), lang=lang)
            home = session.get(Home, cast.home_id)
            assert home and home.resident and home.building
            say(t("demo.intro", lang, resident=home.resident.display_name, building=home.building.name,
                  watcher=t("demo.watcher_name", lang)))
        show_bar = err.isatty()
        with click.progressbar(length=9, label=t("demo.learning", lang), file=err,
                               show_percent=True) if show_bar else _NoBar() as bar:
            last = [0]

            def progress(done: int, total: int) -> None:
                bar.update(done - last[0])
                last[0] = done

            with session_scope() as session:
                stored = demo.load_history(session, cast, clock.now(), progress=progress)
        with session_scope() as session:
            home = session.get(Home, cast.home_id)
            assert home is not None
            say(t("demo.learned", lang, count=stored, status=home.status.value))
            from core.meters.pull import set_incapacitated

            set_incapacitated(session, home.meter_id, still_from)
            day = demo.local_day(home, clock.now())
        say()
        say(t("demo.morning", lang, day=_day_label(day, lang), resident=t("demo.resident_name", lang)))

        def on_event(event: Any) -> None:
            if as_json:
                click.echo(json.dumps(event.as_json(), ensure_ascii=False))
                return
            lines = describe(event, lang)
            click.echo(f"  {_local(event.at)}  {lines[0]}")
            for extra in lines[1:]:
                click.echo(extra)

        hands = WebhookHands(get_settings(), twilio, lambda m: click.echo(m, err=True))
        incident_id = demo.play_morning(clock, cast, lang=lang, hands=hands, on_event=on_event)
        if incident_id is None:
            click.echo(t("demo.no_incident", lang), err=True)
            return 1
        with session_scope() as session:
            png = render_day(session, cast.home_id, day, incident_id=incident_id, lang=lang)
        path = write_graph(png, out, f"graph-{day.isoformat()}.png")
        say()
        say(t("demo.graph_written", lang, path=str(path)))
        say(t("demo.took", lang, seconds=time.monotonic() - started))
    return 0


class _NoBar:
    """A progress bar that says nothing (stderr is not a terminal)."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def seed_demo_home(settings: Any) -> None:
    """``mimamori serve`` in dev on a database with no homes: seed the demo home so /dev/chat
    shows its weekly digest and graph; the link printed opens /dev/chat as its family."""
    from sqlalchemy.exc import DBAPIError

    from core import clock
    from core.db import init_db, session_scope
    from core.demo import DEMO_GROUP_ID, DEMO_SENIOR_LINE_ID, DEMO_WATCHER_LINE_ID, seed_dev_home

    engine = init_db(settings)
    try:
        with session_scope() as session:
            cast = seed_dev_home(session, clock.now())
    except DBAPIError as exc:
        click.echo(f"mimamori: no demo home ({type(exc.orig).__name__}; run `mimamori db upgrade` first)", err=True)
        return
    finally:
        engine.dispose()  # the web worker is forked next: it must open its own connections
    if cast is not None:
        click.echo("mimamori: seeded a demo home (8 weeks of simulated history); its family's LINE chat:")
        click.echo(f"  {settings.base_url}/dev/chat/?watcher={DEMO_WATCHER_LINE_ID}"
                   f"&senior={DEMO_SENIOR_LINE_ID}&group={DEMO_GROUP_ID}")


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--json", "as_json", is_flag=True, help="one JSON object per step on stdout, nothing else")
    @click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="where to write the graph PNG (default var/demo/graph-<day>.png)")
    @click.option("--database-url", default=None,
                  help="an empty database to run on (default: a temporary SQLite file, deleted after)")
    @click.option("--heat", is_flag=True, help="a hot afternoon instead: forecast, no cooling, nudge, family")
    def demo(as_json: bool, lang: str, out: Path | None, database_url: str | None, heat: bool) -> None:
        """Play a morning where a senior living alone does not get up, with local fakes only."""
        if heat:
            from mimamori.cli.demo_heat import run_heat_demo

            sys.exit(run_heat_demo(as_json=as_json, lang=lang, out=out, database_url=database_url))
        sys.exit(run_demo(as_json=as_json, lang=lang, out=out, database_url=database_url))
