"""Invite codes go out as things to tap, not to type: a LINE share link and a QR code.

Both carry one link that opens this account's chat (adding it first if needed) with
「参加 <code>」 already typed, so the sibling or the senior joins with one more tap on
send; :mod:`bot.handlers.message` accepts that word. The code is also shown, for reading
out over the phone.
"""

from __future__ import annotations

from typing import Any

from bot.context import Ctx
from bot.messages import build
from core import links
from core.settings import get_settings

JOIN_WORD = "参加"


def join_link(code: str) -> str:
    return build.add_and_say_url(get_settings().line_basic_id, f"{JOIN_WORD} {code}")


def invite_messages(ctx: Ctx, code: str, kind: str, *, name: str = "", days: int | None = None,
                    hours: int | None = None) -> list[dict[str, Any]]:
    """A card (the code, how to use it, a share button) and the QR code image."""
    link = join_link(code)
    valid = ctx.t("bot.invite.valid_days", days=days) if days else ctx.t("bot.invite.valid_hours", hours=hours)
    share_text = ctx.t(f"bot.invite.share_text.{kind}", name=name, url=link)
    lines = [ctx.t(f"bot.invite.how.{kind}", name=name), ctx.t("bot.invite.code_line", code=code, valid=valid)]
    card = build.card(ctx.t(f"bot.invite.title.{kind}", name=name), lines,
                      [build.uri(ctx.t("bot.invite.share"), build.share_url(share_text))])
    qr = links.qr_url(link)
    return [card, build.image(qr, qr)]
