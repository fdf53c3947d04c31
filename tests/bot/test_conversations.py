"""Whole conversations through signed webhooks, asserting what LINE was asked to send."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from core.db import session_scope
from core.enums import ContactMethod, HomeStatus, IncidentKind, IncidentState, PauseReason
from core.models import ConversationState, Home, HomeWatcher, Incident, Pause, Resident, Schedule, Watcher
from core.texts import t
from tests.factories import supply_point

SP = supply_point(424242)


def register(chat, name: str = "お父さん", contact: str = "電話") -> None:
    chat.send("follow__new")
    assert "友だち追加ありがとうございます" in chat.new_texts()
    chat.tap(t("roles.family"))
    chat.tap("家族です")
    for answer in (name, "山田太郎", "東京都千代田区1-1", SP, "1234567890", "従量電灯B", "090-1234-5678"):
        chat.text(answer)
    chat.tap(contact)
    chat.tap("会って同意をもらった")
    assert "この内容で登録します" in chat.new_texts()
    chat.tap("登録する")


def register_and_invite(chat) -> tuple[int, str]:
    """Register a home, then ask for an invite code: (home id, the code the bot gave)."""
    register(chat)
    with session_scope() as s:
        home_id = s.scalar(select(Home.id))
    chat.postback(f"action=invite&h={home_id}")
    return home_id, chat.new_texts().split("招待コードは ")[1].split(" ")[0]


def test_follow_greets_and_registration_records_home_resident_and_consent(chat, clock) -> None:
    register(chat)
    assert "お父さんのお宅を登録しました" in chat.new_texts()
    with session_scope() as s:
        home = s.scalar(select(Home))
        assert home.supply_point_number == SP and home.meter_id == SP
        assert home.status == HomeStatus.AWAITING_HISTORY
        resident = s.scalar(select(Resident))
        assert resident.phone == "+819012345678"
        assert resident.preferred_contact == ContactMethod.VOICE
        assert resident.consent_given_at == clock.now() and resident.consent_method == "in_person"
        watcher = s.scalar(select(Watcher).where(Watcher.line_user_id == chat.user_id))
        assert resident.consent_recorded_by == watcher.id
        assert s.scalar(select(HomeWatcher)).is_owner
        assert s.scalar(select(ConversationState)) is None


def test_bad_answers_are_asked_again_with_a_kind_error_and_change_nothing(chat, clock) -> None:
    chat.send("follow__new")
    chat.tap(t("roles.family"))
    chat.tap("家族です")
    for answer in ("お母さん", "山田花子", "大阪市北区1-1"):
        chat.text(answer)
    chat.new_texts()
    chat.text("0" * 21)
    assert "22けたです。いただいた番号は21けた" in chat.new_texts()
    chat.text(SP)
    chat.text("99")
    chat.text("従量電灯B")
    chat.text("12345")
    assert "電話番号として読めませんでした" in chat.new_texts()
    with session_scope() as s:
        assert s.scalar(select(Home)) is None
        state = s.scalar(select(ConversationState))
        assert state.step == "phone" and state.data["supply_point"] == SP


def test_consent_not_yet_keeps_waiting_and_nothing_is_watched(chat, clock) -> None:
    chat.send("follow__new")
    chat.tap(t("roles.family"))
    chat.tap("家族です")
    for answer in ("お父さん", "山田太郎", "東京都千代田区1-1", SP, "1234567890", "従量電灯B", "09012345678"):
        chat.text(answer)
    chat.tap("電話")
    chat.tap("まだです")
    assert "同意をいただいてから" in chat.new_texts()
    with session_scope() as s:
        assert s.scalar(select(Home)) is None


def test_cancel_leaves_any_flow_and_old_buttons_are_no_longer_valid(chat, clock) -> None:
    chat.send("follow__new")
    chat.tap(t("roles.family"))
    old_family = next(a for a in chat.last_actions() if a.get("label") == "家族です")
    chat.text("キャンセル")
    assert "中止しました" in chat.new_texts()
    chat.postback(old_family["data"])
    assert "このボタンはもう使えません" in chat.new_texts()
    with session_scope() as s:
        assert s.scalar(select(ConversationState)) is None


def test_times_with_the_time_picker_are_said_back_in_plain_words(chat, clock) -> None:
    register(chat)
    chat.text("時間設定")
    chat.tap("時刻を選ぶ", {"time": "06:30"})
    chat.tap("時刻を選ぶ", {"time": "21:00"})
    assert "午前6時30分に起きて、午後9時に寝る" in chat.new_texts()
    with session_scope() as s:
        sched = s.scalar(select(Schedule))
        assert (sched.wake_time, sched.sleep_time) == (time(6, 30), time(21, 0))


def test_a_time_like_25_00_is_refused_and_asked_again(chat, clock) -> None:
    register(chat)
    chat.text("時間設定")
    chat.new_texts()
    chat.text("25:00")
    assert "0:00〜23:59" in chat.new_texts()
    with session_scope() as s:
        assert s.scalar(select(Schedule)) is None


def test_pause_for_a_trip_confirms_dates_and_when_watching_resumes(chat, clock) -> None:
    register(chat)
    chat.text("一時停止")
    chat.tap("旅行・お出かけ")
    chat.tap("日付を選ぶ", {"date": "2026-06-10"})
    chat.new_texts()
    chat.tap("日付を選ぶ", {"date": "2026-06-12"})
    said = chat.new_texts()
    assert "6月10日(水) 0時00分から" in said and "6月13日(土) 0時00分から見守りを再開" in said
    with session_scope() as s:
        pause = s.scalar(select(Pause))
        assert pause.reason == PauseReason.TRIP


def test_a_trip_ending_before_it_starts_is_refused(chat, clock) -> None:
    register(chat)
    chat.text("一時停止")
    chat.tap("旅行・お出かけ")
    chat.tap("日付を選ぶ", {"date": "2026-06-10"})
    chat.new_texts()
    chat.text("2026-06-08")
    assert "帰る日が出かける日より前" in chat.new_texts()
    chat.text("2026-02-30")
    assert "日付として読めませんでした" in chat.new_texts()
    with session_scope() as s:
        assert s.scalar(select(Pause)) is None


def test_late_night_and_resume(chat, clock) -> None:
    register(chat)
    chat.text("一時停止")
    chat.tap("今夜は夜更かし")
    assert "6月2日(火) 5時00分から見守りを再開" in chat.new_texts()
    chat.text("一時停止")
    chat.tap("見守りを再開")
    assert "見守りを再開しました" in chat.new_texts()
    with session_scope() as s:
        assert s.scalar(select(Pause)).cancelled_at is not None


def _open_incident() -> int:
    from core import incidents

    with session_scope() as s:
        home = s.scalar(select(Home))
        inc = incidents.open_incident(s, home, IncidentKind.NO_WAKE, window_start=home.created_at, evidence={})
        return inc.id


def test_acknowledging_an_alert_goes_through_core_incidents(chat, chat_factory, clock) -> None:
    register(chat)
    incident_id = _open_incident()
    stranger = chat_factory()
    stranger.send("follow__new")
    stranger.postback(f"action=ack&incident={incident_id}")
    assert "この操作はできません" in stranger.new_texts()
    chat.postback(f"action=ack&incident={incident_id}")
    assert "対応をお願いします" in chat.new_texts()
    chat.postback(f"action=close&incident={incident_id}&reason=safe")
    assert "無事でよかった" in chat.new_texts()
    with session_scope() as s:
        inc = s.get(Incident, incident_id)
        assert inc.state == IncidentState.CLOSED and inc.ack_source == "line"


def test_status_shows_words_and_the_graph_image(chat, clock) -> None:
    from core.models import MeterReading

    register(chat)
    with session_scope() as s:
        home = s.scalar(select(Home))
        s.add(MeterReading(home_id=home.id, interval_start=clock.now(), kwh=0.4))
    chat.new_messages()
    chat.text("今日の様子")
    msgs = chat.new_messages()
    assert [m["type"] for m in msgs] == ["flex", "image"]
    assert "/graphs/" in msgs[1]["originalContentUrl"]


def test_invite_code_lets_another_child_join_once(chat, chat_factory, clock) -> None:
    _home_id, code = register_and_invite(chat)
    sister = chat_factory()
    sister.send("follow__new")
    sister.text("キャンセル")
    sister.text(code)
    assert "山田太郎さんの見守りに参加しました" in sister.new_texts()  # her own name
    brother = chat_factory()
    brother.text(code)
    assert "このコードは使えませんでした" in brother.new_texts()
    with session_scope() as s:
        assert len(s.scalars(select(HomeWatcher)).all()) == 2
