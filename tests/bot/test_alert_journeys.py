"""Alert journeys end to end: signed webhooks in LINE's shape (the Chat helper), the real
engine, outbox and dispatcher, and the fake LINE API that checks every body against LINE's
spec. Each journey asserts who hears what, and that each hears it once.

The people: 山田 ハナ (the senior, on LINE), her son and daughter (who call her お母さん),
and the LINE group of her building みどり荘 (unit 101).
"""

from __future__ import annotations

import re
import string
from typing import Any

import pytest
from sqlalchemy import select

from core.db import session_scope
from core.enums import CloseReason, ContactMethod
from core.incidents import close_for_usage
from core.models import Home, Incident, Resident
from core.texts import catalog
from tests.core.escalation.conftest import add_building, load, open_emergency, run
from tests.core.escalation.test_answers import EVERYDAY_OK

SENIOR = "U" + "5e" * 16
SON = "U" + "50" * 16
DAUGHTER = "U" + "d0" * 16
GROUP = "C" + "9r" * 16


def says(key: str, text: str, lang: str = "ja") -> bool:
    """True when ``text`` is the catalog's ``key`` with any values filled in (tests assert keys, not wording)."""
    template = string.Formatter().parse(catalog(lang)[key])
    parts = [re.escape(lit) + ("(.*?)" if name else "") for lit, name, _, _ in template]
    return re.fullmatch("".join(parts), text, re.S) is not None


def texts(chat: Any) -> list[str]:
    """Every message the chat received since last asked, as text (a Flex card: its texts joined)."""
    from tests.bot.conftest import texts_of

    return [texts_of(m) for m in chat.new_messages()]


@pytest.fixture
def world(make_home: Any, make_watcher: Any, chat_factory: Any, clock: Any) -> dict[str, Any]:
    home = make_home(resident_name="山田 ハナ", contact=ContactMethod.LINE)
    with session_scope() as s:
        s.scalar(select(Resident).where(Resident.home_id == home.id)).line_user_id = SENIOR
    make_watcher(home, line_user_id=SON, order=1, relation_label="お母さん")
    make_watcher(home, line_user_id=DAUGHTER, order=2, relation_label="お母さん")
    add_building(home, group_id=GROUP)
    return {"home": home, "senior": chat_factory(SENIOR), "son": chat_factory(SON),
            "daughter": chat_factory(DAUGHTER), "group": chat_factory(group_id=GROUP)}


def _until_family_alerted(clock: Any, who: int = 1) -> None:
    """The senior does not answer: after the check-in's 30 minutes the family is alerted one by one."""
    clock.advance(minutes=30)
    run()
    for _ in range(who - 1):
        clock.advance(minutes=15)
        run()


def _until_landlord_alerted(clock: Any) -> None:
    """Both family members alerted, then, 15 minutes later, the landlord's group."""
    _until_family_alerted(clock, who=2)
    clock.advance(minutes=15)
    run()


def _everyone_read(world: dict[str, Any]) -> None:
    """The son, the daughter and the landlord's group have read what they were sent."""
    for chat in ("son", "daughter", "group"):
        texts(world[chat])


def _checkin(world: dict[str, Any]) -> int:
    incident_id = open_emergency(world["home"])
    run()
    [asked] = texts(world["senior"])
    assert says("escalation.line_checkin", asked) and "山田 ハナさん" in asked  # her own name, with さん
    return incident_id


@pytest.mark.parametrize("answer", EVERYDAY_OK)
def test_an_everyday_answer_ends_it_before_the_family_is_disturbed(world, clock, answer) -> None:
    incident_id = _checkin(world)
    world["senior"].text(answer)
    [reply] = texts(world["senior"])
    assert says("senior.reply.confirmed", reply) and reply.startswith("山田 ハナさん")
    assert load(incident_id).close_reason is CloseReason.RESIDENT_OK
    clock.advance(hours=2)
    run()
    assert texts(world["son"]) == [] and texts(world["daughter"]) == [] and texts(world["group"]) == []


def test_a_late_answer_is_shown_to_the_family_already_alerted_once(world, clock) -> None:
    incident_id = _checkin(world)
    _until_family_alerted(clock)
    [card] = texts(world["son"])
    assert "お母さん" in card and "いつもは7:00ごろまでに" in card  # the detector's own sentence
    world["senior"].text("げんきです")
    assert says("senior.reply.confirmed_told", texts(world["senior"])[0])
    run()
    [told] = texts(world["son"])
    assert says("endings.resident_ok", told) and "「げんきです」" in told and "お母さん" in told
    assert texts(world["daughter"]) == []  # never alerted, never bothered
    assert load(incident_id).close_reason is CloseReason.RESIDENT_OK
    run()
    assert texts(world["son"]) == []  # once


def test_a_sticker_confirms_and_the_family_sees_it_was_a_sticker(world, clock) -> None:
    incident_id = _checkin(world)
    _until_family_alerted(clock)
    texts(world["son"])
    world["senior"].send("message__sticker")
    assert says("senior.reply.confirmed_told", texts(world["senior"])[0])
    run()
    [told] = texts(world["son"])
    assert says("endings.resident_ok", told) and catalog("ja")["endings.reply_sticker"] in told
    assert load(incident_id).close_reason is CloseReason.RESIDENT_OK


def test_a_call_for_help_alerts_every_family_member_at_once_and_is_never_ok(world, clock) -> None:
    incident_id = _checkin(world)
    world["senior"].text("助けて")
    assert says("senior.reply.help_sent", texts(world["senior"])[0])
    run()
    for member in ("son", "daughter"):  # both at once, not one after the other
        [card] = texts(world[member])
        assert card.startswith("【至急】お母さん") and "「助けて」" in card
    incident = load(incident_id)
    assert incident.closed_at is None and incident.evidence["urgent"] is True
    world["senior"].text("大丈夫")  # a later "OK" is passed on; it does not close a call for help
    run()
    for member in ("son", "daughter"):
        [told] = texts(world[member])
        assert says("endings.resident_wrote", told) and "「大丈夫」" in told
    assert load(incident_id).closed_at is None


def test_a_call_for_help_with_no_check_in_open_still_reaches_the_family(world, clock) -> None:
    world["senior"].text("具合が悪いです")
    assert says("senior.reply.help_sent", texts(world["senior"])[0])
    run()
    for member in ("son", "daughter"):
        [card] = texts(world[member])
        assert card.startswith("【至急】お母さん") and "「具合が悪いです」" in card
    run()
    assert texts(world["son"]) == []  # once


def test_the_landlord_going_is_heard_by_the_family_and_the_senior(world, clock) -> None:
    incident_id = _checkin(world)
    _until_landlord_alerted(clock)
    [card] = texts(world["group"])
    assert "101" in card and "山田 ハナ" in card and "お母さん" not in card  # the tenant, as the landlord knows her
    world["group"].tap("確認に行きます")
    assert says("bot.alert.acked_group", texts(world["group"])[0])
    run()
    for member in ("son", "daughter"):
        [card, told] = texts(world[member])
        assert says("endings.ack", told) and "みどり荘のグループ" in told and "お母さん" in card
    [ended] = texts(world["senior"])
    assert says("endings.resident.ack", ended) and ended.startswith("山田 ハナさん")
    run()
    assert [texts(world[k]) for k in ("son", "daughter", "senior", "group")] == [[], [], [], []]  # once
    assert load(incident_id).acknowledged_by is not None


def test_usage_resuming_is_heard_by_everyone_already_alerted(world, clock) -> None:
    incident_id = _checkin(world)
    _until_family_alerted(clock)
    texts(world["son"])
    with session_scope() as s:
        close_for_usage(s, world["home"].id, clock.now())
    run()
    [told] = texts(world["son"])
    assert says("endings.usage_seen", told) and "お母さん" in told
    assert says("endings.resident.usage_seen", texts(world["senior"])[0])
    assert texts(world["daughter"]) == [] and texts(world["group"]) == []
    world["son"].tap("対応します")  # the old card's button says how it ended
    [answer] = texts(world["son"])
    assert says("endings.usage_seen", answer)
    assert load(incident_id).close_reason is CloseReason.USAGE_SEEN


def test_a_false_alarm_is_heard_by_the_others_and_old_buttons_say_so(world, clock) -> None:
    incident_id = _checkin(world)
    _until_family_alerted(clock, who=2)
    texts(world["son"]), texts(world["daughter"])
    world["daughter"].postback(f"action=close&incident={incident_id}&reason=false_alarm")
    assert says("bot.alert.closed_false_alarm", texts(world["daughter"])[0])
    run()
    [told] = texts(world["son"])
    assert says("endings.false_alarm", told)
    assert says("endings.resident.false_alarm", texts(world["senior"])[0])
    assert texts(world["daughter"]) == []  # the one who closed it is not told again
    world["son"].tap("対応します")
    assert says("endings.false_alarm", texts(world["son"])[0])
    world["senior"].text("OK")  # a late answer hears how it ended, in her own words
    assert says("endings.resident.false_alarm", texts(world["senior"])[0])
    with session_scope() as s:
        assert s.get(Incident, incident_id).close_reason is CloseReason.FALSE_ALARM
        assert s.get(Home, world["home"].id) is not None


def test_the_landlord_group_hears_its_own_language(world, clock) -> None:
    from core.models import Building

    with session_scope() as s:
        s.scalar(select(Building).where(Building.line_group_id == GROUP)).language = "en"
    incident_id = _checkin(world)
    _until_landlord_alerted(clock)
    [card] = texts(world["group"])
    assert catalog("en")["escalation.landlord_body"] in card and "101" in card
    world["son"].postback(f"action=close&incident={incident_id}&reason=safe")
    run()
    [told] = texts(world["group"])
    assert says("endings.safe", told, "en")


def test_a_call_for_help_after_everyone_was_alerted_reaches_each_of_them_as_urgent(world, clock) -> None:
    incident_id = _checkin(world)
    _until_landlord_alerted(clock)
    _everyone_read(world)
    world["senior"].text("たすけて")
    run()
    for chat, name in (("son", "お母さん"), ("daughter", "お母さん"), ("group", "山田 ハナさん")):
        [urgent] = texts(world[chat])
        assert urgent.startswith(f"【至急】{name}") and "「たすけて」" in urgent
    assert load(incident_id).closed_at is None


def test_an_old_button_after_watching_stopped_says_how_it_ended_never_a_bare_over(world, clock) -> None:
    from core import consent

    incident_id = _checkin(world)
    _until_family_alerted(clock)
    texts(world["son"])
    with session_scope() as s:
        consent.withdraw(s, s.get(Home, world["home"].id), "admin:test")
    world["son"].tap("対応します")
    answer = texts(world["son"])[-1]
    assert says("endings.other", answer) and load(incident_id).closed_at is not None


def test_the_family_member_who_closes_a_quiet_alert_as_safe_alone_is_offered_the_pause_once(world, clock) -> None:
    incident_id = _checkin(world)
    _until_landlord_alerted(clock)
    _everyone_read(world)
    pushes = len(world["son"].line.state.pushes())
    world["son"].postback(f"action=close&incident={incident_id}&reason=safe")
    closed, offer = world["son"].new_messages()
    assert says("bot.alert.closed_safe", closed["text"]) and says("bot.alert.pause_offer", offer["text"])
    assert [item["action"]["text"] for item in offer["quickReply"]["items"]] == [catalog("ja")["bot.menu.pause"]]
    assert len(world["son"].line.state.pushes()) == pushes  # the offer rode on the reply
    run()  # the others hear how it ended (outbox, dispatcher), and no pause offer
    for chat in ("daughter", "group"):
        [told] = texts(world[chat])
        assert says("endings.safe", told) and catalog("ja")["bot.alert.pause_offer"] not in told
    run()
    assert all(texts(world[chat]) == [] for chat in ("son", "daughter", "group"))  # once
    assert load(incident_id).close_reason is CloseReason.SAFE
