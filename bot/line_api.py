"""The bot's LINE Messaging API client: line-bot-sdk v3 pointed at ``settings.line_api_url``.

Every call has a timeout. Replies use the reply token first and fall back to a push
(reply tokens expire, and a slow or retried event may have lost its token).
line-bot-sdk's messaging package (hundreds of models, seconds to import on a busy
machine) is imported on first use, so web workers start answering at once.

The ``ApiClient`` is the process's one client (core/line_client.py), shared with the
outbox's LINE pushes.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from core.line_client import shared_client
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from linebot.v3.messaging import ApiClient, Message, MessagingApi, MessagingApiBlob

log = logging.getLogger(__name__)
MAX_PER_CALL = 5
TIMEOUT_CAP = 5.0  # seconds: a handler must never hang on LINE
SIGNAL_TIMEOUT = 2.0  # seconds: the loading animation and mark-as-read are niceties, never worth a wait
LOADING_SECONDS = 10  # LINE takes 5-60 in steps of 5; our reply ends it sooner


class LineClient:
    """A thin wrapper: dict messages in, line-bot-sdk requests out."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.timeout = min(self.settings.http_timeout_seconds, TIMEOUT_CAP)

    def _api(self, data: bool = False) -> ApiClient:
        host = self.settings.line_data_api_url if data else self.settings.line_api_url
        return shared_client(host, self.settings.line_access_token)

    @staticmethod
    def _messages(messages: list[dict[str, Any]]) -> list[Message]:
        from linebot.v3.messaging import Message

        return [Message.from_dict(m) for m in messages]

    def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> None:
        from linebot.v3.messaging import MessagingApi, ReplyMessageRequest

        MessagingApi(self._api()).reply_message(
            ReplyMessageRequest(reply_token=reply_token, messages=self._messages(messages)),
            _request_timeout=self.timeout,
        )

    def push(self, to: str, messages: list[dict[str, Any]], retry_key: str | None = None) -> None:
        from linebot.v3.messaging import MessagingApi, PushMessageRequest

        MessagingApi(self._api()).push_message(
            PushMessageRequest(to=to, messages=self._messages(messages)),
            x_line_retry_key=retry_key or str(uuid.uuid4()),
            _request_timeout=self.timeout,
        )

    def send(self, to: str, reply_token: str | None, messages: list[dict[str, Any]]) -> str:
        """Reply if we can, else push; returns how it went out ('reply', 'push' or 'failed')."""
        from linebot.v3.messaging.exceptions import ApiException

        batches = [messages[i : i + MAX_PER_CALL] for i in range(0, len(messages), MAX_PER_CALL)]
        how = "push"
        for i, batch in enumerate(batches):
            if i == 0 and reply_token:
                try:
                    self.reply(reply_token, batch)
                    how = "reply"
                    continue
                except ApiException as exc:
                    log.info("reply failed (%s); pushing instead", exc.status)
                except Exception as exc:  # timeouts, connection errors
                    log.warning("reply failed (%s); pushing instead", type(exc).__name__)
            try:
                self.push(to, batch)
            except Exception as exc:
                log.warning("push to a chat failed: %s", type(exc).__name__)
                return "failed"
        return how

    def show_loading(self, chat_id: str, seconds: int = LOADING_SECONDS) -> bool:
        """LINE's loading animation in a one-to-one chat while a slower answer (a graph) is
        prepared; it stops when our reply arrives. Best effort: False if LINE said no."""
        from linebot.v3.messaging import MessagingApi, ShowLoadingAnimationRequest

        try:
            MessagingApi(self._api()).show_loading_animation(
                ShowLoadingAnimationRequest(chat_id=chat_id, loading_seconds=seconds),
                _request_timeout=min(self.timeout, SIGNAL_TIMEOUT),
            )
            return True
        except Exception as exc:
            log.info("loading animation failed: %s", type(exc).__name__)
            return False

    def mark_read(self, token: str) -> bool:
        """Mark the user's messages read (the ``markAsReadToken`` of their message event). Best effort."""
        from linebot.v3.messaging import MarkMessagesAsReadByTokenRequest, MessagingApi

        try:
            MessagingApi(self._api()).mark_messages_as_read_by_token(
                MarkMessagesAsReadByTokenRequest(mark_as_read_token=token),
                _request_timeout=min(self.timeout, SIGNAL_TIMEOUT),
            )
            return True
        except Exception as exc:
            log.info("mark as read failed: %s", type(exc).__name__)
            return False

    def profile_language(self, user_id: str) -> tuple[str | None, str | None]:
        """(displayName, language) from the user's LINE profile, or (None, None) on failure."""
        from linebot.v3.messaging import MessagingApi

        try:
            prof = MessagingApi(self._api()).get_profile(user_id, _request_timeout=self.timeout)
            return prof.display_name, prof.language
        except Exception as exc:
            log.info("profile lookup failed: %s", type(exc).__name__)
            return None, None

    # ---- rich menus (per role, found by alias) ----------------------------------------
    def set_alias(self, alias_id: str, menu_id: str) -> None:
        """Point ``alias_id`` at ``menu_id`` (created the first time, moved after)."""
        from linebot.v3.messaging import CreateRichMenuAliasRequest, UpdateRichMenuAliasRequest
        from linebot.v3.messaging.exceptions import ApiException

        api = self.messaging()
        try:
            api.create_rich_menu_alias(CreateRichMenuAliasRequest(rich_menu_alias_id=alias_id, rich_menu_id=menu_id),
                                       _request_timeout=self.timeout)
        except ApiException as exc:
            if exc.status != 400:
                raise
            api.update_rich_menu_alias(alias_id, UpdateRichMenuAliasRequest(rich_menu_id=menu_id),
                                       _request_timeout=self.timeout)

    def link_menu(self, user_id: str, alias_id: str | None) -> bool:
        """Give one user the menu behind ``alias_id`` (None: back to the default). Never raises:
        a menu is a convenience, and a chat must not fail for it."""
        api = self.messaging()
        try:
            if alias_id is None:
                api.unlink_rich_menu_id_from_user(user_id, _request_timeout=self.timeout)
                return True
            menu_id = api.get_rich_menu_alias(alias_id, _request_timeout=self.timeout).rich_menu_id
            api.link_rich_menu_id_to_user(user_id, menu_id, _request_timeout=self.timeout)
            return True
        except Exception as exc:
            log.info("rich menu link skipped: %s", type(exc).__name__)
            return False

    def blob(self) -> MessagingApiBlob:
        from linebot.v3.messaging import MessagingApiBlob

        return MessagingApiBlob(self._api(data=True))

    def messaging(self) -> MessagingApi:
        from linebot.v3.messaging import MessagingApi

        return MessagingApi(self._api())
