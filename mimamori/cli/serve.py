"""``mimamori serve``: the web app and the scheduler in one process (the embedded default)."""

from __future__ import annotations

import click

from core.settings import get_settings, use_settings


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--host", default=None, help="address to listen on (default 127.0.0.1)")
    @click.option("--port", default=None, type=int, help="port (default 8000)")
    @click.option("--threads", default=32, show_default=True, help="request threads")
    @click.option("--no-scheduler", is_flag=True, help="serve the web app only")
    @click.option("--no-demo-home", is_flag=True, help="dev: do not seed the demo home into an empty database")
    def serve(host: str | None, port: int | None, threads: int, no_scheduler: bool, no_demo_home: bool) -> None:
        """Serve the web app on gunicorn, with the scheduler running beside it."""
        from core.wsgi_server import EmbeddedGunicorn

        base = get_settings()
        host = host or base.host
        port = port or base.port
        # Links and the LINE emulator URL must name the port actually served.
        settings = base.model_copy(update={"host": host, "port": port})
        use_settings(settings)
        if settings.is_dev and not no_demo_home:
            from mimamori.cli.demo import seed_demo_home

            seed_demo_home(settings)

        def app_factory() -> object:
            from bot.app import create_app

            return create_app(settings)

        def start_scheduler() -> None:
            if no_scheduler:
                return
            from core.logging import configure_from_settings
            from core.scheduler import start_in_process

            configure_from_settings(settings)

            start_in_process(settings)

        click.echo(f"mimamori: serving on http://{host}:{port}  (env={settings.mimamori_env})")
        if settings.is_dev:
            click.echo(f"mimamori: try the LINE bot at http://{host}:{port}/dev/chat/")
        options = {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 60,
            "accesslog": None,
            "loglevel": "warning",
        }
        EmbeddedGunicorn(app_factory, options, on_worker_start=start_scheduler).run()
