"""Rich menus, one per role — not registered yet, family, the senior, a landlord — each with its
layout, its picture (drawn here with a Japanese font shipped in a package), and an alias
``mimamori-<role>`` so the bot can find and link it without storing ids.

Each area sends the same word a user could type, so the menu and typing lead to the same
place. ``mimamori line richmenu`` creates all four and makes the "not registered" one the
default; :func:`link_for` gives a user the menu of their role when it changes (registered,
joined, linked as the senior).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from linebot.v3.messaging import RichMenuRequest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.line_api import LineClient
from core.enums import HomeStatus, WatcherRole
from core.models import Home, HomeWatcher, Resident, Watcher
from core.texts import t

if TYPE_CHECKING:
    from bot.context import Ctx

log = logging.getLogger(__name__)

WIDTH, FULL, HALF = 2500, 1686, 843
ROLES = ("guest", "family", "senior", "landlord")
DEFAULT_ROLE = "guest"


@dataclass(frozen=True)
class Area:
    key: str  # bot.richmenu.<key> is its label, bot.menu.<key> the word it sends
    x: int
    y: int
    w: int
    h: int
    color: str


@dataclass(frozen=True)
class Layout:
    height: int
    rows: tuple[tuple[tuple[str, int, str], ...], ...]  # per row: (key, relative width, colour)

    def areas(self) -> list[Area]:
        out: list[Area] = []
        row_h = self.height // len(self.rows)
        for r, row in enumerate(self.rows):
            total = sum(weight for _, weight, _ in row)
            x = 0
            for i, (key, weight, color) in enumerate(row):
                w = WIDTH - x if i == len(row) - 1 else WIDTH * weight // total
                h = self.height - r * row_h if r == len(self.rows) - 1 else row_h
                out.append(Area(key, x, r * row_h, w, h, color))
                x += w
        return out


GREEN, BLUE, AMBER, GREY, PURPLE, TEAL = "#2E7D6B", "#3C8DBC", "#E0A030", "#6C757D", "#8E6CB8", "#1F8A9E"
LAYOUTS: dict[str, Layout] = {
    "guest": Layout(HALF, ((("register", 2, GREEN), ("join", 1, BLUE), ("help", 1, PURPLE)),)),
    "family": Layout(FULL, ((("status", 1, GREEN), ("pause", 1, AMBER), ("times", 1, TEAL)),
                            (("settings", 1, GREY), ("details", 1, BLUE), ("help", 1, PURPLE)))),
    "senior": Layout(HALF, ((("ok", 3, GREEN), ("help", 1, PURPLE)),)),
    "landlord": Layout(HALF, ((("status", 1, GREEN), ("settings", 1, GREY), ("help", 1, PURPLE)),)),
}


def areas(role: str = "family") -> list[Area]:
    return LAYOUTS[role].areas()


def font_path() -> str:
    import matplotlib_fontja

    return str(Path(matplotlib_fontja.__file__).parent / "fonts" / "ipaexg.ttf")


@cache
def draw(lang: str = "ja", role: str = "family") -> bytes:
    """The menu picture as PNG: big rounded tiles, one word each, readable at a glance."""
    from PIL import Image, ImageDraw, ImageFont

    layout = LAYOUTS[role]
    image = Image.new("RGB", (WIDTH, layout.height), "white")
    pen = ImageDraw.Draw(image)
    for area in layout.areas():
        box = (area.x + 14, area.y + 14, area.x + area.w - 14, area.y + area.h - 14)
        pen.rounded_rectangle(box, radius=60, fill=area.color)
        label = t(f"bot.richmenu.{area.key}", lang)
        size = 190 if area.w > WIDTH // 2 else 150
        font = ImageFont.truetype(font_path(), size)
        while pen.textlength(label, font=font) > area.w - 100 and size > 60:
            size -= 10
            font = ImageFont.truetype(font_path(), size)
        left, top, right, bottom = pen.textbbox((0, 0), label, font=font)
        pen.text((area.x + (area.w - (right - left)) / 2, area.y + (area.h - (bottom - top)) / 2 - top),
                 label, font=font, fill="white")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def alias(role: str) -> str:
    return f"mimamori-{role}"


def definition(lang: str = "ja", role: str = "family") -> dict:
    layout = LAYOUTS[role]
    return {
        "size": {"width": WIDTH, "height": layout.height},
        "selected": True,
        "name": f"mimamori-{role}-{lang}",
        "chatBarText": t("bot.richmenu.bar", lang),
        "areas": [
            {"bounds": {"x": a.x, "y": a.y, "width": a.w, "height": a.h},
             "action": {"type": "message", "label": t(f"bot.richmenu.{a.key}", lang),
                        "text": t(f"bot.menu.{a.key}", lang)}}
            for a in layout.areas()
        ],
    }


def create(client: LineClient | None = None, lang: str = "ja", make_default: bool = True,
           role: str = DEFAULT_ROLE) -> str:
    """Create one role's menu, upload its picture, point its alias at it; returns its id."""
    client = client or LineClient()
    api = client.messaging()
    menu_id = api.create_rich_menu(RichMenuRequest.from_dict(definition(lang, role)),
                                   _request_timeout=client.timeout).rich_menu_id
    client.blob().set_rich_menu_image(menu_id, draw(lang, role), _headers={"Content-Type": "image/png"},
                                      _request_timeout=client.timeout)
    client.set_alias(alias(role), menu_id)
    if make_default:
        api.set_default_rich_menu(menu_id, _request_timeout=client.timeout)
    return menu_id


def create_all(client: LineClient | None = None, lang: str = "ja") -> dict[str, str]:
    """Every role's menu (the "not registered" one becomes the default): role → menu id."""
    client = client or LineClient()
    return {role: create(client, lang, make_default=role == DEFAULT_ROLE, role=role) for role in ROLES}


def role_of(session: Session, user_id: str | None) -> str:
    """Which menu a LINE user should see: by what they are linked to now."""
    if not user_id:
        return DEFAULT_ROLE
    watcher = session.scalar(select(Watcher).where(Watcher.line_user_id == user_id))
    if watcher is not None:
        roles = {link.role for link in session.scalars(
            select(HomeWatcher).join(Home, Home.id == HomeWatcher.home_id)
            .where(HomeWatcher.watcher_id == watcher.id, Home.status != HomeStatus.ENDED))}
        if WatcherRole.FAMILY in roles:
            return "family"
        if roles:
            return "landlord"
    if session.scalar(select(Resident.id).where(Resident.line_user_id == user_id).limit(1)) is not None:
        return "senior"
    return DEFAULT_ROLE


def link_for(ctx: Ctx) -> str:
    """Give the chat's user the menu of their role (after registering, joining, linking)."""
    role = role_of(ctx.session, ctx.user_id)
    if ctx.user_id and not ctx.is_group:
        LineClient().link_menu(ctx.user_id, None if role == DEFAULT_ROLE else alias(role))
    return role
