"""``mimamori line ...``: set up the LINE side (rich menu, building link codes)."""

from __future__ import annotations

from pathlib import Path

import click


def register(cli: click.Group) -> None:
    @cli.group()
    def line() -> None:
        """LINE official account set-up."""

    @line.command()
    @click.option("--lang", default="ja", type=click.Choice(["ja", "en"]), show_default=True)
    @click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="only write the picture here")
    @click.option("--role", default="family", type=click.Choice(["guest", "family", "senior", "landlord"]),
                  show_default=True, help="whose menu --png draws")
    def richmenu(lang: str, png: Path | None, role: str) -> None:
        """Create the rich menus of every role (not registered / family / senior / landlord) with
        their aliases (mimamori-<role>); the "not registered" one becomes the default."""
        from bot import richmenu as menu

        if png is not None:
            png.write_bytes(menu.draw(lang, role))
            click.echo(f"wrote {png}")
            return
        for role_name, menu_id in menu.create_all(lang=lang).items():
            click.echo(f"{role_name}: {menu_id} (alias {menu.alias(role_name)})")
        click.echo("the guest menu is the default; each user gets theirs when their role changes")

    @line.command("building-code")
    @click.argument("building_id", type=int)
    @click.option("--hours", default=72, show_default=True)
    def building_code(building_id: int, hours: int) -> None:
        """Issue a single-use code a landlord's LINE group sends to link itself to a building."""
        from datetime import timedelta

        from core import invites
        from core.db import session_scope
        from core.models import Building

        with session_scope() as s:
            if s.get(Building, building_id) is None:
                raise click.ClickException(f"no building {building_id}")
            code = invites.create(s, purpose=invites.PURPOSE_BUILDING, building_id=building_id,
                                  ttl=timedelta(hours=hours))
        click.echo(f"code for building {building_id} (valid {hours} h, single use): {code}")
