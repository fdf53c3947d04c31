"""The daily report (デイリー通知): yesterday's kWh, its ratio to the day before, a reading.

:func:`build` computes what there is to say (no I/O beyond reading the database);
:func:`send_daily` enqueues it for each watcher and channel, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import links
from core.models import Home, Schedule
from core.reports import delivery
from core.reports.reading import read_day
from core.reports.usage import BAND_WEEKS, DayUsage, UsualRange, days_usage, load_slots, usual_range
from core.texts import t


@dataclass(frozen=True)
class DailyFacts:
    day: date
    usage: DayUsage
    previous: DayUsage
    usual: UsualRange | None
    reading_key: str

    @property
    def ratio(self) -> float | None:
        """Yesterday over the day before; only when both days are whole (a gap is not zero use)."""
        if not (self.usage.complete and self.previous.complete) or not self.previous.kwh:
            return None
        return (self.usage.kwh or 0.0) / self.previous.kwh


def build(session: Session, home: Home, day: date) -> DailyFacts:
    first = day - timedelta(weeks=BAND_WEEKS)
    history = load_slots(session, home, first, BAND_WEEKS * 7)
    previous, usage = days_usage(session, home, day - timedelta(days=1), 2)
    usual = usual_range(session, home, day, history)
    schedule = session.scalar(select(Schedule).where(Schedule.home_id == home.id))
    wake = schedule.wake_time if schedule else None
    sleep = schedule.sleep_time if schedule else None
    return DailyFacts(day, usage, previous, usual, read_day(usage, usual, wake, sleep))


def content(session: Session, home: Home, facts: DailyFacts, recipient: delivery.Recipient) -> delivery.ReportContent:
    lang = recipient.lang
    name = delivery.who(session, home, recipient.link, lang)
    label = delivery.date_label(facts.day, lang)
    usage = facts.usage
    kwh = f"{usage.kwh:.1f}" if usage.kwh is not None else t("reports.no_value", lang)
    lines = [t(facts.reading_key, lang)]
    if usage.present == 0:
        lines.append(t("reports.daily.no_data", lang))
    else:
        ratio = facts.ratio
        lines.insert(0, t("reports.daily.ratio", lang, percent=round(ratio * 100)) if ratio is not None
                     else t("reports.daily.ratio_unknown", lang))
        if not usage.complete:
            lines.append(t("reports.daily.gap", lang, hours=f"{usage.missing / 2:g}"))
    big = t("reports.daily.kwh", lang, kwh=kwh)
    return delivery.ReportContent(
        title=t("reports.daily.title", lang),
        heading=t("reports.daily.heading", lang, who=name, date=label),
        big=big,
        lines=lines,
        alt=t("reports.daily.alt", lang, who=name, date=label, kwh=big),
        subject=t("reports.daily.email_subject", lang, who=name, date=label),
        image=delivery.graph_image_urls(home.id, facts.day),
        page_link=links.page_url("usage", h=home.id, w=recipient.watcher.id, d=facts.day.isoformat()),
    )


def key(home_id: int, day: date, watcher_id: int, channel: str) -> str:
    return f"daily:{home_id}:{day.isoformat()}:{watcher_id}:{channel}"


def send_daily(session: Session, home: Home, day: date) -> int:
    """Enqueue the report on ``day`` for every watcher who wants it; returns how many were new."""
    return delivery.send_once_to_wanting(
        session, home, "notify_daily",
        key_of=lambda r: key(home.id, day, r.watcher.id, r.channel.value),
        facts_of=lambda: build(session, home, day),
        content_of=lambda facts, r: content(session, home, facts, r),
    )
