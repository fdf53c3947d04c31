from __future__ import annotations

import pytest

from core.errors import ValidationError
from core.meters.supply_point import parse_supply_point


def test_accepts_what_people_type() -> None:
    sp = parse_supply_point("０３０００００００００００００００００１２３")
    assert sp.number == "0300000000000000000123"
    assert (sp.area_code, sp.area_name) == ("03", "東京")
    assert parse_supply_point("06 0000 0000 0000 0000 0000").area_name == "関西"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("030000000000000000012", "supply_point.length"),  # 21 digits
        ("03000000000000000001234", "supply_point.length"),
        ("03000000000000000001a3", "supply_point.not_digits"),
        ("", "supply_point.not_digits"),
        ("9900000000000000000123", "supply_point.area"),
    ],
)
def test_refuses_malformed_numbers_with_a_reason(text: str, code: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_supply_point(text)
    assert err.value.code == code
