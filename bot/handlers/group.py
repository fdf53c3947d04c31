"""Groups: join (say hello and how to link), leave (unlink the building), members joining/leaving.

A group sees only its own building's homes: alert taps check Building.line_group_id.
"""

from __future__ import annotations

from bot.context import Ctx
from core import audit, invites


def handle_join(ctx: Ctx) -> None:
    audit.record(ctx.session, f"group:{ctx.chat_id}", "bot_joined_group")
    ctx.say("bot.group.hello")


def handle_leave(ctx: Ctx) -> None:
    invites.unlink_group(ctx.session, ctx.chat_id)
    audit.record(ctx.session, f"group:{ctx.chat_id}", "bot_left_group")


def handle_member_joined(ctx: Ctx) -> None:
    if ctx.building() is not None:
        ctx.say("bot.group.member_welcome")


def handle_member_left(ctx: Ctx) -> None:
    audit.record(ctx.session, f"group:{ctx.chat_id}", "group_member_left")
