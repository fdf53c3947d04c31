"""The meter cycle's first step, as the job table (core/jobs.py) calls it."""

from __future__ import annotations

from datetime import datetime

from core.meters.pull import pull_once


def pull_new_readings(now: datetime) -> int:
    """Pull whatever the configured source has and store it; the count of readings stored."""
    result = pull_once(now=now)
    return result.inserted + result.revised
