"""All configuration, read once from the environment.

Embedded defaults make ``make run`` work with nothing configured: a SQLite file
under ``./var``, the built-in meter simulator, and local fakes for LINE, Twilio and
mail. A variable that is set always wins. With ``MIMAMORI_ENV=prod`` a missing
secret stops start-up with a message naming the variable.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.detection import DEFAULT_FALSE_ALARM_BUDGET
from core.errors import ConfigError

LINE_REAL_API = "https://api.line.me"
DEV_SECRET_KEY = "dev-only-secret-key-change-me"
DEV_LINE_CHANNEL_SECRET = "dev-channel-secret"
DEV_LINE_ACCESS_TOKEN = "dev-access-token"
DEV_TWILIO_SID = "AC00000000000000000000000000000000"
DEV_TWILIO_TOKEN = "dev-twilio-token"

# Secrets a production deployment must set explicitly.
PROD_REQUIRED = (
    "LINE_CHANNEL_SECRET",
    "LINE_CHANNEL_ACCESS_TOKEN",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "SMTP_URL",
    "MIMAMORI_SECRET_KEY",
    "PUBLIC_BASE_URL",
)


class Settings(BaseSettings):
    """Typed settings; field names are the environment variables, case-insensitive."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    mimamori_env: Literal["dev", "prod"] = "dev"
    database_url: str = "sqlite:///var/mimamori.db"
    mimamori_timezone: str = "Asia/Tokyo"
    public_base_url: str | None = None
    mimamori_secret_key: str | None = None

    line_channel_secret: str | None = None
    line_channel_secret_previous: str | None = Field(
        default=None, description="the old secret, accepted while a rotation is under way"
    )
    line_channel_access_token: str | None = None
    line_api_base_url: str | None = None
    line_data_api_base_url: str | None = None
    liff_id: str | None = Field(default=None, description="LIFF app whose endpoint is $PUBLIC_BASE_URL/liff/home")
    line_basic_id: str = Field(default="@mimamori", description="the account's basic id (@…), for add-and-join links")
    # LINE's plan (core/push_budget.py PLANS): its quota and price project the month's bill.
    line_plan: Literal["free", "light", "standard"] = "free"
    line_quota_warn_ratio: float = Field(default=0.8, gt=0, le=1)

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_base_url: str | None = None

    smtp_url: str | None = None
    mail_from: str = "mimamori <noreply@mimamori.example>"

    meter_source: Literal["simulator", "http", "none"] = "simulator"
    meter_api_url: str | None = None
    meter_api_token: str | None = None

    data_gap_after_minutes: int = Field(default=180, ge=30)
    reading_delay_minutes: int = Field(default=60, ge=0)  # detection looks at readings this much older than now
    false_alarm_budget: float = Field(
        default=DEFAULT_FALSE_ALARM_BUDGET, gt=0, le=30,
        description="alarms per month a home's ordinary quiet stretches may raise (its own past stretches set the bar; "
                    "absences come on top)",
    )
    retention_days: int = Field(default=90, ge=1)
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_workers: int = Field(
        default=4, ge=0, le=64, description="threads per web process handling stored LINE events (0: sweep only)"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    # ---- heat and cold (core/weather, core/climate) ----------------------------------
    weather_source: Literal["fixtures", "http", "none"] = Field(
        default="fixtures", description="fixtures: the saved JMA/WBGT responses (dev, tests); http: the real sites"
    )
    weather_forecast_url: str = "https://www.jma.go.jp/bosai/forecast/data/forecast/{office}.json"
    weather_wbgt_url: str = "https://www.wbgt.env.go.jp/prev15WG/dl/yohou_{point}.csv"
    weather_fixtures_dir: str | None = None  # default: core/weather/fixtures
    weather_retries: int = Field(default=3, ge=1, le=10)
    weather_stale_hours: int = Field(default=18, ge=1)  # today's forecast older than this is a gap
    heat_day_max_c: float = 31.0  # forecast maximum at or above this is a hot day
    heat_alert_wbgt: float = 33.0  # 熱中症警戒アラート: a forecast WBGT of 33 or more
    cold_night_min_c: float = 2.0  # forecast minimum at or below this is a cold night
    heat_check_hour: float = 12.5  # local hour from which a hot day without cooling is looked at
    heat_family_after_minutes: int = Field(default=90, ge=10)  # nudge -> family if cooling still absent
    cold_check_hour: float = 19.0  # local evening hour for the cold-night check
    climate_quiet_start_hour: int = Field(default=21, ge=0, le=23)  # no family message from here ...
    climate_quiet_end_hour: int = Field(default=7, ge=0, le=23)  # ... until here (local)

    # ---- operations (core/scheduler.py, core/worker.py, core/logging.py, /metrics) ----
    mimamori_clock_runs_workers: bool = Field(
        default=True, description="the clock also ticks escalation and dispatches the outbox (false when workers run)"
    )
    scheduler_standby_retry_seconds: float = Field(default=5.0, gt=0, le=30)
    worker_idle_seconds: float = Field(default=2.0, gt=0, le=60)
    detection_chunk_homes: int = Field(
        default=5000, ge=1, le=100_000, description="homes per detection chunk a worker claims"
    )
    outbox_stuck_minutes: int = Field(default=15, ge=1)
    metrics_token: str | None = None
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # ---- validation ---------------------------------------------------------------
    @field_validator("database_url")
    @classmethod
    def _database_url_parses(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"cannot parse {value!r} as a database URL") from exc
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError(f"unsupported database {url.get_backend_name()!r} (use sqlite or postgresql)")
        return value

    @field_validator("mimamori_timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    # ---- derived values -----------------------------------------------------------
    @property
    def is_dev(self) -> bool:
        return self.mimamori_env == "dev"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.mimamori_timezone)

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def secret_key(self) -> str:
        return self.mimamori_secret_key or DEV_SECRET_KEY

    @property
    def line_secrets(self) -> list[str]:
        """Secrets a webhook signature may be made with (current first, then the rotating-out one)."""
        current = self.line_channel_secret or DEV_LINE_CHANNEL_SECRET
        return [s for s in (current, self.line_channel_secret_previous) if s]

    @property
    def line_access_token(self) -> str:
        return self.line_channel_access_token or DEV_LINE_ACCESS_TOKEN

    @property
    def line_uses_emulator(self) -> bool:
        """In dev, LINE left unconfigured talks to the emulator built into the web app."""
        return self.is_dev and not self.line_api_base_url and not self.line_channel_access_token

    @property
    def line_api_url(self) -> str:
        if self.line_api_base_url:
            return self.line_api_base_url.rstrip("/")
        if self.line_uses_emulator:
            return f"{self.base_url}/dev/line-api"
        return LINE_REAL_API

    @property
    def line_data_api_url(self) -> str:
        if self.line_data_api_base_url:
            return self.line_data_api_base_url.rstrip("/")
        if self.line_api_base_url or self.line_uses_emulator:
            return self.line_api_url
        return "https://api-data.line.me"

    @property
    def twilio_uses_fake(self) -> bool:
        return self.is_dev and not self.twilio_api_base_url and not self.twilio_account_sid

    @property
    def twilio_api_url(self) -> str | None:
        """Base URL override for the Twilio client; None means Twilio's real API."""
        if self.twilio_api_base_url:
            return self.twilio_api_base_url.rstrip("/")
        if self.twilio_uses_fake:
            return f"{self.base_url}/dev/twilio-api"
        return None

    @property
    def twilio_sid(self) -> str:
        return self.twilio_account_sid or DEV_TWILIO_SID

    @property
    def twilio_token(self) -> str:
        return self.twilio_auth_token or DEV_TWILIO_TOKEN

    @property
    def twilio_from(self) -> str:
        return self.twilio_from_number or "+815000000000"

    def check_production(self) -> None:
        """Refuse to start in prod with a secret left unset."""
        if self.is_dev:
            return
        for variable in PROD_REQUIRED:
            if not getattr(self, variable.lower()):
                raise ConfigError(variable, "must be set when MIMAMORI_ENV=prod")


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (and overrides), as a ConfigError on bad input."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(variable, message) from None
    settings.check_production()
    return settings


_settings: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, read once."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def use_settings(settings: Settings | None) -> None:
    """Install ``settings`` process-wide (``serve --port``, tests); None re-reads the environment."""
    global _settings
    _settings = settings
