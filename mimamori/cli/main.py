"""``mimamori``: one console script; each area adds its commands in its own module.

To add a command group, write ``mimamori/cli/<area>.py`` exposing ``register(cli)`` and
list the module in ``COMMAND_MODULES``.
"""

from __future__ import annotations

import importlib
import sys

import click

from core.errors import ConfigError

COMMAND_MODULES = (
    "mimamori.cli.db",
    "mimamori.cli.serve",
    "mimamori.cli.graph",
    "mimamori.cli.reports",
    "mimamori.cli.meters",
    "mimamori.cli.escalation",
    "mimamori.cli.ops",
    "mimamori.cli.leaving",
    "mimamori.cli.climate",
    "mimamori.cli.demo",
    "mimamori.cli.line",
    "mimamori.cli.replay",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """mimamori — 電力データで見守る、ひとり暮らしの親の見守りサービス."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(cli)


def main(argv: list[str] | None = None) -> None:
    """Entry point: configuration mistakes end in one line naming the variable, not a traceback."""
    try:
        cli.main(args=argv, prog_name="mimamori", standalone_mode=False)
    except ConfigError as exc:
        click.echo(f"mimamori: configuration error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
