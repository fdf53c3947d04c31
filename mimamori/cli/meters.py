"""``mimamori meters import FILE [--format …] [--create-homes]`` and ``mimamori meters pull``.

These command lines are a fixed contract (operators' scripts and other tools call them).
Import prints one summary line, then each rejected row as ``line N: reason``, and exits
1 when any row was rejected (the good rows are imported all the same).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from core.meters.ingest import ImportResult
from core.meters.sources import FORMATS

MAX_LISTED = 1000  # a file of one unknown meter has 17,000 bad rows; the count says the rest


def summary(name: str, result: ImportResult) -> str:
    line = (
        f"{name}: inserted {result.inserted}, revised {result.revised}, "
        f"unchanged {result.unchanged}, rejected {result.rejected}"
    )
    extras = []
    if result.missing:
        extras.append(f"missing {result.missing}")
    if result.homes_created:
        extras.append(f"homes created {result.homes_created}")
    return line + (f" ({', '.join(extras)})" if extras else "")


def echo_errors(result: ImportResult) -> None:
    for error in result.errors[:MAX_LISTED]:
        click.echo(str(error), err=True)
    if result.rejected > MAX_LISTED:
        click.echo(f"… and {result.rejected - MAX_LISTED} more rejected rows", err=True)


def register(cli: click.Group) -> None:
    @cli.group()
    def meters() -> None:
        """Meter data: import files, pull the configured source."""

    @meters.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="default: from the name/content")
    @click.option("--create-homes", is_flag=True, help="create a home for each unknown meter id")
    def import_(file: Path, fmt: str | None, create_homes: bool) -> None:
        """Import a replay CSV, a utility 30-minute CSV or a Green Button XML file."""
        from core.db import init_db, session_scope
        from core.meters.ingest import ingest
        from core.meters.sources import file_source

        init_db()
        try:
            source = file_source(file, fmt)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        with session_scope() as session:
            result = ingest(session, source, create_homes=create_homes)
        click.echo(summary(file.name, result))
        echo_errors(result)
        if result.rejected:
            sys.exit(1)

    @meters.command()
    def pull() -> None:
        """Run the configured meter source (METER_SOURCE) once."""
        from core.db import init_db
        from core.errors import MeterApiError
        from core.meters.pull import pull_once
        from core.settings import get_settings

        settings = get_settings()
        init_db(settings)
        try:
            result = pull_once(settings)
        except MeterApiError as exc:
            click.echo(f"mimamori: meter pull failed: {exc}", err=True)
            sys.exit(1)
        click.echo(summary(f"pull ({settings.meter_source})", result))
        echo_errors(result)
        if result.rejected:
            sys.exit(1)

    @meters.command("simulate-incapacity")
    @click.argument("meter_id")
    @click.option("--since", default=None, help="ISO 8601 time with offset (default: now)")
    @click.option("--clear", is_flag=True, help="the simulated senior is up and about again")
    def simulate_incapacity(meter_id: str, since: str | None, clear: bool) -> None:
        """Demo: from SINCE the simulated senior of METER_ID does not get up (base load only)."""
        from core import clock
        from core.db import init_db, session_scope
        from core.meters.pull import set_incapacitated
        from core.meters.replay_csv import parse_aware

        init_db()
        try:
            when = None if clear else (parse_aware(since) if since else clock.now())
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
        with session_scope() as session:
            set_incapacitated(session, meter_id, when)
        click.echo(f"{meter_id}: " + ("back to normal" if when is None else f"does not get up from {when.isoformat()}"))
