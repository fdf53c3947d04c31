"""The watcher's pages under ``/p/<page>/<token>``: usage graph, alert list, alert detail,
and for a landlord group the list of its building's units.

Opened from LINE through signed links (core.links.page_url) that work as plain URLs in
LINE's in-app browser (so LIFF-ready without LIFF). Every request re-checks that the
visitor is still linked to the home (bot.pages.access). Refusals get a polite page
and status 403. Jinja autoescaping shows any name — even ``<script>`` — as text.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, render_template, request

from bot.pages import views
from bot.pages.access import BUILDING_PAGE, resolve, resolve_building
from core.db import session_scope
from core.errors import AccessDenied, NotFound
from core.texts import normalize_language, t

log = logging.getLogger(__name__)

blueprint = Blueprint("pages", __name__, template_folder="templates")

VIEWS = {"usage": views.usage, "alerts": views.alerts, "incident": views.incident}


def _refused(lang: str, status: int) -> tuple[str, int]:
    key = "denied" if status == 403 else "not_found"
    body = t("reports.page.denied_body", lang) if status == 403 else ""
    html = render_template("pages/denied.html", lang=lang, title=t(f"reports.page.{key}_title", lang), body=body)
    return html, status


@blueprint.get("/p/<page>/<token>")
def page(page: str, token: str) -> tuple[str, int]:
    lang_arg = request.args.get("lang")
    lang = normalize_language(lang_arg)
    render = VIEWS.get(page)
    if render is None and page != BUILDING_PAGE:
        return _refused(lang, 404)
    try:
        with session_scope() as s:
            if render is None:
                return views.building(s, resolve_building(s, token), lang), 200
            viewer = resolve(s, page, token, lang_arg)
            return render(s, viewer, request.args), 200
    except AccessDenied as exc:
        log.info("page link refused: %s", exc)
        return _refused(lang, 403)
    except NotFound:
        return _refused(lang, 404)


@blueprint.after_request
def _headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # tokens stay out of other sites' logs
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    )
    return response


def register_pages(app: Flask) -> None:
    app.register_blueprint(blueprint)
