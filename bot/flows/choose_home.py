"""Which home? Asked before a home's flow when the watcher watches several homes.

```mermaid
stateDiagram-v2
    [*] --> choose: a flow that needs a home, several linked
    choose --> [*]: the chosen flow starts with that home
```
"""

from __future__ import annotations

from enum import StrEnum

from bot.context import Ctx
from bot.flows.base import END, Answer, Conv, Flow, Step
from bot.flows.common import home_for
from bot.messages import build
from core import homes
from core.errors import AccessDenied, ValidationError


class S(StrEnum):
    CHOOSE = "choose"


def _ask(ctx: Ctx, conv: Conv) -> None:
    linked = homes.homes_of(ctx.session, ctx.watcher) if ctx.watcher else []
    buttons = [build.postback(h.resident.display_name if h.resident else f"#{h.id}", conv.button(str(h.id)))
               for h in linked]
    ctx.send(build.text(ctx.t("bot.choose_home.ask"), buttons))


def _handle(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    from bot.flows import engine

    try:
        home_id = int(answer.fields.get("v", ""))
    except ValueError:
        raise ValidationError("choice.use_buttons") from None
    if home_for(ctx, home_id) is None:
        raise AccessDenied("not linked")
    target = engine.flows().get(str(conv.data.get("then")))
    if target is None:
        return END
    engine.start(ctx, target, {"home_id": home_id})
    return END


FLOW = Flow(name="choose_home", states=S, start=S.CHOOSE, steps={S.CHOOSE: Step(_ask, _handle)})
