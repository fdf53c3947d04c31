"""Register a home with its resident and the watcher who registered it; find a watcher's homes.

Usable without LINE (the bot's registration flow, an operator import, tests). Watching
never starts here: a home is only watched once :mod:`core.consent` has recorded the
resident's agreement, which registration does in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, consent, home_details, phones, validate
from core.enums import ContactMethod, HomeStatus, WatcherRole
from core.errors import AccessDenied, NotFound, ValidationError
from core.meters.supply_point import parse_supply_point
from core.models import Home, HomeWatcher, Resident, Watcher


@dataclass(frozen=True)
class Application:
    """The seed's application form: the five contract items, plus who and how to reach.

    The meter numbers (supply point, customer number) may be missing — the bill was not at
    hand — and so may consent (「まだです」): the home is saved and waits for them.
    """

    relation: WatcherRole
    resident_name: str  # what the registering family member calls them (お父さん): their own chat only
    contract_holder: str
    address: str
    supply_point: str | None
    customer_number: str | None
    plan: str
    phone: str
    contact: ContactMethod
    consent_method: str | None
    own_name: str | None = None  # the senior's own name, as they are addressed (さん); else the holder's

    @property
    def senior_name(self) -> str:
        return self.own_name or self.contract_holder


def validated(app: Application) -> Application:
    """The application with every field checked and normalised (raises ValidationError)."""
    details = home_details.clean({
        "holder": app.contract_holder, "address": app.address, "phone": app.phone, "plan": app.plan,
        "supply_point": app.supply_point, "customer_number": app.customer_number,
    })
    contact = ContactMethod(app.contact)
    if contact == ContactMethod.SMS:
        phones.for_sms(details["phone"])
    return Application(
        relation=WatcherRole(app.relation),
        resident_name=validate.name(app.resident_name),
        contract_holder=details["holder"],
        address=details["address"],
        supply_point=details.get("supply_point"),
        customer_number=details.get("customer_number"),
        plan=details.get("plan", home_details.PLANS[-1]),
        phone=details["phone"],
        contact=contact,
        consent_method=None if app.consent_method is None else consent.method(app.consent_method),
        own_name=validate.name(app.own_name) if app.own_name else None,
    )


def register_home(session: Session, watcher: Watcher, application: Application) -> Home:
    """Create the home, its resident and the owner link, and record consent if given, in one go.

    Without both meter numbers the home waits as ``awaiting_meter``; without consent as
    ``awaiting_consent`` (:func:`core.consent.record` moves it on later).
    """
    app = validated(application)
    if app.supply_point:
        home_details.check_supply_point_free(session, app.supply_point)
    metered = bool(app.supply_point and app.customer_number)
    home = Home(
        meter_id=app.supply_point if metered else home_details.pending_meter_id(),
        supply_point_number=app.supply_point,
        customer_number=app.customer_number,
        contract_holder=app.contract_holder,
        address=app.address,
        plan=app.plan,
        area=parse_supply_point(app.supply_point).area_name if app.supply_point else None,
        status=HomeStatus.AWAITING_CONSENT if metered else HomeStatus.AWAITING_METER,
    )
    session.add(home)
    session.flush()
    session.add(
        Resident(home_id=home.id, display_name=app.senior_name, phone=app.phone, preferred_contact=app.contact)
    )
    nickname = app.resident_name if app.relation is WatcherRole.FAMILY else None
    session.add(HomeWatcher(home_id=home.id, watcher_id=watcher.id, role=app.relation, is_owner=True,
                            escalation_order=1, relation_label=nickname))
    session.flush()
    session.refresh(home)
    audit.record(session, f"watcher:{watcher.id}", "home_registered", home_id=home.id, metered=metered)
    if app.consent_method is not None:
        consent.record(session, home, watcher, app.consent_method)
    return home


def homes_of(session: Session, watcher: Watcher) -> list[Home]:
    """The homes a watcher is linked to (never any other)."""
    return list(
        session.scalars(
            select(Home)
            .join(HomeWatcher, HomeWatcher.home_id == Home.id)
            .where(HomeWatcher.watcher_id == watcher.id, Home.status != HomeStatus.ENDED)
            .order_by(Home.id)
        )
    )


def link_of(session: Session, watcher: Watcher, home_id: int) -> HomeWatcher:
    """The watcher's link to ``home_id``, or AccessDenied: every action checks this first."""
    link = session.scalar(
        select(HomeWatcher).where(HomeWatcher.watcher_id == watcher.id, HomeWatcher.home_id == home_id)
    )
    if link is None:
        raise AccessDenied(f"watcher {watcher.id} is not linked to home {home_id}")
    return link


def watchers_of(session: Session, home_id: int) -> list[HomeWatcher]:
    return list(
        session.scalars(
            select(HomeWatcher).where(HomeWatcher.home_id == home_id).order_by(HomeWatcher.escalation_order)
        )
    )


def remove_watcher(session: Session, owner: Watcher, home_id: int, watcher_id: int) -> None:
    """The owner removes another watcher from the home."""
    if not link_of(session, owner, home_id).is_owner:
        raise AccessDenied("only the owner removes watchers")
    if watcher_id == owner.id:
        raise ValidationError("watchers.cannot_remove_self")
    link = session.scalar(
        select(HomeWatcher).where(HomeWatcher.home_id == home_id, HomeWatcher.watcher_id == watcher_id)
    )
    if link is None:
        raise NotFound("no such watcher")
    session.delete(link)
    audit.record(session, f"watcher:{owner.id}", "watcher_removed", home_id=home_id, watcher_id=watcher_id)


def move_first(session: Session, watcher: Watcher, home_id: int, watcher_id: int) -> None:
    """Put one watcher first in the escalation order (owner only); the others keep their order."""
    if not link_of(session, watcher, home_id).is_owner:
        raise AccessDenied("only the owner orders watchers")
    links = watchers_of(session, home_id)
    if watcher_id not in {link.watcher_id for link in links}:
        raise NotFound("no such watcher")
    ordered = sorted(links, key=lambda link: (link.watcher_id != watcher_id, link.escalation_order))
    for i, link in enumerate(ordered, start=1):
        link.escalation_order = i
    audit.record(session, f"watcher:{watcher.id}", "watcher_order_changed", home_id=home_id)


def reachable_watchers(session: Session, home_id: int) -> list[Watcher]:
    return [link.watcher for link in watchers_of(session, home_id) if link.watcher.following]
