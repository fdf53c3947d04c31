"""Seniors, unfollows, languages, settings, watchers, consent, groups: the people around a home."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db import session_scope
from core.enums import CloseReason, HomeStatus, IncidentKind, IncidentState
from core.models import AuditLog, ConversationState, Home, HomeWatcher, Incident, OutboxMessage, Resident, Watcher
from core.texts import t
from tests.bot.conftest import actions_of
from tests.bot.test_conversations import register, register_and_invite


def _incident() -> int:
    from core import incidents

    with session_scope() as s:
        home = s.scalar(select(Home))
        return incidents.open_incident(s, home, IncidentKind.NO_WAKE, window_start=home.created_at,
                                       evidence={}).id


def test_senior_links_their_line_with_the_code_and_answers_ok(chat, chat_factory, clock) -> None:
    from urllib.parse import unquote, urlparse

    register(chat, contact="LINE")
    msgs = chat.new_messages()
    share = next(a["uri"] for m in msgs for a in actions_of(m) if a.get("type") == "uri" and "share" in a["uri"])
    qr = next(m for m in msgs if m["type"] == "image")
    assert chat.client.get(urlparse(qr["originalContentUrl"]).path).data.startswith(b"\x89PNG")
    link = unquote(share.split("text=", 1)[1]).split("：")[-1]  # what the senior taps in the shared message
    assert link.startswith("https://line.me/R/oaMessage/%40mimamori/?")
    typed_in = unquote(link.split("?", 1)[1])  # LINE opens our chat with this already typed
    senior = chat_factory()
    senior.send("follow__new")
    senior.text(typed_in)  # the add-and-join link: no role question to answer first
    assert t("bot.join.resident_done") in senior.new_texts()
    assert "家族です" not in [a.get("label") for m in senior.all_messages() for a in actions_of(m)]  # no registration
    with session_scope() as s:
        assert s.scalar(select(Resident)).line_user_id == senior.user_id
    incident_id = _incident()
    senior.text("OK")
    assert t("senior.reply.confirmed", name="山田太郎さん") in senior.new_texts()  # her own name, never お父さん
    with session_scope() as s:
        inc = s.get(Incident, incident_id)
        assert inc.state == IncidentState.CLOSED and inc.close_reason == CloseReason.RESIDENT_OK


def test_unfollow_marks_the_watcher_unreachable_and_tells_the_operator(chat, clock) -> None:
    register(chat)
    chat.send("unfollow__basic")
    with session_scope() as s:
        assert s.scalar(select(Watcher)).following is False
        actions = set(s.scalars(select(AuditLog.action)))
    assert {"unfollowed", "home_unreachable"} <= actions
    chat.send("follow__unblocked")
    assert "おかえりなさい" in chat.new_texts()


def test_english_profile_gets_english(chat, fake_line, clock) -> None:
    fake_line.state.profiles[chat.user_id] = {"displayName": "Ken", "language": "en"}
    chat.send("follow__new")
    said = chat.new_texts()
    assert "Thank you for adding mimamori" in said and t("roles.ask", "en") in said
    chat.tap(t("roles.family", "en"))
    assert "How are you related" in chat.new_texts()
    chat.tap("Family")
    assert "What should we call them" in chat.new_texts()


def test_settings_toggles_and_over_usage(chat, clock) -> None:
    register(chat)
    with session_scope() as s:  # pushes cost money: the weekly digest by default, the daily one on request
        link = s.scalar(select(HomeWatcher))
        assert (link.notify_daily, link.notify_weekly, link.notify_monthly) == (False, True, True)
    chat.text("設定")
    chat.tap("毎朝の報告を切り替え")
    chat.tap("毎週の報告を切り替え")
    chat.tap("30%")
    with session_scope() as s:
        link = s.scalar(select(HomeWatcher))
        assert (link.notify_daily, link.notify_weekly) == (True, False)
        assert s.scalar(select(Home)).over_usage_percent == 30


def test_email_channel_is_validated(chat, clock) -> None:
    register(chat)
    chat.text("メールも受け取る")
    chat.text("not-an-email")
    assert "メールアドレスとして読めませんでした" in chat.new_texts()
    chat.text("taro@example.jp")
    with session_scope() as s:
        assert s.scalar(select(HomeWatcher)).channels == ["email", "line"]


def test_owner_lists_and_removes_watchers_others_cannot(chat, chat_factory, clock) -> None:
    home_id, code = register_and_invite(chat)
    sister = chat_factory()
    sister.text(code)
    with session_scope() as s:
        sister_id = s.scalar(select(Watcher.id).where(Watcher.line_user_id == sister.user_id))
        owner_id = s.scalar(select(Watcher.id).where(Watcher.line_user_id == chat.user_id))
    sister.postback(f"action=remove&h={home_id}&w={owner_id}")
    assert "この操作はできません" in sister.new_texts()
    chat.postback(f"action=watchers&h={home_id}")
    assert "見守る人（お知らせの順番）" in chat.new_texts()
    chat.postback(f"action=first&h={home_id}&w={sister_id}")
    with session_scope() as s:
        order = {hw.watcher_id: hw.escalation_order for hw in s.scalars(select(HomeWatcher))}
    assert order == {sister_id: 1, owner_id: 2}
    chat.postback(f"action=remove&h={home_id}&w={sister_id}")
    with session_scope() as s:
        assert [hw.watcher_id for hw in s.scalars(select(HomeWatcher))] == [owner_id]


def test_withdrawing_consent_stops_watching_and_tells_the_others(chat, chat_factory, clock) -> None:
    home_id, code = register_and_invite(chat)
    sister = chat_factory()
    sister.text(code)
    incident_id = _incident()
    chat.text("同意の取り消し")
    chat.tap("取り消す")
    assert "見守りを止めました" in chat.new_texts()
    with session_scope() as s:
        assert s.get(Home, home_id).status == HomeStatus.AWAITING_CONSENT
        assert s.get(Incident, incident_id).close_reason == CloseReason.CONSENT_WITHDRAWN
        outbox = s.scalars(select(OutboxMessage)).all()
    assert [o.recipient for o in outbox] == [sister.user_id]


def test_flows_expire_when_left_idle(chat, clock) -> None:
    chat.send("follow__new")  # registration keeps its draft for 7 days; other flows 30 minutes
    clock.advance(days=7, minutes=1)
    chat.text("お父さん")
    assert "よくわかりませんでした" in chat.new_texts()
    with session_scope() as s:
        assert s.scalar(select(ConversationState)) is None


def test_stickers_get_a_kind_note(chat) -> None:
    chat.send("message__sticker")
    assert "文字でお送りください" in chat.new_texts()


def test_reply_falls_back_to_push_when_the_reply_fails(chat, fake_line) -> None:
    fake_line.state.fail_next(500)
    chat.text("ヘルプ")
    assert [c.kind for c in fake_line.state.calls] == ["push"]
    assert "よくあるご質問" in chat.new_texts()


def test_group_ack_is_for_everyone_and_member_welcome(chat, chat_factory, clock, make_home) -> None:
    from core import invites
    from core.models import Building

    register(chat)
    with session_scope() as s:
        b = Building(name="さくら荘")
        s.add(b)
        s.flush()
        s.scalar(select(Home)).building_id = b.id
        code = invites.create(s, purpose=invites.PURPOSE_BUILDING, building_id=b.id)
    group = chat_factory(group_id="C" + "2" * 32)
    group.send("join__group")
    group.text("連携")
    group.text(code)
    group.send("memberJoined__group")
    assert "みなさんに伝わります" in group.new_texts()
    incident_id = _incident()
    group.postback(f"action=ack&incident={incident_id}")
    assert "みなさんに「確認に行きます」" in group.new_texts()
    chat.postback(f"action=ack&incident={incident_id}")
    told = chat.new_texts()  # an old card's button says how it stands: who took it, when
    assert "さくら荘のグループ" in told and t("bot.alert.already_closed") not in told
    with session_scope() as s:
        assert s.get(Incident, incident_id).ack_source == "line_group"


def test_a_bad_flow_declaration_fails_when_built() -> None:
    from enum import StrEnum

    from bot.flows.base import Flow, FlowDeclarationError, Step

    class S(StrEnum):
        A = "a"
        B = "b"

    with pytest.raises(FlowDeclarationError):
        Flow(name="broken", states=S, start=S.A, steps={S.A: Step(lambda c, v: None, lambda c, v, a: "b")})


def test_events_of_one_chat_are_handled_in_timestamp_order(chat) -> None:
    first = chat.event("message__text")
    second = chat.event("message__text")
    first["events"][0]["message"]["text"] = "登録"
    second["events"][0]["message"]["text"] = "キャンセル"
    second["events"][0]["timestamp"] = first["events"][0]["timestamp"] + 1
    body = {"destination": first["destination"], "events": [second["events"][0], first["events"][0]]}
    chat.post(body)
    said = chat.new_texts()
    assert said.index("見守るお宅を登録します") < said.index("中止しました")


def test_stale_events_are_swept_after_a_crash(chat, clock, settings) -> None:
    from bot import processing

    settings.webhook_workers = 0  # as if the process died before handling
    chat.text("ヘルプ")
    assert chat.all_messages() == []
    settings.webhook_workers = 4
    clock.advance(timedelta(minutes=1))
    assert processing.drain_stale() == 1
    assert "よくあるご質問" in chat.new_texts()


def test_a_watcher_of_two_homes_is_asked_which_home(chat, clock, make_home) -> None:
    from core.models import HomeWatcher as Link

    register(chat)
    other = make_home(resident_name="お母さん")
    with session_scope() as s:
        watcher_id = s.scalar(select(Watcher.id).where(Watcher.line_user_id == chat.user_id))
        s.add(Link(home_id=other.id, watcher_id=watcher_id, escalation_order=1))
    chat.new_texts()
    chat.text("一時停止")
    assert "どちらのお宅ですか" in chat.new_texts()
    chat.tap("お母さん")
    assert "どうしますか" in chat.new_texts()
    chat.tap("今夜は夜更かし")
    assert "見守りを再開します" in chat.new_texts()
    with session_scope() as s:
        from core.models import Pause

        assert [p.home_id for p in s.scalars(select(Pause))] == [other.id]
    chat.text("設定")
    assert [m["type"] for m in chat.new_messages()] == ["flex", "flex"]


def test_the_senior_can_withdraw_consent_and_the_family_is_told(chat, chat_factory, clock) -> None:
    register(chat, contact="LINE")
    code = chat.new_texts().split("コード：")[1].split("（")[0]
    senior = chat_factory()
    senior.text(code)
    senior.text("同意の取り消し")
    senior.tap("取り消す")
    assert "見守りを止めました" in senior.new_texts()
    with session_scope() as s:
        assert s.scalar(select(Home)).status == HomeStatus.AWAITING_CONSENT
        assert [o.recipient for o in s.scalars(select(OutboxMessage))] == [chat.user_id]


def test_leaving_asks_first_then_deletes_the_watchers_personal_data_at_once(chat, clock) -> None:
    register(chat)
    chat.new_texts()
    chat.text("退会")
    assert "よろしいですか" in chat.new_texts()
    with session_scope() as s:
        assert s.scalar(select(Watcher)).deleted_at is None  # nothing happens before the confirmation
    chat.tap("退会する")
    assert "退会の手続きが終わりました" in chat.new_texts()
    with session_scope() as s:
        watcher = s.scalar(select(Watcher))
        assert watcher.deleted_at is not None
        assert (watcher.line_user_id, watcher.display_name, watcher.email) == (None, None, None)
        assert s.scalar(select(HomeWatcher).where(HomeWatcher.watcher_id == watcher.id)) is None
        assert s.scalar(select(ConversationState).where(ConversationState.chat_id == chat.user_id)) is None


def test_a_senior_who_adds_the_account_themselves_is_asked_for_the_code(chat, chat_factory, clock) -> None:
    register(chat, contact="LINE")
    code = chat.new_texts().split("コード：")[1].split("（")[0]
    senior = chat_factory()
    senior.send("follow__new")
    senior.tap(t("roles.senior"))
    assert t("senior.follow.ask_code") in senior.new_texts()
    assert "家族です" not in [a.get("label") for m in senior.all_messages() for a in actions_of(m)]  # no registration
    senior.text(code)
    assert t("bot.join.resident_done") in senior.new_texts()
