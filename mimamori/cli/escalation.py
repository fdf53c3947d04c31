"""``mimamori escalation``: run the escalation tick and the outbox by hand, and show the
operator what did not go out (failed deliveries, LINE quota warnings)."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from core.settings import get_settings


def register(cli: click.Group) -> None:
    @cli.group()
    def escalation() -> None:
        """Escalation steps and outgoing messages."""

    @escalation.command()
    @click.option("--limit", default=500, show_default=True)
    def tick(limit: int) -> None:
        """Run every escalation step that is due now."""
        from core.db import init_db
        from core.escalation.engine import tick as run_tick

        init_db(get_settings())
        click.echo(f"steps run: {run_tick(limit=limit)}")

    @escalation.command()
    @click.option("--limit", default=100, show_default=True)
    def dispatch(limit: int) -> None:
        """Send the outbox messages that are due now."""
        from core.db import init_db
        from core.escalation.dispatcher import dispatch_due

        init_db(get_settings())
        click.echo(f"messages sent: {dispatch_due(limit=limit)}")

    @escalation.command()
    def outbox() -> None:
        """Messages by state, and the last failures (ids and channels only)."""
        from core.db import init_db, session_scope
        from core.enums import OutboxState
        from core.models import AuditLog, OutboxMessage

        init_db(get_settings())
        with session_scope() as s:
            for state, count in s.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)):
                click.echo(f"{state.value:>10}: {count}")
            failed = s.scalars(select(OutboxMessage).where(OutboxMessage.state == OutboxState.FAILED)
                               .order_by(OutboxMessage.id.desc()).limit(20))
            for row in failed:
                click.echo(f"failed #{row.id} {row.channel.value} incident={row.incident_id} "
                           f"attempts={row.attempts}: {row.last_error}")
            quota = s.scalar(select(func.count()).where(AuditLog.action == "line_quota_exhausted"))
            if quota:
                click.echo(f"WARNING: LINE monthly quota exhausted {quota} time(s); watchers moved to SMS/email")
