"""``GET /graphs/<token>.png``: usage graph images behind signed, expiring links.

LINE fetches ``originalContentUrl`` and ``previewImageUrl`` itself, without a login,
so the token is the permission: it names the home and the day (and optionally the
view, an incident to mark and the language), and it expires (core.links.GRAPH_TTL).
``?size=preview`` gives the ≤240 px copy LINE wants for the chat bubble.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import date, datetime

from flask import Flask, Response, abort, request

from core import clock, links
from core.db import session_scope
from core.errors import AccessDenied, NotFound
from core.models import Home
from core.reports import graph
from core.texts import normalize_language

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024  # LINE refuses images over 10 MB


class _RecentGraphs:
    """LINE fetches the original and the preview one after the other: draw once, serve both.

    Entries live ``TTL`` seconds (new readings show up soon after) and at most ``SIZE`` are kept.
    """

    TTL = 300
    SIZE = 64

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[object, ...], tuple[datetime, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> bytes | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or (clock.now() - hit[0]).total_seconds() > self.TTL:
                return None
            return hit[1]

    def put(self, key: tuple[object, ...], png: bytes) -> None:
        with self._lock:
            self._items[key] = (clock.now(), png)
            self._items.move_to_end(key)
            while len(self._items) > self.SIZE:
                self._items.popitem(last=False)


_recent = _RecentGraphs()


def graph_png(token: str, size: str | None) -> bytes:
    """The PNG a graph token stands for; AccessDenied for bad/expired links or ended homes."""
    claims = links.verify(token, "graph", links.GRAPH_TTL)
    try:
        home_id = int(claims["h"])
        day = date.fromisoformat(str(claims["d"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise AccessDenied("graph link without a home and day") from exc
    view = str(claims.get("v", "day"))
    if view not in graph.VIEWS:
        raise AccessDenied("unknown graph view")
    lang = normalize_language(claims.get("l"))
    incident_id = claims.get("i")
    with session_scope() as s:
        home = s.get(Home, home_id)
        if home is None or home.ended_at is not None:
            raise AccessDenied("home no longer watched")  # checked on every fetch, cached or not
        key = (home_id, day, view, lang, incident_id)
        png = _recent.get(key)
        if png is not None:
            return graph.preview(png) if size == "preview" else png
        if view == "day":
            png = graph.render_day(s, home_id, day, incident_id=incident_id if isinstance(incident_id, int) else None,
                                   lang=lang)
        else:
            png = graph.render_view(s, home_id, day, view, lang)
    _recent.put(key, png)
    return graph.preview(png) if size == "preview" else png


def register_graphs(app: Flask) -> None:
    @app.get("/graphs/<token>.png")
    def graph_image(token: str) -> Response:
        try:
            png = graph_png(token, request.args.get("size"))
        except AccessDenied as exc:
            log.info("graph link refused: %s", exc)
            abort(403)
        except NotFound:
            abort(404)
        if len(png) > MAX_BYTES:  # never expected at our sizes; refuse rather than let LINE fail quietly
            abort(500)
        response = Response(png, mimetype="image/png")
        response.headers["Cache-Control"] = "private, max-age=300"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
