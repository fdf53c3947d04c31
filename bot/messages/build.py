"""Builders for the LINE messages the bot sends: plain dicts in LINE's JSON shape.

Limits LINE enforces are respected here (labels ≤ 20 characters, ≤ 13 quick-reply
items, altText ≤ 400) so a long name or many homes never makes LINE reject a reply.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

MAX_LABEL = 20
MAX_QUICK = 13
MAX_ALT = 400
MAX_DATA = 300
MAX_URI = 1000
SHARE = "https://line.me/R/share?text="

Msg = dict[str, Any]


def label(value: str) -> str:
    return value if len(value) <= MAX_LABEL else value[: MAX_LABEL - 1] + "…"


def data(**fields: object) -> str:
    encoded = urlencode({k: str(v) for k, v in fields.items() if v is not None})
    if len(encoded) > MAX_DATA:
        raise ValueError("postback data over LINE's 300 characters")
    return encoded


def postback(text: str, payload: str, display: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "postback", "label": label(text), "data": payload}
    if display:
        action["displayText"] = display[:300]
    return action


def message_action(text: str, send: str | None = None) -> dict[str, Any]:
    return {"type": "message", "label": label(text), "text": send or text}


def uri(text: str, target: str) -> dict[str, Any]:
    if len(target) > MAX_URI:
        raise ValueError("uri over LINE's 1000 characters")
    return {"type": "uri", "label": label(text), "uri": target}


def share_url(message: str) -> str:
    """LINE's "share" link: opens the user's friend list with ``message`` ready to send."""
    target = SHARE + quote(message, safe="")
    if len(target) > MAX_URI:
        raise ValueError("share text too long for a LINE link")
    return target


def add_and_say_url(basic_id: str, message: str) -> str:
    """Opens the official account's chat (adding it first if needed) with ``message`` typed in."""
    return f"https://line.me/R/oaMessage/{quote(basic_id, safe='')}/?{quote(message, safe='')}"


def datetime_picker(text: str, payload: str, mode: str, initial: str | None = None,
                    min_value: str | None = None, max_value: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "datetimepicker", "label": label(text), "data": payload, "mode": mode}
    for key, value in (("initial", initial), ("min", min_value), ("max", max_value)):
        if value:
            action[key] = value
    return action


def with_quick(message: Msg, actions: list[dict[str, Any]]) -> Msg:
    if actions:
        message["quickReply"] = {"items": [{"type": "action", "action": a} for a in actions[:MAX_QUICK]]}
    return message


def text(body: str, quick: list[dict[str, Any]] | None = None) -> Msg:
    return with_quick({"type": "text", "text": body[:5000]}, quick or [])


def image(original: str, preview: str) -> Msg:
    return {"type": "image", "originalContentUrl": original, "previewImageUrl": preview}


def _text_component(body: str, **style: Any) -> dict[str, Any]:
    return {"type": "text", "text": body or " ", "wrap": True, **style}


def card(title: str, lines: list[str], actions: list[dict[str, Any]] | None = None, *,
         alt: str | None = None, color: str = "#2E7D6B") -> Msg:
    """A simple Flex bubble: a title, a few lines of plain text, and buttons below."""
    body = [_text_component(title, weight="bold", size="md", color=color)]
    body += [_text_component(line, size="sm", color="#333333") for line in lines]
    bubble: dict[str, Any] = {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
    }
    if actions:
        bubble["footer"] = {
            "type": "box",
            "layout": "vertical",
            "spacing": "sm",
            "contents": [
                {"type": "button", "style": "primary" if i == 0 else "secondary", "height": "sm", "action": a}
                for i, a in enumerate(actions)
            ],
        }
    alt_text = (alt or " ".join([title, *lines]))[:MAX_ALT]
    return {"type": "flex", "altText": alt_text or title[:MAX_ALT], "contents": bubble}
