"""``mimamori replay READINGS.csv --out ALERTS.csv``: what the service would have raised.

A fixed contract other tools depend on (see core/detection/replay.py for the clock rules).
"""

from __future__ import annotations

from pathlib import Path

import click

from core.errors import ValidationError


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("readings", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="ALERTS.csv to write: meter_id,kind,detected_at,window_start")
    @click.option("--delay-minutes", default=60, show_default=True, type=click.IntRange(min=0),
                  help="how long after its half-hour ends a reading becomes visible")
    @click.option("--homes", "homes_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="HOMES.csv: meter_id,wake_time,sleep_time (HH:MM local); others use learned times")
    def replay(readings: Path, out: Path, delay_minutes: int, homes_path: Path | None) -> None:
        """Replay recorded readings through the live detection code; write every alert raised."""
        from core.detection.replay import load_homes, load_readings, replay_in_processes, write_alerts

        try:
            homes = load_homes(homes_path) if homes_path else {}
            data = load_readings(readings)
        except ValidationError as exc:
            raise click.ClickException(str(exc)) from None
        alerts = replay_in_processes(data, delay_minutes=delay_minutes, homes=homes)
        write_alerts(alerts, out)
        click.echo(f"{len(alerts)} alerts from {len(data.meter_ids)} homes written to {out}")
