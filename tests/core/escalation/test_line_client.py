"""One LINE client per process: the outbox's pushes and the bot's replies share it."""

from __future__ import annotations

from typing import Any

import linebot.v3.messaging as sdk

from bot.line_api import LineClient
from core import clock, line_client
from core.enums import Channel
from core.escalation.channels.base import OutgoingMessage
from core.escalation.channels.line import LineSender


def test_pushes_and_replies_share_one_client(settings: Any, fake_line: Any, monkeypatch: Any) -> None:
    made: list[object] = []

    class Counting(sdk.ApiClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(line_client, "_clients", {})
    monkeypatch.setattr(sdk, "ApiClient", Counting)
    sender = LineSender(settings)
    for n in range(3):
        sender.send(OutgoingMessage(f"k{n}", Channel.LINE, "U" + "1" * 32,
                                    {"messages": [{"type": "text", "text": "hi"}]}, 1, clock.now()))
    LineClient(settings).push("U" + "1" * 32, [{"type": "text", "text": "hello"}])
    assert len(made) == 1
    assert len(fake_line.state.messages_to("U" + "1" * 32)) == 4
