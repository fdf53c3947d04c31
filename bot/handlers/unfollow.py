"""unfollow (blocked): the watcher can no longer be reached on LINE. Alerts go to the others;
if no reachable watcher is left for a home, the operator is told (audit + log)."""

from __future__ import annotations

import logging

from bot.context import Ctx
from core import audit, homes

log = logging.getLogger(__name__)


def handle(ctx: Ctx) -> None:
    watcher = ctx.watcher
    if watcher is None:
        return
    watcher.following = False
    audit.record(ctx.session, f"watcher:{watcher.id}", "unfollowed")
    for home in homes.homes_of(ctx.session, watcher):
        if not homes.reachable_watchers(ctx.session, home.id):
            audit.record(ctx.session, "bot", "home_unreachable", home_id=home.id)
            log.warning("home %s has no reachable watcher left (operator action needed)", home.id)
