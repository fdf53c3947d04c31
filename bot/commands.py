"""One-shot commands (no conversation state): 今日の様子 (bot.today), help, settings, watchers, invites.

Tapped buttons arrive as postbacks ``action=<name>&...``; :data:`ACTIONS` maps each to a
function. Every action that touches a home checks the chat is linked to it first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.context import Ctx
from bot.flows.common import home_for
from bot.invite_share import invite_messages
from bot.messages import build
from bot.today import today
from core import audit, consent, homes, invites, links, names, phones, schedules
from core.enums import ContactMethod, HomeStatus
from core.errors import AccessDenied, ValidationError
from core.models import Home

OVER_USAGE_CHOICES = (30, 50, 100)


# ---- help ---------------------------------------------------------------------------
def help_(ctx: Ctx) -> None:
    lines = [ctx.t(f"bot.help.{k}") for k in ("what", "delay", "pause", "climate", "alerts", "cancel")]
    ctx.send(build.card(ctx.t("bot.help.title"), lines))


# ---- settings -----------------------------------------------------------------------
def settings(ctx: Ctx) -> None:
    """One card per home (up to four, under LINE's five messages a reply)."""
    linked = homes.homes_of(ctx.session, ctx.watcher) if ctx.watcher else []
    if not linked:
        ctx.say("bot.no_home_yet")
        return
    for home in linked[:4]:
        ctx.send(_settings_card(ctx, home, quick=len(linked) == 1))


def _settings_card(ctx: Ctx, home: Home, quick: bool) -> dict:
    link = homes.link_of(ctx.session, ctx.watcher, home.id)
    onoff = {True: ctx.t("bot.settings.on"), False: ctx.t("bot.settings.off")}
    schedule = home.schedule
    name = names.as_seen_by(home, link, ctx.lang)
    lines = [
        name,
        ctx.t("bot.settings.channels", value=" / ".join(c.upper() for c in link.channels)),
        ctx.t("bot.settings.daily", value=onoff[link.notify_daily]),
        ctx.t("bot.settings.weekly", value=onoff[link.notify_weekly]),
        ctx.t("bot.settings.monthly", value=onoff[link.notify_monthly]),
        ctx.t("bot.settings.climate", value=onoff[link.notify_climate]),
        ctx.t("bot.settings.over_usage", value=home.over_usage_percent),
        ctx.t("bot.settings.times", wake=schedules.plain_time(schedule.wake_time if schedule else None, ctx.lang),
              sleep=schedules.plain_time(schedule.sleep_time if schedule else None, ctx.lang)),
    ]
    h = home.id
    buttons = [
        build.postback(ctx.t("bot.settings.toggle_daily"), build.data(action="set", h=h, k="daily",
                                                                        v="off" if link.notify_daily else "on")),
        build.postback(ctx.t("bot.settings.toggle_weekly"), build.data(action="set", h=h, k="weekly",
                                                                         v="off" if link.notify_weekly else "on")),
        build.postback(ctx.t("bot.settings.toggle_monthly"), build.data(action="set", h=h, k="monthly",
                                                                          v="off" if link.notify_monthly else "on")),
        build.postback(ctx.t("bot.settings.watchers"), build.data(action="watchers", h=h)),
        build.postback(ctx.t("bot.settings.invite"), build.data(action="invite", h=h)),
    ]
    msg = build.card(ctx.t("bot.settings.title"), lines, buttons)
    if not quick:
        return msg
    options = [build.postback(f"{p}%", build.data(action="set", h=h, k="over", v=p)) for p in OVER_USAGE_CHOICES]
    options += [build.message_action(ctx.t("bot.menu.times")), build.message_action(ctx.t("bot.menu.climate")),
                build.message_action(ctx.t("bot.settings.add_email")),
                build.postback(ctx.t("bot.settings.line_only"), build.data(action="set", h=h, k="channels", v="line"))]
    return build.with_quick(msg, options)


def _linked_home(ctx: Ctx, fields: dict[str, str]) -> tuple[Home, object]:
    if ctx.watcher is None:
        raise AccessDenied("not a watcher")
    try:
        home_id = int(fields.get("h", ""))
    except ValueError:
        raise AccessDenied("bad home") from None
    link = homes.link_of(ctx.session, ctx.watcher, home_id)
    home = ctx.session.get(Home, home_id)
    assert home is not None
    return home, link


def set_value(ctx: Ctx, fields: dict[str, str]) -> None:
    home, link = _linked_home(ctx, fields)
    key, value = fields.get("k"), fields.get("v")
    if key in {"daily", "weekly", "monthly"} and value in {"on", "off"}:
        setattr(link, f"notify_{key}", value == "on")
    elif key == "over" and value in {str(p) for p in OVER_USAGE_CHOICES}:
        home.over_usage_percent = int(value)
    elif key == "channels" and value == "line":
        link.channels = ["line"]
    else:
        raise ValidationError("choice.use_buttons")
    audit.record(ctx.session, f"watcher:{ctx.watcher.id}", "setting_changed", home_id=home.id, key=key, value=value)
    ctx.say("bot.settings.saved")
    settings(ctx)


def watchers(ctx: Ctx, fields: dict[str, str]) -> None:
    home, link = _linked_home(ctx, fields)
    lines, buttons = [], []
    for hw in homes.watchers_of(ctx.session, home.id):
        label = hw.watcher.display_name or ctx.t("bot.watchers.unnamed")
        mark = ctx.t("bot.watchers.owner_mark") if hw.is_owner else ""
        lines.append(f"{hw.escalation_order}. {label}{mark}")
        if link.is_owner and not hw.is_owner:
            buttons.append(build.postback(ctx.t("bot.watchers.remove", name=label),
                                          build.data(action="remove", h=home.id, w=hw.watcher_id)))
            buttons.append(build.postback(ctx.t("bot.watchers.first", name=label),
                                          build.data(action="first", h=home.id, w=hw.watcher_id)))
    ctx.send(build.card(ctx.t("bot.watchers.title"), lines, buttons[:4] or None))


def _watcher_id(fields: dict[str, str]) -> int:
    try:
        return int(fields.get("w", ""))
    except ValueError:
        raise ValidationError("choice.use_buttons") from None


def remove(ctx: Ctx, fields: dict[str, str]) -> None:
    home, _ = _linked_home(ctx, fields)
    homes.remove_watcher(ctx.session, ctx.watcher, home.id, _watcher_id(fields))
    ctx.say("bot.watchers.removed")


def first(ctx: Ctx, fields: dict[str, str]) -> None:
    home, _ = _linked_home(ctx, fields)
    homes.move_first(ctx.session, ctx.watcher, home.id, _watcher_id(fields))
    ctx.say("bot.watchers.reordered")


def invite(ctx: Ctx, fields: dict[str, str]) -> None:
    home, link = _linked_home(ctx, fields)
    code = invites.create(ctx.session, purpose=invites.PURPOSE_WATCHER, home_id=home.id, role=link.role,
                          created_by=ctx.watcher.id, ttl=timedelta(hours=72))
    ctx.send(*invite_messages(ctx, code, "watcher", name=_called(ctx, home), hours=72))


def withdraw_consent(ctx: Ctx, fields: dict[str, str]) -> None:
    home, link = _linked_home(ctx, fields)
    if not link.is_owner:
        raise AccessDenied("only the owner withdraws consent")
    if fields.get("confirm") != "yes":
        yes = ctx.t("bot.consent.withdraw_yes")
        ctx.send(build.card(ctx.t("bot.consent.withdraw_title"), [ctx.t("bot.consent.withdraw_ask")],
                            [build.postback(yes, build.data(action="withdraw", h=home.id, confirm="yes"), yes)]))
        return
    consent.withdraw(ctx.session, home, f"watcher:{ctx.watcher.id}", by_watcher_id=ctx.watcher.id)
    ctx.say("bot.consent.withdrawn")


def withdraw_start(ctx: Ctx) -> None:
    home = home_for(ctx)
    if home is None:
        ctx.say("bot.no_home_yet")
        return
    if home.status == HomeStatus.AWAITING_CONSENT and not consent.is_given(home):
        ctx.say("bot.consent.not_given")
        return
    withdraw_consent(ctx, {"h": str(home.id)})


def _called(ctx: Ctx, home: Home) -> str:
    """How this chat's watcher names the senior (their own お父さん, else the name with さん)."""
    link = homes.link_of(ctx.session, ctx.watcher, home.id) if ctx.watcher else None
    return names.as_seen_by(home, link, ctx.lang)


def record_consent(ctx: Ctx, fields: dict[str, str]) -> None:
    """The senior agreed after registration (「まだです」 then): one tap records it and watching
    moves on; a second tap changes nothing."""
    home, _ = _linked_home(ctx, fields)
    if consent.is_given(home):
        ctx.say("bot.consent.already")
        return
    consent.record(ctx.session, home, ctx.watcher, fields.get("m"))
    ctx.say("bot.consent.recorded", name=_called(ctx, home), state=ctx.t(f"bot.status.home.{home.status.value}"))


def details(ctx: Ctx) -> None:
    """登録内容: the home's details as registered, and the form to change any of them
    (the meter numbers too, when they were left for later)."""
    from bot.flows.register import form_card

    home = home_for(ctx)
    if home is None:
        ctx.say("bot.no_home_yet")
        return
    resident = home.resident
    later = ctx.t("bot.register.summary.later")
    lines = [
        ctx.t(f"bot.status.home.{home.status.value}"),
        ctx.t("bot.register.summary.name", value=_called(ctx, home)),
        ctx.t("bot.register.summary.holder", value=home.contract_holder or ""),
        ctx.t("bot.register.summary.address", value=home.address or ""),
        ctx.t("bot.register.summary.phone", value=phones.display(resident.phone if resident else None)),
        ctx.t("bot.register.summary.supply_point_later", value=home.supply_point_number or later),
        ctx.t("bot.register.summary.customer_number", value=home.customer_number or later),
    ]
    if resident is not None:
        lines.append(ctx.t("bot.register.summary.contact",
                           value=ctx.t(f"bot.register.contact.{resident.preferred_contact.value}")))
    ctx.send(build.card(ctx.t("bot.details.title"), lines))
    contact = [build.postback(ctx.t("bot.details.contact", value=ctx.t(f"bot.register.contact.{m.value}")),
                              build.data(action="contact", h=home.id, v=m.value)) for m in ContactMethod]
    ctx.send(build.with_quick(form_card(ctx, links.home_form_url(h=home.id, w=ctx.watcher.id), "bot.details.change"),
                              contact))
    if resident is not None and not consent.is_given(home):
        from bot.flows.register import consent_card

        ctx.send(consent_card(ctx, home))


def set_contact(ctx: Ctx, fields: dict[str, str]) -> None:
    """Change how the senior is asked first, alone (SMS only to a mobile)."""
    home, _ = _linked_home(ctx, fields)
    resident = home.resident
    if resident is None or fields.get("v") not in set(ContactMethod):
        raise ValidationError("choice.use_buttons")
    method = ContactMethod(fields["v"])
    if method == ContactMethod.SMS:
        phones.for_sms(resident.phone)
    resident.preferred_contact = method
    audit.record(ctx.session, f"watcher:{ctx.watcher.id}", "setting_changed", home_id=home.id, key="contact",
                 value=method.value)
    ctx.say("bot.settings.saved")
    if method == ContactMethod.LINE and not resident.line_user_id:
        code = invites.create(ctx.session, purpose=invites.PURPOSE_RESIDENT, home_id=home.id,
                              created_by=ctx.watcher.id, ttl=timedelta(days=7))
        ctx.send(*invite_messages(ctx, code, "resident", name=_called(ctx, home), days=7))


def leave(ctx: Ctx, fields: dict[str, str]) -> None:
    """退会: after a confirmation, the watcher's personal data is deleted at once (core.retention)."""
    watcher = ctx.watcher
    if watcher is None:
        ctx.say("bot.leave.nothing")
        return
    if fields.get("confirm") != "yes":
        yes = ctx.t("bot.leave.yes")
        ctx.send(build.card(ctx.t("bot.leave.title"), [ctx.t("bot.leave.ask")],
                            [build.postback(yes, build.data(action="leave", confirm="yes"), yes)]))
        return
    from core.retention import delete_watcher

    ctx.say("bot.leave.done")
    delete_watcher(ctx.session, watcher.id, f"watcher:{watcher.id}")
    from bot.richmenu import link_for

    link_for(ctx)  # back to the "not registered" menu


def leave_start(ctx: Ctx) -> None:
    leave(ctx, {})


COMMANDS: dict[str, Callable[[Ctx], None]] = {
    "今日の様子": today, "status": today,
    "ヘルプ": help_, "help": help_, "使い方": help_,
    "設定": settings, "settings": settings,
    "同意の取り消し": withdraw_start,
    "登録内容": details, "検針票": details, "入力しました": details, "details": details,
    "退会": leave_start, "leave": leave_start,
}

ACTIONS: dict[str, Callable[[Ctx, dict[str, str]], None]] = {
    "today": lambda ctx, _fields: today(ctx),  # a rich menu or card button as a postback: same free reply
    "set": set_value, "watchers": watchers, "remove": remove, "first": first, "invite": invite,
    "withdraw": withdraw_consent, "leave": leave, "consent": record_consent,
    "contact": set_contact,
}
