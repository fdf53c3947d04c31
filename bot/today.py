"""今日の様子: today's state, today's kWh so far and today's graph, as a REPLY (free on LINE).

Everyday views answer a tap instead of being pushed (DESIGN "Messages cost money"). While
the answer is prepared, LINE's loading animation shows; when this process also serves
the graph images (webhooks handled in-process, as ``mimamori serve`` does) the graph is
drawn now, so LINE's fetch right after the reply finds it ready.
"""

from __future__ import annotations

import logging
from datetime import datetime, time

from sqlalchemy import func, select

from bot.context import Ctx
from bot.messages import build
from core import homes, links, pauses
from core.models import Home, MeterReading
from core.reports.delivery import who
from core.settings import get_settings

log = logging.getLogger(__name__)
MAX_HOMES = 2  # two homes = four messages, under LINE's five per reply


def _today_kwh(ctx: Ctx, home: Home) -> float | None:
    start_local = datetime.combine(pauses.local_today(home), time(0, 0), tzinfo=pauses._tz(home))
    total = ctx.session.scalar(
        select(func.sum(MeterReading.kwh)).where(MeterReading.home_id == home.id,
                                                 MeterReading.interval_start >= start_local)
    )
    return None if total is None else float(total)


def _state_line(ctx: Ctx, home: Home) -> str:
    from bot.flows.pause import when

    pause = pauses.active(ctx.session, home.id)
    if pause is not None:
        return ctx.t("bot.status.paused", until=when(ctx, home, pause.ends_at))
    return ctx.t(f"bot.status.home.{home.status.value}")


def _draw_ahead(original_url: str) -> None:
    """Draw the graph into this process's image cache (only useful where the images are served)."""
    if get_settings().webhook_workers == 0:
        return  # a separate `mimamori webhooks` process: the web process draws on LINE's fetch
    from bot.graph_routes import graph_png

    token = original_url.rsplit("/", 1)[-1].removesuffix(".png")
    try:
        graph_png(token, None)
    except Exception:  # the reply still goes out; LINE's fetch draws it again
        log.exception("drawing today's graph ahead failed")


def today(ctx: Ctx) -> None:
    """The 今日の様子 answer: a card per home and, when today has readings, its graph."""
    watcher = ctx.watcher
    linked = homes.homes_of(ctx.session, watcher) if watcher else []
    if not linked:
        ctx.say("bot.no_home_yet")
        return
    ctx.show_loading()
    for home in linked[:MAX_HOMES]:
        from bot.flows.pause import when

        name = who(ctx.session, home, homes.link_of(ctx.session, watcher, home.id), ctx.lang)  # お父さん / 〇〇さん
        kwh = _today_kwh(ctx, home)
        lines = [_state_line(ctx, home)]
        lines.append(ctx.t("bot.status.kwh", kwh=f"{kwh:.1f}") if kwh is not None else ctx.t("bot.status.no_data"))
        if home.last_reading_at:
            lines.append(ctx.t("bot.status.last_reading", at=when(ctx, home, home.last_reading_at)))
        lines.append(ctx.t("bot.status.delay_note"))
        ctx.send(build.card(ctx.t("bot.status.title", name=name), lines))
        if kwh is not None:
            original, preview = links.graph_urls(home.id, pauses.local_today(home))
            _draw_ahead(original)
            ctx.send(build.image(original, preview))
