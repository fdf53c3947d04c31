"""Usage graphs as PNG: a day's half-hours against the usual range; week and month totals.

Made to be read on a phone, where LINE shows images small: big type, few labels,
strong colours on white. Missing half-hours are shaded "データなし", never drawn as
zero. Matplotlib's object API (no pyplot state) keeps rendering safe in web threads;
the Japanese font comes from the matplotlib-fontja package, not from the machine.
"""

from __future__ import annotations

import io
from datetime import date, time, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib_fontja  # noqa: F401  (registers the bundled IPAex Gothic font)
import numpy as np
from matplotlib.figure import Figure
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.errors import NotFound
from core.models import Home, Incident, Schedule
from core.reports.delivery import date_label, month_label
from core.reports.usage import (
    DayUsage,
    UsualRange,
    days_usage,
    home_tz,
    is_day_off,
    month_bounds,
    usual_range,
)
from core.texts import t

FONT = "IPAexGothic"
INK = "#1F3A93"  # bars: dark blue, high contrast on white
BAND = "#F4B942"  # usual range: warm yellow, readable behind the bars
QUIET = "#D62828"
HOT = "#E76F00"  # a hot day / heat-stroke alert
COOLING = "#00A6ED"  # half-hours the home's own air conditioner ran
MISSING = "#BBBBBB"
SIZE_IN = (8.0, 6.0)
DPI = 130  # 1040 x 780 px: sharp when LINE enlarges it, ~60 kB
PREVIEW_WIDTH = 240  # LINE's previewImageUrl limit
MIN_TOP_KWH = 0.6  # a quiet day must look quiet, not be stretched to fill the chart
VIEWS = ("day", "week", "month")


def _figure(title: str) -> tuple[Figure, object]:
    fig = Figure(figsize=SIZE_IN, dpi=DPI, facecolor="white")
    ax = fig.add_subplot(1, 1, 1)
    ax.set_title(title, fontsize=22, fontfamily=FONT, pad=14)
    ax.tick_params(labelsize=16)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#DDDDDD", linewidth=1)
    ax.set_axisbelow(True)
    return fig, ax


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _hours(at: time) -> float:
    return at.hour + at.minute / 60


def draw_day(
    usage: DayUsage,
    usual: UsualRange | None,
    *,
    lang: str = "ja",
    wake: time | None = None,
    sleep: time | None = None,
    quiet_at: time | None = None,
    quiet_key: str = "reports.graph.quiet_since",
    known_until: float = 24.0,
    climate: Any = None,
) -> bytes:
    """One day's half-hours as bars over the usual range, with wake/sleep and "went quiet" marks.

    ``climate`` (core.climate.marks.DayMarks) adds the hot day to the title and shades the
    half-hours the home's cooling ran.

    ``known_until`` (hours) is where today ends so far: later half-hours are the future,
    not missing data, and are left blank.
    """
    slots = usage.slots
    total = usage.kwh
    suffix = f"  {total:.1f} kWh" if total is not None else ""
    fig, ax = _figure(date_label(usage.day, lang) + suffix)
    x = np.arange(48) / 2 + 0.25
    top = float(np.nanmax(slots)) if usage.present else 0.0
    if usual is not None:
        edges = np.arange(49) / 2
        ax.fill_between(edges, np.append(usual.low, usual.low[-1]), np.append(usual.high, usual.high[-1]),
                        step="post", color=BAND, alpha=0.45, linewidth=0, label=t("reports.graph.usual_range", lang))
        top = max(top, float(usual.high.max()))
    top = max(top * 1.25, MIN_TOP_KWH)
    ax.bar(x, np.nan_to_num(slots), width=0.42, color=INK, label=t("reports.graph.usage", lang))
    if climate is not None and climate.cooling.any():
        ax.bar(x[climate.cooling], top, width=0.5, color=COOLING, alpha=0.25, linewidth=0, label=climate.cooling_label)
    missing = np.isnan(slots) & (np.arange(48) / 2 < known_until)
    if missing.any():
        ax.bar(x[missing], top, width=0.5, color=MISSING, alpha=0.35, hatch="//", edgecolor="#888888",
               linewidth=0, label=t("reports.graph.missing", lang))
    if not usage.present and known_until > 0:
        ax.text(12, top / 2, t("reports.graph.no_data", lang), ha="center", va="center", fontsize=22,
                fontfamily=FONT, color="#444444")
    marks = [(wake, "reports.graph.wake", "#2A9D8F"), (sleep, "reports.graph.sleep", "#6A4C93"),
             (quiet_at, quiet_key, QUIET)]
    for row, (at, key, colour) in enumerate(marks):
        if at is None:
            continue
        hx = _hours(at)
        ax.axvline(hx, color=colour, linewidth=3 if colour == QUIET else 2,
                   linestyle="-" if colour == QUIET else "--")
        label = f" {t(key, lang)} "
        ax.text(hx, top * (0.98 - 0.09 * row), label, color=colour, fontsize=16, fontfamily=FONT,
                va="top", ha="left" if hx < 16 else "right", backgroundcolor="white")
    if climate is not None and climate.label:
        ax.text(23.9, top * 0.98, f" {climate.label} ", color=HOT, fontsize=16, fontfamily=FONT, va="top",
                ha="right", backgroundcolor="white")
    ax.set_xlim(0, 24)
    ax.set_ylim(0, top)
    ax.set_xticks([0, 6, 12, 18, 24])
    ax.set_xticklabels([f"{h}時" if lang == "ja" else f"{h}:00" for h in (0, 6, 12, 18, 24)], fontfamily=FONT)
    ax.set_ylabel(t("reports.graph.kwh_axis", lang), fontsize=16, fontfamily=FONT)
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.08), ncol=3, fontsize=14, frameon=False,
              prop={"family": FONT, "size": 14})
    fig.subplots_adjust(left=0.11, right=0.97, top=0.88, bottom=0.2)
    return _png(fig)


def draw_totals(days: list[DayUsage], usual_daily: list[tuple[float, float] | None], title: str, lang: str) -> bytes:
    """Daily totals as bars (a week or a month); incomplete days lighter, usual range behind."""
    fig, ax = _figure(title)
    x = np.arange(len(days))
    totals = np.array([d.kwh if d.kwh is not None else 0.0 for d in days])
    top = max(float(totals.max()) if len(totals) else 0.0, 0.5)
    for i, band in enumerate(usual_daily):
        if band is not None:
            ax.fill_between([i - 0.5, i + 0.5], band[0], band[1], color=BAND, alpha=0.45, linewidth=0,
                            label=t("reports.graph.usual_range", lang) if i == 0 else None)
            top = max(top, band[1])
    complete = np.array([d.complete for d in days])
    ax.bar(x[complete], totals[complete], width=0.7, color=INK, label=t("reports.graph.usage", lang))
    if (~complete).any():
        ax.bar(x[~complete], totals[~complete], width=0.7, color=INK, alpha=0.35, hatch="//",
               label=t("reports.graph.missing", lang))
    ax.set_ylim(0, top * 1.2)
    step = 1 if len(days) <= 7 else 7
    ticks = list(range(0, len(days), step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{days[i].day.month}/{days[i].day.day}" for i in ticks], fontfamily=FONT)
    ax.set_ylabel(t("reports.graph.kwh_axis", lang), fontsize=16, fontfamily=FONT)
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.08), ncol=3, frameon=False, prop={"family": FONT, "size": 14})
    fig.subplots_adjust(left=0.11, right=0.97, top=0.88, bottom=0.2)
    return _png(fig)


def preview(png: bytes, width: int = PREVIEW_WIDTH) -> bytes:
    """A small copy for LINE's previewImageUrl (at most 240 px wide)."""
    image = Image.open(io.BytesIO(png))
    height = round(image.height * width / image.width)
    out = io.BytesIO()
    image.convert("RGB").resize((width, height), Image.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _home(session: Session, home_id: int) -> Home:
    home = session.get(Home, home_id)
    if home is None:
        raise NotFound(f"home {home_id}")
    return home


def render_day(session: Session, home_id: int, day: date, incident_id: int | None = None, lang: str = "ja") -> bytes:
    """The day graph from stored readings; with ``incident_id``, marks when things went quiet."""
    home = _home(session, home_id)
    schedule = session.scalar(select(Schedule).where(Schedule.home_id == home_id))
    quiet_at = None
    quiet_key = "reports.graph.quiet_since"
    now = clock.now().astimezone(home_tz(home))
    known_until = 24.0 if day < now.date() else (now.hour + now.minute / 60 if day == now.date() else 0.0)
    if incident_id is not None:
        incident = session.get(Incident, incident_id)
        if incident is not None and incident.home_id == home_id:
            local = incident.window_start.astimezone(home_tz(home))
            if local.date() == day:
                quiet_at = local.time()
            elif local.date() < day:  # quiet since before this day began: the whole day is part of it
                quiet_at, quiet_key = time(0, 0), "reports.graph.quiet_before"
    from core.climate.marks import day_marks

    return draw_day(
        days_usage(session, home, day, 1)[0],
        usual_range(session, home, day),
        lang=lang,
        wake=schedule.wake_time if schedule else None,
        sleep=schedule.sleep_time if schedule else None,
        quiet_at=quiet_at,
        quiet_key=quiet_key,
        known_until=known_until,
        climate=day_marks(session, home, day, lang),
    )


def render_view(session: Session, home_id: int, day: date, view: str = "day", lang: str = "ja") -> bytes:
    """Day, week (the 7 days ending on ``day``) or month (the calendar month of ``day``)."""
    if view == "day":
        return render_day(session, home_id, day, lang=lang)
    home = _home(session, home_id)
    if view == "week":
        first, count = day - timedelta(days=6), 7
        title = f"{date_label(first, lang)} – {date_label(day, lang)}"
    elif view == "month":
        first, count = month_bounds(day)
        title = month_label(first, lang)
    else:
        raise NotFound(f"graph view {view!r}")
    days = days_usage(session, home, first, count)
    bands: list[tuple[float, float] | None] = []
    cache: dict[bool, UsualRange | None] = {}
    for d in days:
        kind = is_day_off(d.day)
        if kind not in cache:
            cache[kind] = usual_range(session, home, d.day)
        usual = cache[kind]
        bands.append((usual.daily_low, usual.daily_high) if usual is not None else None)
    return draw_totals(days, bands, title, lang)
