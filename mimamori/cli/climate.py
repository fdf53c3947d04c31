"""``mimamori homes climate METER_ID on|off [--watcher ID]``: heat and cold messages per home or watcher."""

from __future__ import annotations

import click

from mimamori.cli.leaving import group


def register(cli: click.Group) -> None:
    homes = group(cli, "homes", "Homes (one per meter).")

    @homes.command("climate")
    @click.argument("meter_id")
    @click.argument("state", type=click.Choice(["on", "off"]))
    @click.option("--watcher", "watcher_id", type=int, default=None, help="only this watcher's messages")
    def climate(meter_id: str, state: str, watcher_id: int | None) -> None:
        """Switch heat and cold nudges on or off for a home (or one of its watchers)."""
        from sqlalchemy import select

        from core.climate import switches
        from core.db import init_db, session_scope
        from core.errors import NotFound
        from core.models import Home
        from core.settings import get_settings

        init_db(get_settings())
        with session_scope() as session:
            home = session.scalar(select(Home).where(Home.meter_id == meter_id.strip()))
            if home is None:
                raise click.ClickException(f"no home with meter id {meter_id!r}")
            try:
                if watcher_id is None:
                    switches.set_home(session, home, state == "on", actor="operator")
                else:
                    switches.set_watcher(session, home, watcher_id, state == "on", actor="operator")
            except NotFound as exc:
                raise click.ClickException(str(exc)) from None
            who = f"watcher {watcher_id} of home {home.id}" if watcher_id else f"home {home.id}"
        click.echo(f"heat and cold messages {state} for {who}")
