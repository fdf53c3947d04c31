"""Escalation policies as declared data, validated, with defaults.

A policy is ``{"steps": [{"kind": ..., <params>}, ...]}``. Each step kind declares its
parameters (type, range, default) in its spec in the one step table
(``core.escalation.steps.SPECS``); :func:`validate_policy`
checks a home's own policy (``Home.escalation_policy``) against that table and fills
defaults, so a bad policy is refused when it is saved, not when an alarm fires.
:func:`snapshot_for` is what an incident copies when it opens (later edits do not
change an incident in flight); it also fixes how the resident is contacted.
"""

from __future__ import annotations

import logging
from typing import Any

from core.enums import EMERGENCY_KINDS, ContactMethod, IncidentKind
from core.errors import ValidationError
from core.escalation.kinds import Param, StepKind
from core.models import Home
from core.texts import LANGUAGES

log = logging.getLogger(__name__)


def emergency_kinds() -> list[StepKind]:
    """The kinds an emergency policy may use, in the order they must keep (from the step table)."""
    from core.escalation.steps import SPECS

    ranked = [spec for spec in SPECS.values() if spec.emergency_rank is not None]
    return [spec.kind for spec in sorted(ranked, key=lambda spec: spec.emergency_rank or 0)]


def params_of(kind: str) -> dict[str, Param]:
    from core.escalation.steps import SPECS

    return dict(SPECS[StepKind(kind)].params)


DEFAULT_EMERGENCY_POLICY: dict[str, Any] = {
    "steps": [
        {"kind": "contact_resident", "attempts": 3, "interval_minutes": 10, "confirm_within_minutes": 30},
        {"kind": "alert_family", "wait_minutes": 15},
        {"kind": "alert_landlord_group", "wait_minutes": 30},
        {"kind": "alert_dispatch", "email": None, "webhook_url": None, "language": "ja", "wait_minutes": 60},
    ]
}

NOTICE_POLICY: dict[str, Any] = {"steps": [{"kind": "notify_watchers"}]}


def _check_param(kind: str, name: str, spec: Param, value: Any) -> Any:
    if value is None:
        return spec.default
    if spec.type is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValidationError("escalation.policy_bad_value", f"{kind}.{name} must be a whole number", step=kind)
    if spec.type is str and not isinstance(value, str):
        raise ValidationError("escalation.policy_bad_value", f"{kind}.{name} must be text", step=kind)
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        raise ValidationError(
            "escalation.policy_out_of_range", f"{kind}.{name} must be {spec.low}..{spec.high}", step=kind
        )
    if name == "language" and value not in LANGUAGES:
        raise ValidationError("escalation.policy_bad_value", f"language must be one of {LANGUAGES}", step=kind)
    if name == "webhook_url" and not value.startswith(("https://", "http://")):
        raise ValidationError("escalation.policy_bad_value", "webhook_url must be an http(s) URL", step=kind)
    return value


def validate_policy(data: Any) -> dict[str, Any]:
    """A normalised copy of an emergency policy, or ValidationError (nothing is changed)."""
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise ValidationError("escalation.policy_no_steps", "a policy needs a non-empty list of steps")
    unknown_top = set(data) - {"steps"}
    if unknown_top:
        raise ValidationError("escalation.policy_unknown_field", f"unknown fields {sorted(unknown_top)}")
    steps: list[dict[str, Any]] = []
    seen: list[str] = []
    order = [str(k) for k in emergency_kinds()]
    for raw in data["steps"]:
        kind = raw.get("kind") if isinstance(raw, dict) else None
        if kind not in order:
            raise ValidationError("escalation.policy_unknown_step", f"unknown step kind {kind!r}")
        if kind in seen:
            raise ValidationError("escalation.policy_duplicate_step", f"step {kind} appears twice", step=kind)
        if seen and order.index(kind) < order.index(seen[-1]):
            raise ValidationError("escalation.policy_order", "steps must keep resident → family → landlord → dispatch")
        params = params_of(kind)
        extra = set(raw) - set(params) - {"kind"}
        if extra:
            raise ValidationError("escalation.policy_unknown_field", f"{kind}: unknown {sorted(extra)}", step=kind)
        step = {"kind": kind}
        for name, spec in params.items():
            step[name] = _check_param(kind, name, spec, raw.get(name))
        seen.append(kind)
        steps.append(step)
    if StepKind.ALERT_FAMILY not in seen:
        raise ValidationError("escalation.policy_needs_family", "a policy must alert the family")
    return {"steps": steps}


def _resident_method(home: Home) -> str | None:
    """How the resident is asked "are you OK?", or None when they cannot or may not be."""
    resident = home.resident
    if resident is None or resident.consent_given_at is None or resident.consent_withdrawn_at is not None:
        return None
    method = resident.preferred_contact
    if method in (ContactMethod.VOICE, ContactMethod.SMS) and not resident.phone:
        return None
    if method is ContactMethod.LINE and not resident.line_user_id:
        return ContactMethod.VOICE.value if resident.phone else None
    return method.value


def snapshot_for(home: Home, kind: IncidentKind) -> dict[str, Any]:
    """The policy an incident of ``kind`` at ``home`` follows, copied (not referenced)."""
    if kind not in EMERGENCY_KINDS:
        return {"steps": [dict(s) for s in NOTICE_POLICY["steps"]]}
    try:
        policy = validate_policy(home.escalation_policy) if home.escalation_policy else None
    except ValidationError as exc:  # saved before validation existed: fall back rather than stay silent
        log.warning("home %s: invalid escalation policy (%s); using the default", home.id, exc.code)
        policy = None
    policy = policy or validate_policy(DEFAULT_EMERGENCY_POLICY)
    steps = [dict(s) for s in policy["steps"]]
    for step in steps:
        if step["kind"] == StepKind.CONTACT_RESIDENT:
            step["method"] = _resident_method(home)
    return {"steps": steps, "language": (home.resident.language if home.resident else "ja")}
