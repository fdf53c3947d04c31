"""How each person names the senior: the one place.

The senior is addressed by their own name with さん; a family member sees their own word
for the senior (お父さん, their ``relation_label``) in their own chat only; everyone else
(the landlord group, a sibling without a label, a dispatch partner) sees the senior's name
with さん.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.models import Home, HomeWatcher

NO_HONORIFIC = ("さん", "様", "さま", "ちゃん", "くん", "グループ")


def honorific(name: str, lang: str) -> str:
    """お父さん stays お父さん; 山田 ハナ becomes 山田 ハナさん (Japanese only)."""
    if lang == "ja" and name and not name.endswith(NO_HONORIFIC):
        return f"{name}さん"
    return name


def resident_name(home: Home, lang: str, relation_label: str | None = None) -> str:
    """How one recipient names the senior: a family member's own word for them (お母さん) in that
    family member's chat only; everyone else, the senior's name with さん."""
    if relation_label:
        return relation_label
    return honorific(home.resident.display_name if home.resident else (home.unit_label or "ご家族"), lang)


def as_seen_by(home: Home, link: HomeWatcher | None, lang: str) -> str:
    """The senior as the watcher of ``link`` names them (their own label, else the name with さん)."""
    return resident_name(home, lang, link.relation_label if link else None)
