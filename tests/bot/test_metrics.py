"""``GET /metrics``: what a Prometheus scrape sees for a small, known state of the service."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.app import create_app
from core.db import session_scope
from core.enums import Channel, HomeStatus, IncidentKind, OutboxState
from core.jobs import JobSpec, run_job
from core.models import Home, Incident
from core.outbox import enqueue

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+]+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(body: str) -> dict[tuple[str, frozenset], float]:
    """The exposition as {(name, labels): value}; every sample's family is declared first."""
    declared: set[str] = set()
    samples = {}
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            assert kind in {"counter", "gauge"}
            declared.add(name)
            continue
        if line.startswith("#") or not line:
            continue
        match = SAMPLE.match(line)
        assert match, f"not a valid sample line: {line!r}"
        name, labels, value = match.groups()
        assert name in declared, f"{name} has no # TYPE line"
        samples[(name, frozenset(LABEL.findall(labels or "")))] = float(value)
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


@pytest.fixture
def seeded(db, clock, make_home, make_watcher):
    now = clock.now()
    lags = {"a": 1, "b": 2, "c": 10}
    homes = {key: make_home(resident_name=f"住人{key}", last_reading_at=now - timedelta(hours=h))
             for key, h in lags.items()}
    make_home(status=HomeStatus.PAUSED, last_reading_at=now - timedelta(hours=2, minutes=30))
    make_home(status=HomeStatus.ENDED, last_reading_at=now - timedelta(days=30))
    make_home()  # never read
    watcher = make_watcher(homes["a"])
    run_job(JobSpec("meter_cycle.pull", lambda now: 1234))
    with session_scope() as s:
        for key in ("a", "b"):
            s.add(Incident(home_id=homes[key].id, kind=IncidentKind.NO_WAKE, window_start=now, detected_at=now))
        s.add(Incident(home_id=homes["c"].id, kind=IncidentKind.INACTIVITY, window_start=now, detected_at=now,
                       closed_at=now))
        old = enqueue(s, channel=Channel.LINE, recipient=watcher.line_user_id, payload={"messages": []}, key="old")
        old.created_at = old.next_attempt_at = now - timedelta(minutes=30)
        enqueue(s, channel=Channel.SMS, recipient="+819000000000", payload={"body": "x"}, key="later",
                not_before=now + timedelta(hours=1))
        for key in ("f1", "f2"):
            enqueue(s, channel=Channel.LINE, recipient="U0", payload={"messages": []}, key=key).state = (
                OutboxState.FAILED
            )
        s.add(Home(meter_id="unused"))  # an extra home without resident, still "awaiting history"
    return homes


def test_metrics_report_the_state_of_the_service(seeded, settings) -> None:
    response = create_app(settings).test_client().get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    body = response.get_data(as_text=True)
    samples = parse(body)

    assert value(samples, "mimamori_readings_ingested_total") == 1234
    assert value(samples, "mimamori_homes", status="active") == 4
    assert value(samples, "mimamori_homes", status="paused") == 1
    assert value(samples, "mimamori_homes", status="ended") == 1
    # Lag over watched homes with readings: 1 h, 2 h, 2.5 h, 10 h (the ended home does not count).
    assert value(samples, "mimamori_data_lag_seconds", stat="max") == 10 * 3600
    assert value(samples, "mimamori_data_lag_seconds", stat="median") == 2.25 * 3600
    assert value(samples, "mimamori_homes_data_gap") == 1
    assert value(samples, "mimamori_homes_never_read") == 2
    assert value(samples, "mimamori_open_incidents", kind="no_wake", state="open") == 2
    assert ("mimamori_open_incidents", frozenset({("kind", "inactivity"), ("state", "closed")})) not in samples
    assert value(samples, "mimamori_outbox_pending", channel="line") == 1
    assert value(samples, "mimamori_outbox_pending", channel="sms") == 1
    assert value(samples, "mimamori_outbox_due") == 1
    assert value(samples, "mimamori_outbox_oldest_due_age_seconds") == 30 * 60
    assert value(samples, "mimamori_outbox_stuck") == 1
    assert value(samples, "mimamori_delivery_failures", channel="line") == 2
    assert value(samples, "mimamori_job_runs_total", job="meter_cycle.pull") == 1
    assert value(samples, "mimamori_job_last_success_timestamp_seconds", job="meter_cycle.pull") > 0
    # Counts only: no resident names or LINE ids in a scrape.
    assert "住人" not in body and "U0" not in body


def test_metrics_can_require_a_token(db, settings) -> None:
    settings.metrics_token = "s3cret"
    client = create_app(settings).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_an_empty_service_scrapes_cleanly(db, settings) -> None:
    samples = parse(create_app(settings).test_client().get("/metrics").get_data(as_text=True))
    assert value(samples, "mimamori_readings_ingested_total") == 0
    assert ("mimamori_data_lag_seconds", frozenset({("stat", "max")})) not in samples
