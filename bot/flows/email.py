"""Add email as a channel: ask the address, then alerts also go there.

```mermaid
stateDiagram-v2
    [*] --> address: メールも受け取る
    address --> [*]: saved
```
"""

from __future__ import annotations

from enum import StrEnum

from bot.context import Ctx
from bot.flows.base import END, Answer, Conv, Flow, Step
from core import audit, homes, validate
from core.enums import Channel


class S(StrEnum):
    ADDRESS = "address"


def _handle(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    address = validate.email(answer.text)
    watcher = ctx.ensure_watcher()
    watcher.email = address
    for home in homes.homes_of(ctx.session, watcher):
        link = homes.link_of(ctx.session, watcher, home.id)
        link.channels = sorted({*link.channels, Channel.EMAIL.value})
    audit.record(ctx.session, f"watcher:{watcher.id}", "channels_changed", channels="line,email")
    ctx.say("bot.settings.email_saved")
    return END


def _start(ctx: Ctx) -> dict[str, object] | None:
    if ctx.watcher is None or not homes.homes_of(ctx.session, ctx.watcher):
        ctx.say("bot.no_home_yet")
        return None
    return {}


FLOW = Flow(
    name="email",
    states=S,
    start=S.ADDRESS,
    triggers=("メールも受け取る", "add email"),
    on_start=_start,
    steps={S.ADDRESS: Step(lambda c, v: c.say("bot.settings.ask_email"), _handle)},
)
