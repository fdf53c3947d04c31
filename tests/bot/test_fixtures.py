"""The recorded webhook fixtures are exactly LINE's shape (webhook.yml), and line-bot-sdk
parses each into its real event class (never UnknownEvent)."""

from __future__ import annotations

import json

import pytest
from linebot.v3.models.events import UnknownEvent
from linebot.v3.webhooks import Event

from tests.bot.conftest import FIXTURES
from tests.bot.line_spec import validator
from tests.conftest import LINE_SPECS, require_shared

NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))


@pytest.mark.parametrize("name", NAMES)
def test_fixture_matches_webhook_yml(name: str) -> None:
    spec = require_shared(LINE_SPECS / "webhook.yml")
    body = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    errors = [e.message for e in validator(spec, "CallbackRequest").iter_errors(body)]
    assert errors == []
    for raw in body["events"]:
        event = Event.from_dict(raw)
        assert not isinstance(event, UnknownEvent)
        assert type(event).__name__.lower().startswith(raw["type"].lower())


def test_the_schema_check_catches_a_missing_quote_token() -> None:
    spec = require_shared(LINE_SPECS / "webhook.yml")
    body = json.loads((FIXTURES / "message__text.json").read_text(encoding="utf-8"))
    del body["events"][0]["message"]["quoteToken"]
    assert list(validator(spec, "CallbackRequest").iter_errors(body))
