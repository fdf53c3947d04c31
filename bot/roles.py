"""Who is adding the account: a family member (who registers a home) or the senior (who
links their own LINE with the code their family received). Asked once, after the greeting,
so a senior is never shown the family registration."""

from __future__ import annotations

from bot.context import Ctx
from bot.flows import engine
from bot.messages import build

ROLES = ("family", "senior")


def ask(ctx: Ctx) -> None:
    buttons = [build.postback(ctx.t(f"roles.{r}"), build.data(action="role", v=r), ctx.t(f"roles.{r}"))
               for r in ROLES]
    ctx.send(build.text(ctx.t("roles.ask"), buttons))


def choose(ctx: Ctx, fields: dict[str, str]) -> None:
    """A family member starts registering; the senior is asked for their family's code."""
    if fields.get("v") == "family":
        engine.start(ctx, engine.flows()["register"])
    elif fields.get("v") == "senior":
        engine.end(ctx)
        ctx.say("senior.follow.ask_code")
    else:
        ctx.say("bot.stale_button")
