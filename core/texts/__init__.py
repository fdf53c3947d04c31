"""Every user-facing sentence, keyed, in Japanese (default) and English.

Each area keeps its texts in ``core/texts/ja/<area>.py`` and ``core/texts/en/<area>.py``
as a ``TEXTS`` dict; keys are ``<area>.<name>``. ``t("escalation.call_script", "en",
name="Dad")`` formats one. Tests assert on keys; wording changes touch one file.
The bot's conversation texts live here too, so core (alerts, reports, calls) and bot
(flows) speak with one voice without core importing bot.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"


@cache
def catalog(lang: str) -> dict[str, str]:
    """All texts of one language, merged from its area modules."""
    package = importlib.import_module(f"core.texts.{lang}")
    merged: dict[str, str] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"core.texts.{lang}.{info.name}")
        for key, value in module.TEXTS.items():
            if key in merged:
                raise KeyError(f"text key {key!r} is defined twice in {lang}")
            merged[key] = value
    return merged


def normalize_language(lang: str | None) -> str:
    """LINE gives e.g. 'en', 'en-US', 'ja'; anything we do not speak falls back to Japanese."""
    if not lang:
        return DEFAULT_LANGUAGE
    short = lang.split("-")[0].lower()
    return short if short in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, /, **params: object) -> str:
    """The text for ``key`` in ``lang`` (Japanese if missing), with ``params`` filled in."""
    lang = normalize_language(lang)
    texts = catalog(lang)
    template = texts.get(key) or catalog(DEFAULT_LANGUAGE)[key]
    return template.format(**params) if params else template
