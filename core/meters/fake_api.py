"""A local stand-in for the retailer's meter-data API, for tests and local runs.

Serves ``GET /readings?cursor=&limit=`` on 127.0.0.1 with bearer-token checking and
offset cursors; ``fail_next(status, times)`` makes the next requests fail, and
``requests`` records what was asked.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class FakeMeterApi:
    """``with FakeMeterApi(token="t") as api: api.add(...); api.url``."""

    def __init__(self, token: str = "test-meter-token", host: str = "127.0.0.1") -> None:
        self.token = token
        self.readings: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, 0), self._handler())
        self.url = f"http://{host}:{self._server.server_port}/readings"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def add(self, meter_id: str, interval_start: str, kwh: float | None, quality: str = "measured") -> None:
        with self._lock:
            self.readings.append(
                {"meter_id": meter_id, "interval_start": interval_start, "kwh": kwh, "quality": quality}
            )

    def fail_next(self, status: int, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([status] * times)

    def answer(self, path: str, authorization: str | None) -> tuple[int, dict[str, Any]]:
        url = urlparse(path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        with self._lock:
            self.requests.append({"path": url.path, "query": query, "authorization": authorization})
            if self._failures:
                return self._failures.pop(0), {"error": "injected failure"}
            if url.path != "/readings":
                return 404, {"error": "not found"}
            if authorization != f"Bearer {self.token}":
                return 401, {"error": "invalid token"}
            offset = int(query.get("cursor") or 0)
            limit = int(query.get("limit") or 1000)
            page = self.readings[offset : offset + limit]
            return 200, {"readings": page, "next_cursor": str(offset + len(page))}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = api.answer(self.path, self.headers.get("Authorization"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler

    def __enter__(self) -> FakeMeterApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
