"""Whole conversations through signed webhooks, asserting what LINE was asked to send."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from sqlalchemy import select

from core.db import session_scope
from core.enums import ContactMethod, HomeStatus, IncidentKind, IncidentState, PauseReason
from core.models import ConversationState, Home, HomeWatcher, Incident, Pause, Resident, Schedule, Watcher
from core.texts import t
from tests.bot.conftest import actions_of
from tests.factories import supply_point

SP = supply_point(424242)


DETAILS = {"holder": "山田太郎", "postal": "100-0001", "address": "東京都千代田区千代田1-1",
           "phone": "090-1234-5678", "supply_point": SP, "customer_number": "12-3456-7890", "plan": "従量電灯B"}


def form_token(chat) -> str:
    """The signed token of the latest 入力フォームを開く button (what LINE would open as LIFF)."""
    from urllib.parse import parse_qs, urlparse

    for msg in reversed(chat.all_messages()):
        for action in actions_of(msg):
            if action.get("type") == "uri" and "/liff/home" in action["uri"]:
                return parse_qs(urlparse(action["uri"]).query)["t"][0]
    raise AssertionError("no form button")


def fill_form(chat, **changes) -> Any:
    """Send the LIFF form as the page does; returns the HTTP response."""
    fields = {**DETAILS, **changes}
    return chat.client.post("/liff/api/home", json={"t": form_token(chat), "fields": fields})


def register(chat, name: str = "お父さん", contact: str = "電話", consent: str = "会って同意をもらった",
             **details) -> None:
    chat.send("follow__new")
    chat.tap(t("roles.family"))
    assert "友だち追加ありがとうございます" in chat.new_texts()
    chat.tap("家族です")
    chat.text(name)
    assert fill_form(chat, **details).status_code == 200
    chat.text("入力しました")
    chat.tap(contact)
    chat.tap(consent)
    assert "この内容で登録します" in chat.new_texts()
    chat.tap("登録する")


def register_and_invite(chat) -> tuple[int, str]:
    """Register a home, then ask for an invite code: (home id, the code the bot gave)."""
    register(chat)
    with session_scope() as s:
        home_id = s.scalar(select(Home.id))
    chat.postback(f"action=invite&h={home_id}")
    return home_id, chat.new_texts().split("コード：")[1].split("（")[0]


def join_with_code(chat_factory, code: str):
    """Another family member adds the bot (leaving the registration it offers) and sends the code."""
    member = chat_factory()
    member.send("follow__new")
    member.text("キャンセル")
    member.text(code)
    return member


def test_follow_greets_and_registration_records_home_resident_and_consent(chat, clock) -> None:
    register(chat)
    said = chat.new_texts()
    assert "お父さんのお宅を登録しました" in said
    with session_scope() as s:
        home = s.scalar(select(Home))
        assert home.supply_point_number == SP and home.meter_id == SP
        assert home.customer_number == "1234567890" and home.address == "東京都千代田区千代田1-1"
        assert home.status == HomeStatus.AWAITING_HISTORY
        resident = s.scalar(select(Resident))
        assert resident.phone == "+819012345678"
        assert resident.preferred_contact == ContactMethod.VOICE
        assert resident.consent_given_at == clock.now() and resident.consent_method == "in_person"
        watcher = s.scalar(select(Watcher).where(Watcher.line_user_id == chat.user_id))
        assert resident.consent_recorded_by == watcher.id
        assert s.scalar(select(HomeWatcher)).is_owner
        assert s.scalar(select(ConversationState)) is None


def test_the_confirmation_shows_the_phone_as_written_in_japan(chat, clock) -> None:
    chat.send("follow__new")
    chat.tap(t("roles.family"))
    chat.tap("家族です")
    chat.tap("お母さん")
    fill_form(chat, phone="+81 90 1234 5678")
    chat.text("入力しました")
    chat.tap("電話")
    chat.tap("電話で同意をもらった")
    said = chat.new_texts()
    assert "090-1234-5678" in said and "+8190" not in said


def test_bad_form_fields_get_an_error_each_and_change_nothing(chat, clock) -> None:
    chat.send("follow__new")
    chat.tap(t("roles.family"))
    chat.tap("家族です")
    chat.tap("お母さん")
    resp = fill_form(chat, supply_point="0" * 21, customer_number="どこに書いてありますか？", phone="12345")
    assert resp.status_code == 400
    errors = resp.get_json()["errors"]
    assert set(errors) == {"supply_point", "customer_number", "phone"}
    assert errors["customer_number"] == t("bot.error.customer_number.not_digits", "ja")
    assert errors["supply_point"] == t("bot.error.supply_point.length", "ja", length=21)
    with session_scope() as s:
        state = s.scalar(select(ConversationState))
        assert state.step == "details" and "details" not in state.data
    chat.text("入力しました")
    assert t("bot.error.details.not_sent", "ja") in chat.new_texts()
    with session_scope() as s:
        assert s.scalar(select(Home)) is None


def test_a_forged_or_stale_form_token_changes_nothing(chat, clock) -> None:
    chat.send("follow__new")
    chat.tap(t("roles.family"))
    chat.tap("家族です")
    chat.tap("お母さん")
    token = form_token(chat)
    resp = chat.client.post("/liff/api/home", json={"t": token[:-2] + "xx", "fields": DETAILS})
    assert resp.status_code == 403
    chat.text("キャンセル")
    resp = chat.client.post("/liff/api/home", json={"t": token, "fields": DETAILS})
    assert resp.status_code == 403
    assert chat.client.get(f"/liff/home?t={token}").status_code == 403


def test_sms_to_a_fixed_line_is_refused_at_the_contact_step(chat, clock) -> None:
    chat.send("follow__new")
    chat.tap(t("roles.family"))
    chat.tap("家族です")
    chat.tap("お父さん")
    fill_form(chat, phone="06-1234-5678")
    chat.text("入力しました")
    chat.new_texts()
    chat.tap("ショートメール")
    assert t("bot.error.phone.not_mobile", "ja") in chat.new_texts()
    with session_scope() as s:
        state = s.scalar(select(ConversationState))
        assert state.step == "contact" and "contact" not in state.data


def test_consent_not_yet_saves_everything_and_one_tap_later_records_it(chat, clock) -> None:
    register(chat, consent="まだです")
    said = chat.new_texts()
    assert t("bot.consent.pending_title", "ja", name="お父さん") in said
    uris = [a["uri"] for a in chat.last_actions() if a.get("type") == "uri"]
    assert uris[0].startswith("https://line.me/R/share?text=")
    sheet = chat.client.get(uris[1].removeprefix("http://127.0.0.1:8000"))
    assert sheet.status_code == 200 and "山田太郎さん" in sheet.get_data(as_text=True)  # the senior, by name
    with session_scope() as s:
        home = s.scalar(select(Home))
        assert home.status == HomeStatus.AWAITING_CONSENT and home.resident.consent_given_at is None
        assert s.scalar(select(ConversationState)) is None  # no loop: registration is done
    chat.tap("電話で同意をもらった")
    assert t("bot.consent.recorded", "ja", name="お父さん",
             state=t("bot.status.home.awaiting_history", "ja")) in chat.new_texts()
    chat.tap("電話で同意をもらった")
    assert t("bot.consent.already", "ja") in chat.new_texts()
    with session_scope() as s:
        home = s.scalar(select(Home))
        assert home.status == HomeStatus.AWAITING_HISTORY and home.resident.consent_method == "phone"


def test_without_the_bill_the_home_waits_and_the_numbers_come_later(chat, clock) -> None:
    from core.escalation import dispatcher
    from core.meter_reminders import remind_missing_meters

    def run_jobs() -> None:
        with session_scope() as s:
            remind_missing_meters(s, clock.now())
        dispatcher.dispatch_due()

    register(chat, supply_point="", customer_number="")
    assert t("bot.register.meter_later", "ja") in chat.new_texts()
    with session_scope() as s:
        home = s.scalar(select(Home))
        assert home.status == HomeStatus.AWAITING_METER and home.supply_point_number is None
        assert home.meter_id.startswith("pending-")
    run_jobs()
    assert chat.new_messages() == []  # not before a day
    clock.advance(hours=25)
    run_jobs()
    clock.advance(hours=25)
    run_jobs()
    reminders = [m for m in chat.new_messages() if "検針票の番号がまだ" in m.get("text", "")]
    assert len(reminders) == 1  # once
    chat.text("登録内容")
    assert t("bot.status.home.awaiting_meter", "ja") in chat.new_texts()
    bad = fill_form(chat, supply_point="", customer_number="どこに書いてありますか？")
    assert bad.status_code == 400
    page = chat.client.get(f"/liff/home?t={form_token(chat)}").get_data(as_text=True)
    assert 'id="name"' in page  # after registering, what to call them is in the form too
    good = fill_form(chat, supply_point=SP, customer_number="1234567890", name="父")
    assert good.status_code == 200
    chat.text("入力しました")
    with session_scope() as s:
        home = s.scalar(select(Home))
        assert home.status == HomeStatus.AWAITING_HISTORY and home.meter_id == SP
        assert s.scalar(select(HomeWatcher)).relation_label == "父"  # this family member's word for him
        assert home.resident.display_name == "山田太郎"  # his own name is the holder's, unchanged


def test_one_answer_is_changed_from_the_confirmation_without_starting_again(chat, clock) -> None:
    chat.send("follow__new")
    chat.tap(t("roles.family"))
    chat.tap("家族です")
    chat.tap("お父さん")
    fill_form(chat)
    chat.text("入力しました")
    chat.tap("電話")
    chat.tap("会って同意をもらった")
    chat.tap("内容を直す")
    chat.tap("呼び方")
    chat.text("父")
    said = chat.new_texts()
    assert "お呼びする名前：父" in said and "山田太郎" in said  # back at the confirmation, the rest kept
    chat.tap("登録する")
    with session_scope() as s:
        assert s.scalar(select(HomeWatcher)).relation_label == "父"


def test_a_draft_is_kept_for_days_and_picked_up_again(chat, clock) -> None:
    chat.send("follow__new")
    chat.tap(t("roles.family"))
    chat.tap("家族です")
    chat.tap("お父さん")
    clock.advance(days=6)
    chat.text("登録")
    said = chat.new_texts()
    assert t("bot.flow.resumed", "ja") in said and t("bot.register.details.title", "ja") in said
    clock.advance(days=8)  # 14 days after the last answer: the draft is gone
    chat.text("入力しました")
    assert t("bot.no_home_yet", "ja") in chat.new_texts()
    with session_scope() as s:
        assert s.scalar(select(ConversationState)) is None


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


def _open_incident(kind: IncidentKind = IncidentKind.NO_WAKE) -> int:
    from core import incidents

    with session_scope() as s:
        home = s.scalar(select(Home))
        inc = incidents.open_incident(s, home, kind, window_start=home.created_at, evidence={})
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
    sister = join_with_code(chat_factory, code)
    assert "山田太郎さんの見守りに参加しました" in sister.new_texts()  # her own name
    brother = chat_factory()
    brother.text(code)
    assert "このコードは使えませんでした" in brother.new_texts()
    with session_scope() as s:
        assert len(s.scalars(select(HomeWatcher)).all()) == 2


def test_times_typed_as_people_say_them(chat, clock) -> None:
    register(chat)
    chat.text("時間設定")
    chat.text("6時半")
    chat.text("夜10時")
    assert "午前6時30分に起きて、午後10時に寝る" in chat.new_texts()
    with session_scope() as s:
        sched = s.scalar(select(Schedule))
        assert (sched.wake_time, sched.sleep_time) == (time(6, 30), time(22, 0))


def test_a_trip_typed_as_tomorrow_to_next_wednesday(chat, clock) -> None:
    from core import pauses

    register(chat)
    chat.text("一時停止")
    chat.tap("旅行・お出かけ")
    chat.text("明日")
    chat.text("来週の水曜日")
    with session_scope() as s:
        home = s.scalar(select(Home))
        assert pauses.local_today(home) == date(2026, 6, 1)  # a Monday
        pause = s.scalar(select(Pause))
        start, end = pauses.local(home, pause.starts_at).date(), pauses.local(home, pause.ends_at).date()
    assert start == date(2026, 6, 2) and end == date(2026, 6, 11)  # back on Wednesday 10th, resumes after it


def test_inside_line_the_form_link_goes_through_liff(chat, settings, clock) -> None:
    settings.liff_id = "1234567890-AbCdEfGh"
    chat.send("follow__new")
    chat.tap(t("roles.family"))
    chat.tap("家族です")
    chat.tap("お父さん")
    uri = next(a["uri"] for a in chat.last_actions() if a.get("type") == "uri")
    assert uri.startswith("https://liff.line.me/1234567890-AbCdEfGh?t=")
    boot = chat.client.get("/liff/home?liff.state=%3Ft%3Dx").get_data(as_text=True)
    assert "liff.init" in boot and "1234567890-AbCdEfGh" in boot
    page = chat.client.get(f"/liff/home?t={uri.split('t=', 1)[1]}").get_data(as_text=True)
    assert "sdk.js" in page and 'inputmode="numeric"' in page


def test_after_registering_the_contact_method_changes_alone_and_sms_needs_a_mobile(chat, clock) -> None:
    register(chat, phone="06-1234-5678")
    chat.text("登録内容")
    chat.new_texts()
    chat.tap(t("bot.details.contact", "ja", value="ショートメール"))
    assert t("bot.error.phone.not_mobile", "ja") in chat.new_texts()
    chat.tap(t("bot.details.contact", "ja", value="LINE"))
    said = chat.new_texts()
    assert t("bot.settings.saved", "ja") in said and t("bot.invite.title.resident", "ja", name="お父さん") in said
    with session_scope() as s:
        resident = s.scalar(select(Resident))
        assert resident.preferred_contact == ContactMethod.LINE and resident.phone == "+81612345678"


def test_closing_a_quiet_alert_as_safe_offers_the_pause_in_the_same_reply(chat, clock) -> None:
    register(chat)
    chat.new_messages()
    pushes_before = len(chat.line.state.pushes())
    chat.postback(f"action=close&incident={_open_incident(IncidentKind.INACTIVITY)}&reason=safe")
    closed, offer = chat.new_messages()
    assert closed["text"] == t("bot.alert.closed_safe", "ja") and offer["text"] == t("bot.alert.pause_offer", "ja")
    assert len(chat.line.state.pushes()) == pushes_before  # a reply: LINE does not count it
    chat.tap(t("bot.menu.pause", "ja"))
    assert t("bot.pause.title", "ja") in chat.new_texts()  # the pause flow, one tap away


def test_closing_an_alert_that_was_not_a_quiet_stretch_offers_no_pause(chat, clock) -> None:
    register(chat)
    chat.new_messages()
    chat.postback(f"action=close&incident={_open_incident(IncidentKind.FLAT_USAGE)}&reason=safe")
    [closed] = chat.new_messages()
    assert closed["text"] == t("bot.alert.closed_safe", "ja") and "quickReply" not in closed
