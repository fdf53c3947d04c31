"""The seam between detection and messages: the family's alert built from a real detector finding.

Detection writes the evidence (core.detection.evidence.Evidence), the escalation reads it:
the family's card must carry the detector's own sentence ("いつもは7:00ごろまでに…") and
when use was last seen, in the home's time zone. No key is invented here: the incident is
opened by live detection over stored readings.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db import session_scope
from core.detection.evidence import Evidence, EvidenceError, describe
from core.detection.live import refresh_baselines, run_detection
from core.enums import EMERGENCY_KINDS, IncidentKind
from core.escalation.messages import local_time
from core.incidents import open_incident
from core.models import Home, Incident
from tests.bot.conftest import texts_of
from tests.core.detection.test_live import NOW, _home_with_history
from tests.core.detection.test_lookback import late_quiet_stretch
from tests.core.escalation.conftest import run


def test_the_family_alert_carries_the_detectors_own_evidence(make_home, make_watcher, clock, fake_line) -> None:
    home = _home_with_history(make_home, 1, "quiet", consent=False)  # no senior contact: the family at once
    watcher = make_watcher(home, relation_label="お母さん")
    clock.set(NOW)
    with session_scope() as s:
        refresh_baselines(s, NOW)
        [incident] = run_detection(s, NOW)
        evidence = Evidence.from_json(incident.evidence, strict=True)
        assert evidence.quiet_since is not None and evidence.last_seen is not None
        h = s.get(Home, home.id)
        sentence = describe(incident.kind, evidence, "ja", tz=h.tz, confidence=False)
        last_seen = local_time(evidence.last_seen, h, "ja")
        kind = incident.kind
    run()
    [card] = fake_line.state.messages_to(watcher.line_user_id)
    text = texts_of(card)
    assert sentence in text and "?" not in sentence
    assert kind is IncidentKind.NO_WAKE  # a quiet morning after a normal evening: no wake-up
    assert sentence.startswith(f"いつもは{evidence.usual_wake}ごろまでに")
    assert last_seen is not None and last_seen in text
    assert "確からしさ" not in text  # no bare percentage for a family


def test_a_quiet_stretch_older_than_the_window_tells_the_family_when_use_really_stopped(
    make_home, make_watcher, clock, fake_line,
) -> None:
    """Detection's lookback -> incident -> escalation -> outbox -> dispatcher -> fake LINE: the family
    hears of the late-seen stretch once, with the last use days before the window (22:30), not the
    window's start."""
    home, _ = late_quiet_stretch(make_home, clock, consent=False)  # the first emergency, closed by a spike
    watcher = make_watcher(home, relation_label="お母さん")  # joins now: hears only of the late stretch
    with session_scope() as s:
        [late] = s.scalars(select(Incident).where(Incident.home_id == home.id, Incident.closed_at.is_(None),
                                                  Incident.kind.in_(EMERGENCY_KINDS))).all()
        last_seen = local_time(Evidence.from_json(late.evidence).last_seen, s.get(Home, home.id), "ja")
    run()
    cards = [texts_of(m) for m in fake_line.state.messages_to(watcher.line_user_id)]
    assert last_seen is not None and "22:30" in last_seen
    assert sum(last_seen in text for text in cards) == 1


def test_evidence_a_detector_never_writes_is_refused_when_the_incident_opens(make_home, clock) -> None:
    home = make_home()
    with session_scope() as s, pytest.raises(EvidenceError):
        open_incident(s, s.get(Home, home.id), IncidentKind.NO_WAKE, window_start=clock.now() - timedelta(hours=2),
                      evidence={"last_activity_at": clock.now().isoformat()})
