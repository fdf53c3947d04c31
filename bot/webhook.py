"""``POST /callback``: LINE's webhook. Verify, store, answer 200 — the handling comes after.

Intake does as little as it can, because LINE waits on it (and a busy moment brings
many at once):

- It is answered by a small WSGI layer in front of Flask (:class:`CallbackIntake`):
  Flask's request and app contexts, routing and session handling cost as much as the
  work itself here, and /callback needs none of them. Every other path goes to Flask.
- The signature is LINE's HMAC-SHA256 of the raw body bytes (what line-bot-sdk's
  ``SignatureValidator`` computes, without decoding and re-encoding the body), checked
  against the current channel secret and, during a rotation, the previous one. Forged or
  missing → 400 and nothing stored.
- The body must be LINE's shape: a JSON object with an ``events`` list (at most
  ``MAX_EVENTS``) of objects; an empty list is LINE's "verify" request → 200. Anything
  else that is signed but malformed → 400, nothing stored. It is parsed with orjson.
- Each event with a usable ``webhookEventId`` is stored once (``ON CONFLICT DO NOTHING``:
  redeliveries and duplicates vanish even when they race), before the 200 goes out;
  requests arriving together share one INSERT and commit (:mod:`bot.webhook_store`).
  The full line-bot-sdk model parse happens on the handling side
  (:func:`bot.processing.process_one`): an event the SDK cannot read is marked
  ``skipped`` there, never a 500 here.
- Who handles the stored events: this process's background threads
  (``WEBHOOK_WORKERS`` > 0, as in ``mimamori serve``), or the ``mimamori webhooks``
  process (the Procfile's web runs with ``WEBHOOK_WORKERS=0``), see :mod:`bot.handler_process`.
- Bodies over the app's ``MAX_CONTENT_LENGTH`` are refused (413) before being read.
"""

from __future__ import annotations

import base64
import hmac
import logging
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from flask import Flask

from bot import processing
from bot.webhook_store import store
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)
MAX_EVENTS = 100


class Rejected(Exception):
    pass


def verify(body: bytes, signature: str, settings: Settings) -> None:
    """Rejected unless ``signature`` is the body's HMAC under a current or previous secret."""
    if not signature:
        raise Rejected("missing signature")
    given = signature.encode()
    if not any(hmac.compare_digest(base64.b64encode(hmac.digest(secret.encode(), body, "sha256")), given)
               for secret in settings.line_secrets):
        raise Rejected("bad signature")


def parse(body: bytes, signature: str, settings: Settings) -> list[dict[str, Any]]:
    """The raw events of a signed body of LINE's shape, or Rejected."""
    verify(body, signature, settings)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Rejected("malformed body: not JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise Rejected("no events list")
    events = payload["events"]
    if len(events) > MAX_EVENTS:
        raise Rejected("too many events")
    if not all(isinstance(event, dict) for event in events):
        raise Rejected("an event is not an object")
    return events


def register_webhook(app: Flask) -> None:
    app.wsgi_app = CallbackIntake(app, app.wsgi_app)  # type: ignore[method-assign]


StartResponse = Callable[..., Any]
PATH = "/callback"


class CallbackIntake:
    """WSGI: answers ``POST /callback`` itself (read, verify, store, 200) and passes every
    other request to Flask. The body is read only when its length is within the app's
    ``MAX_CONTENT_LENGTH`` (413 otherwise, as Flask would)."""

    def __init__(self, app: Flask, inner: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self.inner(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, "405 METHOD NOT ALLOWED", b"Method Not Allowed", [("Allow", "POST")])
        settings = self.app.config.get("SETTINGS") or get_settings()
        with processing.intake():
            body = _read_body(environ, self.app.config["MAX_CONTENT_LENGTH"])
            if body is None:
                return _answer(start_response, "413 REQUEST ENTITY TOO LARGE", b"Request Entity Too Large")
            try:
                events = parse(body, environ.get("HTTP_X_LINE_SIGNATURE", ""), settings)
            except Rejected as exc:
                log.info("webhook refused: %s", exc)
                return _answer(start_response, "400 BAD REQUEST", b"Bad Request")
            try:
                touched = store(events)
            except Exception:
                log.exception("storing webhook events failed")
                return _answer(start_response, "500 INTERNAL SERVER ERROR", b"Internal Server Error")
        processing.schedule(touched)
        return _answer(start_response, "200 OK", b"OK")


def _read_body(environ: dict[str, Any], limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` (not read then)."""
    stream = environ["wsgi.input"]
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if length > limit:
        return None
    if length >= 0:
        return stream.read(length)
    if not environ.get("wsgi.input_terminated"):
        return b""  # no length and no end marker: nothing can be read safely
    data = stream.read(limit + 1)  # chunked: read one byte past the limit to know
    return None if len(data) > limit else data


def _answer(start_response: StartResponse, status: str, body: bytes,
            headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))),
                            *(headers or [])])
    return [body]
