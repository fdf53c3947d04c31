"""``mimamori graph METER_ID --day YYYY-MM-DD --out FILE.png``: draw a day's graph from stored readings.

So anyone can look at a home's day (for example after ``mimamori meters import`` of
the reference data) without LINE. Mistakes end in one line and a non-zero exit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from sqlalchemy import select

from core.db import init_db, session_scope
from core.models import Home
from core.settings import get_settings


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.ClickException(f"--day {value!r} is not a date like 2026-06-01") from None


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("meter_id")
    @click.option("--day", "day_text", required=True, metavar="YYYY-MM-DD", help="the local day to draw")
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PNG to write")
    @click.option("--lang", default="ja", type=click.Choice(["ja", "en"]), help="language of the labels")
    def graph(meter_id: str, day_text: str, out: Path, lang: str) -> None:
        """Draw METER_ID's half-hours on DAY against its usual range, as a PNG."""
        from core.reports.graph import render_day  # matplotlib loads only for this command

        day = _parse_day(day_text)
        init_db(get_settings())
        with session_scope() as s:
            home_id = s.scalar(select(Home.id).where(Home.meter_id == meter_id))
            if home_id is None:
                raise click.ClickException(f"no home with meter id {meter_id!r}")
            png = render_day(s, home_id, day, lang=lang)
        try:
            out.write_bytes(png)
        except OSError as exc:
            raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
        click.echo(f"wrote {out} ({len(png) // 1024} kB)")
