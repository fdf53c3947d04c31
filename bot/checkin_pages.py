"""Pages opened from messages: the resident's SMS safety check and the family's email
acknowledgement. Opening (GET) only shows a big button; only pressing it (POST) acts,
because link scanners and chat previews open links too. Expired, used or tampered
links get a polite page and change nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template_string

from core.db import session_scope
from core.errors import AccessDenied
from core.settings import Settings
from core.texts import normalize_language, t

# Handlers import core.escalation (models, twilio) on first use, so the web app starts fast.

PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{ title }}</title>
<style>
 body{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;font-size:1.25rem;line-height:1.6}
 button{width:100%;padding:1.5rem;font-size:2rem;border-radius:1rem;border:0;background:#2e7d32;color:#fff}
</style></head><body>
<h1 style="font-size:1.4rem">{{ title }}</h1>
<p>{{ text }}</p>
{% if button %}<form method="post"><button type="submit">{{ button }}</button></form>{% endif %}
</body></html>"""


def _page(lang: str, text: str, button: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template_string(PAGE, lang=lang, title=t("escalation.checkin_page_title", lang), text=text,
                                  button=button), status



def register_checkin(app: Flask) -> None:
    settings: Settings = app.config["SETTINGS"]

    @app.get("/checkin/<token>")
    def checkin_page(token: str) -> Any:
        from core.escalation import checkin
        from core.models import Incident

        with session_scope() as s:
            try:
                row = checkin.open_token(s, token)
            except AccessDenied:
                return _page("ja", t("escalation.checkin_refused", "ja"), status=410)
            incident = s.get(Incident, row.incident_id)
            lang = normalize_language((incident.policy_snapshot or {}).get("language") if incident else None)
        return _page(lang, t("escalation.checkin_page_question", lang), t("escalation.checkin_button", lang))

    @app.post("/checkin/<token>")
    def checkin_confirm(token: str) -> Any:
        from core.escalation import checkin

        with session_scope() as s:
            try:
                incident = checkin.confirm_token(s, token)
            except AccessDenied:
                return _page("ja", t("escalation.checkin_refused", "ja"), status=410)
            lang = normalize_language((incident.policy_snapshot or {}).get("language"))
        return _page(lang, t("escalation.checkin_thanks", lang))

    def _ack_target(s: Any, token: str) -> tuple[Any, Any, str]:
        from core import links
        from core.escalation.messages import ACK_LINK_TTL
        from core.models import Incident, Watcher

        claims = links.verify(token, "ack", ACK_LINK_TTL, settings)
        incident, watcher = s.get(Incident, claims.get("i")), s.get(Watcher, claims.get("w"))
        if incident is None or watcher is None:
            raise AccessDenied("ack link for something gone")
        return incident, watcher, normalize_language(watcher.language)

    @app.get("/ack/<token>")
    def ack_page(token: str) -> Any:
        from core.models import Home
        from core.names import resident_name

        with session_scope() as s:
            try:
                incident, _watcher, lang = _ack_target(s, token)
            except AccessDenied:
                return _page("ja", t("escalation.checkin_refused", "ja"), status=410)
            if incident.closed_at is not None or incident.acknowledged_at is not None:
                return _page(lang, t("escalation.ack_page_already", lang))
            home = s.get(Home, incident.home_id)
            name = resident_name(home, lang) if home else ""
        return _page(lang, t("escalation.ack_page_question", lang, name=name), t("escalation.ack_button", lang))

    @app.post("/ack/<token>")
    def ack_confirm(token: str) -> Any:
        from core.incidents import acknowledge

        with session_scope() as s:
            try:
                incident, watcher, lang = _ack_target(s, token)
            except AccessDenied:
                return _page("ja", t("escalation.checkin_refused", "ja"), status=410)
            done = acknowledge(s, incident, watcher.display_name or "", "email_link", watcher_id=watcher.id)
        return _page(lang, t("escalation.ack_page_done" if done else "escalation.ack_page_already", lang))

    if settings.is_dev and not settings.smtp_url:
        register_dev_mailbox(app)


def register_dev_mailbox(app: Flask) -> None:
    """/dev/mail: what would have been emailed, when SMTP_URL is unset in dev."""
    from core.escalation.channels.email import DEV_MAILBOX

    @app.get("/dev/mail")
    def dev_mail() -> Any:
        items = [{"to": m["To"], "subject": m["Subject"], "id": m["Message-ID"],
                  "text": m.get_body(("plain",)).get_content() if m.get_body(("plain",)) else ""}
                 for m in reversed(DEV_MAILBOX.messages)]
        return render_template_string(
            "<!doctype html><meta charset=utf-8><title>dev mail</title><h1>dev mail</h1>"
            "{% for m in items %}<article><h2>{{ m.subject }}</h2><p>to {{ m.to }} · {{ m.id }}</p>"
            "<pre>{{ m.text }}</pre></article>{% else %}<p>no mail yet</p>{% endfor %}", items=items)
