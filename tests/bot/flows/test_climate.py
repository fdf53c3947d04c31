"""A family member switches heat and cold messages off and on for themselves, by chatting.

Signed webhooks in LINE's shape through the real app; assertions on catalog keys (rendered in
the watcher's language), on the switch the ladder reads, and on replies (never pushes).
"""

from __future__ import annotations

from sqlalchemy import select

from core.climate.ladder import family_routes
from core.db import session_scope
from core.models import AuditLog, Home, HomeWatcher
from core.texts import t
from tests.bot.test_conversations import join_with_code, register, register_and_invite


def ja(key: str, **params: object) -> str:
    return t(key, "ja", **params)


def _link() -> HomeWatcher:
    with session_scope() as s:
        link = s.scalar(select(HomeWatcher).order_by(HomeWatcher.id))
        s.expunge(link)
        return link


def _routed_watchers() -> set[int]:
    with session_scope() as s:
        return {w.id for _, w, _, _ in family_routes(s, s.scalar(select(Home)))}


def test_a_family_member_turns_heat_messages_off_and_on_again_by_chat(chat, fake_line, clock) -> None:
    register(chat)
    watcher_id = _link().watcher_id
    assert watcher_id in _routed_watchers()
    chat.new_messages()
    pushes = len(fake_line.state.pushes())

    chat.text(ja("bot.menu.climate"))
    card = chat.new_texts()
    assert ja("bot.climate.now", value=ja("bot.settings.on")) in card and ja("bot.climate.home_off") not in card
    chat.tap(ja("bot.climate.choice.off"))
    said = chat.new_texts()
    assert ja("bot.climate.off_done", name="お父さん") in said
    assert _link().notify_climate is False and watcher_id not in _routed_watchers()

    chat.text(ja("bot.menu.settings"))
    assert ja("bot.settings.climate", value=ja("bot.settings.off")) in chat.new_texts()

    chat.text("暑さ・寒さのお知らせ")  # typed, with the middle dot, and then answered in words
    assert ja("bot.climate.now", value=ja("bot.settings.off")) in chat.new_texts()
    chat.text("たぶん")
    assert ja("bot.error.choice.use_buttons") in chat.new_texts()
    assert _link().notify_climate is False
    chat.text("オン")
    assert ja("bot.climate.on_done", name="お父さん") in chat.new_texts()
    assert _link().notify_climate is True and watcher_id in _routed_watchers()

    assert len(fake_line.state.pushes()) == pushes  # every answer was a reply
    with session_scope() as s:
        changes = s.scalars(select(AuditLog).where(AuditLog.action == "climate_switched").order_by(AuditLog.id)).all()
        assert [(c.actor, c.detail.get("on")) for c in changes] == [(f"watcher:{watcher_id}", False),
                                                                    (f"watcher:{watcher_id}", True)]


def test_switching_off_for_oneself_leaves_the_other_family_member_told(chat, chat_factory, clock) -> None:
    _home_id, code = register_and_invite(chat)
    sister = join_with_code(chat_factory, code)
    sister.new_messages()
    sister.text(ja("bot.menu.climate"))
    sister.tap(ja("bot.climate.choice.off"))
    assert ja("bot.climate.off_done", name="山田太郎さん") in sister.new_texts()
    with session_scope() as s:
        links = {hw.watcher.line_user_id: hw.notify_climate for hw in s.scalars(select(HomeWatcher))}
    assert links == {chat.user_id: True, sister.user_id: False}
    assert len(_routed_watchers()) == 1


def test_when_the_whole_home_is_off_the_card_says_so(chat, clock) -> None:
    register(chat)
    with session_scope() as s:
        s.scalar(select(Home)).climate_watch_enabled = False
    chat.new_messages()
    chat.text(ja("bot.menu.climate"))
    assert ja("bot.climate.home_off") in chat.new_texts()
    chat.tap(ja("bot.climate.choice.on"))
    said = chat.new_texts()
    assert ja("bot.climate.on_done", name="お父さん") in said and ja("bot.climate.home_off") in said
    with session_scope() as s:
        assert s.scalar(select(Home)).climate_watch_enabled is False  # a watcher switches only their own


def test_without_a_home_the_switch_says_there_is_none_yet(chat, clock) -> None:
    chat.send("follow__new")
    chat.new_messages()
    chat.text(ja("bot.menu.climate"))
    assert ja("bot.no_home_yet") in chat.new_texts()
