from __future__ import annotations

from datetime import timedelta

import pytest

from core import links
from core.clock import ManualClock
from core.errors import AccessDenied
from core.settings import Settings


def test_a_link_opens_only_what_it_was_issued_for_and_only_until_it_expires(
    settings: Settings, clock: ManualClock
) -> None:
    token = links.sign("graph", settings, h=1, d="2026-06-01")
    assert links.verify(token, "graph", 3600, settings) == {"h": 1, "d": "2026-06-01"}
    with pytest.raises(AccessDenied):
        links.verify(token, "page:incident", 3600, settings)
    with pytest.raises(AccessDenied):
        links.verify(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], "graph", 3600, settings)
    clock.advance(timedelta(hours=2))
    with pytest.raises(AccessDenied, match="expired"):
        links.verify(token, "graph", 3600, settings)
