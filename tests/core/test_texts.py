"""The catalog: every Japanese text has an English one with the same placeholders."""

from __future__ import annotations

import string

from core.texts import catalog, t


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_exists_in_both_languages_with_the_same_placeholders() -> None:
    ja, en = catalog("ja"), catalog("en")
    assert set(ja) == set(en), f"missing in en: {set(ja) - set(en)}; missing in ja: {set(en) - set(ja)}"
    for key in ja:
        assert _fields(ja[key]) == _fields(en[key]), key


def test_japanese_is_the_default_and_unknown_languages_fall_back() -> None:
    assert t("common.service_name") == "みまもり"
    assert t("common.service_name", "en-US") == "mimamori"
    assert t("common.service_name", "fr") == "みまもり"
