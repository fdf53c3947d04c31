"""The escalation driver: claim due incidents, check acknowledgement, run one step.

``tick`` claims due incidents in small batches (PostgreSQL ``FOR UPDATE SKIP LOCKED``,
so many workers share the work; SQLite has one writer at a time), and for each one,
checks acknowledgement first, bumps the fencing token with a
compare-and-set (a stale or duplicate run changes nothing), runs the current step from
the dispatch table in core.escalation.steps, records an audit row and stores where the
incident goes next. The step's messages are written to the outbox in the same
transaction; core.escalation.dispatcher sends them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from core import audit, clock
from core.db import is_postgres, session_scope
from core.enums import IncidentState
from core.errors import StaleClaim
from core.escalation.faults import checkpoint
from core.escalation.kinds import StepKind
from core.escalation.steps import SPECS, Advance, Finish, StepContext, Wait, result_code
from core.models import EscalationAttempt, Home, Incident
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)
BATCH = 10  # incidents stepped per transaction: a worker killed mid-batch loses little
RETRY_AFTER_ERROR = timedelta(minutes=1)


def _claim(session: Session, limit: int, incident_id: int | None = None) -> list[Incident]:
    stmt = (
        select(Incident)
        .where(Incident.closed_at.is_(None), Incident.next_due_at.is_not(None), Incident.next_due_at <= clock.now())
        .order_by(Incident.next_due_at, Incident.id)
        .limit(limit)
    )
    if incident_id is not None:
        stmt = stmt.where(Incident.id == incident_id)
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def _fence(session: Session, incident: Incident) -> None:
    """Compare-and-set the fencing token (and move OPEN to ESCALATING in the same statement);
    StaleClaim if another run got there first."""
    seen = incident.fence
    state = IncidentState.ESCALATING if incident.state is IncidentState.OPEN else incident.state
    result = session.execute(
        update(Incident).where(Incident.id == incident.id, Incident.fence == seen)
        .values(fence=seen + 1, state=state)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleClaim(f"incident {incident.id} moved past fence {seen}")
    set_committed_value(incident, "fence", seen + 1)
    set_committed_value(incident, "state", state)


def run_step(session: Session, incident: Incident, settings: Settings | None = None,
             known_attempts: list[EscalationAttempt] | None = None) -> str:
    """Run the incident's current step once; returns what happened (for the audit and tests)."""
    from core.incidents import close

    settings = settings or get_settings()
    now = clock.now()
    if incident.acknowledged_at is not None or incident.closed_at is not None:
        incident.next_due_at = None
        return "acknowledged"
    _fence(session, incident)  # the first write: a stale run stops here having changed nothing
    steps = (incident.policy_snapshot or {}).get("steps", [])
    if incident.step_index >= len(steps):
        incident.next_due_at = None
        return "exhausted"
    step = steps[incident.step_index]
    home = session.get(Home, incident.home_id)
    assert home is not None
    ctx = StepContext(session, incident, home, step, incident.step_index, now, settings, known_attempts)
    result = SPECS[StepKind(step["kind"])].run(ctx)
    audit.record(session, "escalation", "step_run", home_id=home.id, incident_id=incident.id,
                 step=step["kind"], index=incident.step_index, result=result_code(result))
    if isinstance(result, Wait):
        incident.next_due_at = result.until
    elif isinstance(result, Advance):
        incident.step_index += 1
        if incident.step_index < len(steps):
            incident.next_due_at = now
        else:
            incident.next_due_at = None
            audit.record(session, "escalation", "escalation_exhausted", home_id=home.id, incident_id=incident.id)
    elif isinstance(result, Finish):
        close(session, incident, result.reason, "escalation")
    return result_code(result)


def _prefetch(session: Session, claimed: list[Incident]) -> tuple[list[Home], dict[int, list[EscalationAttempt]]]:
    """Load the batch's homes, residents, buildings and current-step attempts in a few queries.
    The homes are returned so the caller holds them: the identity map only keeps weak references."""
    home_ids = {i.home_id for i in claimed}
    homes = list(session.scalars(select(Home).where(Home.id.in_(home_ids))
                                 .options(selectinload(Home.resident), selectinload(Home.building))))
    by_incident: dict[int, list[EscalationAttempt]] = {i.id: [] for i in claimed}
    step_of = {i.id: i.step_index for i in claimed}
    for attempt in session.scalars(select(EscalationAttempt).where(EscalationAttempt.incident_id.in_(step_of))
                                   .order_by(EscalationAttempt.id)):
        if attempt.step_index == step_of[attempt.incident_id]:
            by_incident[attempt.incident_id].append(attempt)
    return homes, by_incident


def _fast_batch(session: Session, claimed: list[Incident], settings: Settings) -> None:
    """Every step of the batch in one transaction, no savepoints: the common case."""
    _homes, known = _prefetch(session, claimed)
    for incident in claimed:
        try:
            run_step(session, incident, settings, known[incident.id])
        except StaleClaim:
            log.info("incident %s: stale claim skipped", incident.id)


def _careful_one(incident_id: int, settings: Settings) -> None:
    """One incident in its own transaction and savepoint, after its batch failed."""
    with session_scope() as session:
        claimed = [i for i in _claim(session, 1, incident_id)]
        if not claimed:
            return
        incident = claimed[0]
        try:
            with session.begin_nested():
                run_step(session, incident, settings)
        except StaleClaim:
            return
        except Exception:
            log.exception("incident %s: step failed; retrying later", incident.id)
            session.refresh(incident)
            incident.next_due_at = clock.now() + RETRY_AFTER_ERROR
            audit.record(session, "escalation", "step_failed", home_id=incident.home_id, incident_id=incident.id)
        checkpoint("engine.before_commit")


def tick(limit: int = 500, settings: Settings | None = None) -> int:
    """Run every due step (up to ``limit``); returns how many incidents were stepped.

    Batches run in one transaction each; if any step in a batch raises, the batch is
    rolled back and its incidents are run one by one, so one bad incident cannot hold
    up the others.
    """
    settings = settings or get_settings()
    done = 0
    while done < limit:
        failed: list[int] = []
        with session_scope() as session:
            claimed = _claim(session, min(BATCH, limit - done))
            if not claimed:
                break
            try:
                _fast_batch(session, claimed, settings)
            except Exception:
                log.warning("a step failed in a batch of %d; running them one by one", len(claimed))
                failed = [i.id for i in claimed]
                session.rollback()
            else:
                checkpoint("engine.before_commit")
        checkpoint("engine.after_commit")
        for incident_id in failed:
            _careful_one(incident_id, settings)
        done += len(claimed)
    return done
