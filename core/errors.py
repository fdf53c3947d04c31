"""Every exception the core raises, declared together so callers know what to catch."""

from __future__ import annotations


class MimamoriError(Exception):
    """Base of all errors the service raises on purpose."""


class ConfigError(MimamoriError):
    """A setting is missing or invalid; the message names the variable."""

    def __init__(self, variable: str, reason: str) -> None:
        super().__init__(f"{variable}: {reason}")
        self.variable = variable
        self.reason = reason


class ValidationError(MimamoriError):
    """User or file input that cannot be accepted; carries a message key for the catalog."""

    def __init__(self, code: str, message: str | None = None, **params: object) -> None:
        super().__init__(message or code)
        self.code = code
        self.params = params


class NotFound(MimamoriError):
    """The thing asked for does not exist (or the caller may not know it does)."""


class AccessDenied(MimamoriError):
    """The caller is not linked to what they asked for."""


class StaleClaim(MimamoriError):
    """A worker's fencing token is older than the row's: another run already moved it."""


class MeterApiError(MimamoriError):
    """The retailer's meter-data API refused us or kept failing; ``status`` is its HTTP code (0: no answer)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status
class DeliveryError(MimamoriError):
    """A channel could not deliver a message; subclasses say whether to try again."""


class RetryLater(DeliveryError):
    """A transient failure (rate limit, timeout, 5xx): the dispatcher retries with backoff.

    ``uncertain`` says the message may have gone out all the same (a timeout, a dropped
    connection); False when the provider answered with a refusal, so the next try need not
    look for an earlier delivery first."""

    def __init__(self, reason: str, after_seconds: float | None = None, *, uncertain: bool = True) -> None:
        super().__init__(reason)
        self.after_seconds = after_seconds
        self.uncertain = uncertain


class PermanentFailure(DeliveryError):
    """The provider refused the message for good (bad number, blocked, invalid payload)."""


class QuotaExhausted(DeliveryError):
    """LINE's monthly message quota is used up: the recipient must be reached another way."""


class WeatherError(MimamoriError):
    """The weather could not be had (network, HTTP status, timeout): no heat alert, a gap shown."""


class WeatherFormatError(WeatherError):
    """A weather response was not in the published shape."""
