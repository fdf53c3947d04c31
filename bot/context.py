"""What a handler gets: the event, where to answer, who is talking, and an outbox of replies.

Replies are collected during handling and sent after the transaction commits (reply
token first, push as fallback), so a rolled-back change never sends a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messages import build
from core.models import Building, Resident, Watcher
from core.texts import normalize_language, t


@dataclass
class Ctx:
    session: Session
    event: Any  # a linebot.v3.webhooks event
    raw: dict[str, Any]
    chat_id: str
    user_id: str | None
    is_group: bool
    reply_token: str | None
    lang: str = "ja"
    out: list[dict[str, Any]] = field(default_factory=list)
    _watcher: Watcher | None = None

    # ---- who ---------------------------------------------------------------------
    @property
    def watcher(self) -> Watcher | None:
        """The LINE user's watcher row, if they have one (never created implicitly)."""
        if self._watcher is None and self.user_id:
            self._watcher = self.session.scalar(select(Watcher).where(Watcher.line_user_id == self.user_id))
            if self._watcher is not None:
                self.lang = normalize_language(self._watcher.language)
        return self._watcher

    def ensure_watcher(self, language: str | None = None, display_name: str | None = None) -> Watcher:
        """The user's watcher row, created on first real use (follow, registration, join)."""
        existing = self.watcher
        if existing is not None:
            return existing
        assert self.user_id, "only a LINE user can be a watcher"
        watcher = Watcher(line_user_id=self.user_id, language=normalize_language(language),
                          display_name=(display_name or None) and display_name[:100])
        self.session.add(watcher)
        self.session.flush()
        self._watcher = watcher
        self.lang = watcher.language
        return watcher

    def resident(self) -> Resident | None:
        if not self.user_id or self.is_group:
            return None
        return self.session.scalar(select(Resident).where(Resident.line_user_id == self.user_id).limit(1))

    def building(self) -> Building | None:
        if not self.is_group:
            return None
        return self.session.scalar(select(Building).where(Building.line_group_id == self.chat_id))

    # ---- say -----------------------------------------------------------------------
    def t(self, key: str, **params: object) -> str:
        return t(key, self.lang, **params)

    def say(self, key: str, quick: list[dict[str, Any]] | None = None, **params: object) -> None:
        self.out.append(build.text(self.t(key, **params), quick))

    def send(self, *messages: dict[str, Any]) -> None:
        self.out.extend(messages)

    def show_loading(self) -> None:
        """LINE's loading animation while a slower answer is prepared (one-to-one chats only)."""
        if not self.is_group and self.user_id:
            from bot.line_api import LineClient

            LineClient().show_loading(self.user_id)
