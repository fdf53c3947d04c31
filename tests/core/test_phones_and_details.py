"""Phones through libphonenumber, the customer number's shape, and the home's details checked
field by field (one schema for the form, the flow and later corrections)."""

from __future__ import annotations

import pytest

from core import home_details, phones, validate
from core.errors import ValidationError


@pytest.mark.parametrize(("typed", "kind", "shown"), [
    ("090-1234-5678", "mobile", "090-1234-5678"), ("０８０１２３４５６７８", "mobile", "080-1234-5678"),
    ("+81 70 1234 5678", "mobile", "070-1234-5678"), ("03-1234-5678", "fixed", "03-1234-5678"),
    ("0612345678", "fixed", "06-1234-5678"), ("050-1234-5678", "ip", "050-1234-5678"),
])
def test_phone_kinds_and_how_they_are_shown(typed: str, kind: str, shown: str) -> None:
    phone = phones.parse(typed)
    assert phone.kind == kind and phones.display(phone.e164) == shown
    assert phone.takes_sms == (kind == "mobile")


@pytest.mark.parametrize("typed", ["06-1234-5678", "03-1234-5678", "050-1234-5678"])
def test_sms_only_to_mobiles(typed: str) -> None:
    with pytest.raises(ValidationError) as err:
        phones.for_sms(typed)
    assert err.value.code == "phone.not_mobile"


@pytest.mark.parametrize("typed", ["0570-000-000", "0120-123-456", "+1 202 555 0100", "1" * 40])
def test_numbers_nobody_answers_at_home_are_refused(typed: str) -> None:
    with pytest.raises(ValidationError):
        phones.parse(typed)


@pytest.mark.parametrize(("typed", "code"), [
    ("どこに書いてありますか？", "customer_number.not_digits"), ("山田", "customer_number.not_digits"),
    ("123", "customer_number.length"), ("0300000000000000000001", "customer_number.is_supply_point"),
    ("", "customer_number.empty"),
])
def test_customer_number_shape(typed: str, code: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate.customer_number(typed)
    assert err.value.code == code


def test_customer_number_as_printed_with_hyphens() -> None:
    assert validate.customer_number("１２-３４５６-７８９０") == "1234567890"


def test_details_name_every_bad_field_at_once() -> None:
    with pytest.raises(home_details.DetailsInvalid) as err:
        home_details.clean({"holder": "", "address": "東京都", "phone": "06-1234-5678",
                            "supply_point": "123", "customer_number": "どこに書いてありますか？", "postal": "12"})
    assert {k: e.code for k, e in err.value.errors.items()} == {
        "holder": "holder.empty", "supply_point": "supply_point.length",
        "customer_number": "customer_number.not_digits", "postal": "postal.invalid"}


def test_meter_numbers_may_be_left_for_later() -> None:
    cleaned = home_details.clean({"holder": "山田太郎", "address": "東京都千代田区1-1", "phone": "090-1234-5678",
                                  "supply_point": " ", "customer_number": ""})
    assert not home_details.has_meter(cleaned) and cleaned["phone"] == "+819012345678"
