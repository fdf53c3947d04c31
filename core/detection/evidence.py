"""Evidence: structured numbers stored with an incident, and plain words to show them.

Detectors produce numbers (slots, half-hours, kWh); :func:`evidence_of` turns one row of
a finding into JSON-ready values (local times as "HH:MM" and ISO strings) and
:func:`describe` renders them through the text catalog, e.g. "usually active by 7:30; no use
above standby since 22:10".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from core.detection.detectors import Finding
from core.detection.timeaxis import JST, iso_local, local_clock_text
from core.enums import IncidentKind
from core.texts import t

_SLOT_KEYS = {"quiet_since_slot": "quiet_since", "flat_since_slot": "flat_since", "missing_since_slot": "missing_since"}
_HH_KEYS = {"wake_hh": "usual_wake", "sleep_hh": "usual_sleep"}


def evidence_of(finding: Finding, row: int, *, episode_key: bool = True) -> dict[str, Any]:
    """One row of a finding as JSON-ready evidence (plus its episode, for the incident book)."""
    out: dict[str, Any] = {}
    for name, values in finding.evidence.items():
        value = np.asarray(values)[row] if np.ndim(values) else values
        if name in _SLOT_KEYS:
            out[_SLOT_KEYS[name]] = iso_local(int(value))
        elif name in _HH_KEYS:
            out[_HH_KEYS[name]] = local_clock_text(float(value))
        else:
            number = float(value)
            out[name] = round(number, 3) if np.isfinite(number) else None
    out["window_start"] = iso_local(int(finding.window_start[row]))
    if episode_key:
        out["episode"] = int(finding.episode[row])
        out["usage_slot"] = int(finding.usage[row])
    return out


def _hm(iso: str | None) -> str:
    if not iso:
        return "?"
    moment = datetime.fromisoformat(iso).astimezone(JST)
    return f"{moment.hour}:{moment.minute:02d}"


def describe(kind: IncidentKind, evidence: dict[str, Any], lang: str | None = None) -> str:
    """The evidence in plain words and numbers, in the reader's language."""
    e = evidence
    params: dict[str, Any] = {
        IncidentKind.NO_WAKE: lambda: {"wake": e.get("usual_wake", "?"), "since": _hm(e.get("quiet_since"))},
        IncidentKind.INACTIVITY: lambda: {"since": _hm(e.get("quiet_since"))},
        IncidentKind.FLAT_USAGE: lambda: {
            "since": _hm(e.get("flat_since")), "watts": int(round(float(e.get("level_kwh", 0)) * 2000, -1)),
        },
        IncidentKind.NIGHT_ACTIVITY: lambda: {"sleep": e.get("usual_sleep", "?")},
        IncidentKind.USAGE_RESUMED: lambda: {"seen": _hm(e.get("usage_seen"))},
        IncidentKind.OVER_USAGE: lambda: {
            "kwh": e.get("day_kwh"), "usual": e.get("usual_kwh"), "percent": int(e.get("percent", 0)),
        },
        IncidentKind.DATA_GAP: lambda: {"since": _hm(e.get("missing_since"))},
    }[kind]()
    text = t(f"detection.evidence.{kind.value}", lang, **params)
    if "confidence" in e and kind in (IncidentKind.NO_WAKE, IncidentKind.INACTIVITY, IncidentKind.FLAT_USAGE):
        text += " " + t("detection.confidence", lang, percent=round(float(e["confidence"]) * 100))
    return text
