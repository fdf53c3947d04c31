"""Pull readings from the retailer's meter-data API (``METER_API_URL``, ``METER_API_TOKEN``).

The API is a JSON endpoint: ``GET {url}?cursor=<c>&limit=<n>`` with a bearer token
answers ``{"readings": [{"meter_id", "interval_start", "kwh", "quality"?}, …],
"next_cursor": "…" | null}``. Each page is ingested and its cursor saved in the same
transaction (``MeterSourceCursor``), so a crash resumes at the first page not stored.
A 5xx or a dropped connection is retried with backoff; a 401/403 stops at once (a
wrong token does not get better by asking again).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from core.db import session_scope
from core.enums import ReadingQuality
from core.errors import MeterApiError
from core.meters.ingest import ImportResult, ingest
from core.meters.replay_csv import parse_aware
from core.meters.sources import Item, ReadingIn, RowError
from core.models import MeterSourceCursor
from core.settings import Settings

SOURCE_NAME = "http"
QUALITIES = {q.value: q for q in ReadingQuality}


@dataclass
class Page:
    items: list[Item]
    next_cursor: str | None


class MeterApiClient:
    """One retailer API; ``sleep`` is injected so tests do not wait for the backoff."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = 10.0,
        page_size: int = 5000,
        attempts: int = 4,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        http: requests.Session | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout
        self.page_size = page_size
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.sleep = sleep
        self.http = http or requests.Session()

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> MeterApiClient:
        if not settings.meter_api_url:
            from core.errors import ConfigError

            raise ConfigError("METER_API_URL", "must be set when METER_SOURCE=http")
        return cls(settings.meter_api_url, settings.meter_api_token, timeout=settings.http_timeout_seconds, **kwargs)

    def fetch(self, cursor: str | None) -> Page:
        """One page after ``cursor`` (None: from the beginning)."""
        params: dict[str, Any] = {"limit": self.page_size}
        if cursor is not None:
            params["cursor"] = cursor
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        last_error = ""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                response = self.http.get(self.url, params=params, headers=headers, timeout=self.timeout)
            except requests.RequestException as exc:
                last_error = f"no answer ({type(exc).__name__})"
                continue
            if response.status_code >= 500 or response.status_code == 429:
                last_error = f"HTTP {response.status_code}"
                continue
            if response.status_code in (401, 403):
                raise MeterApiError(f"meter API refused the token (HTTP {response.status_code})", response.status_code)
            if response.status_code != 200:
                raise MeterApiError(f"meter API answered HTTP {response.status_code}", response.status_code)
            return parse_page(response)
        raise MeterApiError(f"meter API failed {self.attempts} times, last: {last_error}")


def parse_page(response: requests.Response) -> Page:
    try:
        body = response.json()
        records = body["readings"]
        next_cursor = body.get("next_cursor")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MeterApiError(f"meter API sent a page that is not the expected JSON ({exc})", 200) from None
    return Page(list(parse_records(records)), None if next_cursor is None else str(next_cursor))


def parse_records(records: list[Any]) -> Iterator[Item]:
    """Readings of one page; ``line`` is the record's place in the page (1-based)."""
    for index, record in enumerate(records, start=1):
        try:
            meter_id = str(record["meter_id"])
            start = parse_aware(str(record["interval_start"]))
            kwh = record.get("kwh")
            kwh = None if kwh is None else float(kwh)
            quality = QUALITIES.get(str(record.get("quality", "measured")), ReadingQuality.MEASURED)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            yield RowError(index, f"record {index}: not a reading ({type(exc).__name__}: {exc})")
            continue
        yield ReadingIn(meter_id, start, kwh, quality, index)


def pull(client: MeterApiClient, *, max_pages: int = 1000) -> ImportResult:
    """Fetch pages from the saved cursor until the API has nothing newer; one transaction per page."""
    total = ImportResult()
    for _ in range(max_pages):
        with session_scope() as session:
            # The row lock makes a second puller (another process) wait instead of fetching the same page.
            state = session.get(MeterSourceCursor, SOURCE_NAME, with_for_update=True)
            if state is None:
                state = MeterSourceCursor(source=SOURCE_NAME, cursor=None, state={})
                session.add(state)
                session.flush()
            page = client.fetch(state.cursor)
            total.add(ingest(session, page.items))
            moved = page.next_cursor is not None and page.next_cursor != state.cursor
            if page.next_cursor is not None:
                state.cursor = page.next_cursor
        if not moved or not page.items:
            break
    return total
