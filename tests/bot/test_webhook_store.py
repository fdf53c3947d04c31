"""Webhooks that arrive together are stored together (one INSERT and commit for the group),
and each request still learns exactly which of its events were new."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import webhook_store
from core.db import session_scope
from core.models import WebhookEvent
from tests.bot.conftest import sign


def test_requests_queued_behind_a_write_share_the_next_one(app: Any, chat_factory: Any, settings: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    settings.webhook_workers = 0  # as the Procfile's web runs: store only
    monkeypatch.setattr(webhook_store, "POSTGRES_WRITERS", 1)  # one write at a time, as on SQLite
    chats = [chat_factory() for _ in range(8)]
    bodies = [json.dumps(chat.event("message__text")).encode() for chat in chats]
    bodies.append(bodies[3])  # a redelivery racing its original
    writes: list[int] = []
    real = webhook_store._insert

    def held_first(rows: list[tuple[Any, ...]]) -> dict[str, str]:
        writes.append(len(rows))
        if len(writes) == 1:  # hold the first write until everyone else is queued behind it
            deadline = time.monotonic() + 10
            while len(webhook_store._writer._queue) < len(bodies) - 1 and time.monotonic() < deadline:
                time.sleep(0.005)
        return real(rows)

    monkeypatch.setattr(webhook_store, "_insert", held_first)
    stored: list[set[str]] = []
    real_store = webhook_store.store

    def store(events: list[dict[str, Any]]) -> set[str]:
        stored.append(new := real_store(events))
        return new

    monkeypatch.setattr("bot.webhook.store", store)

    def post(raw: bytes) -> int:
        return app.test_client().post("/callback", data=raw, headers={
            "X-Line-Signature": sign(raw, settings.line_secrets[0]), "Content-Type": "application/json"}).status_code

    with ThreadPoolExecutor(len(bodies)) as pool:
        first = pool.submit(post, bodies[0])
        while not writes:
            time.sleep(0.001)
        rest = list(pool.map(post, bodies[1:]))
    assert [first.result(), *rest] == [200] * len(bodies)
    assert writes == [1, len(bodies) - 1]  # two writes carried nine requests
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(WebhookEvent)) == len(chats)
    assert sorted(map(sorted, stored)) == sorted([[chat.chat_id] for chat in chats] + [[chats[3].chat_id]])


def test_a_failed_write_fails_every_request_of_its_group(app: Any, chat: Any, settings: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    settings.webhook_workers = 0

    def broken(rows: list[tuple[Any, ...]]) -> dict[str, str]:
        raise OSError("disk gone")

    monkeypatch.setattr(webhook_store, "_insert", broken)
    raw = json.dumps(chat.event("message__text")).encode()
    assert chat.post(raw).status_code == 500  # LINE delivers it again later
    monkeypatch.undo()
    assert webhook_store._writer._writers == 0 and webhook_store._writer._queue == []
    assert chat.post(raw).status_code == 200  # the writer is free again; LINE's redelivery is stored
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(WebhookEvent)) == 1


def test_on_postgresql_a_slow_write_does_not_hold_up_the_others(app: Any, chat_factory: Any, settings: Any,
                                                               engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes take turns on the file lock: one writer slot by design")
    settings.webhook_workers = 0
    slow, fast = chat_factory(), chat_factory()
    release = threading.Event()
    real = webhook_store._insert

    def stuck_for_the_slow_chat(rows: list[tuple[Any, ...]]) -> dict[str, str]:
        if any(row[1] == slow.chat_id for row in rows):
            release.wait(10)  # a commit waiting on a slow WAL flush
        return real(rows)

    monkeypatch.setattr(webhook_store, "_insert", stuck_for_the_slow_chat)

    def post(chat: Any) -> int:
        raw = json.dumps(chat.event("message__text")).encode()
        return app.test_client().post("/callback", data=raw, headers={
            "X-Line-Signature": sign(raw, settings.line_secrets[0]), "Content-Type": "application/json"}).status_code

    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(post, slow)
        time.sleep(0.05)
        assert post(fast) == 200 and not held.done()  # answered while the other write still waits
        release.set()
        assert held.result() == 200
