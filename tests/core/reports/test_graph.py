"""Graph images are checked for what they show, not only that they exist."""

from __future__ import annotations

import io
import warnings
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest
from PIL import Image

from core.db import session_scope
from core.enums import IncidentKind
from core.incidents import open_incident
from core.models import Home
from core.reports import graph
from core.reports.usage import DayUsage
from tests.core.reports.helpers import active_day, history, put_day, quiet_day

DAY = date(2026, 6, 2)
# The axes occupy these fractions of the figure (graph._figure / subplots_adjust).
PLOT = (0.11, 0.97, 0.2, 0.88)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def plot_area(png: bytes) -> np.ndarray:
    img = pixels(png)
    h, w, _ = img.shape
    left, right, bottom, top = PLOT
    return img[int((1 - top) * h) + 2 : int((1 - bottom) * h) - 2, int(left * w) + 2 : int(right * w) - 2]


def count_colour(area: np.ndarray, hex_colour: str, tolerance: int = 40) -> int:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int(np.count_nonzero(np.abs(area - rgb).sum(axis=2) < tolerance))


def test_an_active_day_draws_more_than_a_quiet_one_and_both_draw_something() -> None:
    active = graph.draw_day(DayUsage(DAY, active_day()), None)
    quiet = graph.draw_day(DayUsage(DAY, quiet_day()), None)
    assert Image.open(io.BytesIO(active)).size == (1040, 780)
    assert len(active) < 10 * 1024 * 1024  # LINE's limit for originalContentUrl
    bars_active = count_colour(plot_area(active), graph.INK)
    bars_quiet = count_colour(plot_area(quiet), graph.INK)
    assert bars_quiet > 500  # the fridge's base load is visible, not an empty chart
    assert bars_active > 2 * bars_quiet


def test_missing_half_hours_are_shaded_not_drawn_as_zero() -> None:
    gappy = active_day()
    gappy[20:30] = np.nan
    whole = graph.draw_day(DayUsage(DAY, active_day()), None)
    shaded = graph.draw_day(DayUsage(DAY, gappy), None)
    grey = count_colour(plot_area(shaded), "#E4E4E4", tolerance=30)
    assert grey > 5 * max(1, count_colour(plot_area(whole), "#E4E4E4", tolerance=30))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_label_has_its_glyphs(lang: str) -> None:
    """No tofu: matplotlib warns "Glyph ... missing from font" when a character cannot be drawn."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        graph.draw_day(DayUsage(DAY, active_day()), None, lang=lang, wake=time(6, 30), sleep=time(22, 0),
                       quiet_at=time(14, 0))
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert missing == []


def test_the_usual_range_and_the_moment_things_went_quiet_are_drawn(make_home, clock) -> None:
    home = make_home()
    history(home.id, DAY)
    today = active_day()
    today[28:] = quiet_day()[28:]  # quiet from 14:00
    put_day(home.id, DAY, today)
    with session_scope() as s:
        incident = open_incident(s, s.get(Home, home.id), IncidentKind.INACTIVITY,
                                  window_start=datetime(2026, 6, 2, 5, 0, tzinfo=UTC), evidence={})
        incident_id = incident.id
    with session_scope() as s:
        plain = graph.render_day(s, home.id, DAY)
        marked = graph.render_day(s, home.id, DAY, incident_id=incident_id)
    assert count_colour(plot_area(plain), "#FAE0AA", tolerance=30) > 2000  # the usual-range band
    assert count_colour(plot_area(marked), graph.QUIET) > count_colour(plot_area(plain), graph.QUIET) + 300


def test_quiet_since_the_night_before_is_marked_on_the_next_day(make_home, clock) -> None:
    home = make_home()
    history(home.id, DAY)
    put_day(home.id, DAY, quiet_day())
    with session_scope() as s:
        incident = open_incident(s, s.get(Home, home.id), IncidentKind.NO_WAKE,
                                  window_start=datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
                                  - timedelta(hours=12), evidence={})
        incident_id = incident.id
    with session_scope() as s:
        plain = graph.render_day(s, home.id, DAY)
        marked = graph.render_day(s, home.id, DAY, incident_id=incident_id)
    assert count_colour(plot_area(marked), graph.QUIET) > count_colour(plot_area(plain), graph.QUIET) + 300


def test_preview_is_small_enough_for_line() -> None:
    small = graph.preview(graph.draw_day(DayUsage(DAY, active_day()), None))
    width, height = Image.open(io.BytesIO(small)).size
    assert width <= 240 and height > 100


@pytest.mark.parametrize("view", ["week", "month"])
def test_week_and_month_views_show_daily_totals(make_home, clock, view: str) -> None:
    home = make_home()
    for i in range(30):
        put_day(home.id, DAY - timedelta(days=i), active_day())
    with session_scope() as s:
        full = graph.render_view(s, home.id, DAY, view)
    empty_home = make_home()
    with session_scope() as s:
        empty = graph.render_view(s, empty_home.id, DAY, view)
    assert count_colour(plot_area(full), graph.INK) > 3000
    assert count_colour(plot_area(empty), graph.INK) < 100


def test_the_rest_of_today_is_the_future_not_missing_data(make_home, clock) -> None:
    """At 09:00 JST the afternoon has not happened yet: it is left blank, not shaded as a gap."""
    home = make_home()
    morning = active_day()
    morning[18:] = np.nan  # readings up to 09:00
    today, past = date(2026, 6, 1), date(2026, 5, 25)
    put_day(home.id, today, morning)
    put_day(home.id, past, morning)
    with session_scope() as s:
        grey_today = count_colour(plot_area(graph.render_day(s, home.id, today)), "#E4E4E4", tolerance=30)
        grey_past = count_colour(plot_area(graph.render_day(s, home.id, past)), "#E4E4E4", tolerance=30)
    assert grey_past > 20 * max(grey_today, 1)
