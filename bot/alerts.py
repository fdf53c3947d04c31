"""Alerts in LINE: the Flex card with its buttons, and what a tap on them does.

Postback contract with the escalation work (it sends the cards, the bot handles taps):
``action=ack&incident=<id>`` and ``action=close&incident=<id>&reason=safe|false_alarm``.
A tap is honoured only from a watcher linked to the incident's home, or from the LINE
group of the home's building; "確認に行きます" in a group acknowledges for everyone.
"""

from __future__ import annotations

import logging

from bot.context import Ctx
from bot.messages import build
from core import incidents
from core.enums import CloseReason
from core.errors import AccessDenied, ValidationError
from core.models import Home, HomeWatcher, Incident

log = logging.getLogger(__name__)
CLOSE_REASONS = {"safe": CloseReason.SAFE, "false_alarm": CloseReason.FALSE_ALARM}


def alert_card(incident: Incident, home: Home, lang: str, *, told: list[str] | None = None,
               group: bool = False) -> dict:
    """The alert as a Flex message with ack/close buttons (used by /dev/chat; a model for escalation)."""
    from core.texts import t

    name = home.resident.display_name if home.resident else "—"
    lines = [t(f"bot.alert.kind.{incident.kind.value}", lang, name=name)]
    if home.unit_label:
        lines.append(t("bot.alert.unit", lang, unit=home.unit_label))
    if told:
        lines.append(t("bot.alert.told", lang, names="、".join(told)))
    ack_label = t("bot.alert.ack_group" if group else "bot.alert.ack", lang)
    actions = [
        build.postback(ack_label, build.data(action="ack", incident=incident.id), ack_label),
        build.postback(t("bot.alert.close_safe", lang), build.data(action="close", incident=incident.id,
                                                                    reason="safe"), t("bot.alert.close_safe", lang)),
        build.postback(t("bot.alert.close_false", lang),
                       build.data(action="close", incident=incident.id, reason="false_alarm"),
                       t("bot.alert.close_false", lang)),
    ]
    return build.card(t("bot.alert.title", lang, name=name), lines, actions, color="#C0392B")


def _incident_for(ctx: Ctx, fields: dict[str, str]) -> tuple[Incident, str, int | None]:
    """The incident, who is acting (label), and the watcher id; AccessDenied if not linked."""
    try:
        incident = ctx.session.get(Incident, int(fields.get("incident", "")))
    except ValueError:
        incident = None
    if incident is None:
        raise AccessDenied("no such incident")
    home = ctx.session.get(Home, incident.home_id)
    if ctx.is_group:
        building = ctx.building()
        if building is None or home is None or home.building_id != building.id:
            raise AccessDenied("group not linked to this home's building")
        return incident, ctx.t("bot.alert.group_label", building=building.name), None
    watcher = ctx.watcher
    if watcher is None:
        raise AccessDenied("not a watcher")
    link = ctx.session.query(HomeWatcher).filter_by(home_id=incident.home_id, watcher_id=watcher.id).one_or_none()
    if link is None:
        raise AccessDenied("watcher not linked to this home")
    return incident, watcher.display_name or ctx.t("bot.watchers.unnamed"), watcher.id


def ack(ctx: Ctx, fields: dict[str, str]) -> None:
    incident, who, watcher_id = _incident_for(ctx, fields)
    source = "line_group" if ctx.is_group else "line"
    if incidents.acknowledge(ctx.session, incident, who, source, watcher_id=watcher_id):
        ctx.say("bot.alert.acked_group" if ctx.is_group else "bot.alert.acked")
    elif incident.closed_at is not None:
        ctx.say("bot.alert.already_closed")
    else:
        ctx.say("bot.alert.already_taken", who=incident.acknowledged_by or "")


def close(ctx: Ctx, fields: dict[str, str]) -> None:
    reason = CLOSE_REASONS.get(fields.get("reason", ""))
    if reason is None:
        raise ValidationError("choice.use_buttons")
    incident, _who, watcher_id = _incident_for(ctx, fields)
    actor = f"line_group:{ctx.chat_id}" if ctx.is_group else f"line:{watcher_id}"
    if incidents.close(ctx.session, incident, reason, actor):
        ctx.say(f"bot.alert.closed_{reason.value}")
    else:
        ctx.say("bot.alert.already_closed")


WITHDRAW_WORDS = frozenset({"同意の取り消し", "見守りをやめる", "withdraw consent"})
OK_WORDS = frozenset({"ok", "ｏｋ", "おっけー", "オッケー", "大丈夫", "だいじょうぶ", "元気", "げんき", "はい"})


def resident_ok(ctx: Ctx, text: str) -> bool:
    """A senior on LINE answers a check-in. Returns False if this user is not a resident."""
    resident = ctx.resident()
    if resident is None:
        return False
    ctx.lang = resident.language or "ja"
    if text.strip() in WITHDRAW_WORDS:
        resident_withdraw(ctx, {})
        return True
    if text.strip().lower() not in OK_WORDS:
        from core import homes

        if ctx.watcher is not None and homes.homes_of(ctx.session, ctx.watcher):
            return False  # also a family member of some home: their words are commands too
        ctx.say("bot.senior.how_to_answer")
        return True
    try:
        from core.escalation.checkin import confirm_resident_by_line
    except ImportError:  # the escalation work is merged separately; until then, close here
        confirm_resident_by_line = None
    if confirm_resident_by_line is not None:
        confirm_resident_by_line(ctx.session, ctx.user_id, text)
    else:
        for incident in incidents.open_incidents_of(ctx.session, resident.home_id):
            if incidents.acknowledge(ctx.session, incident, resident.display_name, "resident_line"):
                incidents.close(ctx.session, incident, CloseReason.RESIDENT_OK, "resident_line")
    ctx.say("bot.senior.thanks")
    return True


def resident_withdraw(ctx: Ctx, fields: dict[str, str]) -> None:
    """The senior withdraws their consent themselves: asked once, then watching stops at once."""
    from core import consent
    from core.models import Home

    resident = ctx.resident()
    if resident is None:
        raise AccessDenied("not a resident")
    if fields.get("confirm") != "yes":
        yes = ctx.t("bot.consent.withdraw_yes")
        ctx.send(build.card(ctx.t("bot.consent.withdraw_title"), [ctx.t("bot.consent.withdraw_ask")],
                            [build.postback(yes, build.data(action="resident_withdraw", confirm="yes"), yes)]))
        return
    home = ctx.session.get(Home, resident.home_id)
    assert home is not None
    consent.withdraw(ctx.session, home, f"resident_line:{resident.id}")
    ctx.say("bot.consent.withdrawn")
