"""What the senior's own reply means: the one place that reads it.

Every reply from the senior's LINE while a check-in is open counts. A call for help
(助けて, 具合が悪い, 救急車, 痛い …) is never read as "OK": it alerts the family at once,
marked urgent, with the senior's own words. Anything else — an everyday OK in any form,
a greeting, a sticker — proves the senior is awake and answering, so it confirms, and
the family already alerted is shown what was sent. The bot only passes the reply on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, clock
from core.detection.evidence import Evidence
from core.enums import EMERGENCY_KINDS, AttemptState
from core.escalation.attempts import advance
from core.escalation.kinds import StepKind
from core.models import Incident, Resident

RECENT = timedelta(hours=6)  # a late answer to a check-in that ended this long ago still hears how it ended


class Answer(StrEnum):
    OK = "ok"  # an everyday "I'm fine"
    HELP = "help"  # a call for help: never OK
    OTHER = "other"  # anything else, a sticker included: the senior is answering


class Outcome(StrEnum):
    """What the senior's reply did; the bot answers the senior with ``bot.senior.reply.<outcome>``."""

    CONFIRMED = "confirmed"  # closed before any family member was disturbed
    CONFIRMED_TOLD = "confirmed_told"  # closed, and the family already alerted hears it
    HELP_SENT = "help_sent"  # the family is alerted at once
    ALREADY_OVER = "already_over"  # the check-in was already ended by someone else
    NOTHING_OPEN = "nothing_open"  # no check-in: an OK needs nothing
    NOT_UNDERSTOOD = "not_understood"  # no check-in and not an OK: the senior is told what the service does


# Matched after NFKC, lower case and katakana → hiragana: so 助けて, タスケテ and ＳＯＳ all count.
HELP_WORDS = (
    "助け", "たすけ", "ヘルプ", "へるぷ", "help", "sos", "救急", "きゅうきゅう", "119",
    "具合が悪", "具合わる", "具合悪", "ぐあいがわる", "ぐあいわる", "気分が悪", "気分悪", "きぶんがわる", "調子が悪",
    "苦し", "くるし", "動けな", "うごけな", "起きられな", "おきられな", "立てな", "たてな", "立ち上がれ",
    "痛", "倒れ", "たおれ", "転ん", "ころん", "転倒", "息が", "いきが", "胸が", "むねが", "めまい", "目まい",
    "熱が", "ねつが", "しんどい", "つらい", "辛い", "来て", "きてほしい", "きてください",
    "大丈夫じゃな", "だいじょうぶじゃな", "大丈夫ではな", "だいじょうぶではな", "元気じゃな", "げんきじゃな",
    "元気がな", "げんきがな", "not ok", "not fine", "not okay", "okじゃな", "ok じゃな", "okではな",
)
_HELP_ITAI = re.compile(r"(^|[がはもをにで、\s])いたい")  # 足がいたい, いたいです; not 会いたい

OK_WORDS = frozenset({
    "ok", "okay", "おk", "おけ", "おっけー", "おっけ", "おーけー", "大丈夫", "だいじょうぶ", "だいじょぶ",
    "はい", "はーい", "うん", "元気", "げんき", "平気", "へいき", "無事", "ぶじ", "問題ない", "問題なし",
    "もんだいない", "yes", "yeah", "yep", "fine", "im fine", "i'm fine", "i am fine", "all good", "good",
    "👍", "⭕", "○", "〇", "🙆", "🆗", "起きてます", "おきてます", "生きてます", "いきてます",
})
_TAILS = ("ですよ", "です", "でーす", "だよ", "だ", "よ", "ね", "ですね", "でした", "しています", "してます")
_PUNCT = re.compile(r"[\s、。，．,.!！?？~〜…・♪☆★]+")
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F\u200D]")


def normalize(text: str) -> str:
    """NFKC, lower case, katakana as hiragana: one spelling for every everyday form."""
    word = unicodedata.normalize("NFKC", text).strip().lower()
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in word)


def _is_ok_part(part: str) -> bool:
    part = part.rstrip("ー") or part
    emoji_free = _EMOJI.sub("", part).rstrip("ー")
    if part in OK_WORDS or (emoji_free and emoji_free in OK_WORDS):
        return True
    if not emoji_free and part:
        return any(ok in part for ok in ("👍", "🙆", "🆗", "⭕"))
    return any(emoji_free.endswith(tail) and emoji_free[: -len(tail)] in OK_WORDS for tail in _TAILS)


def classify(text: str | None) -> Answer:
    """HELP before anything else; OK when every part of the reply is an everyday "I'm fine"."""
    if not text or not text.strip():
        return Answer.OTHER
    word = normalize(text)
    compact = word.replace(" ", "")
    if any(h in word or h in compact for h in HELP_WORDS) or _HELP_ITAI.search(word):
        return Answer.HELP
    if _PUNCT.sub(" ", word).strip() in OK_WORDS:
        return Answer.OK
    parts = [p for p in _PUNCT.split(word) if p]
    if parts and all(_is_ok_part(p) for p in parts):
        return Answer.OK
    parts_loose = [p for p in parts if p not in {"ありがとう", "ありがとうございます", "どうも", "おはよう",
                                                   "おはようございます", "こんにちは"}]
    if parts_loose and len(parts_loose) < len(parts) and all(_is_ok_part(p) for p in parts_loose):
        return Answer.OK
    return Answer.OTHER


def is_ok_reply(text: str | None) -> bool:
    """True for "OK", "ＯＫ!", "大丈夫です", "はい、元気です", "👍" and their everyday variants."""
    return classify(text) is Answer.OK


@dataclass(frozen=True)
class Reply:
    """The senior's reply as the family will be shown it: words, or "a sticker"."""

    text: str | None = None
    sticker: bool = False

    @property
    def answer(self) -> Answer:
        return Answer.OTHER if self.sticker else classify(self.text)

    def shown(self) -> str | None:
        """The words to show the family (None for a sticker), kept short."""
        return None if self.sticker or not self.text else self.text.strip()[:100]


def open_checkin(session: Session, home_id: int) -> Incident | None:
    """The home's open emergency (the one the senior is being asked about), oldest first."""
    return session.scalar(select(Incident).where(
        Incident.home_id == home_id, Incident.closed_at.is_(None), Incident.kind.in_(EMERGENCY_KINDS),
    ).order_by(Incident.id))


def _recently_ended(session: Session, home_id: int) -> Incident | None:
    since = clock.now() - RECENT
    return session.scalar(select(Incident).where(
        Incident.home_id == home_id, Incident.kind.in_(EMERGENCY_KINDS), Incident.closed_at.is_not(None),
        Incident.closed_at >= since,
    ).order_by(Incident.closed_at.desc()).limit(1))


def _mark_line_attempts(incident: Incident, how: str) -> None:
    for attempt in incident.attempts:
        if attempt.step_kind == StepKind.CONTACT_RESIDENT and attempt.channel.value == "line":
            advance(attempt, AttemptState.SUCCEEDED, confirmed_by=how)


def answer_by_line(session: Session, resident: Resident, reply: Reply) -> tuple[Outcome, Incident | None]:
    """The senior wrote on LINE: decide, act (in the caller's transaction) and say what happened."""
    from core.escalation import urgent
    from core.escalation.notices import alerted
    from core.incidents import confirm_resident

    answer = reply.answer
    incident = open_checkin(session, resident.home_id)
    if answer is Answer.HELP:
        incident = urgent.call_for_help(session, resident, reply.shown() or "", incident)
        return Outcome.HELP_SENT, incident
    if incident is None:
        ended = _recently_ended(session, resident.home_id)
        if ended is not None:
            return Outcome.ALREADY_OVER, ended
        return (Outcome.NOTHING_OPEN if answer is Answer.OK else Outcome.NOT_UNDERSTOOD), None
    if incident.evidence.get("urgent"):
        # after a call for help the family is on its way: a later "OK" is passed on, never closes it
        urgent.pass_on(session, incident, reply.shown())
        return Outcome.CONFIRMED_TOLD, incident
    incident.evidence = Evidence.from_json(incident.evidence).but(
        resident_reply=reply.shown(), resident_sticker=reply.sticker or None).to_json()
    _mark_line_attempts(incident, "line")
    told = bool(alerted(session, incident, alerts_only=True))
    confirm_resident(session, incident, "resident_line")
    audit.record(session, "resident_line", "resident_confirmed", home_id=incident.home_id, incident_id=incident.id,
                 answer=answer.value)
    return (Outcome.CONFIRMED_TOLD if told else Outcome.CONFIRMED), incident


def resident_of_line(session: Session, line_user_id: str) -> Resident | None:
    return session.scalar(select(Resident).where(Resident.line_user_id == line_user_id))


def confirm_resident_by_line(session: Session, line_user_id: str, text: str | None,
                             *, sticker: bool = False) -> Incident | None:
    """The bot got a reply from ``line_user_id``: act on it as :func:`answer_by_line` does;
    the incident it concerned (closed or alerted), or None when the user is no resident."""
    resident = resident_of_line(session, line_user_id)
    if resident is None:
        return None
    _outcome, incident = answer_by_line(session, resident, Reply(text, sticker))
    return incident


__all__ = ["Answer", "Outcome", "Reply", "answer_by_line", "classify", "confirm_resident_by_line", "is_ok_reply"]
