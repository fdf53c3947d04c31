"""Alerts in LINE: what a tap on an alert card's buttons does, and the senior's answer.

The cards themselves are built by core.escalation.messages (the one builder, for real
pushes and /dev/chat alike); what the senior's reply means is decided by
core.escalation.answers. Postback contract (core sends the cards, the bot handles taps):
``action=ack&incident=<id>`` and ``action=close&incident=<id>&reason=safe|false_alarm``.
A tap is honoured only from a watcher linked to the incident's home, or from the LINE
group of the home's building; "確認に行きます" in a group acknowledges for everyone.
"""

from __future__ import annotations

import logging

from bot.context import Ctx
from bot.messages import build
from core import homes, incidents, names
from core.enums import CloseReason, IncidentKind
from core.errors import AccessDenied, ValidationError
from core.escalation import answers, notices
from core.models import Home, HomeWatcher, Incident

log = logging.getLogger(__name__)
CLOSE_REASONS = {"safe": CloseReason.SAFE, "false_alarm": CloseReason.FALSE_ALARM}
# A long quiet that ended well was most often an absence (a trip, a night away): the family who
# closes it is offered the pause, in the same reply (free), so the next absence raises nothing.
# Measured: 40-44 % of the false alarms on lcl-dev fall inside multi-day standby stretches
# (benchmarks/detection_eval.py, "FA in trips").
QUIET_KINDS = frozenset({IncidentKind.NO_WAKE, IncidentKind.INACTIVITY})


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


def _say_ending(ctx: Ctx, incident: Incident) -> None:
    """An old card's button: say how it ended (or who took it), never a bare "already over"."""
    home = ctx.session.get(Home, incident.home_id)
    assert home is not None
    link = None
    if ctx.watcher is not None and not ctx.is_group:
        link = ctx.session.query(HomeWatcher).filter_by(home_id=home.id, watcher_id=ctx.watcher.id).one_or_none()
    name = names.resident_name(home, ctx.lang, link.relation_label if link else None)
    text = notices.ending_text(incident, home, ctx.lang, name=name)
    if text is None:
        ctx.say("bot.alert.already_closed")
    else:
        ctx.send(build.text(text))


def ack(ctx: Ctx, fields: dict[str, str]) -> None:
    incident, who, watcher_id = _incident_for(ctx, fields)
    source = "line_group" if ctx.is_group else "line"
    if incidents.acknowledge(ctx.session, incident, who, source, watcher_id=watcher_id, except_recipient=ctx.chat_id):
        ctx.say("bot.alert.acked_group" if ctx.is_group else "bot.alert.acked")
    else:
        _say_ending(ctx, incident)


def close(ctx: Ctx, fields: dict[str, str]) -> None:
    reason = CLOSE_REASONS.get(fields.get("reason", ""))
    if reason is None:
        raise ValidationError("choice.use_buttons")
    incident, who, watcher_id = _incident_for(ctx, fields)
    actor = f"line_group:{ctx.chat_id}" if ctx.is_group else f"line:{watcher_id}"
    if incidents.close(ctx.session, incident, reason, actor, who=who, watcher_id=watcher_id,
                       except_recipient=ctx.chat_id):
        ctx.say(f"bot.alert.closed_{reason.value}")
        if incident.kind in QUIET_KINDS and not ctx.is_group:
            ctx.say("bot.alert.pause_offer", [build.message_action(ctx.t("bot.menu.pause"))])
    else:
        _say_ending(ctx, incident)


WITHDRAW_WORDS = frozenset({"同意の取り消し", "見守りをやめる", "withdraw consent"})


def resident_answer(ctx: Ctx, text: str | None, *, sticker: bool = False) -> bool:
    """The senior wrote (text or a sticker): core decides what it means (core.escalation.answers);
    the bot only answers the senior. Returns False if this user is not a resident, or is also a
    family member whose words here are commands rather than an answer."""
    resident = ctx.resident()
    if resident is None:
        return False
    ctx.lang = resident.language or "ja"
    if text is not None and text.strip() in WITHDRAW_WORDS:
        resident_withdraw(ctx, {})
        return True
    reply = answers.Reply(text, sticker)
    idle = reply.answer is not answers.Answer.HELP and answers.open_checkin(ctx.session, resident.home_id) is None
    if idle and ctx.watcher is not None and homes.homes_of(ctx.session, ctx.watcher):
        return False  # also a family member of some home, nothing to answer: their words are commands
    outcome, incident = answers.answer_by_line(ctx.session, resident, reply)
    home = ctx.session.get(Home, resident.home_id)
    assert home is not None
    name = names.honorific(resident.display_name, ctx.lang)
    if outcome is answers.Outcome.ALREADY_OVER and incident is not None:
        ended = notices.ending_text(incident, home, ctx.lang, name=name, resident=True)
        if ended:
            ctx.send(build.text(ended))
            return True
    ctx.say(f"senior.reply.{outcome.value}", name=name)
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
