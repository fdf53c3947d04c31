"""Heat and cold messages for me: a family member turns them off or on by chatting.

Only the watcher's own switch (``HomeWatcher.notify_climate``, through core.climate.switches,
audited): the senior's own nudge and the other watchers are untouched. When the whole home
is switched off (by the operator), the card says so, since turning one's own messages on
then changes nothing yet. Everything is a reply to the chat, never a push.

```mermaid
stateDiagram-v2
    [*] --> choice: 暑さ寒さのお知らせ (or from 設定)
    choice --> [*]: 受け取る / 受け取らない
    choice --> choice: anything else (choice.use_buttons)
```
"""

from __future__ import annotations

from enum import StrEnum

from bot.context import Ctx
from bot.flows.base import END, Answer, Conv, Flow, Step
from bot.flows.common import home_for, home_on_start
from bot.messages import build
from core import homes, names
from core.climate import switches
from core.errors import NotFound, ValidationError
from core.models import Home

TRIGGERS = ("暑さ寒さのお知らせ", "暑さ・寒さのお知らせ", "熱中症のお知らせ", "heat and cold", "heat alerts")
TYPED = {"on": "on", "off": "off", "オン": "on", "オフ": "off", "受け取る": "on", "受け取らない": "off",
         "止める": "off", "とめる": "off", "再開": "on"}


class S(StrEnum):
    CHOICE = "choice"


def _home(ctx: Ctx, conv: Conv) -> Home:
    home = home_for(ctx, conv.data["home_id"])
    if home is None or ctx.watcher is None:
        raise NotFound("home")
    return home


def _ask(ctx: Ctx, conv: Conv) -> None:
    home = _home(ctx, conv)
    link = homes.link_of(ctx.session, ctx.watcher, home.id)
    state = ctx.t("bot.settings.on" if link.notify_climate else "bot.settings.off")
    lines = [names.as_seen_by(home, link, ctx.lang), ctx.t("bot.climate.about"), ctx.t("bot.climate.now", value=state)]
    if not home.climate_watch_enabled:
        lines.append(ctx.t("bot.climate.home_off"))
    buttons = [build.postback(ctx.t(f"bot.climate.choice.{v}"), conv.button(v), ctx.t(f"bot.climate.choice.{v}"))
               for v in ("on", "off")]
    ctx.send(build.card(ctx.t("bot.climate.title"), lines, buttons))


def _choose(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    raw = (answer.value or "").strip()
    choice = TYPED.get(raw) or TYPED.get(raw.lower())
    if choice is None:
        raise ValidationError("choice.use_buttons")
    home = _home(ctx, conv)
    assert ctx.watcher is not None
    switches.set_watcher(ctx.session, home, ctx.watcher.id, choice == "on", actor=f"watcher:{ctx.watcher.id}")
    link = homes.link_of(ctx.session, ctx.watcher, home.id)
    ctx.say(f"bot.climate.{choice}_done", name=names.as_seen_by(home, link, ctx.lang))
    if choice == "on" and not home.climate_watch_enabled:
        ctx.say("bot.climate.home_off")
    return END


FLOW = Flow(
    name="climate",
    states=S,
    start=S.CHOICE,
    triggers=TRIGGERS,
    on_start=home_on_start("climate"),
    steps={S.CHOICE: Step(_ask, _choose)},
)
