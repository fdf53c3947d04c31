"""The heat ladder end to end: forecast cached, readings in, the real cycle step, the real
outbox and dispatcher, the fake LINE that checks bodies against LINE's spec. Who got what, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from core import pauses
from core.climate.profiles import learn_profiles
from core.db import session_scope
from core.detection.timeaxis import day_first_slot, slot_start
from core.enums import CloseReason, IncidentKind
from core.escalation import dispatcher
from core.jobs import CYCLE_STEPS, run_job
from core.models import Home, HomeWatcher, Incident, MeterReading, WeatherDay
from core.texts import t

SENIOR = "U" + "ab" * 16
TODAY = date(2026, 8, 4)
NOON_35 = datetime(2026, 8, 4, 4, 5, tzinfo=UTC)  # 13:05 JST
CLIMATE_STEP = next(s for s in CYCLE_STEPS if s.name == "meter_cycle.climate")


def _day_number(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _put_day(s: Any, home_id: int, d: date, values: np.ndarray, upto: int = 48) -> None:
    first = day_first_slot(_day_number(d))
    for i in range(upto):
        if np.isfinite(values[i]):
            s.merge(MeterReading(home_id=home_id, interval_start=slot_start(first + i), kwh=round(float(values[i]), 1)))


def _usual_day(rng: np.random.Generator, ac: float) -> np.ndarray:
    day = np.round(0.1 + 0.1 * (rng.random(48) < 0.3), 1)
    day[14:44] += 0.1  # up and about 07:00-22:00 (0.1 kWh register steps)
    day[22:44] += ac
    return day


def _history(home: Home, *, cools: bool) -> None:
    """70 days before TODAY: every other day hot (34 °C) with cooling if the home cools."""
    rng = np.random.default_rng(home.id)
    with session_scope() as s:
        for k in range(1, 71):
            d = TODAY - timedelta(days=k)
            hot = k % 2 == 0
            s.merge(WeatherDay(office="130000", day=d, t_max=34.0 if hot else 24.0, t_min=26.0 if hot else 18.0,
                               issued_at=datetime.combine(d, datetime.min.time(), UTC), fetched_at=NOON_35))
            _put_day(s, home.id, d, _usual_day(rng, 0.3 if hot and cools else 0.0))


def _forecast(t_max: float = 35.0, wbgt: float | None = 33.8, issued: datetime = NOON_35 - timedelta(hours=8)) -> None:
    with session_scope() as s:
        s.merge(WeatherDay(office="130000", day=TODAY, t_max=t_max, t_min=27.0, wbgt_max=wbgt, station="44132",
                           issued_at=issued, fetched_at=issued))


def _today(home: Home, upto: int, ac_from: int | None = None) -> None:
    day = _usual_day(np.random.default_rng(999), 0.0)
    if ac_from is not None:
        day[ac_from:] += 0.3
    with session_scope() as s:
        _put_day(s, home.id, TODAY, day, upto)


@pytest.fixture
def hot_home(make_home: Any, make_watcher: Any, clock: Any) -> tuple[Home, Any]:
    clock.set(NOON_35)
    home = make_home(address="東京都杉並区阿佐谷1-1", resident_name="花子")
    with session_scope() as s:
        h = s.get(Home, home.id)
        assert h is not None and h.resident is not None
        h.resident.line_user_id = SENIOR
    watcher = make_watcher(home, relation_label="お母さん")
    _history(home, cools=True)
    with session_scope() as s:
        learn_profiles(s, NOON_35)
    return home, watcher


def _cycle(clock: Any) -> None:
    run_job(CLIMATE_STEP, clock.now())
    dispatcher.dispatch_due()


def _ladder(home: Home) -> Incident | None:
    with session_scope() as s:
        row = s.scalar(select(Incident).where(Incident.home_id == home.id, Incident.kind == IncidentKind.HEAT_RISK))
        if row is not None:
            s.expunge(row)
        return row


def test_no_cooling_on_a_hot_afternoon_nudges_her_then_tells_the_family_then_says_it_came_on(
        hot_home: Any, clock: Any, fake_line: Any) -> None:
    home, watcher = hot_home
    _forecast()
    _today(home, upto=25)  # readings to 12:30, no cooling
    _cycle(clock)
    nudge = t("climate.nudge.heat_risk", "ja", name="花子さん")
    assert [m["text"] for m in fake_line.state.messages_to(SENIOR)] == [nudge]
    assert fake_line.state.messages_to(watcher.line_user_id) == []
    ladder = _ladder(home)
    assert ladder is not None and ladder.evidence["rung"] == "nudged" and ladder.evidence["heat_alert"] is True

    clock.advance(minutes=60)
    _today(home, upto=27)
    _cycle(clock)  # not yet: the family waits HEAT_FAMILY_AFTER_MINUTES
    assert fake_line.state.messages_to(watcher.line_user_id) == []
    clock.advance(minutes=30)
    _today(home, upto=28)
    _cycle(clock)
    family = fake_line.state.messages_to(watcher.line_user_id)
    assert len(family) == 1
    assert family[0]["text"] == t("climate.family.heat_risk", "ja", name="お母さん", t_max="35度", since="10:00",
                                  nudged_at="13:05")

    clock.advance(minutes=30)
    _today(home, upto=31, ac_from=29)
    _cycle(clock)
    family = fake_line.state.messages_to(watcher.line_user_id)
    assert [m["text"] for m in family[1:]] == [t("climate.seen_notice.heat_risk", "ja", name="お母さん")]
    ladder = _ladder(home)
    assert ladder is not None and ladder.close_reason is CloseReason.COOLING_SEEN
    clock.advance(minutes=30)
    _cycle(clock)  # at most one ladder a day: nothing more today
    assert len(fake_line.state.messages_to(SENIOR)) == 1 and len(fake_line.state.messages_to(watcher.line_user_id)) == 2


def test_cooling_that_runs_means_no_message(hot_home: Any, clock: Any, fake_line: Any) -> None:
    home, _watcher = hot_home
    _forecast()
    _today(home, upto=25, ac_from=21)
    _cycle(clock)
    assert fake_line.state.calls == [] and _ladder(home) is None


@pytest.mark.parametrize("case", ["missing", "late", "mild"])
def test_no_forecast_a_late_one_or_a_mild_day_means_no_heat_message(
        hot_home: Any, clock: Any, fake_line: Any, case: str) -> None:
    home, _ = hot_home
    if case == "late":
        _forecast(issued=NOON_35 - timedelta(days=2))
    elif case == "mild":
        _forecast(t_max=29.0, wbgt=30.0)
    _today(home, upto=25)
    _cycle(clock)
    assert fake_line.state.calls == [] and _ladder(home) is None


def test_a_heat_stroke_alert_alone_makes_a_hot_day(hot_home: Any, clock: Any, fake_line: Any) -> None:
    home, _ = hot_home
    _forecast(t_max=30.0, wbgt=33.1)
    _today(home, upto=25)
    _cycle(clock)
    assert len(fake_line.state.messages_to(SENIOR)) == 1


def test_a_pause_the_home_switch_and_the_watcher_switch(hot_home: Any, clock: Any, fake_line: Any) -> None:
    home, watcher = hot_home
    _forecast()
    _today(home, upto=25)
    with session_scope() as s:
        h = s.get(Home, home.id)
        assert h is not None
        pauses.trip(s, h, TODAY, TODAY + timedelta(days=1))
    _cycle(clock)
    assert fake_line.state.calls == []
    with session_scope() as s:
        pauses.resume_now(s, s.get(Home, home.id))  # type: ignore[arg-type]
        s.get(Home, home.id).climate_watch_enabled = False  # type: ignore[union-attr]
    _cycle(clock)
    assert fake_line.state.calls == []
    with session_scope() as s:
        s.get(Home, home.id).climate_watch_enabled = True  # type: ignore[union-attr]
        link = s.scalar(select(HomeWatcher).where(HomeWatcher.watcher_id == watcher.id))
        assert link is not None
        link.notify_climate = False
    _cycle(clock)
    clock.advance(minutes=95)
    _today(home, upto=28)
    _cycle(clock)
    assert len(fake_line.state.messages_to(SENIOR)) == 1
    assert fake_line.state.messages_to(watcher.line_user_id) == []


def test_a_home_never_seen_cooling_hears_so_once_and_is_not_nudged(
        make_home: Any, make_watcher: Any, clock: Any, fake_line: Any) -> None:
    clock.set(NOON_35)
    home = make_home(address="東京都杉並区1-1", resident_name="花子")
    watcher = make_watcher(home, relation_label="お母さん")
    _history(home, cools=False)
    with session_scope() as s:
        learn_profiles(s, NOON_35)
    _forecast()
    _today(home, upto=25)
    _cycle(clock)
    clock.advance(days=1)
    with session_scope() as s:
        s.merge(WeatherDay(office="130000", day=TODAY + timedelta(days=1), t_max=36.0, issued_at=clock.now(),
                           fetched_at=clock.now()))
    _cycle(clock)
    texts = [m["text"] for m in fake_line.state.messages_to(watcher.line_user_id)]
    assert texts == [t("climate.never_seen.heat_risk", "ja", name="お母さん")]
    assert _ladder(home) is None


def test_a_senior_without_line_gets_a_short_call_that_says_the_nudge(
        make_home: Any, make_watcher: Any, clock: Any) -> None:
    from core.enums import Channel
    from core.escalation.channels.fakes import RecordingSender

    clock.set(NOON_35)
    home = make_home(address="東京都杉並区1-1", resident_name="花子", phone="+819011112222")
    _history(home, cools=True)
    with session_scope() as s:
        learn_profiles(s, NOON_35)
    _forecast()
    _today(home, upto=25)
    run_job(CLIMATE_STEP, clock.now())
    voice = RecordingSender()
    dispatcher.dispatch_due(channels={Channel.VOICE: voice, Channel.LINE: RecordingSender()})
    assert [m.recipient for m in voice.sent] == ["+819011112222"]
    assert t("climate.voice.heat_risk", "ja", name="花子さん") in voice.sent[0].payload["twiml"]


def test_the_day_graph_marks_the_hot_day_and_when_cooling_ran(hot_home: Any, clock: Any) -> None:
    from core.climate.marks import day_marks
    from core.reports.graph import render_day

    home, _ = hot_home
    _forecast()
    _today(home, upto=30, ac_from=24)
    with session_scope() as s:
        h = s.get(Home, home.id)
        assert h is not None
        marks = day_marks(s, h, TODAY, "ja")
        assert marks is not None and marks.label == t("climate.graph.alert_day", "ja", t_max="35度")
        assert marks.cooling[25:29].all() and not marks.cooling[:22].any()
        assert render_day(s, home.id, TODAY)[:4] == b"\x89PNG"
        assert day_marks(s, h, TODAY - timedelta(days=1), "ja") is None or not marks.cooling[:22].any()


def test_the_operator_switches_a_home_or_one_watcher_off_and_bad_input_changes_nothing(
        make_home: Any, make_watcher: Any, clock: Any) -> None:
    from click.testing import CliRunner

    from mimamori.cli.main import cli

    home = make_home(address="東京都杉並区1-1")
    watcher = make_watcher(home)
    runner = CliRunner()
    assert runner.invoke(cli, ["homes", "climate", home.meter_id, "off"]).exit_code == 0
    assert runner.invoke(cli, ["homes", "climate", home.meter_id, "off", "--watcher", str(watcher.id)]).exit_code == 0
    bad = runner.invoke(cli, ["homes", "climate", home.meter_id, "on", "--watcher", "999999"])
    assert bad.exit_code != 0 and "999999" in bad.output
    assert runner.invoke(cli, ["homes", "climate", "no-such-meter", "on"]).exit_code != 0
    with session_scope() as s:
        h = s.get(Home, home.id)
        link = s.scalar(select(HomeWatcher).where(HomeWatcher.watcher_id == watcher.id))
        assert h is not None and link is not None
        assert h.climate_watch_enabled is False and link.notify_climate is False


def test_the_weekly_digest_lists_the_hot_day_its_cooling_and_the_nudge(
        hot_home: Any, clock: Any, fake_line: Any) -> None:
    from core.climate.marks import week_lines
    from core.reports import weekly

    home, _ = hot_home
    _forecast()
    _today(home, upto=25)
    _cycle(clock)  # a nudge: a heat_risk incident this week
    _today(home, upto=34, ac_from=27)
    monday = TODAY - timedelta(days=TODAY.weekday())
    with session_scope() as s:
        h = s.get(Home, home.id)
        assert h is not None
        lines = week_lines(s, h, monday, "ja")
        label = t("climate.graph.alert_day", "ja", t_max="35度")
        assert len(lines) == 1 and lines[0].startswith(f"8/4 {label}: ")
        assert t("climate.week.no_cooling", "ja") not in lines[0]
        facts = weekly.build(s, h, monday)
        assert any(t("reports.kind.heat_risk", "ja") in line for line in weekly.unusual_lines(facts, "ja"))
