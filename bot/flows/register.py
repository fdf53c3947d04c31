"""Register a home: who you are, the resident's name, the five contract items, how to reach
them, and their consent — then one confirmation, and :func:`core.homes.register_home`.

```mermaid
stateDiagram-v2
    [*] --> relation
    relation --> name --> holder --> address --> supply_point --> customer_number --> plan
    plan --> phone --> contact --> consent
    consent --> consent: まだ (not yet)
    consent --> confirm --> [*]: 登録する
    confirm --> relation: やり直す
```
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from bot.context import Ctx
from bot.flows.base import END, Answer, Conv, Flow, Step
from bot.messages import build
from core import consent, homes, invites, validate
from core.enums import ContactMethod, WatcherRole
from core.errors import ValidationError
from core.meters.supply_point import parse_supply_point


class S(StrEnum):
    RELATION = "relation"
    NAME = "name"
    HOLDER = "holder"
    ADDRESS = "address"
    SUPPLY_POINT = "supply_point"
    CUSTOMER_NUMBER = "customer_number"
    PLAN = "plan"
    PHONE = "phone"
    CONTACT = "contact"
    CONSENT = "consent"
    CONFIRM = "confirm"


PLANS = ("従量電灯B", "従量電灯C", "スタンダードS")


def _choices(ctx: Ctx, conv: Conv, key: str, options: tuple[str, ...]) -> None:
    buttons = [build.postback(ctx.t(f"bot.register.{conv.step}.{o}"), conv.button(o),
                              ctx.t(f"bot.register.{conv.step}.{o}")) for o in options]
    ctx.send(build.text(ctx.t(key, name=conv.data.get("resident_name", "")), buttons))


def _ask_text(key: str):
    def ask(ctx: Ctx, conv: Conv) -> None:
        ctx.say(key, name=conv.data.get("resident_name", ""))

    return ask


def _take(field: str, check, nxt: S):
    """A step that validates typed text with ``check`` and stores it under ``field``."""

    def handle(ctx: Ctx, conv: Conv, answer: Answer) -> str:
        if answer.text is None:
            raise ValidationError("text.empty")
        conv.data[field] = check(answer.text)
        return nxt

    return handle


def _choice(field: str, allowed: tuple[str, ...], nxt: S):
    def handle(ctx: Ctx, conv: Conv, answer: Answer) -> str:
        if answer.fields.get("v") not in allowed:
            raise ValidationError("choice.use_buttons")
        conv.data[field] = answer.fields["v"]
        return nxt

    return handle


def _on_start(ctx: Ctx) -> dict[str, object]:
    ctx.ensure_watcher()
    ctx.say("bot.register.intro")
    return {}


def _handle_consent(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    value = answer.fields.get("v")
    if value == "not_yet":
        ctx.say("bot.register.consent_needed")
        return S.CONSENT
    conv.data["consent_method"] = consent.method(value)
    return S.CONFIRM


def _application(conv: Conv) -> homes.Application:
    d = conv.data
    return homes.Application(
        relation=WatcherRole(d["relation"]), resident_name=d["resident_name"], contract_holder=d["holder"],
        address=d["address"], supply_point=d["supply_point"], customer_number=d["customer_number"],
        plan=d["plan"], phone=d["phone"], contact=ContactMethod(d["contact"]), consent_method=d["consent_method"],
    )


def _ask_confirm(ctx: Ctx, conv: Conv) -> None:
    d = conv.data
    sp = parse_supply_point(d["supply_point"])
    lines = [
        ctx.t("bot.register.summary.relation", value=ctx.t(f"bot.register.relation.{d['relation']}")),
        ctx.t("bot.register.summary.name", value=d["resident_name"]),
        ctx.t("bot.register.summary.holder", value=d["holder"]),
        ctx.t("bot.register.summary.address", value=d["address"]),
        ctx.t("bot.register.summary.supply_point", value=sp.number, area=sp.area_name),
        ctx.t("bot.register.summary.customer_number", value=d["customer_number"]),
        ctx.t("bot.register.summary.plan", value=d["plan"]),
        ctx.t("bot.register.summary.phone", value=d["phone"]),
        ctx.t("bot.register.summary.contact", value=ctx.t(f"bot.register.contact.{d['contact']}")),
        ctx.t("bot.register.summary.consent", value=ctx.t(f"bot.register.consent.{d['consent_method']}")),
    ]
    ok, redo = ctx.t("bot.register.confirm.ok"), ctx.t("bot.register.confirm.redo")
    ctx.send(build.card(ctx.t("bot.register.confirm.title"), lines,
                        [build.postback(ok, conv.button("ok"), ok), build.postback(redo, conv.button("redo"), redo)]))


def _handle_confirm(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    if answer.fields.get("v") == "redo":
        conv.data.clear()
        return S.RELATION
    if answer.fields.get("v") != "ok":
        raise ValidationError("choice.use_buttons")
    watcher = ctx.ensure_watcher()
    home = homes.register_home(ctx.session, watcher, _application(conv))
    ctx.say("bot.register.done", name=conv.data["resident_name"])
    if conv.data["contact"] == ContactMethod.LINE:
        code = invites.create(ctx.session, purpose=invites.PURPOSE_RESIDENT, home_id=home.id,
                              created_by=watcher.id, ttl=timedelta(days=7))
        ctx.say("bot.register.resident_code", code=code, name=conv.data["resident_name"])
    times = ctx.t("bot.menu.times")
    ctx.say("bot.register.next_times", quick=[build.message_action(times)])
    return END


FLOW = Flow(
    name="register",
    states=S,
    start=S.RELATION,
    triggers=("登録", "register"),
    on_start=_on_start,
    ttl=timedelta(hours=24),
    steps={
        S.RELATION: Step(lambda c, v: _choices(c, v, "bot.register.ask.relation", ("family", "landlord")),
                         _choice("relation", ("family", "landlord"), S.NAME)),
        S.NAME: Step(_ask_text("bot.register.ask.name"), _take("resident_name", validate.name, S.HOLDER)),
        S.HOLDER: Step(_ask_text("bot.register.ask.holder"),
                       _take("holder", lambda v: validate.clean_text(v, max_len=100, code="holder"), S.ADDRESS)),
        S.ADDRESS: Step(_ask_text("bot.register.ask.address"),
                        _take("address", lambda v: validate.clean_text(v, max_len=200, code="address"),
                              S.SUPPLY_POINT)),
        S.SUPPLY_POINT: Step(_ask_text("bot.register.ask.supply_point"),
                             _take("supply_point", lambda v: parse_supply_point(v).number, S.CUSTOMER_NUMBER)),
        S.CUSTOMER_NUMBER: Step(
            _ask_text("bot.register.ask.customer_number"),
            _take("customer_number", lambda v: validate.clean_text(v, max_len=30, code="customer_number"), S.PLAN)),
        S.PLAN: Step(lambda c, v: c.send(build.text(c.t("bot.register.ask.plan"),
                                                    [build.message_action(p) for p in PLANS])),
                     _take("plan", lambda v: validate.clean_text(v, max_len=50, code="plan"), S.PHONE)),
        S.PHONE: Step(_ask_text("bot.register.ask.phone"), _take("phone", validate.phone_e164, S.CONTACT)),
        S.CONTACT: Step(lambda c, v: _choices(c, v, "bot.register.ask.contact", ("voice", "sms", "line")),
                        _choice("contact", ("voice", "sms", "line"), S.CONSENT)),
        S.CONSENT: Step(lambda c, v: _choices(c, v, "bot.register.ask.consent",
                                              ("in_person", "phone", "written", "not_yet")),
                        _handle_consent),
        S.CONFIRM: Step(_ask_confirm, _handle_confirm),
    },
)
