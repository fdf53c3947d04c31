"""follow: a new friend gets a warm greeting and is asked who they are (family or the senior);
an unblock is welcomed back."""

from __future__ import annotations

from bot import roles
from bot.context import Ctx
from bot.line_api import LineClient
from core import audit, homes


def handle(ctx: Ctx) -> None:
    unblocked = bool(getattr(getattr(ctx.event, "follow", None), "is_unblocked", False))
    existing = ctx.watcher
    if existing is None:
        name, language = LineClient().profile_language(ctx.user_id) if ctx.user_id else (None, None)
        watcher = ctx.ensure_watcher(language, name)
    else:
        watcher = existing
        watcher.following = True
    audit.record(ctx.session, f"watcher:{watcher.id}", "followed", unblocked=unblocked)
    if ctx.resident() is not None:
        ctx.say("senior.follow.greeting")
        return
    if unblocked or homes.homes_of(ctx.session, watcher):
        ctx.say("bot.follow.welcome_back")
        return
    ctx.say("bot.follow.greeting")
    roles.ask(ctx)  # a family member registers; the senior is asked for their family's code
