"""The rich menu (登録 / 今日の様子 / 一時停止 / 設定 / ヘルプ): its layout, its picture, and
creating it through the Messaging API. Each area sends the same word a user could type,
so the menu and typing lead to the same place."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from linebot.v3.messaging import RichMenuRequest

from bot.line_api import LineClient
from core.texts import t

WIDTH, HEIGHT = 2500, 1686
KEYS = ("register", "status", "pause", "settings", "help")
COLORS = ("#2E7D6B", "#3C8DBC", "#E0A030", "#6C757D", "#8E6CB8")


@dataclass(frozen=True)
class Area:
    key: str
    x: int
    y: int
    w: int
    h: int


def areas() -> list[Area]:
    """Three big buttons on top, two below."""
    top_w, bottom_w, half = WIDTH // 3, WIDTH // 2, HEIGHT // 2
    top = [Area(k, i * top_w, 0, top_w if i < 2 else WIDTH - 2 * top_w, half) for i, k in enumerate(KEYS[:3])]
    bottom = [Area(k, i * bottom_w, half, bottom_w, HEIGHT - half) for i, k in enumerate(KEYS[3:])]
    return top + bottom


def font_path() -> str:
    import matplotlib_fontja

    return str(Path(matplotlib_fontja.__file__).parent / "fonts" / "ipaexg.ttf")


def draw(lang: str = "ja") -> bytes:
    """The menu picture as PNG, drawn with a Japanese font shipped in a package."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    pen = ImageDraw.Draw(image)
    font = ImageFont.truetype(font_path(), 150)
    for area, color in zip(areas(), COLORS, strict=True):
        box = (area.x + 12, area.y + 12, area.x + area.w - 12, area.y + area.h - 12)
        pen.rounded_rectangle(box, radius=60, fill=color)
        label = t(f"bot.richmenu.{area.key}", lang)
        left, top, right, bottom = pen.textbbox((0, 0), label, font=font)
        pen.text((area.x + (area.w - (right - left)) / 2, area.y + (area.h - (bottom - top)) / 2 - top),
                 label, font=font, fill="white")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def definition(lang: str = "ja") -> dict:
    return {
        "size": {"width": WIDTH, "height": HEIGHT},
        "selected": True,
        "name": f"mimamori-{lang}",
        "chatBarText": "メニュー" if lang == "ja" else "Menu",
        "areas": [
            {"bounds": {"x": a.x, "y": a.y, "width": a.w, "height": a.h},
             "action": {"type": "message", "label": t(f"bot.menu.{a.key}", lang), "text": t(f"bot.menu.{a.key}", lang)}}
            for a in areas()
        ],
    }


def create(client: LineClient | None = None, lang: str = "ja", make_default: bool = True) -> str:
    """Create the menu, upload its picture, and make it every user's default; returns its id."""
    client = client or LineClient()
    api = client.messaging()
    menu_id = api.create_rich_menu(RichMenuRequest.from_dict(definition(lang)), _request_timeout=client.timeout)
    menu_id = menu_id.rich_menu_id
    client.blob().set_rich_menu_image(menu_id, draw(lang), _headers={"Content-Type": "image/png"},
                                      _request_timeout=client.timeout)
    if make_default:
        api.set_default_rich_menu(menu_id, _request_timeout=client.timeout)
    return menu_id
