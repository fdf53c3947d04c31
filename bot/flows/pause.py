"""Pause watching: a trip (from–to with date pickers, or typed: 明日, 来週の水曜日, 12/3),
今夜は夜更かし, 明日は朝寝坊, or resume now.
The bot always says back the dates and when watching resumes.

```mermaid
stateDiagram-v2
    [*] --> menu: 一時停止
    menu --> trip_from: 旅行・お出かけ
    menu --> [*]: 夜更かし / 朝寝坊 / 再開
    trip_from --> trip_to
    trip_to --> [*]: saved
```
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from bot.context import Ctx
from bot.flows.base import END, Answer, Conv, Flow, Step
from bot.flows.common import date_bounds, home_for, home_on_start
from bot.messages import build
from core import pauses, validate
from core.errors import NotFound, ValidationError
from core.models import Home


class S(StrEnum):
    MENU = "menu"
    TRIP_FROM = "trip_from"
    TRIP_TO = "trip_to"


CHOICES = ("trip", "late_night", "sleep_in", "resume")


def when(ctx: Ctx, home: Home, at: datetime) -> str:
    local = pauses.local(home, at)
    if ctx.lang == "en":
        return local.strftime("%a %-d %b, %-I:%M %p")
    weekday = "月火水木金土日"[local.weekday()]
    return f"{local.month}月{local.day}日({weekday}) {local.hour}時{local.minute:02d}分"


def _home(ctx: Ctx, conv: Conv) -> Home:
    home = home_for(ctx, conv.data["home_id"])
    if home is None:
        raise NotFound("home")
    return home


def _ask_menu(ctx: Ctx, conv: Conv) -> None:
    buttons = [build.postback(ctx.t(f"bot.pause.choice.{c}"), conv.button(c), ctx.t(f"bot.pause.choice.{c}"))
               for c in CHOICES]
    ctx.send(build.card(ctx.t("bot.pause.title"), [ctx.t("bot.pause.ask")], buttons))


def _menu(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    choice = answer.fields.get("v") or answer.text
    home = _home(ctx, conv)
    by = ctx.watcher.id if ctx.watcher else None
    if choice == "trip":
        return S.TRIP_FROM
    if choice == "late_night":
        p = pauses.late_night(ctx.session, home, by)
        ctx.say("bot.pause.late_night_done", until=when(ctx, home, p.ends_at))
    elif choice == "sleep_in":
        p = pauses.sleep_in(ctx.session, home, by)
        ctx.say("bot.pause.sleep_in_done", start=when(ctx, home, p.starts_at), until=when(ctx, home, p.ends_at))
    elif choice == "resume":
        count = pauses.resume_now(ctx.session, home, by)
        ctx.say("bot.pause.resumed" if count else "bot.pause.nothing_to_resume")
    else:
        raise ValidationError("choice.use_buttons")
    return END


def _ask_date(key: str, min_key: str | None):
    def ask(ctx: Ctx, conv: Conv) -> None:
        home = _home(ctx, conv)
        low, high = date_bounds(home)
        low = conv.data.get(min_key, low) if min_key else low
        pick = ctx.t("bot.pause.pick_date")
        ctx.send(build.text(ctx.t(key), [build.datetime_picker(pick, conv.button("pick"), "date", low, low, high)]))

    return ask


def _from(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    home = _home(ctx, conv)
    first = validate.local_date(answer.params.get("date") or answer.text, pauses.local_today(home))
    pauses.check_trip(home, first, first)
    conv.data["first"] = first.isoformat()
    return S.TRIP_TO


def _to(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    home = _home(ctx, conv)
    last = validate.local_date(answer.params.get("date") or answer.text, pauses.local_today(home))
    first = validate.local_date(conv.data["first"])
    p = pauses.trip(ctx.session, home, first, last, ctx.watcher.id if ctx.watcher else None)
    ctx.say("bot.pause.trip_done", start=when(ctx, home, p.starts_at), until=when(ctx, home, p.ends_at))
    return END


FLOW = Flow(
    name="pause",
    states=S,
    start=S.MENU,
    triggers=("一時停止", "pause"),
    on_start=home_on_start("pause"),
    steps={
        S.MENU: Step(_ask_menu, _menu),
        S.TRIP_FROM: Step(_ask_date("bot.pause.ask_from", None), _from),
        S.TRIP_TO: Step(_ask_date("bot.pause.ask_to", "first"), _to),
    },
)
