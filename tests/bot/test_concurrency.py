"""Many threads at once, as under gunicorn: each event once, one chat's events in order."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from core.db import session_scope
from core.models import WebhookEvent
from tests.bot.conftest import sign


def test_concurrent_deliveries_are_stored_once_and_handled_in_order(app: Any, chat: Any, settings: Any) -> None:
    from bot import processing

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/callback"
    try:
        bodies = []
        for i in range(12):
            body = chat.event("message__text")
            body["events"][0]["message"]["text"] = "ヘルプ" if i % 2 else "今日の様子"
            bodies.append(json.dumps(body).encode())
        duplicated = bodies + bodies + bodies  # every event delivered three times, all at once

        def post(raw: bytes) -> int:
            return requests.post(url, data=raw, headers={"X-Line-Signature": sign(raw, settings.line_secrets[0]),
                                                         "Content-Type": "application/json"}, timeout=30).status_code

        with ThreadPoolExecutor(12) as pool:
            assert set(pool.map(post, duplicated)) == {200}
        assert processing.wait_idle()
    finally:
        server.shutdown()
        thread.join(5)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(WebhookEvent)) == 12
        assert set(s.scalars(select(WebhookEvent.state))) == {"processed"}
    said = [m.get("altText", m.get("text", "")) for m in chat.all_messages()]
    assert len(said) == 12  # one answer per event, none twice
    expected = ["まだお宅が登録されていません" if i % 2 == 0 else "よくあるご質問" for i in range(12)]
    assert [e in s for e, s in zip(expected, said, strict=True)] == [True] * 12
