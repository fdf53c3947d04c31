"""Text messages: cancel words, a resident's answer (any words; a sticker too), a flow waiting
for an answer, menu words, an invite code typed directly, else a kind "I did not understand" with the menu."""

from __future__ import annotations

import re

from bot import alerts, commands
from bot.context import Ctx
from bot.flows import engine, join
from bot.messages import build
from core.errors import ValidationError
from core.invites import ALPHABET, CODE_LENGTH, normalize

_CODE = re.compile(f"[{ALPHABET}]{{{CODE_LENGTH}}}")
# 「参加 ABCD2345」: what the invite's share link / QR code types in for the person joining.
_JOIN = re.compile(r"(?:参加|招待コード|join)\s*[:：]?\s*(\S+)", re.IGNORECASE)
MAX_TEXT = 1000


def menu(ctx: Ctx) -> list[dict]:
    return [build.message_action(ctx.t(f"bot.menu.{k}")) for k in ("register", "status", "pause", "settings", "help")]


def handle(ctx: Ctx) -> None:
    content = getattr(ctx.event, "message", None)
    if getattr(content, "type", None) != "text":
        if ctx.is_group:
            return
        if getattr(content, "type", None) == "sticker" and alerts.resident_answer(ctx, None, sticker=True):
            return  # a sticker from the senior is an answer too
        ctx.say("bot.text_only")
        return
    text = (content.text or "").strip()[:MAX_TEXT]
    _ = ctx.watcher  # loads the watcher row (and their language) when there is one
    if text.lower() in engine.CANCEL_WORDS:
        engine.cancel(ctx)
        return
    joining = _JOIN.fullmatch(text)
    code = joining[1] if joining and _CODE.fullmatch(normalize(joining[1])) else text
    if _CODE.fullmatch(normalize(code)) and (joining or _may_be_code(ctx)):
        engine.end(ctx)
        try:
            join.try_code(ctx, code)
        except ValidationError as exc:
            ctx.say(f"bot.error.{exc.code}")
        return
    if engine.feed_text(ctx, text):
        return
    if alerts.resident_answer(ctx, text):
        return
    flow = engine.by_trigger(text, ctx.is_group) or engine.by_trigger(text.lower(), ctx.is_group)
    if flow is not None:
        engine.start(ctx, flow)
        return
    if ctx.is_group:
        return  # groups are conversations between people: the bot only answers its own words
    command = commands.COMMANDS.get(text) or commands.COMMANDS.get(text.lower())
    if command is not None:
        command(ctx)
        return
    ctx.say("bot.not_understood", quick=menu(ctx))


def _may_be_code(ctx: Ctx) -> bool:
    """An invite code typed straight away (a senior or a sibling who just added the account):
    outside any flow, or at registration's first question, which only takes buttons."""
    if ctx.is_group:
        return False
    row = engine.active(ctx)
    return row is None or (row.flow == "register" and row.step == "relation")
