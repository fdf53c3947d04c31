"""Helpers shared by flows: the watcher's home, picker bounds, yes/no buttons."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Ctx
from core import homes, pauses
from core.models import Home


def home_for(ctx: Ctx, home_id: int | None = None) -> Home | None:
    """The home this chat acts on: the given one if linked, else the watcher's first home."""
    watcher = ctx.watcher
    if watcher is None:
        return None
    linked = homes.homes_of(ctx.session, watcher)
    if home_id is not None:
        return next((h for h in linked if h.id == home_id), None)
    return linked[0] if linked else None


def require_home(ctx: Ctx, flow_name: str) -> dict[str, int] | None:
    """``on_start`` for flows that act on a home: explain and stop if there is none; ask
    "which home?" first when the watcher has several."""
    linked = homes.homes_of(ctx.session, ctx.watcher) if ctx.watcher else []
    if not linked:
        ctx.say("bot.no_home_yet")
        return None
    if len(linked) == 1:
        return {"home_id": linked[0].id}
    from bot.flows import engine

    engine.start(ctx, engine.flows()["choose_home"], {"then": flow_name})
    return None


def home_on_start(flow_name: str):
    return lambda ctx: require_home(ctx, flow_name)


def date_bounds(home: Home) -> tuple[str, str]:
    today = pauses.local_today(home)
    return today.isoformat(), (today + timedelta(days=pauses.MAX_AHEAD_DAYS)).isoformat()
