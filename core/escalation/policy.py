"""Escalation policies as declared data. (Initial version; the escalation work refines it.)

A policy is a list of steps. The home's own policy (``Home.escalation_policy``) overrides
the default; :func:`snapshot_for` is what an incident copies when it opens.
"""

from __future__ import annotations

from typing import Any

from core.enums import EMERGENCY_KINDS, IncidentKind
from core.models import Home

DEFAULT_EMERGENCY_POLICY: dict[str, Any] = {
    "steps": [
        {"kind": "contact_resident", "attempts": 3, "interval_minutes": 10, "confirm_within_minutes": 30},
        {"kind": "alert_family", "wait_minutes": 15},
        {"kind": "alert_landlord_group", "wait_minutes": 30},
        {"kind": "alert_dispatch", "optional": True},
    ]
}

NOTICE_POLICY: dict[str, Any] = {"steps": [{"kind": "notify_watchers"}]}


def snapshot_for(home: Home, kind: IncidentKind) -> dict[str, Any]:
    """The policy an incident of ``kind`` at ``home`` follows, copied (not referenced)."""
    if kind not in EMERGENCY_KINDS:
        return {"steps": [dict(s) for s in NOTICE_POLICY["steps"]]}
    policy = home.escalation_policy or DEFAULT_EMERGENCY_POLICY
    return {"steps": [dict(s) for s in policy["steps"]]}
