"""One module per LINE event type; :data:`HANDLERS` maps the event's ``type`` to its handler."""

from __future__ import annotations

from collections.abc import Callable

from bot.context import Ctx
from bot.handlers import follow, group, message, postback, unfollow

HANDLERS: dict[str, Callable[[Ctx], None]] = {
    "follow": follow.handle,
    "unfollow": unfollow.handle,
    "message": message.handle,
    "postback": postback.handle,
    "join": group.handle_join,
    "leave": group.handle_leave,
    "memberJoined": group.handle_member_joined,
    "memberLeft": group.handle_member_left,
}
