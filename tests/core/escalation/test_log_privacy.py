"""A worker's whole log, libraries included, never shows a phone number or a LINE id.

The escalation runs through the real clients (twilio, line-bot-sdk, urllib3) to the local
fakes, with a retry that looks Twilio up (the request twilio logs as
``Calls.json?To=%2B8190…``), at DEBUG, the most a deployment could turn on.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from core.escalation import dispatcher, engine, faults
from core.logging import configure_logging, redact_text
from tests.core.escalation.conftest import add_building, open_emergency


@pytest.fixture
def worker_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    previous = root.level
    handler = configure_logging("json", "DEBUG", stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def _forms(value: str) -> list[str]:
    """The ways a value shows up in a log: as is, URL-encoded, and its digits alone."""
    return [value, quote(value, safe=""), value.lstrip("+")]


def test_no_phone_number_or_line_id_in_the_worker_log(make_home, make_watcher, clock, fake_twilio, fake_line,
                                                        worker_log) -> None:
    home = make_home(phone="+819033334444")
    watcher = make_watcher(home)
    add_building(home, "C" + "ab" * 16)
    open_emergency(home)
    engine.tick()
    faults.arm("dispatch.after_send")  # the retry then asks Twilio, with the number in the URL
    with contextlib.suppress(faults.SimulatedCrash):
        dispatcher.dispatch_due()
    faults.disarm()
    for _ in range(6):
        clock.advance(minutes=16)
        engine.tick()
        dispatcher.dispatch_due()
    assert len(fake_twilio.calls) == 3 and fake_line.state.messages_to(watcher.line_user_id)
    text = worker_log.getvalue()
    assert "Calls.json?To=[refused]" in text  # the lookup's request line was logged, and blotted
    handled = ["+819033334444", watcher.line_user_id, "C" + "ab" * 16]
    leaks = [form for value in handled for form in _forms(value) if form in text]
    assert leaks == []


def test_library_lines_are_blotted_by_shape() -> None:
    """The same filter catches what a library formats into its own text."""
    line = "GET /2010-04-01/Accounts/AC1/Calls.json?To=%2B819033334444&From=%2B815012345678 to U" + "0" * 32
    assert redact_text(line) == "GET /2010-04-01/Accounts/AC1/Calls.json?To=[refused]&From=[refused] to [refused]"
