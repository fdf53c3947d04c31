"""Wake and sleep times with LINE's time picker (typed 7:30, 6時半, 午前6時30分 work too), said back plainly.

```mermaid
stateDiagram-v2
    [*] --> wake: 時間設定
    wake --> sleep: picked / typed
    sleep --> [*]: saved, "午前7時に起きて午後10時に寝る"
```
"""

from __future__ import annotations

from enum import StrEnum

from bot.context import Ctx
from bot.flows.base import END, Answer, Conv, Flow, Step
from bot.flows.common import home_for, home_on_start
from bot.messages import build
from core import schedules, validate
from core.errors import NotFound


class S(StrEnum):
    WAKE = "wake"
    SLEEP = "sleep"


def _ask(key: str, initial: str):
    def ask(ctx: Ctx, conv: Conv) -> None:
        pick = ctx.t("bot.times.pick")
        ctx.send(build.text(ctx.t(key), [build.datetime_picker(pick, conv.button("pick"), "time", initial)]))

    return ask


def _picked(answer: Answer) -> str | None:
    return answer.params.get("time") or answer.text


def _wake(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    conv.data["wake"] = validate.local_time(_picked(answer)).strftime("%H:%M")
    return S.SLEEP


def _sleep(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    sleep = validate.local_time(_picked(answer))
    wake = validate.local_time(conv.data["wake"])
    home = home_for(ctx, conv.data["home_id"])
    if home is None:
        raise NotFound("home")
    schedules.set_times(ctx.session, home, wake=wake, sleep=sleep, by=ctx.watcher.id if ctx.watcher else None)
    ctx.say("bot.times.saved", wake=schedules.plain_time(wake, ctx.lang), sleep=schedules.plain_time(sleep, ctx.lang))
    return END


FLOW = Flow(
    name="times",
    states=S,
    start=S.WAKE,
    triggers=("時間設定", "起床・就寝時間", "times"),
    on_start=home_on_start("times"),
    steps={
        S.WAKE: Step(_ask("bot.times.ask_wake", "07:00"), _wake),
        S.SLEEP: Step(_ask("bot.times.ask_sleep", "22:00"), _sleep),
    },
)
