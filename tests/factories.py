"""``make_*`` builders for tests: sensible defaults, every field overridable."""

from __future__ import annotations

import itertools
from typing import Any

from core import clock
from core.db import session_scope
from core.enums import ContactMethod, HomeStatus, WatcherRole
from core.models import Home, HomeWatcher, Resident, Watcher

_seq = itertools.count(1)


def supply_point(n: int) -> str:
    """A well-formed 22-digit 供給地点特定番号 in the Tokyo area (03)."""
    return f"03{n:020d}"


def make_home(
    *,
    resident_name: str = "お父さん",
    phone: str = "+819012345678",
    contact: ContactMethod = ContactMethod.VOICE,
    status: HomeStatus = HomeStatus.ACTIVE,
    consent: bool = True,
    **fields: Any,
) -> Home:
    """A committed home with its resident (consent recorded unless ``consent=False``)."""
    n = next(_seq)
    with session_scope() as s:
        home = Home(
            meter_id=fields.pop("meter_id", supply_point(n)),
            supply_point_number=fields.pop("supply_point_number", None),
            status=status,
            **fields,
        )
        s.add(home)
        s.flush()
        s.add(
            Resident(
                home_id=home.id,
                display_name=resident_name,
                phone=phone,
                preferred_contact=contact,
                consent_given_at=clock.now() if consent else None,
                consent_method="written" if consent else None,
            )
        )
    return home


def make_watcher(
    home: Home | None = None,
    *,
    line_user_id: str | None = None,
    role: WatcherRole = WatcherRole.FAMILY,
    order: int = 1,
    owner: bool = False,
    email: str | None = None,
    language: str = "ja",
    **link_fields: Any,
) -> Watcher:
    """A committed watcher, linked to ``home`` when given."""
    n = next(_seq)
    with session_scope() as s:
        watcher = Watcher(
            line_user_id=line_user_id or f"U{n:032x}", email=email, display_name=f"watcher{n}", language=language
        )
        s.add(watcher)
        s.flush()
        if home is not None:
            s.add(
                HomeWatcher(
                    home_id=home.id,
                    watcher_id=watcher.id,
                    role=role,
                    escalation_order=order,
                    is_owner=owner,
                    **link_fields,
                )
            )
    return watcher
