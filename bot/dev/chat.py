"""``/dev/chat`` (dev only): talk to the bot as a watcher, a senior, or a landlord group.

The page sends real webhook events — LINE's full event shape, signed with the channel
secret — to ``/callback``, and shows what the bot sent through the local LINE emulator
(replies and pushes, polled). Two dev shortcuts stand in for the rest of the service:
"simulate an alert" runs the home's real escalation on a fast clock (bot/dev/fast_alert.py:
what the family sees is byte for byte what a real push carries), and "demo building" puts
the watcher's home in a building and issues the group's link code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy import select

from bot.dev import fast_alert
from bot.dev.line_emulator import STATE
from core import clock, homes, invites
from core.db import session_scope
from core.models import Building, Home, Watcher
from core.settings import Settings
from core.texts import t

PAGE = Path(__file__).parent / "static" / "chat.html"
DESTINATION = "U" + "0" * 32


def _ulid() -> str:
    return "01" + secrets.token_hex(12).upper()[:24]


def build_event(kind: str, user_id: str | None, group_id: str | None, chat_id: str,
                text: str | None = None, data: str | None = None, params: dict[str, str] | None = None) -> dict:
    """One webhook event in the exact shape LINE sends (webhook.yml)."""
    source: dict[str, Any] = {"type": "group", "groupId": group_id} if group_id else {"type": "user"}
    if user_id:
        source["userId"] = user_id
    event: dict[str, Any] = {
        "type": kind, "mode": "active", "timestamp": int(clock.now().timestamp() * 1000),
        "webhookEventId": _ulid(), "deliveryContext": {"isRedelivery": False}, "source": source,
    }
    if kind not in {"unfollow", "leave", "memberLeft"}:
        event["replyToken"] = STATE.issue_reply_token(chat_id)
    if kind == "message":
        event["message"] = {"type": "text", "id": str(secrets.randbelow(10**18)),
                            "quoteToken": secrets.token_urlsafe(12), "text": text or "",
                            "markAsReadToken": STATE.issue_read_token(chat_id)}
    elif kind == "postback":
        event["postback"] = {"data": data or "", **({"params": params} if params else {})}
    elif kind == "follow":
        event["follow"] = {"isUnblocked": False}
    elif kind == "memberJoined":
        event["joined"] = {"members": [{"type": "user", "userId": user_id}]}
    elif kind == "memberLeft":
        event["left"] = {"members": [{"type": "user", "userId": user_id}]}
    return event


def deliver(app: Flask, settings: Settings, event: dict) -> int:
    """Sign and post to /callback as LINE would; returns the HTTP status."""
    body = json.dumps({"destination": DESTINATION, "events": [event]}, ensure_ascii=False).encode()
    signature = base64.b64encode(hmac.new(settings.line_secrets[0].encode(), body, hashlib.sha256).digest()).decode()
    resp = app.test_client().post("/callback", data=body, headers={"X-Line-Signature": signature,
                                                                    "Content-Type": "application/json"})
    from bot import processing

    processing.wait_idle(10)  # so the page sees the answer on its next poll
    return resp.status_code


def _home_of_chat(session: Any, user_id: str | None, group_id: str | None) -> Home | None:
    if group_id:
        building = session.scalar(select(Building).where(Building.line_group_id == group_id))
        return building.homes[0] if building and building.homes else None
    watcher = session.scalar(select(Watcher).where(Watcher.line_user_id == user_id))
    linked = homes.homes_of(session, watcher) if watcher else []
    return linked[0] if linked else None


def create_chat_blueprint(settings: Settings) -> Blueprint:
    bp = Blueprint("dev_chat", __name__)

    @bp.get("/")
    def page() -> Response:
        return Response(PAGE.read_text(encoding="utf-8"), mimetype="text/html")

    @bp.post("/api/send")
    def send() -> Any:
        body = request.get_json(silent=True) or {}
        user_id, group_id = body.get("userId"), body.get("groupId") or None
        chat_id = group_id or user_id
        if not isinstance(chat_id, str) or not chat_id:
            return jsonify(error="userId or groupId needed"), 400
        name = body.get("displayName")
        if user_id and isinstance(name, str):
            STATE.profiles[user_id] = {"displayName": name[:50], "language": body.get("language") or "ja"}
        event = build_event(str(body.get("kind", "message")), user_id, group_id, chat_id,
                            body.get("text"), body.get("data"), body.get("params"))
        return jsonify(status=deliver(current_app._get_current_object(), settings, event))

    @bp.get("/api/messages")
    def messages() -> Any:
        chat_id = request.args.get("chat", "")
        since = int(request.args.get("since", "0") or 0)
        sent = STATE.messages_to(chat_id)
        return jsonify(messages=sent[since:], next=len(sent))

    @bp.post("/api/simulate-alert")
    def simulate_alert() -> Any:
        """アラートを試す: the home's real policy on a fast clock (bot/dev/fast_alert.py)."""
        body = request.get_json(silent=True) or {}
        with session_scope() as s:
            home = _home_of_chat(s, body.get("userId"), body.get("groupId"))
            if home is None:
                return jsonify(error="このチャットにはまだお宅がありません（先に登録してください）"), 400
            incident = fast_alert.start(s, home)
            incident_id = incident.id
            steps = [step["kind"] for step in (incident.policy_snapshot or {}).get("steps", [])]
        wait = float(body.get("waitSeconds", fast_alert.WAIT_SECONDS))
        if body.get("background", True):
            fast_alert.run_in_background(incident_id, settings, wait)
        else:
            fast_alert.step(incident_id, settings)
        return jsonify(incident=incident_id, steps=steps)

    @bp.post("/api/simulate-alert/step")
    def simulate_step() -> Any:
        """One more tick of the fast clock (for a page or a test that steps by hand)."""
        body = request.get_json(silent=True) or {}
        incident_id = body.get("incident")
        if not isinstance(incident_id, int):
            return jsonify(error="incident needed"), 400
        return jsonify(running=fast_alert.step(incident_id, settings))

    @bp.get("/api/richmenu")
    def rich_menu() -> Any:
        """The menu this user would see in LINE (by their role now), as the page draws it."""
        from bot import richmenu

        lang = "en" if request.args.get("lang") == "en" else "ja"
        with session_scope() as s:
            role = richmenu.role_of(s, request.args.get("user") or None)
        height = richmenu.LAYOUTS[role].height
        areas = [{"x": a.x / richmenu.WIDTH, "y": a.y / height, "w": a.w / richmenu.WIDTH, "h": a.h / height,
                  "text": t(f"bot.menu.{a.key}", lang), "label": t(f"bot.richmenu.{a.key}", lang)}
                 for a in richmenu.areas(role)]
        return jsonify(role=role, image=f"/dev/chat/richmenu/{role}.png?lang={lang}", areas=areas,
                       bar=t("bot.richmenu.bar", lang), ratio=height / richmenu.WIDTH)

    @bp.get("/richmenu/<role>.png")
    def rich_menu_image(role: str) -> Any:
        from bot import richmenu

        if role not in richmenu.ROLES:
            return jsonify(error="no such role"), 404
        lang = "en" if request.args.get("lang") == "en" else "ja"
        return Response(richmenu.draw(lang, role), mimetype="image/png")

    @bp.post("/api/demo-building")
    def demo_building() -> Any:
        body = request.get_json(silent=True) or {}
        with session_scope() as s:
            home = _home_of_chat(s, body.get("userId"), None)
            if home is None:
                return jsonify(error="先に見守る人として登録してください"), 400
            building = home.building or Building(name="みまもり荘（デモ）")
            if home.building is None:
                s.add(building)
                s.flush()
                home.building_id = building.id
                home.unit_label = home.unit_label or "101"
            code = invites.create(s, purpose=invites.PURPOSE_BUILDING, building_id=building.id)
        return jsonify(code=code)

    return bp


def register_dev_chat(app: Flask, settings: Settings) -> None:
    app.register_blueprint(create_chat_blueprint(settings), url_prefix="/dev/chat")
