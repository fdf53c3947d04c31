"""Structured logs: one JSON line per event, carrying ids, never personal data.

Operators grep and ship these lines (``jq 'select(.home_id==42)'``), so each event is a
short dotted name (``job.done``, ``scheduler.leader``) plus flat fields. Call
:func:`log_event`; plain ``log.info("...")`` lines are formatted the same way.

A filter refuses fields that would carry a person's name, phone, address, email or
LINE id: their values never reach the output (they are replaced and the event is marked
``refused_keys``), so a careless call cannot leak what the service promises to protect.
The libraries' own lines go through the same filter, which also blots out anything shaped
like a phone number, a LINE id or an email address in the text (twilio logs its request
URLs, ``Calls.json?To=%2B8190…``); their chatty loggers are kept at WARNING besides.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

FIELDS_ATTR = "mimamori_fields"

# Keys whose values are personal data. Ids (home_id, watcher_id, incident_id) are fine.
REFUSED_KEYS = frozenset(
    {
        "name",
        "display_name",
        "resident_name",
        "watcher_name",
        "contract_holder",
        "customer_number",
        "phone",
        "phone_number",
        "address",
        "email",
        "line_user_id",
        "user_id",
        "group_id",
        "recipient",
        "to",
        "target",
        "text",
        "body",
        "message",
    }
)
REFUSED = "[refused]"

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
    "taskName",
    FIELDS_ATTR,
}


# SQLAlchemy puts a statement's bound values into its error text; those may be a name or a phone.
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\n|$)", re.DOTALL)
# Personal data by its shape: E.164 phones (plain or URL-encoded), LINE user/group/room ids, emails.
_PERSONAL = re.compile(
    r"(?:\+|%2[Bb])\d{8,15}"
    r"|(?<![0-9A-Za-z])[UCR][0-9a-f]{32}(?![0-9a-f])"
    r"|[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+"
)
# Libraries that log request lines (URLs with phone numbers and LINE ids) at INFO or DEBUG.
QUIET_LIBRARIES = ("twilio", "urllib3", "requests", "linebot", "apscheduler")


def redact_text(text: str) -> str:
    """``text`` with anything shaped like a phone number, a LINE id or an email replaced."""
    return _PERSONAL.sub(REFUSED, text)


def redact_error(text: str) -> str:
    """An error message or traceback without the SQL parameters or personal data it may carry."""
    return redact_text(_SQL_PARAMETERS.sub("[parameters: refused]", text))


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``event`` (a short dotted name) with flat fields: ids, counts, durations, codes."""
    logger.log(level, event, extra={FIELDS_ATTR: fields})


def event_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a record: from :func:`log_event` or a plain ``extra=``."""
    fields = dict(getattr(record, FIELDS_ATTR, None) or {})
    for key, value in vars(record).items():
        if key not in _STANDARD_ATTRS and not key.startswith("_"):
            fields.setdefault(key, value)
    return fields


class PersonalDataFilter(logging.Filter):
    """Replace the values of personal-data keys, and personal data in the text, before any
    handler formats the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a library's bad format string: keep its template only
            text, record.args = str(record.msg), None
        clean = redact_text(text)
        if clean != text or record.args:
            record.msg, record.args = clean, None
        fields = event_fields(record)
        refused = sorted(key for key in fields if key.lower() in REFUSED_KEYS)
        if refused:
            for key in refused:
                fields[key] = REFUSED
                if key in vars(record):
                    setattr(record, key, REFUSED)
            fields["refused_keys"] = refused
        for key, value in fields.items():
            if isinstance(value, str):
                fields[key] = redact_text(value)
        setattr(record, FIELDS_ATTR, fields)
        return True


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, event, then the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in getattr(record, FIELDS_ATTR, {}).items():
            if key not in line:
                line[key] = _jsonable(value)
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
            line["traceback"] = redact_error(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """The same events for a developer's terminal: ``time level event k=v ...``."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        fields = " ".join(f"{k}={_jsonable(v)}" for k, v in getattr(record, FIELDS_ATTR, {}).items())
        text = f"{ts} {record.levelname:<7} {record.getMessage()} {fields}".rstrip()
        if record.exc_info and record.exc_info[0] is not None:
            text += "\n" + redact_error(self.formatException(record.exc_info))
        return text


class _MimamoriHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so configuring twice replaces it."""


def configure_logging(
    log_format: str = "json", level: str = "INFO", stream: IO[str] | None = None
) -> logging.Handler:
    """Install the structured handler on the root logger (idempotent); return it."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _MimamoriHandler):
            root.removeHandler(handler)
    handler = _MimamoriHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(PersonalDataFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler's chatter ("Running job ...") drowns the events; the HTTP libraries log URLs.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def configure_from_settings(settings: Any, stream: IO[str] | None = None) -> logging.Handler:
    return configure_logging(settings.log_format, settings.log_level, stream)
