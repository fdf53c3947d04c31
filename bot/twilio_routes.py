"""Twilio's callbacks into the app: call status, answering-machine detection, <Gather>
digits and SMS status. Every request must carry a valid X-Twilio-Signature (forged →
403, nothing changes); what they mean is decided in core.escalation.voice.

In dev with Twilio unconfigured, the local Twilio API (bot/dev/twilio_emulator.py) is
mounted at /dev/twilio-api and plays calls back to these routes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, abort, request

from core.db import session_scope
from core.settings import Settings

# The handlers import core.escalation (models, twilio) on first use, so the web app starts fast.


def _verified_form(settings: Settings) -> dict[str, str]:
    """The callback's form if Twilio signed it for this exact public URL; otherwise 403."""
    from twilio.request_validator import RequestValidator

    path = request.full_path.rstrip("?")
    url = f"{settings.base_url}{path}"
    form = request.form.to_dict()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not RequestValidator(settings.twilio_token).validate(url, form, signature):
        abort(403)
    return form


def _attempt_id() -> int | None:
    value = request.args.get("attempt", "")
    return int(value) if value.isdigit() else None


def _token() -> str | None:
    """The message's own token, added to every callback URL when the call or SMS was sent."""
    return request.args.get("o") or None


def _twiml(body: str) -> Response:
    return Response(body, mimetype="application/xml")


def register_twilio(app: Flask) -> None:
    settings: Settings = app.config["SETTINGS"]
    bp = Blueprint("twilio", __name__, url_prefix="/twilio")

    @bp.post("/voice/status")
    def call_status() -> Any:
        from core.escalation import voice

        form = _verified_form(settings)
        with session_scope() as s:
            voice.record_call_event(s, _attempt_id(), form.get("CallSid", ""), status=form.get("CallStatus"),
                                    token=_token())
        return "", 204

    @bp.post("/voice/amd")
    def call_amd() -> Any:
        from core.escalation import voice

        form = _verified_form(settings)
        with session_scope() as s:
            voice.record_call_event(s, _attempt_id(), form.get("CallSid", ""), answered_by=form.get("AnsweredBy"),
                                    token=_token())
        return "", 204

    @bp.post("/voice/gather")
    def call_gather() -> Any:
        from core.escalation import messages, voice
        from core.models import EscalationAttempt, Incident

        form = _verified_form(settings)
        with session_scope() as s:
            outcome = voice.record_call_event(s, _attempt_id(), form.get("CallSid", ""), digits=form.get("Digits"))
            attempt = s.get(EscalationAttempt, _attempt_id() or 0)
            incident = s.get(Incident, attempt.incident_id) if attempt else None
            lang = (incident.policy_snapshot or {}).get("language", "ja") if incident else "ja"
        if outcome == "confirmed":
            return _twiml(messages.voice_thanks_twiml(lang))
        return _twiml("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Hangup/></Response>")

    @bp.post("/sms/status")
    def sms_status() -> Any:
        from core.escalation import voice

        form = _verified_form(settings)
        with session_scope() as s:
            voice.record_sms_status(s, _attempt_id(), form.get("MessageSid", ""), form.get("MessageStatus", ""),
                                    token=_token())
        return "", 204

    app.register_blueprint(bp)
    if settings.twilio_uses_fake:
        from bot.dev.twilio_emulator import TwilioEmulatorState, create_blueprint

        state = TwilioEmulatorState(settings.twilio_sid, settings.twilio_token, auto=True,
                                    default_outcome="no_answer")
        app.extensions["twilio_emulator"] = state
        app.register_blueprint(create_blueprint(state), url_prefix="/dev/twilio-api")
