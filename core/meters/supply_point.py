"""供給地点特定番号 (supply point number): 22 digits; the first two name the utility area."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from core.errors import ValidationError

AREAS: dict[str, str] = {
    "01": "北海道",
    "02": "東北",
    "03": "東京",
    "04": "中部",
    "05": "北陸",
    "06": "関西",
    "07": "中国",
    "08": "四国",
    "09": "九州",
    "10": "沖縄",
}


@dataclass(frozen=True)
class SupplyPoint:
    number: str
    area_code: str
    area_name: str


def parse_supply_point(text: str) -> SupplyPoint:
    """Accept what people type (full-width digits, spaces, hyphens); refuse anything else.

    Raises ValidationError with code ``supply_point.not_digits``, ``supply_point.length``
    (with ``length``) or ``supply_point.area``.
    """
    cleaned = unicodedata.normalize("NFKC", text or "").replace("-", "").replace(" ", "").strip()
    if not cleaned.isdigit() or not cleaned.isascii():
        raise ValidationError("supply_point.not_digits", "a supply point number has digits only")
    if len(cleaned) != 22:
        raise ValidationError(
            "supply_point.length", f"a supply point number has 22 digits, not {len(cleaned)}", length=len(cleaned)
        )
    area = cleaned[:2]
    if area not in AREAS:
        raise ValidationError("supply_point.area", f"{area} is not a utility area code", area=area)
    return SupplyPoint(cleaned, area, AREAS[area])
