"""What each page shows: the data for its template, read for one verified visitor."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from bot.pages.access import Viewer
from core import clock, links
from core.errors import AccessDenied
from core.escalation.messages import resident_name
from core.models import Building, Home, Incident, Resident, Schedule
from core.reports import delivery
from core.reports.graph import VIEWS
from core.reports.reading import read_day
from core.reports.timeline import build_timeline
from core.reports.usage import days_usage, home_tz, month_bounds, period_usage, usual_range
from core.texts import t

MAX_ALERTS = 100
EARLIEST = date(2000, 1, 1)


def _graph_src(viewer: Viewer, day: date, view: str, incident_id: int | None = None) -> str:
    claims: dict[str, Any] = {"h": viewer.home.id, "d": day.isoformat(), "l": viewer.lang}
    if view != "day":
        claims["v"] = view
    if incident_id is not None:
        claims["i"] = incident_id
    return f"/graphs/{links.sign('graph', **claims)}.png"  # relative: works behind any host name


def _common(session: Session, viewer: Viewer, title_key: str) -> dict[str, Any]:
    lang = viewer.lang
    return {
        "lang": lang,
        "t": lambda key, **kw: t(key, lang, **kw),
        "title": t(title_key, lang),
        "home_label": t("reports.page.home_of", lang, who=delivery.who(session, viewer.home, viewer.link, lang)),
        "usage_href": f"/p/usage/{viewer.sign('usage')}",
        "alerts_href": f"/p/alerts/{viewer.sign('alerts')}",
        "lang_q": "?lang=en" if lang == "en" else "",
    }


def _today(viewer: Viewer) -> date:
    return clock.now().astimezone(home_tz(viewer.home)).date()


def _day_arg(args: MultiDict[str, str], viewer: Viewer) -> date:
    """The day asked for, else the link's day, else yesterday; absurd dates fall back quietly."""
    today = _today(viewer)
    for raw in (args.get("d"), viewer.claims.get("d")):
        try:
            day = date.fromisoformat(str(raw)) if raw else None
        except ValueError:
            day = None
        if day is not None and EARLIEST <= day <= today:
            return day
    return today - timedelta(days=1)


def usage(session: Session, viewer: Viewer, args: MultiDict[str, str]) -> str:
    view = args.get("v") or str(viewer.claims.get("v") or "day")
    view = view if view in VIEWS else "day"
    day = _day_arg(args, viewer)
    home = viewer.home
    lang = viewer.lang
    step = {"day": timedelta(days=1), "week": timedelta(days=7)}.get(view)
    if view == "month":
        first, count = month_bounds(day)
        prev_day, next_day = first - timedelta(days=1), first + timedelta(days=count)
        total = period_usage(session, home, first, count).kwh
        reading = None
    else:
        prev_day, next_day = day - step, day + step
        first, count = (day, 1) if view == "day" else (day - timedelta(days=6), 7)
        used = days_usage(session, home, first, count)
        present = [d.kwh for d in used if d.kwh is not None]
        total = sum(present) if present else None
        reading = None
        if view == "day":
            schedule = session.scalar(select(Schedule).where(Schedule.home_id == home.id))
            reading = t(read_day(used[0], usual_range(session, home, day), schedule.wake_time if schedule else None,
                                 schedule.sleep_time if schedule else None), lang)
    token = viewer.sign("usage")
    lang_q = "&lang=en" if lang == "en" else ""

    def href(v: str, d: date) -> str:
        return f"/p/usage/{token}?v={v}&d={d.isoformat()}{lang_q}"

    ctx = _common(session, viewer, "reports.page.usage_title")
    ctx.update(
        view=view,
        tabs=[(v, t(f"reports.page.view_{v}", lang), href(v, day)) for v in VIEWS],
        prev_href=href(view, prev_day),
        next_href=href(view, next_day) if next_day <= _today(viewer) else None,
        graph_src=_graph_src(viewer, day, view),
        period=delivery.month_label(first, lang) if view == "month" else delivery.date_label(day, lang),
        total=(t("reports.page.total", lang, kwh=f"{total:.1f}") if total is not None
               else t("reports.graph.no_data", lang)),
        reading=reading,
    )
    return render_template("pages/usage.html", **ctx)


def alerts(session: Session, viewer: Viewer, args: MultiDict[str, str]) -> str:
    tz = home_tz(viewer.home)
    lang = viewer.lang
    rows = session.scalars(
        select(Incident)
        .where(Incident.home_id == viewer.home.id)
        .order_by(Incident.detected_at.desc())
        .limit(MAX_ALERTS)
    )
    items = [
        {
            "when": inc.detected_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "kind": t(f"reports.kind.{inc.kind.value}", lang),
            "state": t(f"reports.state.{inc.state.value}", lang),
            "state_class": inc.state.value,
            "href": f"/p/incident/{viewer.sign('incident', i=inc.id)}{'?lang=en' if lang == 'en' else ''}",
        }
        for inc in rows
    ]
    ctx = _common(session, viewer, "reports.page.alerts_title")
    ctx.update(items=items)
    return render_template("pages/alerts.html", **ctx)


def incident(session: Session, viewer: Viewer, args: MultiDict[str, str]) -> str:
    inc_id = viewer.claims.get("i")
    inc = session.get(Incident, inc_id) if isinstance(inc_id, int) else None
    if inc is None or inc.home_id != viewer.home.id:
        raise AccessDenied("incident of another home")
    tz = home_tz(viewer.home)
    lang = viewer.lang
    quiet_day = inc.window_start.astimezone(tz).date()
    relation = viewer.link.relation_label if viewer.link else None  # how this reader names the senior
    ctx = _common(session, viewer, "reports.page.incident_title")
    ctx.update(
        kind=t(f"reports.kind.{inc.kind.value}", lang),
        state=t(f"reports.state.{inc.state.value}", lang),
        state_class=inc.state.value,
        detected=inc.detected_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        graph_src=_graph_src(viewer, quiet_day, "day", inc.id),
        timeline=build_timeline(session, inc, tz, lang, resident_name(viewer.home, lang, relation)),
    )
    return render_template("pages/incident.html", **ctx)


def building(session: Session, bldg: Building, lang: str) -> str:
    """A landlord group's overview: its units, each opening that unit's pages for the group."""
    homes = session.scalars(
        select(Home).where(Home.building_id == bldg.id, Home.ended_at.is_(None)).order_by(Home.unit_label, Home.id)
    )
    units = []
    for home in homes:
        resident = session.scalar(select(Resident).where(Resident.home_id == home.id))
        open_count = session.scalar(
            select(func.count()).where(Incident.home_id == home.id, Incident.closed_at.is_(None))
        )
        claims = {"h": home.id, "g": bldg.id}
        q = "?lang=en" if lang == "en" else ""
        units.append({
            "label": home.unit_label or str(home.id),
            "name": resident.display_name if resident else "",
            "open": open_count,
            "usage_href": f"/p/usage/{links.sign('page:usage', **claims)}{q}",
            "alerts_href": f"/p/alerts/{links.sign('page:alerts', **claims)}{q}",
        })
    return render_template(
        "pages/building.html",
        lang=lang,
        t=lambda key, **kw: t(key, lang, **kw),
        title=t("reports.page.building_title", lang),
        home_label=bldg.name,
        units=units,
    )
