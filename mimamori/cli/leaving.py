"""Operator commands for leaving: ``mimamori homes end METER_ID``, ``mimamori watchers delete ID``.

The ``homes`` and ``watchers`` groups may also be defined by other command modules; each
adds its commands to the group that exists instead of replacing it.
"""

from __future__ import annotations

from datetime import timedelta

import click

from core.errors import NotFound


def group(cli: click.Group, name: str, help_: str) -> click.Group:
    """The ``name`` group of ``cli``, created if no module made it yet."""
    existing = cli.commands.get(name)
    if isinstance(existing, click.Group):
        return existing
    created = click.Group(name=name, help=help_)
    cli.add_command(created)
    return created


def register(cli: click.Group) -> None:
    homes = group(cli, "homes", "Homes (one per meter).")
    watchers = group(cli, "watchers", "Watchers (family, landlords).")

    @homes.command("end")
    @click.argument("meter_id")
    @click.option("--erase-now", is_flag=True, help="delete the home's data now instead of after RETENTION_DAYS")
    @click.option("--yes", is_flag=True, help="do not ask for confirmation")
    def end(meter_id: str, erase_now: bool, yes: bool) -> None:
        """End a home's contract: stop watching now, delete its data after the retention period."""
        from sqlalchemy import select

        from core import clock
        from core.db import init_db, session_scope
        from core.models import Home
        from core.retention import end_home, erase_home
        from core.settings import get_settings

        settings = get_settings()
        init_db(settings)
        with session_scope() as session:
            home = session.scalar(select(Home).where(Home.meter_id == meter_id.strip()))
            if home is None:
                raise click.ClickException(f"no home with meter id {meter_id!r}")
            home_id = home.id
            if not yes:
                what = "delete all its data now" if erase_now else "stop watching it"
                click.confirm(f"End the contract of home {home_id} and {what}?", abort=True)
            ended = end_home(session, home, actor="operator")
            erase_on = (home.ended_at or clock.now()) + timedelta(days=settings.retention_days)
            if erase_now:
                counts = erase_home(session, home_id, actor="operator")
        if erase_now:
            click.echo(f"home {home_id}: ended and erased ({counts['readings']} readings deleted)")
        elif ended:
            local = erase_on.astimezone(settings.tz).strftime("%Y-%m-%d")
            click.echo(f"home {home_id}: ended; its readings and personal data will be deleted on {local}"
                       f" (RETENTION_DAYS={settings.retention_days})")
        else:
            click.echo(f"home {home_id}: already ended")

    @watchers.command("delete")
    @click.argument("watcher_id", type=int)
    @click.option("--yes", is_flag=True, help="do not ask for confirmation")
    def delete_(watcher_id: int, yes: bool) -> None:
        """Delete a watcher's personal data now (name, email, phone, LINE id, links, chats)."""
        from core.db import init_db, session_scope
        from core.retention import delete_watcher
        from core.settings import get_settings

        init_db(get_settings())
        if not yes:
            click.confirm(f"Delete watcher {watcher_id}'s personal data? This cannot be undone.", abort=True)
        try:
            with session_scope() as session:
                counts = delete_watcher(session, watcher_id, actor="operator")
        except NotFound:
            raise click.ClickException(f"no watcher with id {watcher_id}") from None
        if counts:
            click.echo(f"watcher {watcher_id}: personal data deleted (unlinked from {counts['homes']} home(s))")
        else:
            click.echo(f"watcher {watcher_id}: already deleted")
