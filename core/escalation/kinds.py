"""The escalation step kinds: one ``StrEnum`` and the shape of one spec per kind.

The table itself (``core.escalation.steps.SPECS``) holds, for each kind, its function,
its parameters, its place in an emergency policy and who of its recipients hears how an
incident ended. Policy validation, the engine and the "tell the others" notices all read
that one table; :func:`check_complete` refuses a table that misses a kind. A new kind
(e.g. a heat-risk nudge) is one enum member and one spec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.enums import Channel


class StepKind(StrEnum):
    CONTACT_RESIDENT = "contact_resident"
    ALERT_FAMILY = "alert_family"
    ALERT_LANDLORD_GROUP = "alert_landlord_group"
    ALERT_DISPATCH = "alert_dispatch"
    NOTIFY_WATCHERS = "notify_watchers"


@dataclass(frozen=True)
class Param:
    """One step parameter: its type, allowed range and default."""

    type: type
    default: Any
    low: int | None = None
    high: int | None = None


ALL_CHANNELS = frozenset(Channel)


@dataclass(frozen=True)
class StepSpec:
    """One step kind: what runs, what a policy may set, and who hears the ending.

    ``emergency_rank`` orders the kind inside an emergency policy (None: not allowed there);
    ``alerts`` marks the steps that alert people on the senior's behalf (their recipients
    count as "alerted"); ``ending_channels`` are the channels on which a recipient of this
    step is told how the incident ended.
    """

    kind: StepKind
    run: Callable[[Any], Any]
    params: Mapping[str, Param] = field(default_factory=dict)
    emergency_rank: int | None = None
    alerts: bool = False
    ending_channels: frozenset[Channel] = frozenset()


def check_complete(specs: Mapping[StepKind, StepSpec]) -> None:
    """Every kind has exactly one spec, filed under its own name; ranks are distinct."""
    missing = set(StepKind) - set(specs)
    if missing:
        raise RuntimeError(f"step kinds without a spec: {sorted(missing)}")
    wrong = [k for k, spec in specs.items() if spec.kind is not k]
    if wrong:
        raise RuntimeError(f"specs filed under another kind: {wrong}")
    ranks = [s.emergency_rank for s in specs.values() if s.emergency_rank is not None]
    if len(ranks) != len(set(ranks)):
        raise RuntimeError("two emergency step kinds share a rank")
