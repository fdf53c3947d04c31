"""Link a landlord's LINE group to a building with a code from the operator.

```mermaid
stateDiagram-v2
    [*] --> code: 連携 (in a group)
    code --> code: wrong code (counted)
    code --> [*]: linked: alerts of the building's units come here
```
"""

from __future__ import annotations

from enum import StrEnum

from bot.context import Ctx
from bot.flows.base import END, Answer, Conv, Flow, Step
from core import invites
from core.errors import ValidationError


class S(StrEnum):
    CODE = "code"


def _handle(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    key = f"group:{ctx.chat_id}"
    try:
        building = invites.link_group(ctx.session, answer.text or "", ctx.chat_id)
    except ValidationError as exc:
        if exc.code == "invite.invalid":
            invites.record_failure(ctx.session, key)
        raise
    building.language = ctx.lang  # the group's alerts and endings are written in the language it linked in
    ctx.say("bot.group.linked", building=building.name)
    return END


def _start(ctx: Ctx) -> dict[str, object] | None:
    if not ctx.is_group:
        ctx.say("bot.group.only_in_group")
        return None
    return {}


FLOW = Flow(
    name="group_link",
    states=S,
    start=S.CODE,
    triggers=("連携", "link"),
    groups=True,
    on_start=_start,
    steps={S.CODE: Step(lambda c, v: c.say("bot.group.ask_code"), _handle)},
)
