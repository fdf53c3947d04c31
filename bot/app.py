"""Flask app factory. Reads like a table of contents: each concern registers itself.

The scheduler never starts here: ``mimamori serve`` (embedded default) starts it
beside the app, and production runs it in the Procfile's ``clock`` process.
"""

from __future__ import annotations

from flask import Flask, jsonify

from bot.checkin_pages import register_checkin
from bot.graph_routes import register_graphs
from bot.metrics import register_metrics
from bot.pages import register_pages
from bot.twilio_routes import register_twilio
from bot.webhook import register_webhook
from core.db import init_db
from core.logging import configure_from_settings
from core.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024  # LINE bodies are small; refuse floods early
    init_db(settings)
    configure_from_settings(settings)  # one JSON line per event, ids only (core/logging.py)
    register_health(app)
    register_webhook(app)
    register_dev_tools(app, settings)
    register_graphs(app)
    register_pages(app)
    register_liff(app, settings)
    register_twilio(app)
    register_checkin(app)
    register_metrics(app)
    return app


def register_liff(app: Flask, settings: Settings) -> None:
    from bot.liff.routes import register_liff as register

    register(app, settings)


def register_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> tuple[object, int]:
        return jsonify(status="ok"), 200


def register_dev_tools(app: Flask, settings: Settings) -> None:
    """The local LINE emulator (and other fakes) exist only in dev."""
    if not settings.is_dev:
        return
    from bot.dev.line_emulator import create_blueprint

    app.register_blueprint(create_blueprint(), url_prefix="/dev/line-api")
    from bot.dev.chat import register_dev_chat

    register_dev_chat(app, settings)
