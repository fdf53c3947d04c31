"""Who is looking: a page link's claims, checked again against the database on every request.

A link says which home it opens and for whom: ``w`` (a watcher) or ``g`` (a building,
for its landlord group). The signature proves we issued it; the database decides
whether it still holds — a watcher removed from the home, a deleted account, a group
unlinked from its building or a unit outside that building are all refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import links
from core.errors import AccessDenied
from core.models import Building, Home, HomeWatcher, Watcher
from core.texts import normalize_language

PAGES = ("usage", "alerts", "incident")
BUILDING_PAGE = "building"


@dataclass(frozen=True)
class Viewer:
    """A verified visitor: the home they may see, and as whom."""

    home: Home
    watcher: Watcher | None
    link: HomeWatcher | None
    building_id: int | None
    lang: str
    claims: dict[str, Any] = field(default_factory=dict)

    def principal(self) -> dict[str, int]:
        """The claims that say who this is, to carry into the links on the page."""
        if self.watcher is not None:
            return {"h": self.home.id, "w": self.watcher.id}
        return {"h": self.home.id, "g": int(self.building_id or 0)}

    def sign(self, page: str, **extra: Any) -> str:
        """A fresh token for another page, for the same visitor and home."""
        return links.sign("page:" + page, **self.principal(), **extra)


def _int(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise AccessDenied(f"link without {name}")
    return value


def resolve(session: Session, page: str, token: str, lang: str | None = None) -> Viewer:
    """Verify ``token`` for ``page`` and check the link between visitor and home still exists."""
    if page not in PAGES:
        raise AccessDenied("unknown page")
    claims = links.verify(token, "page:" + page, links.PAGE_TTL)
    home = session.get(Home, _int(claims, "h"))
    if home is None or home.ended_at is not None:
        raise AccessDenied("home not watched")
    if "w" in claims:
        row = session.execute(
            select(HomeWatcher, Watcher)
            .join(Watcher, Watcher.id == HomeWatcher.watcher_id)
            .where(HomeWatcher.home_id == home.id, HomeWatcher.watcher_id == _int(claims, "w"))
        ).first()
        if row is None or row[1].deleted_at is not None:
            raise AccessDenied("watcher no longer linked to this home")
        link, watcher = row
        return Viewer(home, watcher, link, None, normalize_language(lang or watcher.language), claims)
    if "g" in claims:
        building = session.get(Building, _int(claims, "g"))
        if building is None or building.line_group_id is None or home.building_id != building.id:
            raise AccessDenied("unit not in this group's building")
        return Viewer(home, None, None, building.id, normalize_language(lang), claims)
    raise AccessDenied("link names no visitor")


def resolve_building(session: Session, token: str) -> Building:
    """A landlord group's overview link (claim ``g``): the building, while its group is still linked."""
    claims = links.verify(token, "page:" + BUILDING_PAGE, links.PAGE_TTL)
    building = session.get(Building, _int(claims, "g"))
    if building is None or building.line_group_id is None:
        raise AccessDenied("group no longer linked to this building")
    return building
