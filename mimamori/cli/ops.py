"""Process and operator commands: ``mimamori scheduler``, ``worker``, ``webhooks`` and ``status``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from core import clock
from core.errors import ConfigError
from core.settings import Settings, get_settings


def _local(when: datetime | None, settings: Settings) -> str:
    return when.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M") if when else "-"


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--check", is_flag=True, help="list the job table and exit 1 if a job's function is missing")
    def scheduler(check: bool) -> None:
        """The clock: run the scheduled jobs (one leader; the others wait as hot standbys)."""
        from core.logging import configure_from_settings
        from core.scheduler import run_forever

        settings = get_settings()
        if check:
            _check_jobs(settings)
            return
        configure_from_settings(settings)
        run_forever(settings)

    @cli.command()
    def worker() -> None:
        """Tick escalations and send the outbox; run as many as you like (SIGTERM stops cleanly)."""
        from core.logging import configure_from_settings
        from core.worker import run_worker

        settings = get_settings()
        configure_from_settings(settings)
        run_worker(settings)

    @cli.command()
    @click.option("--threads", type=click.IntRange(min=1, max=64), default=4, show_default=True,
                  help="chats handled at once")
    @click.option("--poll-seconds", type=click.FloatRange(min=0.01, max=10), default=0.05, show_default=True,
                  help="how often to look for stored events")
    def webhooks(threads: int, poll_seconds: float) -> None:
        """Handle stored LINE webhook events (the web processes run with WEBHOOK_WORKERS=0 and only store)."""
        from bot.handler_process import main as run_webhooks
        from core.logging import configure_from_settings

        settings = get_settings()
        configure_from_settings(settings)
        run_webhooks(settings, threads, poll_seconds)

    @cli.command()
    @click.option("--json", "as_json", is_flag=True, help="print one JSON object instead of text")
    @click.option("--stuck-minutes", type=click.IntRange(min=1), default=None,
                  help="a pending message older than this is stuck (default OUTBOX_STUCK_MINUTES)")
    @click.option("--check", is_flag=True,
                  help="exit 1 if messages are stuck or failed, homes have gaps, or LINE pushes near the quota")
    def status(as_json: bool, stuck_minutes: int | None, check: bool) -> None:
        """What needs the operator: homes by state, data gaps, stuck and failed messages, incidents."""
        from core.db import get_engine, init_db, session_scope
        from core.leader import current_leader
        from core.operations import snapshot

        settings = get_settings()
        init_db(settings)
        stuck = stuck_minutes or settings.outbox_stuck_minutes
        try:
            with session_scope() as session:
                snap = snapshot(session, clock.now(), gap_after_minutes=settings.data_gap_after_minutes,
                                stuck_minutes=stuck, settings=settings)
            leader = current_leader(get_engine())
        except OperationalError as exc:
            raise ConfigError("DATABASE_URL", f"cannot reach the database ({exc.orig})") from None
        if as_json:
            data: dict[str, Any] = {k: v for k, v in vars(snap).items() if k != "open_incidents"}
            data["open_incidents"] = [{"kind": k, "state": s, "count": n} for (k, s), n in snap.open_incidents.items()]
            data["scheduler_leader"] = leader
            click.echo(json.dumps(data, default=str, ensure_ascii=False))
        else:
            click.echo(_as_text(snap, leader, settings, stuck))
        if check and (snap.outbox_stuck or snap.outbox_failed or snap.homes_with_gap or snap.line.get("quota_warning")):
            raise click.exceptions.Exit(1)


def _check_jobs(settings: Settings) -> None:
    from core.jobs import CYCLE_STEPS, WORKER_JOBS, job_table, missing_functions

    missing = missing_functions(settings)
    for spec in [*job_table(settings), *[w for w in WORKER_JOBS if not settings.mimamori_clock_runs_workers],
                 *CYCLE_STEPS]:
        mark = "MISSING" if spec.name in missing else "ok"
        click.echo(f"{mark:<8} {spec.name:<24} {spec.func}  {spec.trigger or '(in meter_cycle)'}")
    if missing:
        raise click.exceptions.Exit(1)


def _as_text(snap: Any, leader: dict[str, Any] | None, settings: Settings, stuck_minutes: int) -> str:
    out = [f"mimamori status at {_local(snap.at, settings)} ({settings.mimamori_timezone})", ""]
    out.append("Scheduler")
    if leader:
        out.append(f"  leader: backend pid {leader['pid']} from {leader['client'] or 'local socket'}"
                   f" since {_local(leader['backend_start'], settings)}")
    elif settings.database_url.startswith("postgresql"):
        out.append("  leader: NONE — no `mimamori scheduler` holds the lock")
    else:
        out.append("  leader: in-process (SQLite; `mimamori serve` runs the jobs)")
    for job in snap.jobs:
        error = f"  last error: {job['last_error'][:80]}" if job["last_error"] else ""
        out.append(f"  {job['name']:<24} last ok {_local(job['last_ok_at'], settings)}"
                   f"  count {job['last_count']:>6}  runs {job['runs']:>6}  failures {job['failures']}{error}")
    out += ["", "Homes by state"]
    out.append("  " + (", ".join(f"{s} {n}" for s, n in sorted(snap.homes_by_status.items())) or "no homes"))
    out.append(f"  data lag: worst {_minutes(snap.lag_max_seconds)}, median {_minutes(snap.lag_median_seconds)};"
               f" never read: {snap.homes_never_read}")
    out += ["", f"Data gaps: {snap.homes_with_gap} home(s)"]
    for h in snap.gap_homes:
        out.append(f"  home {h['home_id']:<6} meter {h['meter_id']}"
                   f"  last reading {_local(h['last_reading_at'], settings)}"
                   f"  gap since {_local(h['gap_since'], settings)}")
    out += ["", f"Weather gaps (no heat or cold message where the forecast is missing or late):"
                f" {len(snap.weather_gaps)} area(s)"]
    for g in snap.weather_gaps:
        out.append(f"  office {g['office']}  {g['reason']:<8} homes {g['homes']}"
                   f"  issued {_local(g['issued_at'], settings) if g['issued_at'] else '-'}")
    pending = ", ".join(f"{c} {n}" for c, n in sorted(snap.outbox_pending.items())) or "none"
    out += ["", f"Outbox: pending {pending}; due now {snap.outbox_due},"
                f" oldest due {_minutes(snap.outbox_oldest_due_seconds)}"]
    out.append(f"Stuck messages (pending over {stuck_minutes} min): {snap.outbox_stuck}")
    out += [_message_line(m) for m in snap.stuck_messages]
    failed = ", ".join(f"{c} {n}" for c, n in sorted(snap.outbox_failed.items())) or "none"
    out.append(f"Failed deliveries: {failed}")
    out += [_message_line(m) for m in snap.failed_messages]
    out += ["", *_line_text(snap.line)]
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(snap.open_incidents_by_kind.items())) or "none"
    out += ["", f"Open incidents: {by_kind}"]
    for i in snap.oldest_open_incidents:
        out.append(f"  #{i['incident_id']:<6} home {i['home_id']:<6} {i['kind']:<14} {i['state']:<12}"
                   f" step {i['step_index']}  open {i['age_minutes']} min")
    return "\n".join(out)


def _line_text(line: dict[str, Any]) -> list[str]:
    per_home = line["pushes_per_home_month"]
    warning = {"used": "  WARNING: over the warning share of the quota already",
               "projected": "  WARNING: at this pace the month passes the warning share of the quota"}
    out = [f"LINE pushes {line['month']} ({line['plan']} plan, {line['quota']:,} included):"
           f" {line['pushes']:,} sent, {line['projected_pushes']:,} projected;"
           f" {per_home if per_home is not None else '—'} per home-month over {line['homes']} home(s);"
           f" projected bill ¥{line['projected_bill_yen']:,}"]
    if line["quota_warning"]:
        out.append(warning[line["quota_warning"]])
    return out


def _message_line(m: dict[str, Any]) -> str:
    error = f"  error: {m['last_error']}" if m["last_error"] else ""
    return (f"  #{m['id']:<6} {m['channel']:<6} home {m['home_id']}  incident {m['incident_id']}"
            f"  attempts {m['attempts']}  age {m['age_minutes']} min{error}")
