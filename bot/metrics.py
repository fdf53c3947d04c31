"""``GET /metrics``: the operations numbers in the Prometheus text format.

Written by hand rather than with prometheus_client: every value is read from the
database at scrape time (core.operations), so there is no in-process state to share
between gunicorn workers, and the format for a few dozen gauges is a dozen lines.
Set ``METRICS_TOKEN`` to require ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask, Response, request

from core import clock
from core.db import session_scope
from core.settings import Settings

if TYPE_CHECKING:
    from core.operations import OpsSnapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Sample = tuple[dict[str, str], float | int | None]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(name: str, kind: str, help_: str, samples: Iterable[Sample]) -> list[str]:
    lines = [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        if value is None:
            continue
        label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{label_text}}} {value}" if label_text else f"{name} {value}")
    return lines


def render(snap: OpsSnapshot) -> str:
    """The whole exposition, one metric family after another."""
    jobs = snap.jobs
    families = [
        _family("mimamori_readings_ingested_total", "counter", "Meter readings ingested by the meter cycle.",
                [({}, snap.readings_ingested_total)]),
        _family("mimamori_homes", "gauge", "Homes by status.",
                [({"status": s}, n) for s, n in sorted(snap.homes_by_status.items())]),
        _family("mimamori_homes_data_gap", "gauge", "Watched homes whose readings have stopped arriving.",
                [({}, snap.homes_with_gap)]),
        _family("mimamori_homes_never_read", "gauge", "Watched homes without any reading yet.",
                [({}, snap.homes_never_read)]),
        _family("mimamori_data_lag_seconds", "gauge", "Now minus the latest reading, over watched homes.",
                [({"stat": "max"}, snap.lag_max_seconds), ({"stat": "median"}, snap.lag_median_seconds)]),
        _family("mimamori_open_incidents", "gauge", "Open incidents by kind and state.",
                [({"kind": k, "state": s}, n) for (k, s), n in sorted(snap.open_incidents.items())]),
        _family("mimamori_outbox_pending", "gauge", "Messages waiting to be sent, by channel.",
                [({"channel": c}, n) for c, n in sorted(snap.outbox_pending.items())]),
        _family("mimamori_outbox_due", "gauge", "Pending messages whose send time has come.",
                [({}, snap.outbox_due)]),
        _family("mimamori_outbox_oldest_due_age_seconds", "gauge", "Age of the oldest message due and unsent.",
                [({}, snap.outbox_oldest_due_seconds or 0)]),
        _family("mimamori_outbox_stuck", "gauge", "Messages pending longer than OUTBOX_STUCK_MINUTES.",
                [({}, snap.outbox_stuck)]),
        _family("mimamori_delivery_failures", "gauge", "Messages given up on after retries, by channel.",
                [({"channel": c}, n) for c, n in sorted(snap.outbox_failed.items())]),
        *_line_families(snap.line),
        _family("mimamori_job_last_success_timestamp_seconds", "gauge", "When each job last ran without error.",
                [({"job": j["name"]}, j["last_ok_at"].timestamp() if j["last_ok_at"] else None) for j in jobs]),
        _family("mimamori_job_last_duration_seconds", "gauge", "How long each job's last run took.",
                [({"job": j["name"]}, round(j["last_seconds"] or 0.0, 3)) for j in jobs]),
        _family("mimamori_job_runs_total", "counter", "Runs of each job.",
                [({"job": j["name"]}, j["runs"]) for j in jobs]),
        _family("mimamori_job_failures_total", "counter", "Failed runs of each job.",
                [({"job": j["name"]}, j["failures"]) for j in jobs]),
    ]
    return "\n".join(line for family in families for line in family) + "\n"


def _line_families(line: dict) -> list[list[str]]:
    """This month's LINE pushes (they cost money; replies are free) and where the bill is heading."""
    if not line:
        return []
    plan = {"plan": line["plan"]}
    return [
        _family("mimamori_line_pushes_month", "gauge", "LINE pushes sent this calendar month (replies are free).",
                [({}, line["pushes"])]),
        _family("mimamori_line_pushes_projected_month", "gauge", "LINE pushes this month at the pace so far.",
                [({}, line["projected_pushes"])]),
        _family("mimamori_line_pushes_per_home_month", "gauge", "Projected LINE pushes per watched home this month.",
                [({}, line["pushes_per_home_month"])]),
        _family("mimamori_line_quota_messages", "gauge", "Messages a month included in the LINE plan.",
                [(plan, line["quota"])]),
        _family("mimamori_line_projected_bill_yen", "gauge", "This month's LINE bill at the pace so far (tax excl.).",
                [(plan, line["projected_bill_yen"])]),
        _family("mimamori_line_quota_warning", "gauge", "1 when the month's pushes near the plan's quota.",
                [({}, 1 if line["quota_warning"] else 0)]),
    ]


def register_metrics(app: Flask) -> None:
    settings: Settings = app.config["SETTINGS"]

    @app.get("/metrics")
    def metrics() -> Response:
        token = settings.metrics_token
        if token:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), token.encode()):
                return Response("unauthorized\n", status=401, content_type="text/plain; charset=utf-8")
        # Imported on first scrape: the models are not needed to boot a web worker.
        from core.operations import snapshot

        with session_scope() as session:
            snap = snapshot(
                session, clock.now(), gap_after_minutes=settings.data_gap_after_minutes,
                stuck_minutes=settings.outbox_stuck_minutes, lists=False, settings=settings,
            )
        return Response(render(snap), content_type=CONTENT_TYPE)
