"""Postbacks: a flow's buttons (``f=…&s=…&n=…``) go to the flow engine; others are actions
(``action=ack|close|set|…``). Unknown or old buttons get a polite "no longer valid"."""

from __future__ import annotations

from urllib.parse import parse_qsl

from bot import alerts, commands, roles
from bot.context import Ctx
from bot.flows import engine
from core.errors import AccessDenied, NotFound, ValidationError

ACTIONS = {"ack": alerts.ack, "close": alerts.close, "resident_withdraw": alerts.resident_withdraw,
           "role": roles.choose, **commands.ACTIONS}


def handle(ctx: Ctx) -> None:
    pb = getattr(ctx.event, "postback", None)
    raw = getattr(pb, "data", "") or ""
    params = {k: str(v) for k, v in (getattr(pb, "params", None) or {}).items() if isinstance(v, str)}
    fields = dict(parse_qsl(raw[:300], keep_blank_values=True))
    if "f" in fields:
        engine.feed_postback(ctx, fields, params)
        return
    action = ACTIONS.get(fields.get("action", ""))
    if action is None:
        ctx.say("bot.stale_button")
        return
    try:
        action(ctx, fields)
    except (AccessDenied, NotFound):
        ctx.say("bot.not_allowed")
    except ValidationError as exc:
        ctx.say(f"bot.error.{exc.code}")
