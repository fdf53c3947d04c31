"""LINE pushes counted, projected and priced per plan; the operator warned before the quota runs out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core import push_budget
from core.db import session_scope
from core.enums import Channel, OutboxState
from core.escalation.channels.fakes import RecordingSender
from core.escalation.dispatcher import dispatch_due
from core.models import AuditLog
from core.outbox import enqueue
from core.push_budget import PLANS, push_month, warn_if_nearing_quota

# 2026-06-11 00:00 JST: ten days of June gone (LINE counts the calendar month in Japan time).
TENTH_DAY = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)


def _sent(n: int, at: datetime, channel: Channel = Channel.LINE, prefix: str = "p") -> None:
    with session_scope() as s:
        for i in range(n):
            row = enqueue(s, channel=channel, recipient=f"U{i:032x}", payload={"messages": []}, key=f"{prefix}{i}",
                          fresh_key=True)
            row.state, row.sent_at = OutboxState.SENT, at


@pytest.mark.parametrize(("plan", "pushes", "bill", "refused"), [
    ("free", 150, 0, 0), ("free", 260, 0, 60),
    ("light", 5_000, 5_000, 0), ("light", 6_000, 5_000, 1_000),
    ("standard", 30_000, 15_000, 0), ("standard", 100_000, 15_000 + 70_000 * 3, 0),
])
def test_each_plan_prices_a_month_of_pushes(plan: str, pushes: int, bill: int, refused: int) -> None:
    assert PLANS[plan].bill(pushes) == bill
    assert PLANS[plan].refused(pushes) == refused


def test_the_month_counts_sent_line_pushes_only_and_projects_them(settings, make_home, db) -> None:
    for _ in range(4):
        make_home()
    _sent(40, TENTH_DAY - timedelta(days=2))
    _sent(7, datetime(2026, 5, 31, 14, 0, tzinfo=UTC), prefix="may")  # 23:00 JST on 5/31: last month
    _sent(5, TENTH_DAY, channel=Channel.EMAIL, prefix="mail")  # email is not LINE
    with session_scope() as s:
        enqueue(s, channel=Channel.LINE, recipient="U1", payload={"messages": []}, key="pending")
        month = push_month(s, TENTH_DAY, settings)
    assert (month.pushes, month.homes, month.days_in_month) == (40, 4, 30)
    assert month.elapsed_days == pytest.approx(10.0)
    assert month.projected == pytest.approx(120.0)
    assert month.per_home_month == pytest.approx(30.0)


def test_the_operator_is_warned_once_a_month_before_the_quota_runs_out(settings, db, clock) -> None:
    settings.line_plan = "free"  # 200 a month; warn at 80 %
    clock.set(TENTH_DAY)
    _sent(50, TENTH_DAY - timedelta(days=1))  # pace: 150 by the month's end
    with session_scope() as s:
        assert warn_if_nearing_quota(s, TENTH_DAY, settings) is None
    _sent(10, TENTH_DAY, prefix="more")  # pace: 180, over 160 while 140 are still left
    with session_scope() as s:
        assert warn_if_nearing_quota(s, TENTH_DAY, settings) == "projected"
    clock.advance(days=5)
    with session_scope() as s:
        assert warn_if_nearing_quota(s, clock.now(), settings) is None  # once a month
        [row] = s.scalars(select(AuditLog).where(AuditLog.action == push_budget.WARNING_ACTION))
        assert row.detail["pushes"] == 60 and row.detail["quota"] == 200 and row.detail["projected"] == 180
    july = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)
    _sent(161, july, prefix="july")  # already 80 % used on the 1st: said at once, a new month
    clock.set(july)
    with session_scope() as s:
        assert warn_if_nearing_quota(s, july, settings) == "used"


def test_the_dispatcher_checks_the_quota_after_pushing(settings, db, clock) -> None:
    settings.line_plan = "free"
    clock.set(TENTH_DAY)
    _sent(170, TENTH_DAY - timedelta(hours=1))
    with session_scope() as s:
        enqueue(s, channel=Channel.LINE, recipient="U1", payload={"messages": [{"type": "text", "text": "x"}]},
                key="now")
    push_budget.reset_throttle()
    assert dispatch_due(channels={Channel.LINE: RecordingSender()}, settings=settings) == 1
    with session_scope() as s:
        assert s.scalar(select(func.count()).where(AuditLog.action == push_budget.WARNING_ACTION)) == 1


def test_status_and_metrics_show_pushes_per_home_month_and_the_bill(settings, db, clock, make_home) -> None:
    from bot.app import create_app
    from mimamori.cli.main import cli
    from tests.bot.test_metrics import parse, value

    settings.line_plan = "standard"
    clock.set(TENTH_DAY)
    for _ in range(2):
        make_home()
    _sent(20, TENTH_DAY - timedelta(days=1))
    data = json.loads(CliRunner().invoke(cli, ["status", "--json"]).output)
    assert data["line"] == {"month": "2026-06", "plan": "standard", "quota": 30_000, "pushes": 20,
                            "projected_pushes": 60, "homes": 2, "pushes_per_home_month": 30.0,
                            "projected_bill_yen": 15_000, "quota_warning": None}
    text = CliRunner().invoke(cli, ["status"]).output
    assert "LINE pushes 2026-06 (standard plan, 30,000 included): 20 sent, 60 projected" in text
    samples = parse(create_app(settings).test_client().get("/metrics").get_data(as_text=True))
    assert value(samples, "mimamori_line_pushes_month") == 20
    assert value(samples, "mimamori_line_pushes_per_home_month") == 30.0
    assert value(samples, "mimamori_line_projected_bill_yen", plan="standard") == 15_000
    assert value(samples, "mimamori_line_quota_warning") == 0


def test_a_burst_that_ends_inside_the_window_is_still_judged_after_it(settings, db, clock) -> None:
    settings.line_plan = "free"
    clock.set(TENTH_DAY)
    push_budget.reset_throttle()
    assert push_budget.after_pushes(settings, pushed=True) is None  # the burst's first batch: nothing yet
    _sent(170, TENTH_DAY)  # the rest of the burst goes out within the 5 minutes
    assert push_budget.after_pushes(settings, pushed=True) is None  # throttled
    assert push_budget.after_pushes(settings, pushed=False) is None  # still inside the window
    push_budget._last_check -= push_budget.CHECK_EVERY_SECONDS  # the window passes; nothing more is pushed
    assert push_budget.after_pushes(settings, pushed=False) == "used"
    assert push_budget.after_pushes(settings, pushed=False) is None  # nothing pushed since: no new look
