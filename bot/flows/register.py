"""Register a home. The chat keeps what is quick to tap (who you are, what to call them, how
to reach them, consent); the written details go through one form (:mod:`bot.liff.routes`).

Nothing is lost on the way: the draft is kept 7 days (any word picks it up again), the
meter numbers may come later (the home waits as ``awaiting_meter``), and 「まだです」 at
consent registers everything and offers a text to show the senior; consent is recorded
later with one tap (:func:`bot.commands.record_consent`). Any answer can be changed from
the confirmation card without starting again.

```mermaid
stateDiagram-v2
    [*] --> relation
    relation --> name: 家族です / 大家・管理会社です
    name --> details: tapped or typed
    details --> contact: form sent (「入力しました」)
    contact --> consent
    consent --> confirm: 同意をもらった / まだです
    confirm --> [*]: 登録する
    confirm --> edit: 内容を直す
    edit --> name
    edit --> details
    edit --> contact
    edit --> consent
```
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from bot.context import Ctx
from bot.flows.base import END, Answer, Conv, Flow, Step
from bot.invite_share import invite_messages
from bot.messages import build
from core import consent, home_details, homes, invites, links, phones, validate
from core.enums import ContactMethod, WatcherRole
from core.errors import ValidationError
from core.meters.supply_point import parse_supply_point
from core.models import Home
from core.names import resident_name
from core.settings import get_settings


class S(StrEnum):
    RELATION = "relation"
    NAME = "name"
    DETAILS = "details"
    CONTACT = "contact"
    CONSENT = "consent"
    CONFIRM = "confirm"
    EDIT = "edit"


NAME_CHOICES = ("father", "mother", "grandfather", "grandmother")
EDITABLE = (S.NAME, S.DETAILS, S.CONTACT, S.CONSENT)
DRAFT_DAYS = 7


def _after(conv: Conv, nxt: S) -> S:
    """The next step, or straight back to the confirmation when one answer is being changed."""
    return S.CONFIRM if conv.data.get("_editing") else nxt


def _choices(ctx: Ctx, conv: Conv, key: str, options: tuple[str, ...]) -> None:
    buttons = [build.postback(ctx.t(f"bot.register.{conv.step}.{o}"), conv.button(o),
                              ctx.t(f"bot.register.{conv.step}.{o}")) for o in options]
    ctx.send(build.text(ctx.t(key, name=conv.data.get("resident_name", "")), buttons))


def _choice(field: str, allowed: tuple[str, ...], nxt: S):
    def handle(ctx: Ctx, conv: Conv, answer: Answer) -> str:
        if answer.fields.get("v") not in allowed:
            raise ValidationError("choice.use_buttons")
        conv.data[field] = answer.fields["v"]
        return _after(conv, nxt)

    return handle


def _on_start(ctx: Ctx) -> dict[str, object]:
    ctx.ensure_watcher()
    ctx.say("bot.register.intro", days=DRAFT_DAYS)
    return {}


# ---- name: tap a usual one, or type ----------------------------------------------------
def _ask_name(ctx: Ctx, conv: Conv) -> None:
    options = [build.message_action(ctx.t(f"bot.register.name_choice.{k}")) for k in NAME_CHOICES]
    ctx.say("bot.register.ask.name", quick=options)


def _handle_name(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    if answer.text is None:
        raise ValidationError("text.empty")
    conv.data["resident_name"] = validate.name(answer.text)
    return _after(conv, S.DETAILS)


# ---- details: the form -----------------------------------------------------------------
def form_card(ctx: Ctx, url: str, title_key: str = "bot.register.details.title") -> dict:
    open_ = ctx.t("bot.register.details.open")
    lines = [ctx.t("bot.register.details.what"), ctx.t("bot.register.details.later")]
    return build.card(ctx.t(title_key), lines, [build.uri(open_, url)])


def _ask_details(ctx: Ctx, conv: Conv) -> None:
    ctx.send(form_card(ctx, links.home_form_url(c=ctx.chat_id)))


def _handle_details(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    if not conv.data.get("details"):
        raise ValidationError("details.not_sent")
    return _after(conv, S.CONTACT)


# ---- contact and consent ---------------------------------------------------------------
def _handle_contact(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    value = answer.fields.get("v")
    if value not in tuple(ContactMethod):
        raise ValidationError("choice.use_buttons")
    phone = (conv.data.get("details") or {}).get("phone")
    if value == ContactMethod.SMS and phone and not phones.parse(phone).takes_sms:
        raise ValidationError("phone.not_mobile")
    conv.data["contact"] = value
    return _after(conv, S.CONSENT)


def _handle_consent(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    value = answer.fields.get("v")
    conv.data["consent_method"] = None if value == "not_yet" else consent.method(value)
    return S.CONFIRM


# ---- confirm, change one answer ----------------------------------------------------------
def _application(conv: Conv) -> homes.Application:
    d, details = conv.data, conv.data.get("details") or {}
    return homes.Application(
        relation=WatcherRole(d["relation"]), resident_name=d["resident_name"],
        contract_holder=details.get("holder", ""), address=details.get("address", ""),
        supply_point=details.get("supply_point"), customer_number=details.get("customer_number"),
        plan=details.get("plan", home_details.PLANS[-1]), phone=details.get("phone", ""),
        contact=ContactMethod(d["contact"]), consent_method=d.get("consent_method"),
    )


def summary_lines(ctx: Ctx, conv: Conv) -> list[str]:
    d, details = conv.data, conv.data.get("details") or {}
    later = ctx.t("bot.register.summary.later")
    sp = details.get("supply_point")
    consent_value = (ctx.t(f"bot.register.consent.{d['consent_method']}") if d.get("consent_method")
                     else ctx.t("bot.register.summary.consent_later"))
    return [
        ctx.t("bot.register.summary.relation", value=ctx.t(f"bot.register.relation.{d['relation']}")),
        ctx.t("bot.register.summary.name", value=d["resident_name"]),
        ctx.t("bot.register.summary.holder", value=details.get("holder", "")),
        ctx.t("bot.register.summary.address", value=details.get("address", "")),
        ctx.t("bot.register.summary.phone", value=phones.display(details.get("phone"))),
        ctx.t("bot.register.summary.supply_point", value=sp, area=parse_supply_point(sp).area_name) if sp
        else ctx.t("bot.register.summary.supply_point_later", value=later),
        ctx.t("bot.register.summary.customer_number", value=details.get("customer_number") or later),
        ctx.t("bot.register.summary.plan", value=details.get("plan", home_details.PLANS[-1])),
        ctx.t("bot.register.summary.contact", value=ctx.t(f"bot.register.contact.{d['contact']}")),
        ctx.t("bot.register.summary.consent", value=consent_value),
    ]


def _ask_confirm(ctx: Ctx, conv: Conv) -> None:
    ok, edit = ctx.t("bot.register.confirm.ok"), ctx.t("bot.register.confirm.edit")
    ctx.send(build.card(ctx.t("bot.register.confirm.title"), summary_lines(ctx, conv),
                        [build.postback(ok, conv.button("ok"), ok), build.postback(edit, conv.button("edit"), edit)]))


def _ask_edit(ctx: Ctx, conv: Conv) -> None:
    options = [build.postback(ctx.t(f"bot.register.edit.{s}"), conv.button(s), ctx.t(f"bot.register.edit.{s}"))
               for s in EDITABLE]
    ctx.say("bot.register.edit.ask", quick=options)


def _handle_edit(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    value = answer.fields.get("v")
    if value not in {s.value for s in EDITABLE}:
        raise ValidationError("choice.use_buttons")
    conv.data["_editing"] = True
    return S(value)


def _handle_confirm(ctx: Ctx, conv: Conv, answer: Answer) -> str:
    if answer.fields.get("v") == "edit":
        return S.EDIT
    if answer.fields.get("v") != "ok":
        raise ValidationError("choice.use_buttons")
    watcher = ctx.ensure_watcher()
    home = homes.register_home(ctx.session, watcher, _application(conv))
    name = conv.data["resident_name"]
    lines = [ctx.t("bot.register.done", name=name)]
    if home_details.missing_meter(home):
        lines.append(ctx.t("bot.register.meter_later"))
    lines.append(ctx.t("bot.register.next_times"))
    ctx.send(build.text("\n".join(lines), [build.message_action(ctx.t("bot.menu.times"))]))
    if not consent.is_given(home):
        ctx.send(consent_card(ctx, home))
    if conv.data["contact"] == ContactMethod.LINE:
        code = invites.create(ctx.session, purpose=invites.PURPOSE_RESIDENT, home_id=home.id,
                              created_by=watcher.id, ttl=timedelta(days=7))
        ctx.send(*invite_messages(ctx, code, "resident", name=name, days=7))
    from bot.richmenu import link_for

    link_for(ctx)
    return END


def consent_card(ctx: Ctx, home: Home) -> dict:
    """Consent still to come: a text to show the senior, and one tap to record it later."""
    link = homes.link_of(ctx.session, ctx.watcher, home.id) if ctx.watcher else None
    name = resident_name(home, ctx.lang, link.relation_label if link else None)
    sheet = ctx.t("bot.consent.sheet", name=name)
    buttons = [build.postback(ctx.t(f"bot.consent.record.{m}"), build.data(action="consent", h=home.id, m=m),
                              ctx.t(f"bot.consent.record.{m}")) for m in consent.METHODS]
    buttons.append(build.uri(ctx.t("bot.consent.share"), build.share_url(sheet)))
    printable = links.sign("consent_sheet", h=home.id, l=ctx.lang)
    buttons.append(build.uri(ctx.t("bot.consent.print"), f"{get_settings().base_url}/liff/consent?t={printable}"))
    return build.card(ctx.t("bot.consent.pending_title", name=name),
                      [ctx.t("bot.consent.pending", name=name), sheet], buttons)


FLOW = Flow(
    name="register",
    states=S,
    start=S.RELATION,
    triggers=("登録", "register"),
    on_start=_on_start,
    ttl=timedelta(days=DRAFT_DAYS),
    steps={
        S.RELATION: Step(lambda c, v: _choices(c, v, "bot.register.ask.relation", ("family", "landlord")),
                         _choice("relation", ("family", "landlord"), S.NAME)),
        S.NAME: Step(_ask_name, _handle_name),
        S.DETAILS: Step(_ask_details, _handle_details),
        S.CONTACT: Step(lambda c, v: _choices(c, v, "bot.register.ask.contact", tuple(ContactMethod)),
                        _handle_contact),
        S.CONSENT: Step(lambda c, v: _choices(c, v, "bot.register.ask.consent", (*consent.METHODS, "not_yet")),
                        _handle_consent),
        S.CONFIRM: Step(_ask_confirm, _handle_confirm),
        S.EDIT: Step(_ask_edit, _handle_edit),
    },
)
