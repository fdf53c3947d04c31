"""Write audit rows. Called inside the transaction that makes the change it records."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import clock
from core.models import AuditLog


def record(
    session: Session,
    actor: str,
    action: str,
    *,
    home_id: int | None = None,
    incident_id: int | None = None,
    **detail: Any,
) -> AuditLog:
    """Add one audit row; ``detail`` must hold ids and codes, never names or phone numbers."""
    row = AuditLog(
        at=clock.now(), actor=actor, action=action, home_id=home_id, incident_id=incident_id, detail=detail
    )
    session.add(row)
    return row
