"""The home's written details (the 検針票's items, the address, the senior's phone): checked
field by field, so a form can show each error under its own box, and changed one at a time.

One schema for the LIFF form, the registration flow and later corrections: :data:`FIELDS`
names each field and its checker. The meter numbers may be missing at registration; the
home then waits as ``awaiting_meter`` and starts on its way to watching when they come in.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, phones, validate
from core.consent import is_given
from core.enums import HomeStatus
from core.errors import ValidationError
from core.meters.supply_point import parse_supply_point
from core.models import Home, HomeWatcher, Watcher

PLANS = ("従量電灯B", "従量電灯C", "スタンダードS", "わからない")
PENDING_METER_PREFIX = "pending-"


FIELDS: dict[str, Callable[[str], str]] = {
    "name": validate.name,  # what this watcher calls the senior: asked in the chat, changed later in the form
    "holder": lambda v: validate.clean_text(v, max_len=100, code="holder"),
    "postal": validate.postal_code,
    "address": lambda v: validate.clean_text(v, max_len=200, code="address"),
    "phone": validate.phone_e164,
    "plan": lambda v: validate.clean_text(v, max_len=50, code="plan"),
    "supply_point": lambda v: parse_supply_point(v).number,
    "customer_number": validate.customer_number,
}
REQUIRED = ("holder", "address", "phone")
METER_FIELDS = ("supply_point", "customer_number")


class DetailsInvalid(ValidationError):
    """Several fields were wrong: ``errors`` maps each to its error code (and params)."""

    def __init__(self, errors: dict[str, ValidationError]):
        first = next(iter(errors.values()))
        super().__init__(first.code, **first.params)
        self.errors = errors


def clean(fields: Mapping[str, Any], *, partial: bool = False) -> dict[str, str]:
    """Check every given field; raise :class:`DetailsInvalid` naming each bad one.

    Empty meter fields mean "not at hand yet" and are left out. ``partial`` (a correction)
    needs no required field.
    """
    cleaned: dict[str, str] = {}
    errors: dict[str, ValidationError] = {}
    for name, check in FIELDS.items():
        raw = fields.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if name in REQUIRED and not partial:
                errors[name] = ValidationError(f"{name}.empty")
            continue
        if not isinstance(raw, str):
            errors[name] = ValidationError("text.empty")
            continue
        try:
            cleaned[name] = check(raw)
        except ValidationError as exc:
            errors[name] = exc
    if errors:
        raise DetailsInvalid(errors)
    return cleaned


def has_meter(details: Mapping[str, str]) -> bool:
    return all(details.get(k) for k in METER_FIELDS)


def pending_meter_id() -> str:
    """A placeholder meter id for a home whose supply point number is not known yet."""
    return PENDING_METER_PREFIX + secrets.token_hex(8)


def check_supply_point_free(session: Session, number: str, home_id: int | None = None) -> None:
    taken = session.scalar(
        select(Home.id).where((Home.supply_point_number == number) | (Home.meter_id == number))
    )
    if taken is not None and taken != home_id:
        raise ValidationError("supply_point.taken")


def waiting_status(home: Home) -> HomeStatus:
    """Where a home with its meter numbers stands: history next if consent is in, else consent."""
    return HomeStatus.AWAITING_HISTORY if is_given(home) else HomeStatus.AWAITING_CONSENT


def apply(session: Session, home: Home, changes: Mapping[str, Any], by: Watcher) -> list[str]:
    """Change some of the home's details (each checked); returns the names changed.

    When both meter numbers are in for a home that was waiting for them, the meter is
    attached and the home moves on (consent next, or history).
    """
    cleaned = clean(changes, partial=True)
    if "supply_point" in cleaned:
        check_supply_point_free(session, cleaned["supply_point"], home.id)
    resident = home.resident
    for name, value in cleaned.items():
        if name == "name":  # this watcher's own word for the senior (お父さん), never the senior's name
            link = session.scalar(select(HomeWatcher).where(HomeWatcher.home_id == home.id,
                                                            HomeWatcher.watcher_id == by.id))
            if link is not None:
                link.relation_label = value
        elif name == "phone":
            if resident is not None:
                if resident.preferred_contact == "sms" and not phones.parse(value).takes_sms:
                    raise DetailsInvalid({"phone": ValidationError("phone.not_mobile")})
                resident.phone = value
        elif name == "holder":
            home.contract_holder = value
        elif name == "supply_point":
            home.supply_point_number = value
            home.area = parse_supply_point(value).area_name
        elif name == "postal":
            continue  # only used to fill in the address
        else:
            setattr(home, name, value)
    if home.status == HomeStatus.AWAITING_METER and home.supply_point_number and home.customer_number:
        home.meter_id = home.supply_point_number
        home.status = waiting_status(home)
        audit.record(session, f"watcher:{by.id}", "meter_details_added", home_id=home.id)
    elif home.supply_point_number and not home.meter_id.startswith(PENDING_METER_PREFIX):
        home.meter_id = home.supply_point_number
    session.flush()
    audit.record(session, f"watcher:{by.id}", "home_details_changed", home_id=home.id, fields=sorted(cleaned))
    return sorted(cleaned)


def missing_meter(home: Home) -> bool:
    return home.status == HomeStatus.AWAITING_METER
