"""What the senior's reply means (core.escalation.answers): OK, a call for help, or anything else.

The journeys (signed webhooks, outbox, dispatcher, fake LINE) are in
tests/bot/test_alert_journeys.py; these pin the one reading of the words.
"""

from __future__ import annotations

import pytest

from core.escalation.answers import Answer, Reply, classify

# The senior's thirty most common everyday answers to 「お変わりありませんか？」, as they are typed:
# kana, kanji, full-width, with です / ! / emoji, English, a thumbs-up.
EVERYDAY_OK = (
    "OK", "ok", "ＯＫ", "OK!", "オッケー", "おけ", "はい", "はーい", "うん", "大丈夫",
    "大丈夫です", "だいじょうぶです", "ダイジョウブ", "大丈夫だよ", "大丈夫です！", "元気", "元気です", "げんきです",
    "元気です😊", "はい、元気です", "元気だよ〜", "げんきだよ", "平気です", "無事です", "問題ないです",
    "👍", "yes", "Yes.", "I'm fine", "起きてます",
)
# Everyday words that are not an "OK" but prove the senior is up and answering.
EVERYDAY_OTHER = ("おはよう", "おはようございます", "今起きました", "ごめんね、寝坊した", "会いたいね", "いいえ")
CALLS_FOR_HELP = (
    "助けて", "たすけて", "タスケテ", "助けてください", "具合が悪い", "具合が悪いです", "苦しい", "動けない",
    "救急車", "救急車呼んで", "痛い", "足がいたい", "転んで起きられない", "倒れた", "SOS", "help",
    "大丈夫じゃない", "OKじゃない", "気分が悪い", "胸が苦しい", "めまいがする", "not ok",
)


def test_the_list_is_thirty_everyday_answers() -> None:
    assert len(EVERYDAY_OK) == 30 and len(set(EVERYDAY_OK)) == 30


@pytest.mark.parametrize("text", EVERYDAY_OK)
def test_everyday_ok_is_ok(text: str) -> None:
    assert classify(text) is Answer.OK


@pytest.mark.parametrize("text", EVERYDAY_OTHER)
def test_other_words_are_an_answer_but_not_an_ok(text: str) -> None:
    assert classify(text) is Answer.OTHER


@pytest.mark.parametrize("text", CALLS_FOR_HELP)
def test_a_call_for_help_is_never_ok(text: str) -> None:
    assert classify(text) is Answer.HELP
    assert classify(f"はい、{text}") is Answer.HELP  # not even after a "yes"


def test_a_sticker_is_an_answer_shown_as_a_sticker() -> None:
    reply = Reply(None, sticker=True)
    assert reply.answer is Answer.OTHER and reply.shown() is None
    assert Reply("  大丈夫です ").shown() == "大丈夫です"
