"""Fixtures for escalation: recording channels, open incidents, run-until-quiet helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from core.db import session_scope
from core.enums import Channel, IncidentKind
from core.escalation import dispatcher, engine, faults
from core.escalation.channels.fakes import RecordingSender
from core.incidents import open_incident
from core.models import Home, Incident


@pytest.fixture(autouse=True)
def _disarm_faults() -> Any:
    yield
    faults.disarm()


@pytest.fixture
def recording() -> dict[Channel, RecordingSender]:
    """One recording fake per channel (SMS and voice share one, as Twilio does)."""
    twilio = RecordingSender()
    return {Channel.LINE: RecordingSender(), Channel.SMS: twilio, Channel.VOICE: twilio,
            Channel.EMAIL: RecordingSender(), Channel.WEBHOOK: RecordingSender()}


def open_emergency(home: Home, kind: IncidentKind = IncidentKind.NO_WAKE, **evidence: Any) -> int:
    from core import clock

    with session_scope() as s:
        h = s.get(Home, home.id)
        assert h is not None
        evidence = evidence or {"quiet_since": (clock.now() - timedelta(hours=10)).isoformat(), "usual_wake": "7:00"}
        incident = open_incident(s, h, kind, window_start=clock.now() - timedelta(hours=2), evidence=evidence)
        assert incident is not None
        return incident.id


@pytest.fixture
def open_emergency_fixture() -> Callable[..., int]:
    return open_emergency


def load(incident_id: int) -> Incident:
    with session_scope() as s:
        incident = s.get(Incident, incident_id)
        assert incident is not None
        s.expunge(incident)
        return incident


def run(channels: dict[Channel, Any] | None = None, rounds: int = 5) -> None:
    """Let the engine and the dispatcher catch up with everything due now."""
    for _ in range(rounds):
        stepped = engine.tick()
        sent = dispatcher.dispatch_due(channels=channels)
        if not stepped and not sent:
            return


# ---- real protocols: the web app, fake Twilio, a real SMTP server ----------------------
@pytest.fixture
def fake_twilio(settings: Any) -> Any:
    """The local Twilio API on its own port; the twilio client is pointed at it."""
    from bot.dev.twilio_emulator import FakeTwilioServer

    with FakeTwilioServer(settings.twilio_sid, settings.twilio_token) as server:
        settings.twilio_api_base_url = server.url
        yield server.state


@pytest.fixture
def web(settings: Any, db: Any) -> Any:
    """The Flask app served on a random local port; links and callbacks point at it."""
    import threading

    from werkzeug.serving import make_server

    from bot.app import create_app

    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    settings.public_base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield settings.public_base_url
    server.shutdown()
    thread.join(timeout=5)


class Inbox:
    """Messages received by the local SMTP server."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_inbox(settings: Any) -> Any:
    """A real aiosmtpd SMTP server on 127.0.0.1; SMTP_URL points at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.smtp_url = f"smtp://127.0.0.1:{port}"
    yield inbox
    controller.stop()


def line_channels(settings: Any) -> dict[Channel, Any]:
    """Real channels (LINE via line-bot-sdk, Twilio client, SMTP) built on the test settings."""
    from core.escalation.channels import default_channels

    return default_channels(settings)


def add_building(home: Home, group_id: str = "Cgroup0001", name: str = "みどり荘", unit: str = "101") -> None:
    from core.models import Building

    with session_scope() as s:
        building = Building(name=name, address="東京都千代田区1-1", line_group_id=group_id)
        s.add(building)
        s.flush()
        h = s.get(Home, home.id)
        assert h is not None
        h.building_id = building.id
        h.unit_label = unit
