"""The weekly digest (週間レポート): the week's graph, when each day began and ended, anything unusual.

Pushed by default once a week — Monday at the home's report time, about the Monday to
Sunday before — so a family hears every week for one push instead of seven (LINE counts
pushes per recipient, not bubbles; 今日の様子 answers a tap for free any day). The first
digest of a month also carries last month's report, for watchers who take it, so the
monthly report costs no push of its own (core.reports.jobs leaves them out of it).

:func:`build` gathers the facts, :func:`bubbles` turns them into the carousel — the one
place to add a bubble or a mark to the digest — and :func:`send_weekly` enqueues it once
per watcher and channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import links
from core.enums import Channel
from core.models import Home, Incident, Schedule
from core.reports import delivery, monthly
from core.reports.reading import DEFAULT_SLEEP, DEFAULT_WAKE, DayContext, read_day
from core.reports.usage import (
    DayUsage,
    UsualRange,
    days_usage,
    home_tz,
    is_day_off,
    load_slots,
    local_midnight,
    usual_range,
)
from core.schedules import plain_time
from core.texts import t

DIGEST_WEEKDAY = 0  # Monday: the digest is about the Monday-to-Sunday just ended
MORNING_SLOT = 8  # 04:00: activity before this belongs to the night before
CALM_READINGS = {"reports.reading.usual", "reports.reading.learning"}
COLOR = "#1F3A93"


@dataclass(frozen=True)
class DayNote:
    """One day of the week: its use, its one-line reading, and when activity began and ended."""

    usage: DayUsage
    reading_key: str
    woke_min: int | None  # minutes after midnight of the first activity from 04:00
    slept_min: int | None  # minutes after midnight when the last activity of the day ended

    @property
    def day(self) -> date:
        return self.usage.day


@dataclass(frozen=True)
class WeeklyFacts:
    first: date  # the Monday the week began
    days: list[DayNote]
    previous_kwh: float | None  # the week before, only when every half-hour of it arrived
    incidents: list[tuple[datetime, str]]  # (local time, incident kind) opened during the week
    wake: time | None  # the set times, for reference
    sleep: time | None
    month: monthly.MonthlyFacts | None  # last month's report, when this digest carries it

    @property
    def last(self) -> date:
        return self.first + timedelta(days=6)

    @property
    def kwh(self) -> float | None:
        present = [d.usage.kwh for d in self.days if d.usage.kwh is not None]
        return sum(present) if present else None

    @property
    def complete(self) -> bool:
        return all(d.usage.complete for d in self.days)

    @property
    def ratio(self) -> float | None:
        """This week over the week before, only when both weeks are whole (a gap is not zero use)."""
        if not self.complete or not self.previous_kwh or self.kwh is None:
            return None
        return self.kwh / self.previous_kwh

    def unusual_days(self) -> list[DayNote]:
        return [d for d in self.days if d.reading_key not in CALM_READINGS or not d.usage.complete]


def _active_span(usage: DayUsage, usual: UsualRange | None) -> tuple[int | None, int | None]:
    """(first activity from 04:00, end of the last activity) in minutes, from what arrived."""
    active = DayContext(usage, usual, DEFAULT_WAKE, DEFAULT_SLEEP).active()
    slots = np.nonzero(active[MORNING_SLOT:])[0]
    if not slots.size:
        return None, None
    return (int(slots[0]) + MORNING_SLOT) * 30, (int(slots[-1]) + MORNING_SLOT + 1) * 30


def carries_month(digest_day: date) -> bool:
    """The first digest sent in a month carries last month's report."""
    return digest_day.day <= 7


def build(session: Session, home: Home, first: date, digest_day: date | None = None) -> WeeklyFacts:
    """The facts of the week beginning ``first`` (a Monday), as sent on ``digest_day``."""
    digest_day = digest_day or first + timedelta(days=7)
    before = load_slots(session, home, first - timedelta(days=7), 7)
    schedule = session.scalar(select(Schedule).where(Schedule.home_id == home.id))
    wake = schedule.wake_time if schedule else None
    sleep = schedule.sleep_time if schedule else None
    usual_by_type: dict[bool, UsualRange | None] = {}
    notes = []
    for usage in days_usage(session, home, first, 7):
        kind = is_day_off(usage.day)
        if kind not in usual_by_type:  # weekdays alike, days off alike: two looks at the past 8 weeks
            usual_by_type[kind] = usual_range(session, home, usage.day)
        usual = usual_by_type[kind]
        woke, slept = _active_span(usage, usual)
        notes.append(DayNote(usage, read_day(usage, usual, wake, sleep), woke, slept))
    previous = float(np.sum(before)) if not np.isnan(before).any() else None
    tz = home_tz(home)
    start, end = local_midnight(first, tz), local_midnight(first + timedelta(days=7), tz)
    incidents = [
        (i.detected_at.astimezone(tz), i.kind.value)
        for i in session.scalars(
            select(Incident).where(Incident.home_id == home.id, Incident.detected_at >= start,
                                   Incident.detected_at < end).order_by(Incident.detected_at)
        )
    ]
    month = monthly.build(session, home, digest_day.replace(day=1) - timedelta(days=1)) \
        if carries_month(digest_day) else None
    return WeeklyFacts(first, notes, previous, incidents, wake, sleep, month)


# ---- the carousel -------------------------------------------------------------------
def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "text", "text": text, "wrap": True, **style}


def _bubble(title: str, lines: list[dict[str, Any]], *, hero: tuple[str, str] | None = None,
            link: tuple[str, str] | None = None) -> dict[str, Any]:
    bubble: dict[str, Any] = {
        "type": "bubble",
        "header": {"type": "box", "layout": "vertical",
                   "contents": [_text(title, size="sm", color="#555555")]},
        "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": lines},
    }
    if hero is not None:
        original, _preview = hero
        bubble["hero"] = {"type": "image", "url": original, "size": "full", "aspectRatio": "4:3",
                          "aspectMode": "fit", "action": {"type": "uri", "uri": original}}
    if link is not None:
        label, uri = link
        bubble["footer"] = {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "style": "primary", "action": {"type": "uri", "label": label[:20], "uri": uri}}]}
    return bubble


def _clock(minutes: int | None, lang: str) -> str:
    if minutes is None:
        return t("reports.no_value", lang)
    return t("reports.weekly.at", lang, time=f"{minutes // 60}:{minutes % 60:02d}")


def _short_date(day: date, lang: str) -> str:
    weekday = t("reports.weekdays", lang).split(",")[day.weekday()]
    return t("reports.weekly.short_date", lang, month=day.month, day=day.day, weekday=weekday)


def week_lines(facts: WeeklyFacts, lang: str) -> list[str]:
    """The week's total, its comparison and a one-line summary (the first bubble; the email body)."""
    kwh = facts.kwh
    lines = [t("reports.weekly.kwh", lang, kwh=f"{kwh:.1f}") if kwh is not None else t("reports.weekly.no_data", lang)]
    ratio = facts.ratio
    if kwh is not None:
        lines.append(t("reports.weekly.ratio", lang, percent=round(ratio * 100)) if ratio is not None
                     else t("reports.weekly.ratio_unknown", lang))
    unusual = len(facts.unusual_days()) + len(facts.incidents)
    lines.append(t("reports.weekly.calm", lang) if not unusual else t("reports.weekly.some_unusual", lang, n=unusual))
    return lines


def times_lines(facts: WeeklyFacts, lang: str) -> list[str]:
    """When each day began and ended, as the meter saw it."""
    lines = [t("reports.weekly.day_span", lang, date=_short_date(d.day, lang), woke=_clock(d.woke_min, lang),
               slept=_clock(d.slept_min, lang)) for d in facts.days]
    if facts.wake or facts.sleep:
        lines.append(t("reports.weekly.set_times", lang, wake=plain_time(facts.wake, lang),
                       sleep=plain_time(facts.sleep, lang)))
    return lines


def unusual_lines(facts: WeeklyFacts, lang: str) -> list[str]:
    """Days that were not like the home's usual ones, alerts, and missing data; or a calm note."""
    lines = []
    for d in facts.unusual_days():
        key = d.reading_key if d.reading_key not in CALM_READINGS else "reports.weekly.gap"
        text = t(key, lang) if key != "reports.weekly.gap" else t(key, lang, hours=f"{d.usage.missing / 2:g}")
        lines.append(f"{_short_date(d.day, lang)} {text}")
    for at, kind in facts.incidents:
        lines.append(f"{_short_date(at.date(), lang)} {at:%H:%M} {t(f'reports.kind.{kind}', lang)}")
    return lines or [t("reports.weekly.nothing_unusual", lang)]


def bubbles(session: Session, home: Home, facts: WeeklyFacts, recipient: delivery.Recipient) -> list[dict[str, Any]]:
    """The digest's bubbles in order: the week, the times, anything unusual, (last month)."""
    lang = recipient.lang
    name = delivery.who(session, home, recipient.link, lang)
    heading = t("reports.weekly.heading", lang, who=name, first=_short_date(facts.first, lang),
                last=_short_date(facts.last, lang))
    page = links.page_url("usage", h=home.id, w=recipient.watcher.id, d=facts.last.isoformat(), v="week")
    week = [_text(heading, weight="bold", size="md")]
    week += [_text(line, size="md") for line in week_lines(facts, lang)]
    out = [
        _bubble(t("reports.weekly.title", lang), week, hero=delivery.graph_image_urls(home.id, facts.last, "week"),
                link=(t("reports.see_pages", lang), page)),
        _bubble(t("reports.weekly.times_title", lang), [_text(line, size="sm") for line in times_lines(facts, lang)]),
        _bubble(t("reports.weekly.unusual_title", lang),
                [_text(line, size="sm") for line in unusual_lines(facts, lang)]),
    ]
    if hot := _climate_lines(session, home, facts.first, lang):  # hot days and when cooling ran
        out.append(_bubble(t("climate.week.title", lang), [_text(line, size="sm") for line in hot]))
    if facts.month is not None and recipient.link.notify_monthly:
        content = monthly.content(session, home, facts.month, recipient)
        lines = [_text(content.heading, weight="bold", size="md"),
                 _text(content.big, size="xl", weight="bold", color=COLOR)]
        lines += [_text(line, size="md") for line in content.lines]
        out.append(_bubble(content.title, lines, hero=content.image, link=(t("reports.see_pages", lang),
                                                                             content.page_link)))
    return out


def payload(session: Session, home: Home, facts: WeeklyFacts, recipient: delivery.Recipient) -> dict[str, Any]:
    """The outbox payload: one Flex carousel on LINE (one push), a plain digest by email."""
    lang = recipient.lang
    name = delivery.who(session, home, recipient.link, lang)
    span = {"who": name, "first": _short_date(facts.first, lang), "last": _short_date(facts.last, lang)}
    alt = t("reports.weekly.alt", lang, **span, summary=" ".join(week_lines(facts, lang)))
    if recipient.channel is Channel.LINE:
        carousel = {"type": "carousel", "contents": bubbles(session, home, facts, recipient)}
        return {"messages": [{"type": "flex", "altText": alt[:400], "contents": carousel}]}
    content = delivery.ReportContent(
        title=t("reports.weekly.title", lang),
        heading=t("reports.weekly.heading", lang, **span),
        big=week_lines(facts, lang)[0],
        lines=[*week_lines(facts, lang)[1:], *times_lines(facts, lang), *unusual_lines(facts, lang),
               *_climate_lines(session, home, facts.first, lang)],
        alt=alt,
        subject=t("reports.weekly.email_subject", lang, **span),
        image=delivery.graph_image_urls(home.id, facts.last, "week"),
        page_link=links.page_url("usage", h=home.id, w=recipient.watcher.id, d=facts.last.isoformat(), v="week"),
    )
    return delivery.payload_for(recipient.channel, content, lang)


def _climate_lines(session: Session, home: Home, first: date, lang: str) -> list[str]:
    from core.climate.marks import week_lines as climate_lines

    return climate_lines(session, home, first, lang)


def key(home_id: int, first: date, watcher_id: int, channel: str) -> str:
    return f"weekly:{home_id}:{first.isoformat()}:{watcher_id}:{channel}"


def send_weekly(session: Session, home: Home, first: date, digest_day: date | None = None) -> int:
    """Enqueue the digest of the week beginning ``first`` to every watcher who wants it; returns how many."""
    return delivery.send_payload_once_to_wanting(
        session, home, "notify_weekly",
        key_of=lambda r: key(home.id, first, r.watcher.id, r.channel.value),
        facts_of=lambda: build(session, home, first, digest_day),
        payload_of=lambda facts, r: payload(session, home, facts, r),
    )
