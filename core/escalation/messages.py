"""What each step says, built as outbox payloads (shapes in core/outbox.py).

Texts come from the catalog (core/texts/*/escalation.py); this module only arranges
them: a Flex bubble for the family with "対応します", call and graph buttons; the same
for the landlord group with "確認に行きます"; TwiML for the call; email bodies with a
signed acknowledge link. The postback data is the contract with the bot:
``action=ack&incident=<id>`` and ``action=close&incident=<id>&reason=safe|false_alarm``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from twilio.twiml.voice_response import VoiceResponse

from core import clock, links
from core.detection.evidence import Evidence, describe
from core.enums import IncidentKind
from core.models import Home, Incident
from core.settings import Settings
from core.texts import t

LANG_TWILIO = {"ja": "ja-JP", "en": "en-US"}
ACK_LINK_TTL = 3 * 24 * 3600


NO_HONORIFIC = ("さん", "様", "さま", "ちゃん", "くん", "グループ")


def honorific(name: str, lang: str) -> str:
    """お父さん stays お父さん; 山田 ハナ becomes 山田 ハナさん (Japanese only)."""
    if lang == "ja" and name and not name.endswith(NO_HONORIFIC):
        return f"{name}さん"
    return name


def resident_name(home: Home, lang: str, relation_label: str | None = None) -> str:
    """How one recipient names the senior: a family member's own word for them (お母さん) in that
    family member's chat only; everyone else, the senior's name with さん."""
    if relation_label:
        return relation_label
    return honorific(home.resident.display_name if home.resident else (home.unit_label or "ご家族"), lang)


def unit_words(home: Home) -> str:
    """The unit as a landlord knows it: building, unit number and the tenant's name."""
    place = " ".join(x for x in (home.building.name if home.building else None, home.unit_label) if x)
    tenant = home.resident.display_name if home.resident else None
    return " ".join(x for x in (place, f"（{tenant}様）" if tenant else None) if x) or "—"


def postback(action: str, incident_id: int, **extra: str) -> str:
    return urlencode({"action": action, "incident": incident_id, **extra})


def local_time(value: str | datetime | None, home: Home, lang: str, *, date: bool = True) -> str | None:
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = when.astimezone(home.tz)
    if not date:
        return f"{local.hour}:{local.minute:02d}"
    return f"{local.month}月{local.day}日 {local.hour}:{local.minute:02d}" if lang == "ja" else f"{local:%b %d %H:%M}"


_SINCE_OF = {IncidentKind.NO_WAKE: "quiet_since", IncidentKind.INACTIVITY: "quiet_since",
             IncidentKind.FLAT_USAGE: "flat_since"}


def evidence_words(incident: Incident, home: Home, lang: str) -> list[str]:
    """The reasons, in words: what looks unusual, the detector's own sentence ("いつもは7:00ごろまでに…")
    and when use was last seen; after a call for help, the senior's own words first."""
    evidence = Evidence.from_json(incident.evidence)
    lines = []
    if evidence.urgent:
        lines.append(t("endings.help_words", lang, words=evidence.resident_words or ""))
    if incident.kind in _SINCE_OF:
        lines.append(t(f"escalation.alert_kind.{incident.kind.value}", lang))
        if getattr(evidence, _SINCE_OF[incident.kind]) is not None:
            lines.append(describe(incident.kind, evidence, lang, tz=home.tz, confidence=False))
    if (when := local_time(evidence.last_seen, home, lang)) is not None:
        lines.append(t("escalation.evidence_last_activity", lang, time=when))
    return lines


def resident_tried_words(incident: Incident, lang: str) -> str:
    step = next((s for s in (incident.policy_snapshot or {}).get("steps", []) if s["kind"] == "contact_resident"), None)
    if step is None or not step.get("method"):
        return t("escalation.resident_not_contacted", lang)
    return t(f"escalation.resident_tried.{step['method']}", lang, attempts=step.get("attempts", 1))


def told_words(names: list[str], lang: str) -> str:
    if not names:
        return t("escalation.only_you", lang)
    return t("escalation.also_told", lang, names=("、" if lang == "ja" else ", ").join(names))


# ---- to the resident ----------------------------------------------------------------
def voice_payload(settings: Settings, attempt_id: int, name: str, lang: str) -> dict[str, Any]:
    base = f"{settings.base_url}/twilio/voice"
    say_lang = LANG_TWILIO.get(lang, "ja-JP")
    vr = VoiceResponse()
    gather = vr.gather(num_digits=1, timeout=8, action=f"{base}/gather?attempt={attempt_id}", method="POST")
    gather.say(t("escalation.voice_script", lang, name=name), language=say_lang)
    vr.say(t("escalation.voice_no_input", lang), language=say_lang)
    return {
        "twiml": str(vr),
        "status_callback": f"{base}/status?attempt={attempt_id}",
        "amd_callback": f"{base}/amd?attempt={attempt_id}",
        "ring_seconds": 30,
    }


def voice_thanks_twiml(lang: str) -> str:
    vr = VoiceResponse()
    vr.say(t("escalation.voice_thanks", lang), language=LANG_TWILIO.get(lang, "ja-JP"))
    vr.hangup()
    return str(vr)


def sms_checkin_payload(settings: Settings, attempt_id: int, name: str, lang: str, minutes: int,
                        nonce: str) -> dict[str, Any]:
    """The SMS body keeps a ``{checkin_url}`` slot: the dispatcher derives the secret link
    from ``checkin_nonce`` and the server key at send time, so the database never holds it."""
    return {
        "body": t("escalation.sms_checkin", lang, name=name, minutes=minutes, url="{checkin_url}"),
        "checkin_nonce": nonce,
        "status_callback": f"{settings.base_url}/twilio/sms/status?attempt={attempt_id}",
    }


def line_checkin_payload(name: str, lang: str) -> dict[str, Any]:
    ok = t("escalation.line_checkin_ok", lang)
    return {"messages": [{
        "type": "text",
        "text": t("escalation.line_checkin", lang, name=name),
        "quickReply": {"items": [{"type": "action", "action": {"type": "message", "label": ok, "text": ok}}]},
    }]}


# ---- to the family and the landlord group -------------------------------------------
def _button(label: str, action: dict[str, Any], style: str = "secondary") -> dict[str, Any]:
    return {"type": "button", "style": style, "height": "sm", "action": {"label": label, **action}}


def _bubble(title: str, lines: list[str], buttons: list[dict[str, Any]], *, urgent: bool = False) -> dict[str, Any]:
    header = {"type": "text", "text": title, "weight": "bold", "wrap": True, "size": "md"}
    if urgent:
        header["color"] = "#C0392B"
    return {
        "type": "bubble",
        "header": {"type": "box", "layout": "vertical", "contents": [header]},
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
            {"type": "text", "text": line, "wrap": True, "size": "sm"} for line in lines]},
        "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": buttons},
    }


def alert_title(incident: Incident, lang: str, name: str) -> str:
    urgent = Evidence.from_json(incident.evidence).urgent
    return t("endings.help_title" if urgent else "escalation.alert_title", lang, name=name)


def family_alert_sms(incident: Incident, home: Home, lang: str, name: str) -> str:
    return "\n".join([alert_title(incident, lang, name), *evidence_words(incident, home, lang)])


def detail_url(incident: Incident, settings: Settings, *, watcher_id: int | None = None,
               building_id: int | None = None) -> str:
    """The signed link to the incident's page (its story in plain words, with the graph)."""
    who = {"w": watcher_id} if watcher_id is not None else {"g": building_id or 0}
    return links.page_url("incident", settings, h=incident.home_id, i=incident.id, **who)


def family_alert_line(incident: Incident, home: Home, lang: str, name: str, told: list[str],
                      settings: Settings, watcher_id: int | None = None) -> dict[str, Any]:
    """The family's alert card: the one builder, for real pushes and for /dev/chat alike."""
    title = alert_title(incident, lang, name)
    lines = [*evidence_words(incident, home, lang), resident_tried_words(incident, lang), told_words(told, lang)]
    buttons = [_button(t("escalation.ack_button", lang),
                       {"type": "postback", "data": postback("ack", incident.id),
                        "displayText": t("escalation.ack_button", lang)}, "primary")]
    if home.resident and home.resident.phone:
        buttons.append(_button(t("escalation.call_button", lang), {"type": "uri", "uri": f"tel:{home.resident.phone}"}))
    graph, _preview = links.graph_urls(home.id, clock.now().astimezone(home.tz).date(), settings)
    buttons.append(_button(t("escalation.graph_button", lang), {"type": "uri", "uri": graph}))
    detail = detail_url(incident, settings, watcher_id=watcher_id)
    buttons.append(_button(t("endings.detail_button", lang), {"type": "uri", "uri": detail}))
    buttons.append(_button(t("escalation.safe_button", lang),
                           {"type": "postback", "data": postback("close", incident.id, reason="safe"),
                            "displayText": t("escalation.safe_button", lang)}))
    return {
        "messages": [{"type": "flex", "altText": title[:400],
                      "contents": _bubble(title, lines, buttons, urgent=bool(incident.evidence.get("urgent")))}],
        "fallback": {"subject": t("escalation.email_subject", lang, name=name), "text": "\n".join([title, *lines])},
    }


def family_alert_email(incident: Incident, home: Home, lang: str, name: str, told: list[str], watcher_id: int,
                       settings: Settings) -> dict[str, Any]:
    token = links.sign("ack", settings, i=incident.id, w=watcher_id)
    ack_url = f"{settings.base_url}/ack/{token}"
    graph, _ = links.graph_urls(home.id, clock.now().astimezone(home.tz).date(), settings)
    lines = [
        alert_title(incident, lang, name), "",
        *evidence_words(incident, home, lang), resident_tried_words(incident, lang), told_words(told, lang), "",
        t("escalation.email_ack_link", lang, url=ack_url), f"{t('escalation.graph_button', lang)}: {graph}",
    ]
    return {"subject": t("escalation.email_subject", lang, name=name), "text": "\n".join(lines), "html": None}


def landlord_alert_line(incident: Incident, home: Home, lang: str, settings: Settings) -> dict[str, Any]:
    unit = unit_words(home)
    title = t("escalation.landlord_title", lang, unit=unit)
    lines = [*evidence_words(incident, home, lang), t("escalation.landlord_body", lang)]
    buttons = [_button(t("escalation.landlord_ack_button", lang),
                       {"type": "postback", "data": postback("ack", incident.id),
                        "displayText": t("escalation.landlord_ack_button", lang)}, "primary"),
               _button(t("endings.detail_button", lang),
                       {"type": "uri", "uri": detail_url(incident, settings, building_id=home.building_id)})]
    return {"messages": [{"type": "flex", "altText": title[:400], "contents": _bubble(title, lines, buttons)}]}


def dispatch_payloads(incident: Incident, home: Home, lang: str, step: dict[str, Any]) -> list[tuple[str, str, dict]]:
    """(channel, recipient, payload) for the dispatch partner: email and/or webhook."""
    unit = unit_words(home)
    summary = " ".join(evidence_words(incident, home, lang))
    address = home.address or (home.building.address if home.building else None) or "—"
    out: list[tuple[str, str, dict]] = []
    if step.get("email"):
        out.append(("email", step["email"], {
            "subject": t("escalation.dispatch_subject", lang, unit=unit),
            "text": t("escalation.dispatch_body", lang, address=address, summary=summary, incident=incident.id),
            "html": None,
        }))
    if step.get("webhook_url"):
        out.append(("webhook", step["webhook_url"], {"url": step["webhook_url"], "json": {
            "incident": {"id": incident.id, "kind": incident.kind.value,
                         "detected_at": incident.detected_at.isoformat(), "summary": summary},
            "home": {"id": home.id, "address": address, "unit": unit,
                     "resident_phone": home.resident.phone if home.resident else None},
        }}))
    return out


def text_payload(channel: str, text: str, subject: str) -> dict[str, Any]:
    """A short notice in the shape ``channel`` needs."""
    if channel == "line":
        return {"messages": [{"type": "text", "text": text}], "fallback": {"subject": subject, "text": text}}
    if channel == "email":
        return {"subject": subject, "text": text, "html": None}
    return {"body": text}


def help_card(title: str, text: str, phone: str, lang: str) -> dict[str, Any]:
    """The senior's call for help when no check-in is open: their words and a call button."""
    lines = text.split("\n")[1:]
    call = _button(t("escalation.call_button", lang), {"type": "uri", "uri": f"tel:{phone}"}, "primary")
    bubble = _bubble(title, lines, [call], urgent=True)
    return {"messages": [{"type": "flex", "altText": title[:400], "contents": bubble}],
            "fallback": {"subject": title, "text": text}}
