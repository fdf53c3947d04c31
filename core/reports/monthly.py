"""The monthly report (マンスリー通知): last calendar month's kWh and per-day ratio to the month before.

Months differ in length and may have gaps, so they are compared per day of data
(kWh divided by the days the readings cover), never by raw totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from core import links
from core.enums import Channel
from core.models import Home
from core.reports import delivery
from core.reports.usage import PeriodUsage, month_bounds, period_usage
from core.texts import t

MIN_DAYS_TO_COMPARE = 7.0  # a month with less than a week of readings is not compared


@dataclass(frozen=True)
class MonthlyFacts:
    month: PeriodUsage
    previous: PeriodUsage

    @property
    def ratio(self) -> float | None:
        """Use per day of last month over use per day of the month before."""
        if self.month.days_of_data < MIN_DAYS_TO_COMPARE or self.previous.days_of_data < MIN_DAYS_TO_COMPARE:
            return None
        if not self.previous.per_day or self.month.per_day is None:
            return None
        return self.month.per_day / self.previous.per_day


def build(session: Session, home: Home, any_day_of_month: date) -> MonthlyFacts:
    first, days = month_bounds(any_day_of_month)
    prev_first, prev_days = month_bounds(first - timedelta(days=1))
    return MonthlyFacts(period_usage(session, home, first, days), period_usage(session, home, prev_first, prev_days))


def content(session: Session, home: Home, facts: MonthlyFacts, recipient: delivery.Recipient) -> delivery.ReportContent:
    lang = recipient.lang
    name = delivery.who(session, home, recipient.link, lang)
    month = facts.month
    label = delivery.month_label(month.first, lang)
    if month.slots_present == 0:
        big = t("reports.no_value", lang)
        lines = [t("reports.monthly.no_data", lang)]
        kwh = big
    else:
        kwh = f"{month.kwh:.0f}"
        big = t("reports.monthly.kwh", lang, kwh=kwh, per_day=f"{month.per_day:.1f}")
        ratio = facts.ratio
        lines = [t("reports.monthly.ratio", lang, percent=round(ratio * 100)) if ratio is not None
                 else t("reports.monthly.ratio_unknown", lang)]
        if month.slots_present < month.slots_expected:
            lines.append(t("reports.monthly.gap", lang, days=f"{max(month.missing_days, 0.5):.0f}"))
    return delivery.ReportContent(
        title=t("reports.monthly.title", lang),
        heading=t("reports.monthly.heading", lang, who=name, month=label),
        big=big,
        lines=lines,
        alt=t("reports.monthly.alt", lang, who=name, month=label, kwh=kwh),
        subject=t("reports.monthly.email_subject", lang, who=name, month=label),
        image=delivery.graph_image_urls(home.id, month.first, "month"),
        page_link=links.page_url("usage", h=home.id, w=recipient.watcher.id, d=month.first.isoformat(), v="month"),
    )


def key(home_id: int, first: date, watcher_id: int, channel: str) -> str:
    return f"monthly:{home_id}:{first:%Y-%m}:{watcher_id}:{channel}"


def in_weekly_digest(recipient: delivery.Recipient) -> bool:
    """A LINE watcher who takes the weekly digest gets last month's report inside it (no push of its own)."""
    return recipient.channel is Channel.LINE and recipient.link.notify_weekly


def send_monthly(session: Session, home: Home, any_day_of_month: date) -> int:
    """Enqueue the report on that month for every watcher who wants it; returns how many were new."""
    first, _ = month_bounds(any_day_of_month)
    return delivery.send_once_to_wanting(
        session, home, "notify_monthly",
        key_of=lambda r: key(home.id, first, r.watcher.id, r.channel.value),
        facts_of=lambda: build(session, home, first),
        content_of=lambda facts, r: content(session, home, facts, r),
        skip=in_weekly_digest,
    )
