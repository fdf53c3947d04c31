"""A local Twilio REST API: accepts the twilio client's Calls and Messages, records them,
and plays scripted outcomes back to the app as properly signed callbacks.

Mounted at ``/dev/twilio-api`` in dev (``settings.twilio_api_url`` points the client
there) and served on its own port in tests (:class:`FakeTwilioServer`). Outcomes:
``human`` (a person answers; AMD says human), ``human_press_1`` (and presses 1),
``machine`` (voicemail), ``no_answer``, ``busy``, ``failed``; for SMS ``delivered`` or
``undelivered``. :meth:`TwilioEmulatorState.callbacks` returns the signed requests an
outcome produces, so tests can deliver them late, twice or out of order.
"""

from __future__ import annotations

import threading
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import format_datetime
from typing import Any

import requests
from flask import Blueprint, Flask, jsonify, request
from twilio.request_validator import RequestValidator
from werkzeug.serving import BaseWSGIServer, make_server

from core import clock

CALL_OUTCOMES = ("human", "human_press_1", "machine", "no_answer", "busy", "failed")


@dataclass
class FakeCall:
    sid: str
    to: str
    from_: str
    twiml: str
    status_callback: str | None
    amd_callback: str | None
    created_at: datetime
    status: str = "queued"

    def resource(self, account: str) -> dict[str, Any]:
        return {"sid": self.sid, "account_sid": account, "to": self.to, "from": self.from_, "status": self.status,
                "direction": "outbound-api", "date_created": format_datetime(self.created_at, usegmt=True),
                "start_time": format_datetime(self.created_at, usegmt=True), "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{account}/Calls/{self.sid}.json"}

    @property
    def gather_action(self) -> str | None:
        node = ET.fromstring(self.twiml).find(".//Gather")
        return node.get("action") if node is not None else None


@dataclass
class FakeSms:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    created_at: datetime
    status: str = "queued"

    def resource(self, account: str) -> dict[str, Any]:
        return {"sid": self.sid, "account_sid": account, "to": self.to, "from": self.from_, "body": self.body,
                "status": self.status, "direction": "outbound-api",
                "date_created": format_datetime(self.created_at, usegmt=True),
                "date_sent": format_datetime(self.created_at, usegmt=True), "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{account}/Messages/{self.sid}.json"}


@dataclass
class TwilioEmulatorState:
    account_sid: str
    auth_token: str
    calls: list[FakeCall] = field(default_factory=list)
    messages: list[FakeSms] = field(default_factory=list)
    scripted: list[str] = field(default_factory=list)
    auto: bool = False  # play scripted outcomes by itself, in a thread, after answering the create
    default_outcome: str | None = None
    forced_statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, *outcomes: str) -> None:
        """The next calls will end like this (in order); with ``auto`` they play by themselves."""
        for outcome in outcomes:
            if outcome not in CALL_OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}")
        with self.lock:
            self.scripted.extend(outcomes)

    def fail_next(self, *statuses: int) -> None:
        with self.lock:
            self.forced_statuses.extend(statuses)

    def call(self, sid: str) -> FakeCall:
        return next(c for c in self.calls if c.sid == sid)

    def _signed(self, url: str, params: dict[str, str]) -> tuple[str, dict[str, str], dict[str, str]]:
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        return url, params, {"X-Twilio-Signature": signature}

    def callbacks(self, sid: str, outcome: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
        """The signed (url, form, headers) Twilio would send for a call ending in ``outcome``."""
        call = self.call(sid)
        base = {"AccountSid": self.account_sid, "CallSid": sid, "From": call.from_, "To": call.to,
                "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
        out: list[tuple[str, dict[str, str], dict[str, str]]] = []

        def status(value: str, seq: int, **extra: str) -> None:
            if call.status_callback:
                out.append(self._signed(call.status_callback, {**base, "CallStatus": value,
                                                               "SequenceNumber": str(seq), **extra}))

        status("initiated", 0)
        if outcome in ("busy", "failed", "no_answer"):
            status("ringing", 1)
            status({"no_answer": "no-answer"}.get(outcome, outcome), 2)
            return out
        status("ringing", 1)
        status("in-progress", 2)
        answered_by = "human" if outcome.startswith("human") else "machine_end_beep"
        if call.amd_callback:
            out.append(self._signed(call.amd_callback, {**base, "AnsweredBy": answered_by,
                                                        "MachineDetectionDuration": "2100"}))
        if outcome == "human_press_1" and call.gather_action:
            out.append(self._signed(call.gather_action, {**base, "Digits": "1", "CallStatus": "in-progress"}))
        status("completed", 3, CallDuration="25")
        return out

    def sms_callbacks(self, sid: str, outcome: str = "delivered") -> list[tuple[str, dict[str, str], dict[str, str]]]:
        sms = next(m for m in self.messages if m.sid == sid)
        if not sms.status_callback:
            return []
        base = {"AccountSid": self.account_sid, "MessageSid": sid, "SmsSid": sid, "From": sms.from_, "To": sms.to}
        return [self._signed(sms.status_callback, {**base, "MessageStatus": s}) for s in ("sent", outcome)]

    def play(self, sid: str, outcome: str) -> list[int]:
        """Deliver a call's callbacks now, in order; returns the app's HTTP statuses."""
        return [deliver(*cb) for cb in self.callbacks(sid, outcome)]


def _day(value: str) -> date:
    """Twilio's StartTime>/DateSent> filters work by day, whatever time is given."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")[:10]).date()


def deliver(url: str, form: dict[str, str], headers: dict[str, str]) -> int:
    """POST one callback the way Twilio does (form-encoded, signed)."""
    return requests.post(url, data=form, headers=headers, timeout=10).status_code


def create_blueprint(state: TwilioEmulatorState) -> Blueprint:
    bp = Blueprint("twilio_emulator", __name__)
    prefix = "/2010-04-01/Accounts/<account>"

    def _gate(account: str) -> Any | None:
        auth = request.authorization
        if auth is None or auth.username != state.account_sid or auth.password != state.auth_token \
                or account != state.account_sid:
            return jsonify(code=20003, message="Authenticate", status=401), 401
        with state.lock:
            forced = state.forced_statuses.pop(0) if state.forced_statuses else None
        if forced is not None:
            return jsonify(code=20429 if forced == 429 else 20500, message="forced", status=forced), forced
        return None

    def _page(key: str, items: list[dict[str, Any]]) -> Any:
        return jsonify({key: items, "page": 0, "page_size": 50, "uri": request.path,
                        "first_page_uri": request.path, "next_page_uri": None, "previous_page_uri": None})

    @bp.post(f"{prefix}/Calls.json")
    def create_call(account: str) -> Any:
        if (refused := _gate(account)) is not None:
            return refused
        form = request.form
        if not form.get("To") or not form.get("From") or not (form.get("Twiml") or form.get("Url")):
            return jsonify(code=21201, message="To, From and Twiml/Url are required", status=400), 400
        call = FakeCall(f"CA{uuid.uuid4().hex}", form["To"], form["From"], form.get("Twiml", "<Response/>"),
                        form.get("StatusCallback"), form.get("AsyncAmdStatusCallback"), clock.now())
        with state.lock:
            state.calls.append(call)
            outcome = state.scripted.pop(0) if state.scripted else state.default_outcome
        if state.auto and outcome:
            threading.Timer(0.05, state.play, args=(call.sid, outcome)).start()
        return jsonify(call.resource(account)), 201

    @bp.get(f"{prefix}/Calls.json")
    def list_calls(account: str) -> Any:
        if (refused := _gate(account)) is not None:
            return refused
        after = request.args.get("StartTime>")
        found = [c for c in state.calls
                 if c.to == request.args.get("To", c.to) and c.from_ == request.args.get("From", c.from_)
                 and (after is None or c.created_at.date() >= _day(after))]
        return _page("calls", [c.resource(account) for c in reversed(found)])

    @bp.get(f"{prefix}/Calls/<sid>.json")
    def fetch_call(account: str, sid: str) -> Any:
        if (refused := _gate(account)) is not None:
            return refused
        call = next((c for c in state.calls if c.sid == sid), None)
        return (jsonify(call.resource(account)), 200) if call else (jsonify(code=20404, status=404), 404)

    @bp.post(f"{prefix}/Messages.json")
    def create_message(account: str) -> Any:
        if (refused := _gate(account)) is not None:
            return refused
        form = request.form
        if not form.get("To") or not form.get("From") or not form.get("Body"):
            return jsonify(code=21602, message="To, From and Body are required", status=400), 400
        if len(form["Body"]) > 1600:
            return jsonify(code=21617, message="Body too long", status=400), 400
        sms = FakeSms(f"SM{uuid.uuid4().hex}", form["To"], form["From"], form["Body"], form.get("StatusCallback"),
                      clock.now())
        with state.lock:
            state.messages.append(sms)
        return jsonify(sms.resource(account)), 201

    @bp.get(f"{prefix}/Messages.json")
    def list_messages(account: str) -> Any:
        if (refused := _gate(account)) is not None:
            return refused
        after = request.args.get("DateSent>")
        found = [m for m in state.messages
                 if m.to == request.args.get("To", m.to) and m.from_ == request.args.get("From", m.from_)
                 and (after is None or m.created_at.date() >= _day(after))]
        return _page("messages", [m.resource(account) for m in reversed(found)])

    return bp


class FakeTwilioServer:
    """The emulator on its own port, for tests: ``with FakeTwilioServer(sid, token) as tw: tw.url``."""

    def __init__(self, account_sid: str, auth_token: str, host: str = "127.0.0.1") -> None:
        self.state = TwilioEmulatorState(account_sid, auth_token)
        app = Flask("fake_twilio")
        app.register_blueprint(create_blueprint(self.state))
        self._server: BaseWSGIServer = make_server(host, 0, app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeTwilioServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
