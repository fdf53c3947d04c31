"""Join with an invite code: another child or a landlord joins a home, or the resident links
their own LINE (for "OK" check-ins). Wrong codes count towards a rate limit.

```mermaid
stateDiagram-v2
    [*] --> code: 招待コード
    code --> code: wrong code (ask again, counted)
    code --> [*]: joined / resident linked
```
"""

from __future__ import annotations

from enum import StrEnum

from bot.context import Ctx
from bot.flows.base import END, Answer, Conv, Flow, Step
from bot.richmenu import link_for
from core import audit, invites
from core.errors import ValidationError
from core.models import Home, Resident
from core.names import honorific


class S(StrEnum):
    CODE = "code"


def try_code(ctx: Ctx, code: str) -> None:
    """Redeem ``code`` for this user (watcher or resident invite); ValidationError if not valid."""
    chat_key = f"line:{ctx.user_id}"
    try:
        used = invites.redeem(ctx.session, code, chat_key, purpose=invites.PURPOSE_WATCHER)
    except ValidationError as exc:
        if exc.code != "invite.invalid":
            raise
        try:
            used = invites.redeem(ctx.session, code, chat_key, purpose=invites.PURPOSE_RESIDENT)
        except ValidationError as again:
            if again.code == "invite.invalid":
                invites.record_failure(ctx.session, chat_key)
            raise
    home = ctx.session.get(Home, used.invite.home_id)
    assert home is not None and home.resident is not None
    if used.purpose == invites.PURPOSE_RESIDENT:
        resident: Resident = home.resident
        resident.line_user_id = ctx.user_id
        audit.record(ctx.session, chat_key, "resident_line_linked", home_id=home.id)
        ctx.say("bot.join.resident_done")
        link_for(ctx)
        return
    watcher = ctx.ensure_watcher()
    invites.add_watcher(ctx.session, used.invite, watcher)
    ctx.say("bot.join.done", name=honorific(home.resident.display_name, ctx.lang))
    link_for(ctx)


def _handle(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    try_code(ctx, answer.text or "")
    return END


FLOW = Flow(
    name="join",
    states=S,
    start=S.CODE,
    triggers=("招待コード", "参加", "join"),
    steps={S.CODE: Step(lambda c, v: c.say("bot.join.ask"), _handle)},
)
