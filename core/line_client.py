"""This process's LINE Messaging API client: one ``ApiClient`` per API address and token.

Shared by the bot's replies (bot/line_api.py) and the outbox's pushes
(core/escalation/channels/line.py), and by their threads (its urllib3 pool is thread-safe):
a new client per message built a configuration and opened a new connection (a TLS
handshake, with the real LINE) for every message. line-bot-sdk's messaging package is
imported on first use, so processes that never talk to LINE start at once.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from linebot.v3.messaging import ApiClient

_clients: dict[tuple[str, str | None], ApiClient] = {}
_guard = threading.Lock()


def shared_client(host: str, token: str | None) -> ApiClient:
    """This process's client for one API address and token (made on first use, kept)."""
    from linebot.v3.messaging import ApiClient, Configuration

    with _guard:
        client = _clients.get((host, token))
        if client is None:
            client = _clients[(host, token)] = ApiClient(Configuration(host=host, access_token=token))
        return client
