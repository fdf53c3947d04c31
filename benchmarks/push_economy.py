"""A simulated month of LINE messages: how many pushes (billed) and replies (free) a home costs.

Run: ``.venv/bin/python benchmarks/push_economy.py [--homes 100] [--month 2026-06] [--taps-per-day 5]
[--defaults now|before]``

100 homes, each with a consenting resident and two family watchers on LINE with the default
settings, 8 weeks of history and a month of ordinary days (no incidents). The clock moves
through the month (and the three days before it, not counted) an hour at a time and runs
the real report jobs of the job table (daily, weekly, monthly) and the real outbox
dispatcher, which pushes through line-bot-sdk to the local fake LINE API. Some watchers
tap 今日の様子 every day, through signed webhooks to the real Flask app, and are answered
by reply. The fake LINE counts pushes and replies; the month's count is also read back
through ``core.operations`` (what ``mimamori status`` and ``/metrics`` show), and the
projected LINE bill is printed for 10,000 homes on each plan.

``--defaults before`` gives every watcher the old defaults (a daily push, no weekly digest),
to measure what the service cost before this change with the same script.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time as timer
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

JST = ZoneInfo("Asia/Tokyo")
HISTORY_WEEKS = 8
WARMUP_DAYS = 3  # simulated before the month and not counted
SCALE_HOMES = 10_000


def _profile(rng: np.random.Generator, days: int) -> np.ndarray:
    """An ordinary home: the fridge all day, up around 7, meals, an evening until about 22:30."""
    base = np.full((days, 48), 0.05)
    for d in range(days):
        wake = 13 + int(rng.integers(0, 4))
        base[d, wake : wake + 4] += 0.3
        base[d, 23:26] += 0.2
        base[d, 36 : 44 + int(rng.integers(0, 3))] += 0.4
    base *= rng.uniform(0.8, 1.2, size=(days, 1))
    return np.round(base + rng.gamma(1.5, 0.02, size=base.shape), 2)


def _seed(homes: int, month_first: date, days: int, before: bool, rng: np.random.Generator) -> list[str]:
    from core.db import session_scope
    from core.enums import HomeStatus
    from core.models import Home, HomeWatcher, MeterReading, Resident, Watcher

    users = []
    first = month_first - timedelta(weeks=HISTORY_WEEKS, days=WARMUP_DAYS)
    start = datetime.combine(first, time(0), tzinfo=JST).astimezone(UTC)
    span = days + HISTORY_WEEKS * 7 + WARMUP_DAYS
    for n in range(homes):
        with session_scope() as s:
            home = Home(meter_id=f"ECON{n:05d}", status=HomeStatus.ACTIVE)
            s.add(home)
            s.flush()
            s.add(Resident(home_id=home.id, display_name=f"住人{n}", consent_given_at=start))
            for k in range(2):
                watcher = Watcher(line_user_id=f"U{n:016x}{k:016x}", display_name=f"w{n}-{k}")
                s.add(watcher)
                s.flush()
                link = HomeWatcher(home_id=home.id, watcher_id=watcher.id, escalation_order=k + 1, is_owner=k == 0)
                if before:  # what every watcher had before: a daily push, no weekly digest
                    link.notify_daily, link.notify_weekly = True, False
                s.add(link)
                users.append(watcher.line_user_id)
            values = _profile(rng, span).ravel()
            s.execute(insert(MeterReading), [
                {"home_id": home.id, "interval_start": start + timedelta(minutes=30 * i), "kwh": float(v)}
                for i, v in enumerate(values)
            ])
    return users


def run(homes: int, month: str, taps_per_day: int, before: bool) -> dict:
    from bot import processing
    from bot.app import create_app
    from bot.dev.chat import build_event, deliver
    from bot.dev.line_emulator import FakeLineServer
    from core import migrate, push_budget
    from core.clock import ManualClock, use_clock
    from core.db import init_db, session_scope
    from core.jobs import CLOCK_JOBS, WORKER_JOBS, run_job
    from core.models import AuditLog
    from core.operations import line_numbers
    from core.push_budget import PLANS
    from core.settings import Settings, use_settings

    month_first = date.fromisoformat(f"{month}-01")
    following = (month_first + timedelta(days=32)).replace(day=1)
    days = (following - month_first).days
    report_jobs = [j for j in CLOCK_JOBS if j.name in {"daily_reports", "weekly_digests", "monthly_reports"}]
    dispatch = next(j for j in WORKER_JOBS if j.name == "outbox_dispatch")
    tmp = Path(tempfile.mkdtemp(prefix="mimamori-push-economy-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    migrate.upgrade(url)
    rng = np.random.default_rng(15)
    with FakeLineServer() as line:
        settings = Settings(database_url=url, mimamori_env="dev", public_base_url="http://127.0.0.1:8115",
                            line_api_base_url=line.url, line_data_api_base_url=line.url,
                            line_channel_access_token="bench-token", line_channel_secret="bench-secret",
                            line_plan="free", log_level="WARNING")
        use_settings(settings)
        init_db(settings)
        app = create_app(settings)
        clock = ManualClock(datetime.combine(month_first, time(0), tzinfo=JST).astimezone(UTC)
                            - timedelta(days=WARMUP_DAYS))
        with use_clock(clock):
            seeded = timer.perf_counter()
            users = _seed(homes, month_first, days, before, rng)
            seeded = timer.perf_counter() - seeded
            push_budget.reset_throttle()
            started = timer.perf_counter()
            tappers = rng.choice(len(users), size=(days, min(taps_per_day, len(users))))
            quota_crossed, warned = None, None
            month_start = datetime.combine(month_first, time(0), tzinfo=JST).astimezone(UTC)

            def in_month(calls: list) -> list:
                return [c for c in calls if datetime.fromisoformat(c.at) >= month_start]

            # A few days before the month run too, so the jobs' catch-up (a digest missed on Monday is
            # still sent by Wednesday) finds last month's digests sent in last month, as they would be.
            for hour in range(-WARMUP_DAYS * 24, days * 24):
                now = month_start + timedelta(hours=hour)
                clock.set(now + timedelta(minutes=5))
                if hour >= 0 and now.astimezone(JST).hour == 19:  # an evening look at 今日の様子, by reply
                    for i in tappers[hour // 24]:
                        user = users[int(i)]
                        event = build_event("message", user, None, user, text="今日の様子")
                        event["replyToken"] = line.state.issue_reply_token(user)  # tokens of this fake LINE
                        event["message"]["markAsReadToken"] = line.state.issue_read_token(user)
                        deliver(app, settings, event)
                for job in report_jobs:
                    run_job(job, clock.now(), record=False)
                run_job(dispatch, clock.now(), record=False)
                pushes = len(in_month(line.state.pushes()))
                if quota_crossed is None and pushes > PLANS["free"].included:
                    quota_crossed = clock.now()
                if warned is None and hour >= 0:
                    with session_scope() as s:
                        warned = s.scalar(select(AuditLog.at).where(AuditLog.action == push_budget.WARNING_ACTION,
                                                                    AuditLog.at >= month_start))
                    push_budget.reset_throttle()  # look every simulated hour, not every 5 real minutes
            processing.wait_idle(30)
            simulated = timer.perf_counter() - started
            end = datetime.combine(following, time(0), tzinfo=JST).astimezone(UTC) - timedelta(seconds=1)
            with session_scope() as s:
                status = line_numbers(s, end, settings)
    pushes = in_month(line.state.pushes())
    replies = in_month(line.state.replies())
    return {
        "homes": homes, "watchers": len(users), "month": month, "days": days, "before": before,
        "pushes": len(pushes), "push_messages": sum(len(c.messages) for c in pushes),
        "replies": len(replies), "rejected": len(line.state.rejected),
        "per_home_month": len(pushes) / homes, "status": status,
        "quota_crossed": quota_crossed, "warned": warned, "seed_s": seeded, "run_s": simulated,
    }


def _local(at: datetime | None) -> str:
    return "never" if at is None else at.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")


def report(r: dict) -> str:
    from core.push_budget import PLANS

    per_home = r["per_home_month"]
    scaled = per_home * SCALE_HOMES
    lines = [
        f"month {r['month']} ({r['days']} days), {r['homes']} homes, {r['watchers']} watchers,"
        f" defaults: {'before (daily push, no digest)' if r['before'] else 'now (weekly digest + monthly)'}",
        f"  pushes (billed): {r['pushes']} calls carrying {r['push_messages']} message objects"
        f" -> {per_home:.2f} pushes per home-month",
        f"  replies (free): {r['replies']} (今日の様子 taps)",
        f"  refused by the fake LINE (spec/limits): {r['rejected']}",
        f"  mimamori status at the month's end: {r['status']['pushes']} pushes,"
        f" {r['status']['pushes_per_home_month']} per home-month, plan {r['status']['plan']}",
        f"  free plan (200): quota passed {_local(r['quota_crossed'])}; operator warned {_local(r['warned'])}",
        f"  projected for {SCALE_HOMES:,} homes: {scaled:,.0f} pushes a month",
    ]
    for plan in PLANS.values():
        refused = plan.refused(scaled)
        note = f", {refused:,.0f} pushes refused (SMS/email instead)" if refused else ""
        lines.append(f"    {plan.name:<9} ¥{plan.bill(scaled):>11,.0f} a month{note}")
    lines.append(f"  time: seeding {r['seed_s']:.1f} s, simulated month {r['run_s']:.1f} s")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=100)
    parser.add_argument("--month", default="2026-06")
    parser.add_argument("--taps-per-day", type=int, default=5)
    parser.add_argument("--defaults", choices=("now", "before"), default="now")
    args = parser.parse_args()
    print(report(run(args.homes, args.month, args.taps_per_day, args.defaults == "before")), flush=True)


if __name__ == "__main__":
    main()
