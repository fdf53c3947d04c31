"""Bot test helpers: signed webhooks built from recorded fixtures, and a fake LINE API that
also checks every request body against LINE's OpenAPI description."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import LINE_SPECS, require_shared
from tests.core.escalation.conftest import fake_twilio, recording, smtp_inbox, web  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures"
_ids = itertools.count(1)


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def fake_line(fake_line: Any) -> Iterator[Any]:
    """The fake LINE API, refusing any body LINE's messaging-api.yml would refuse."""
    from tests.bot.line_spec import check_request

    spec = require_shared(LINE_SPECS / "messaging-api.yml")
    fake_line.state.body_checks.append(lambda kind, body: check_request(spec, kind, body))
    yield fake_line
    assert not fake_line.state.rejected, f"LINE would have refused: {fake_line.state.rejected}"


@pytest.fixture
def app(settings: Any, db: Any, fake_line: Any) -> Flask:
    from bot.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Chat:
    """One LINE chat driving the bot through /callback with signed, full-shape events."""

    def __init__(self, client: FlaskClient, line: Any, secret: str, user_id: str, group_id: str | None = None):
        self.client, self.line, self.secret = client, line, secret
        self.user_id, self.group_id = user_id, group_id
        self.chat_id = group_id or user_id
        self.seen = 0

    def event(self, name: str, **fields: Any) -> dict[str, Any]:
        from core import clock

        body = fixture(name)
        ev = body["events"][0]
        n = next(_ids)
        ev["webhookEventId"] = f"01JTEST{n:019d}"
        ev["timestamp"] = int(clock.now().timestamp() * 1000) + n
        if "userId" in ev.get("source", {}):
            ev["source"]["userId"] = self.user_id
        if self.group_id and "groupId" in ev.get("source", {}):
            ev["source"]["groupId"] = self.group_id
        if "replyToken" in ev:
            ev["replyToken"] = self.line.state.issue_reply_token(self.chat_id)
        if "markAsReadToken" in ev.get("message", {}):
            ev["message"]["markAsReadToken"] = self.line.state.issue_read_token(self.chat_id)
        for key, value in fields.items():
            if isinstance(value, dict) and isinstance(ev.get(key), dict):
                ev[key] = {**ev[key], **value}
            else:
                ev[key] = value
        return body

    def post(self, body: dict[str, Any] | bytes, signature: str | None = None) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        sig = sign(raw, self.secret) if signature is None else signature
        if sig:
            headers["X-Line-Signature"] = sig
        from bot import processing

        resp = self.client.post("/callback", data=raw, headers=headers)
        assert processing.wait_idle(), "webhook handling did not finish"
        return resp

    def send(self, name: str, **fields: Any) -> Any:
        return self.post(self.event(name, **fields))

    def text(self, text: str) -> Any:
        name = "message__text_group" if self.group_id else "message__text"
        body = self.event(name)
        body["events"][0]["message"]["text"] = text
        return self.post(body)

    def postback(self, data: str, params: dict[str, str] | None = None) -> Any:
        name = "postback__group" if self.group_id else "postback__button"
        pb: dict[str, Any] = {"data": data}
        if params:
            pb["params"] = params
        body = self.event(name)
        body["events"][0]["postback"] = pb
        return self.post(body)

    # ---- what the bot sent -----------------------------------------------------------
    def all_messages(self) -> list[dict[str, Any]]:
        return self.line.state.messages_to(self.chat_id)

    def new_messages(self) -> list[dict[str, Any]]:
        msgs = self.all_messages()
        fresh, self.seen = msgs[self.seen :], len(msgs)
        return fresh

    def new_texts(self) -> str:
        """Every text the bot sent since last asked (text messages and Flex text), joined."""
        return "\n".join(texts_of(m) for m in self.new_messages())

    def last_actions(self) -> list[dict[str, Any]]:
        msgs = self.all_messages()
        return actions_of(msgs[-1]) if msgs else []

    def tap(self, label: str, params: dict[str, str] | None = None) -> Any:
        """Tap the button labelled ``label`` in the bot's latest messages."""
        for msg in reversed(self.all_messages()):
            for action in actions_of(msg):
                if action.get("label") == label:
                    if action["type"] == "message":
                        return self.text(action["text"])
                    return self.postback(action["data"], params)
        raise AssertionError(f"no button {label!r} in {[a.get('label') for a in self.last_actions()]}")


def texts_of(message: dict[str, Any]) -> str:
    if message["type"] == "text":
        return message["text"]
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text" and "text" in node:
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("contents"))
    return "\n".join(found)


def actions_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    found = [i["action"] for i in message.get("quickReply", {}).get("items", [])]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "button":
                found.append(node["action"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("contents"))
    return found


@pytest.fixture
def chat_factory(client: FlaskClient, fake_line: Any, settings: Any) -> Any:
    counter = itertools.count(1)

    def make(user_id: str | None = None, group_id: str | None = None) -> Chat:
        n = next(counter)
        return Chat(client, fake_line, settings.line_secrets[0], user_id or f"U{n:032x}", group_id)

    return make


@pytest.fixture
def chat(chat_factory: Any) -> Chat:
    return chat_factory()


def deep(obj: Any) -> Any:
    return copy.deepcopy(obj)
