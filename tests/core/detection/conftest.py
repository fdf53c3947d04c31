from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.detection.live import forget_cached_baselines


@pytest.fixture(autouse=True)
def _fresh_baseline_cache() -> Iterator[None]:
    forget_cached_baselines()
    yield
    forget_cached_baselines()
