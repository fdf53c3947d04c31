"""Log lines are JSON, carry ids, and never carry a name, phone number or address."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from core.logging import configure_logging, log_event


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    previous = root.level
    handler = configure_logging("json", "INFO", stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_json_line_per_event_with_ids(captured) -> None:
    log_event(logging.getLogger("core.test"), "incident.opened", home_id=42, incident_id=7, kind="no_wake")
    (line,) = lines(captured)
    assert line["event"] == "incident.opened"
    assert (line["home_id"], line["incident_id"], line["kind"]) == (42, 7, "no_wake")
    assert line["level"] == "info" and line["logger"] == "core.test" and line["ts"].endswith("+00:00")


def test_personal_data_keys_are_refused(captured) -> None:
    log = logging.getLogger("core.test")
    log_event(log, "watcher.joined", watcher_id=3, display_name="山田花子", phone="+819012345678")
    log.info("resident.updated", extra={"home_id": 1, "address": "東京都千代田区1-1", "line_user_id": "U1234"})
    output = captured.getvalue()
    for secret in ("山田花子", "+819012345678", "東京都千代田区", "U1234"):
        assert secret not in output
    first, second = lines(captured)
    assert first["watcher_id"] == 3 and first["refused_keys"] == ["display_name", "phone"]
    assert second["home_id"] == 1 and set(second["refused_keys"]) == {"address", "line_user_id"}


def test_exceptions_keep_their_type_and_traceback(captured) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("core.test").exception("job.failed", extra={"job": "meter_cycle"})
    (line,) = lines(captured)
    assert line["job"] == "meter_cycle" and line["error"] == "ValueError" and "boom" in line["traceback"]


def test_configuring_twice_does_not_double_the_lines(captured) -> None:
    again = configure_logging("json", "INFO", captured)
    try:
        logging.getLogger("core.test").info("once")
        assert len(lines(captured)) == 1
    finally:
        logging.getLogger().removeHandler(again)


def test_sql_parameters_in_errors_are_refused(db, captured) -> None:
    """A failed statement's bound values (a phone number, say) never reach the log or job_state."""
    from sqlalchemy import select

    from core.db import session_scope
    from core.jobs import JobSpec, run_job
    from core.models import JobState, Watcher

    def breaks(session, now) -> None:
        session.add(Watcher(line_user_id="U-dup", phone="+819077778888"))
        session.add(Watcher(line_user_id="U-dup", phone="+819077778888"))
        session.flush()

    assert not run_job(JobSpec("breaks", breaks, 60, call="session_now")).ok
    with session_scope() as s:
        error = s.scalar(select(JobState.last_error).where(JobState.name == "breaks"))
    assert "IntegrityError" in error
    assert "+819077778888" not in error and "+819077778888" not in captured.getvalue()
    assert "IntegrityError" in captured.getvalue()
