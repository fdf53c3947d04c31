"""``mimamori webhooks``: web only stores (WEBHOOK_WORKERS=0), this process handles, in order."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot import handler_process, processing
from core.db import make_engine, session_scope
from core.models import WebhookEvent


def states() -> list[str]:
    with session_scope() as s:
        return [state.value for state in s.scalars(select(WebhookEvent.state).order_by(WebhookEvent.id))]


def test_events_stored_by_web_are_handled_by_the_poller_in_order_per_chat(chat_factory: Any, settings: Any) -> None:
    settings.webhook_workers = 0  # as the Procfile's web runs
    alice, bob = chat_factory(), chat_factory()
    alice.text("登録")
    bob.text("ヘルプ")
    alice.text("キャンセル")
    assert states() == ["received"] * 3 and alice.all_messages() == []
    assert handler_process.poll_once(threads=4) == 2  # one drain per chat
    assert processing.wait_idle()
    assert states() == ["processed"] * 3
    said = alice.new_texts()
    assert said.index("見守るお宅を登録します") < said.index("中止しました")
    assert "よくあるご質問" in bob.new_texts()
    assert handler_process.poll_once(threads=4) == 0  # nothing left


def test_the_handler_loop_handles_until_stopped(chat: Any, settings: Any) -> None:
    settings.webhook_workers = 0
    stop = threading.Event()
    loop = threading.Thread(target=handler_process.run_handler, args=(settings, 2, 0.01, stop))
    loop.start()
    try:
        chat.text("ヘルプ")
        for _ in range(500):
            if states() == ["processed"]:
                break
            stop.wait(0.02)
    finally:
        stop.set()
        loop.join(30)
    assert not loop.is_alive()
    assert "よくあるご質問" in chat.new_texts()


def test_on_sqlite_a_second_handler_stands_by(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    stop = threading.Event()
    with handler_process.sole_handler(engine, stop) as first:
        assert first
        stop.set()  # the second would wait; stopped, it gives up without handling
        with handler_process.sole_handler(engine, stop) as second:
            assert not second
    with handler_process.sole_handler(engine, threading.Event()) as again:
        assert again  # released when the first stopped
    engine.dispose()


def test_the_intake_probe_says_busy_only_while_events_pour_in(chat: Any, settings: Any, engine: Any) -> None:
    settings.webhook_workers = 0
    probe = handler_process.IntakeProbe(engine)

    def recheck() -> bool:
        probe.checked -= 1.0  # as if the window had passed
        return probe()

    assert probe() is False  # the first look only sets the baseline
    chat.text("ヘルプ")
    assert recheck() is False  # one event is a conversation, not a burst
    for _ in range(handler_process.BUSY_EVENTS):
        chat.text("ヘルプ")
    assert recheck() is True
    assert recheck() is False  # nothing new since
