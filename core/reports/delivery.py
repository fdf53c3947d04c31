"""Who gets a report, by which channel, and the message each channel carries.

A report is enqueued once per (home, period, watcher, channel) under a deterministic
idempotency key, so a scheduler that restarts or runs twice sends it once. Each
watcher's link says whether they want daily/weekly/monthly reports and by which channels.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import links, outbox
from core.enums import Channel
from core.models import Home, HomeWatcher, OutboxMessage, Resident, Watcher
from core.settings import get_settings
from core.texts import t

Facts = TypeVar("Facts")

REPORT_CHANNELS = (Channel.LINE, Channel.EMAIL)


@dataclass(frozen=True)
class Recipient:
    watcher: Watcher
    link: HomeWatcher
    channel: Channel
    address: str

    @property
    def lang(self) -> str:
        return self.watcher.language or "ja"


def recipients(session: Session, home: Home, flag: str) -> list[Recipient]:
    """Every (watcher, channel) that wants this kind of report (``flag``: notify_daily/weekly/monthly)."""
    rows = session.execute(
        select(HomeWatcher, Watcher)
        .join(Watcher, Watcher.id == HomeWatcher.watcher_id)
        .where(HomeWatcher.home_id == home.id, Watcher.deleted_at.is_(None))
        .order_by(HomeWatcher.escalation_order, HomeWatcher.id)
    )
    found: list[Recipient] = []
    for link, watcher in rows:
        if not getattr(link, flag):
            continue
        wanted = set(link.channels or [])
        for channel in REPORT_CHANNELS:
            if channel.value not in wanted:
                continue
            if channel is Channel.LINE and watcher.line_user_id and watcher.following:
                found.append(Recipient(watcher, link, channel, watcher.line_user_id))
            elif channel is Channel.EMAIL and watcher.email:
                found.append(Recipient(watcher, link, channel, watcher.email))
    return found


def existing_keys(session: Session, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(keys))))


def who(session: Session, home: Home, link: HomeWatcher | None, lang: str) -> str:
    """How this watcher calls the resident: their own label (お父さん) or the resident's name."""
    if link is not None and link.relation_label:
        return link.relation_label
    resident = session.scalar(select(Resident).where(Resident.home_id == home.id))
    if resident is not None and resident.display_name:
        return t("reports.who.resident_named", lang, name=resident.display_name)
    return t("reports.who.resident", lang)


def date_label(day: date, lang: str) -> str:
    weekday = t("reports.weekdays", lang).split(",")[day.weekday()]
    return t("reports.date_label", lang, month=day.month, day=day.day, weekday=weekday)


def month_label(first: date, lang: str) -> str:
    return t("reports.month_label", lang, year=first.year, month=first.month)


def graph_image_urls(home_id: int, day: date, view: str = "day") -> tuple[str, str]:
    """(original, preview) URLs of a graph; day graphs are exactly core.links.graph_urls."""
    if view == "day":
        return links.graph_urls(home_id, day)
    token = links.sign("graph", h=home_id, d=day.isoformat(), v=view)
    base = f"{get_settings().base_url}/graphs/{token}.png"
    return base, f"{base}?size=preview"


@dataclass(frozen=True)
class ReportContent:
    """What a report says, already in the recipient's language."""

    title: str
    heading: str
    big: str
    lines: list[str]
    alt: str
    subject: str
    image: tuple[str, str]
    page_link: str


def _flex(content: ReportContent, lang: str) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "text", "text": content.heading, "wrap": True, "weight": "bold", "size": "md"},
        {"type": "text", "text": content.big, "size": "xxl", "weight": "bold", "color": "#1F3A93"},
    ]
    body += [{"type": "text", "text": line, "wrap": True, "size": "md"} for line in content.lines]
    return {
        "type": "flex",
        "altText": content.alt[:400],
        "contents": {
            "type": "bubble",
            "header": {
                "type": "box",
                "layout": "vertical",
                "contents": [{"type": "text", "text": content.title, "size": "sm", "color": "#555555"}],
            },
            "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": body},
            "footer": {
                "type": "box",
                "layout": "vertical",
                "contents": [
                    {
                        "type": "button",
                        "style": "primary",
                        "action": {"type": "uri", "label": t("reports.see_pages", lang)[:20], "uri": content.page_link},
                    }
                ],
            },
        },
    }


def payload_for(channel: Channel, content: ReportContent, lang: str) -> dict[str, Any]:
    """The outbox payload of one report for one channel (see core.outbox for the shapes)."""
    original, preview = content.image
    if channel is Channel.LINE:
        image = {"type": "image", "originalContentUrl": original, "previewImageUrl": preview}
        return {"messages": [_flex(content, lang), image]}
    footer = t("reports.email_footer", lang)
    text_lines = [content.heading, content.big, *content.lines, "", content.page_link, "", footer]
    esc = html.escape
    html_body = (
        f"<h2>{esc(content.heading)}</h2><p style=\"font-size:28px;font-weight:bold\">{esc(content.big)}</p>"
        + "".join(f"<p>{esc(line)}</p>" for line in content.lines)
        + f"<p><img src=\"{esc(original)}\" alt=\"\" style=\"max-width:100%\"></p>"
        + f"<p><a href=\"{esc(content.page_link)}\">{esc(t('reports.see_pages', lang))}</a></p>"
        + f"<p style=\"color:#666\">{esc(t('reports.email_footer', lang))}</p>"
    )
    return {"subject": content.subject, "text": "\n".join(text_lines), "html": html_body}


def send(session: Session, home: Home, recipient: Recipient, content: ReportContent, key: str) -> bool:
    """Enqueue one report; False if that key was already in the outbox."""
    before = existing_keys(session, [key])
    if before:
        return False
    outbox.enqueue(
        session,
        channel=recipient.channel,
        recipient=recipient.address,
        payload=payload_for(recipient.channel, content, recipient.lang),
        key=key,
        home_id=home.id,
    )
    return True


def send_once_to_wanting(
    session: Session,
    home: Home,
    flag: str,
    key_of: Callable[[Recipient], str],
    facts_of: Callable[[], Facts],
    content_of: Callable[[Facts, Recipient], ReportContent],
    skip: Callable[[Recipient], bool] | None = None,
) -> int:
    """Enqueue a one-bubble report to every watcher and channel that wants ``flag`` and has not had it."""
    return send_payload_once_to_wanting(
        session, home, flag, key_of, facts_of,
        lambda facts, r: payload_for(r.channel, content_of(facts, r), r.lang), skip,
    )


def send_payload_once_to_wanting(
    session: Session,
    home: Home,
    flag: str,
    key_of: Callable[[Recipient], str],
    facts_of: Callable[[], Facts],
    payload_of: Callable[[Facts, Recipient], dict[str, Any]],
    skip: Callable[[Recipient], bool] | None = None,
) -> int:
    """Enqueue a report to every watcher and channel that wants ``flag`` and has not had it.

    The idempotency key decides "has had it", so a job run twice sends once; the facts are
    computed only when someone still needs the report. ``skip`` leaves out recipients who
    get this report another way (the monthly inside the weekly digest). Returns how many were new.
    """
    wanted = [r for r in recipients(session, home, flag) if skip is None or not skip(r)]
    keys = [key_of(r) for r in wanted]
    done = existing_keys(session, keys)
    todo = [(r, k) for r, k in zip(wanted, keys, strict=True) if k not in done]
    if not todo:
        return 0
    facts = facts_of()
    for r, k in todo:
        outbox.enqueue(session, channel=r.channel, recipient=r.address, payload=payload_of(facts, r), key=k,
                       home_id=home.id)
    return len(todo)
