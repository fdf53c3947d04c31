"""Policies are declared data: validated when saved, defaults filled, snapshotted at open."""

from __future__ import annotations

import pytest

from core.db import session_scope
from core.enums import ContactMethod, IncidentKind
from core.errors import ValidationError
from core.escalation.policy import DEFAULT_EMERGENCY_POLICY, snapshot_for, validate_policy
from core.models import Home, Incident
from tests.core.escalation.conftest import open_emergency


def test_defaults_are_filled_in() -> None:
    policy = validate_policy({"steps": [{"kind": "contact_resident"}, {"kind": "alert_family"}]})
    assert policy["steps"][0] == {"kind": "contact_resident", "attempts": 3, "interval_minutes": 10,
                                  "confirm_within_minutes": 30}
    assert policy["steps"][1]["wait_minutes"] == 15


@pytest.mark.parametrize(("policy", "code"), [
    ({}, "escalation.policy_no_steps"),
    ({"steps": [{"kind": "phone_a_friend"}]}, "escalation.policy_unknown_step"),
    ({"steps": [{"kind": "contact_resident", "attempts": 0}, {"kind": "alert_family"}]},
     "escalation.policy_out_of_range"),
    ({"steps": [{"kind": "contact_resident", "attempts": "3"}, {"kind": "alert_family"}]},
     "escalation.policy_bad_value"),
    ({"steps": [{"kind": "alert_family", "colour": "red"}]}, "escalation.policy_unknown_field"),
    ({"steps": [{"kind": "alert_family"}, {"kind": "contact_resident"}]}, "escalation.policy_order"),
    ({"steps": [{"kind": "contact_resident"}]}, "escalation.policy_needs_family"),
    ({"steps": [{"kind": "alert_family"}, {"kind": "alert_dispatch", "webhook_url": "ftp://x"}]},
     "escalation.policy_bad_value"),
    ({"steps": [{"kind": "alert_family"}, {"kind": "alert_dispatch", "language": "fr"}]},
     "escalation.policy_bad_value"),
])
def test_bad_policies_are_refused_with_a_code(policy: dict, code: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_policy(policy)
    assert err.value.code == code


def test_snapshot_is_taken_at_open_and_later_edits_do_not_change_it(make_home, clock) -> None:
    home = make_home(contact=ContactMethod.SMS,
                     escalation_policy={"steps": [{"kind": "contact_resident", "attempts": 2},
                                                  {"kind": "alert_family", "wait_minutes": 5}]})
    incident_id = open_emergency(home)
    with session_scope() as s:
        s.get(Home, home.id).escalation_policy = DEFAULT_EMERGENCY_POLICY
    with session_scope() as s:
        steps = s.get(Incident, incident_id).policy_snapshot["steps"]
    assert [st["kind"] for st in steps] == ["contact_resident", "alert_family"]
    assert steps[0]["method"] == "sms" and steps[1]["wait_minutes"] == 5


def test_no_consent_means_the_resident_is_not_called(make_home, clock) -> None:
    home = make_home(consent=False)
    with session_scope() as s:
        h = s.get(Home, home.id)
        assert snapshot_for(h, IncidentKind.NO_WAKE)["steps"][0]["method"] is None
        assert snapshot_for(h, IncidentKind.OVER_USAGE)["steps"] == [{"kind": "notify_watchers"}]


def test_every_policy_error_code_has_a_text() -> None:
    import inspect

    from core.escalation import policy
    from core.texts import catalog

    codes = set(__import__("re").findall(r'"(escalation\.policy_\w+)"', inspect.getsource(policy)))
    assert codes and codes <= set(catalog("ja")) and codes <= set(catalog("en"))


def test_the_step_table_covers_every_kind_once_and_refuses_a_gap() -> None:
    from dataclasses import replace

    from core.escalation.kinds import StepKind, check_complete
    from core.escalation.policy import emergency_kinds
    from core.escalation.steps import SPECS

    check_complete(SPECS)
    assert set(SPECS) == set(StepKind)
    assert [str(k) for k in emergency_kinds()] == [s["kind"] for s in DEFAULT_EMERGENCY_POLICY["steps"]]
    with pytest.raises(RuntimeError, match="without a spec"):
        check_complete({k: v for k, v in SPECS.items() if k is not StepKind.ALERT_DISPATCH})
    with pytest.raises(RuntimeError, match="share a rank"):
        check_complete({**SPECS, StepKind.NOTIFY_WATCHERS: replace(SPECS[StepKind.NOTIFY_WATCHERS], emergency_rank=0)})
