"""``mimamori db upgrade``: apply the migrations to DATABASE_URL."""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from core import migrate
from core.errors import ConfigError
from core.settings import get_settings


def register(cli: click.Group) -> None:
    @cli.group()
    def db() -> None:
        """Database schema."""

    @db.command()
    def upgrade() -> None:
        """Apply every migration (what the Procfile's release step runs)."""
        settings = get_settings()
        try:
            migrate.upgrade(settings.database_url)
        except OperationalError as exc:
            raise ConfigError("DATABASE_URL", f"cannot reach the database ({exc.orig})") from None
        click.echo("database is up to date")
