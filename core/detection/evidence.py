"""Evidence: the one typed schema between detection (which writes it) and messages (which read it).

Detectors produce numbers (slots, half-hours, kWh); :func:`evidence_of` turns one row of
a finding into an :class:`Evidence`, stored as JSON on the incident. Every reader
(the family's alert, the demo, the pages) goes through :meth:`Evidence.from_json`, and
:func:`core.incidents.open_incident` refuses a key the schema does not know, so a writer and
a reader can never drift apart. :func:`describe` renders it through the text catalog, e.g.
"usually active by 7:30; no use above standby since 22:10".
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, fields
from datetime import datetime, tzinfo
from typing import Any

import numpy as np

from core.detection.detectors import Finding
from core.detection.timeaxis import JST, iso_local, local_clock_text
from core.enums import IncidentKind
from core.texts import t

_SLOT_KEYS = {"quiet_since_slot": "quiet_since", "flat_since_slot": "flat_since", "missing_since_slot": "missing_since"}
_HH_KEYS = {"wake_hh": "usual_wake", "sleep_hh": "usual_sleep"}


log = logging.getLogger(__name__)


class EvidenceError(ValueError):
    """Evidence with a key or a value the schema does not know."""


@dataclass(frozen=True)
class Evidence:
    """What was seen, as stored on an incident. Times are ISO strings with their offset;
    ``usual_*`` are local clock texts ("7:30"). Unset fields are left out of the JSON."""

    # written by detection
    window_start: str | None = None
    quiet_since: str | None = None  # the last use above standby (no_wake, inactivity)
    flat_since: str | None = None  # the last change in use (flat_usage)
    missing_since: str | None = None  # the first missing reading (data_gap)
    usage_seen: str | None = None  # use seen again (usage_resumed; and when usage closed an emergency)
    usual_wake: str | None = None
    usual_sleep: str | None = None
    score: float | None = None
    base_load_kwh: float | None = None
    level_kwh: float | None = None
    active_share: float | None = None
    day_kwh: float | None = None
    usual_kwh: float | None = None
    percent: float | None = None
    missing_slots: float | None = None
    confidence: float | None = None
    episode: int | None = None
    usage_slot: int | None = None
    # added while the incident runs
    resident_reply: str | None = None  # the senior's own words when they answered on LINE
    resident_sticker: bool | None = None  # they answered with a sticker
    resident_words: str | None = None  # the senior's call for help, word for word
    urgent: bool | None = None  # the senior called for help: everyone at once
    simulated: bool | None = None  # /dev/chat's "try an alert"

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, *, strict: bool = False) -> Evidence:
        """Read stored evidence; an unknown key is an error when ``strict`` (writers), logged otherwise."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            if strict:
                raise EvidenceError(f"unknown evidence keys {unknown}")
            log.warning("ignoring unknown evidence keys %s", unknown)
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def but(self, **changes: Any) -> Evidence:
        return dataclasses.replace(self, **changes)

    @property
    def last_seen(self) -> datetime | None:
        """When use was last seen, for the kinds that know it."""
        when = self.quiet_since or self.flat_since
        return datetime.fromisoformat(when) if when else None


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


    return Evidence.from_json(out, strict=True).to_json()


def describe(kind: IncidentKind, evidence: dict[str, Any] | Evidence, lang: str | None = None, *,
             tz: tzinfo = JST, confidence: bool = True) -> str:
    """The evidence in plain words and numbers, in the reader's language and the home's time zone.
    ``confidence=False`` leaves the detector's confidence out (families are not shown a percentage)."""
    e = (evidence if isinstance(evidence, Evidence) else Evidence.from_json(evidence)).to_json()

    def _hm(iso: str | None) -> str:
        if not iso:
            return "?"
        moment = datetime.fromisoformat(iso).astimezone(tz)
        return f"{moment.hour}:{moment.minute:02d}"

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
    scored = (IncidentKind.NO_WAKE, IncidentKind.INACTIVITY, IncidentKind.FLAT_USAGE)
    if confidence and "confidence" in e and kind in scored:
        text += " " + t("detection.confidence", lang, percent=round(float(e["confidence"]) * 100))
    return text
