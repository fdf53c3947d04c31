"""``mimamori reports``: run the report jobs now, or send one home's daily report (demos, catch-up).

The scheduler runs the same functions every few minutes; running them by hand is safe
because every report has an idempotency key: nothing goes out twice.
"""

from __future__ import annotations

from datetime import date

import click
from sqlalchemy import select

from core import clock
from core.db import init_db, session_scope
from core.models import Home
from core.settings import get_settings


def register(cli: click.Group) -> None:
    @cli.group()
    def reports() -> None:
        """Daily, weekly and monthly reports."""

    @reports.command("send-due")
    def send_due() -> None:
        """Enqueue every daily/weekly/monthly report that is due now (what the scheduler does)."""
        from core.reports.jobs import send_due_daily_reports, send_due_weekly_digests, send_monthly_reports

        init_db(get_settings())
        now = clock.now()
        daily, weekly = send_due_daily_reports(now), send_due_weekly_digests(now)
        monthly = send_monthly_reports(now)
        click.echo(f"enqueued {daily} daily, {weekly} weekly and {monthly} monthly report messages")

    @reports.command("daily")
    @click.argument("meter_id")
    @click.option("--day", "day_text", required=True, metavar="YYYY-MM-DD", help="the local day to report on")
    def daily_one(meter_id: str, day_text: str) -> None:
        """Enqueue METER_ID's daily report about DAY now, for every watcher who wants it."""
        from core.reports.daily import send_daily

        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            raise click.ClickException(f"--day {day_text!r} is not a date like 2026-06-01") from None
        init_db(get_settings())
        with session_scope() as s:
            home = s.scalar(select(Home).where(Home.meter_id == meter_id))
            if home is None:
                raise click.ClickException(f"no home with meter id {meter_id!r}")
            sent = send_daily(s, home, day)
        click.echo(f"enqueued {sent} message(s)" + ("" if sent else " (already sent, or nobody wants it)"))
