"""Heat and cold messages switched on or off: for a whole home, or for one watcher of it.

One door for the bot (a settings toggle) and the operator (``mimamori homes climate``);
each change is audited. Switching a home off closes its open ladder quietly at the next cycle.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.errors import NotFound
from core.models import Home, HomeWatcher


def set_home(session: Session, home: Home, on: bool, *, actor: str) -> None:
    home.climate_watch_enabled = on
    audit.record(session, actor, "climate_switched", home_id=home.id, on=on)


def set_watcher(session: Session, home: Home, watcher_id: int, on: bool, *, actor: str) -> None:
    link = session.scalar(select(HomeWatcher).where(HomeWatcher.home_id == home.id,
                                                    HomeWatcher.watcher_id == watcher_id))
    if link is None:
        raise NotFound(f"watcher {watcher_id} does not watch home {home.id}")
    link.notify_climate = on
    audit.record(session, actor, "climate_switched", home_id=home.id, watcher_id=watcher_id, on=on)
