"""The two-command start and configuration errors, as a newcomer meets them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from core.errors import ConfigError
from core.settings import load_settings

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mimamori.cli.main", *args], capture_output=True, text=True, env=full_env,
        cwd=REPO, timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "not a url", "DATABASE_URL"),
        ("DATABASE_URL", "mysql://x@localhost/db", "DATABASE_URL"),
        ("MIMAMORI_TIMEZONE", "Asia/Atlantis", "MIMAMORI_TIMEZONE"),
    ],
)
def test_bad_configuration_is_one_line_naming_the_variable(variable: str, value: str, expected: str) -> None:
    result = _cli("db", "upgrade", env={variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_prod_refuses_to_start_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMAMORI_ENV", "prod")
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.variable == "LINE_CHANNEL_SECRET"


def test_dev_uses_local_fakes_but_a_set_variable_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LINE_API_BASE_URL", "LINE_CHANNEL_ACCESS_TOKEN", "MIMAMORI_ENV", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert load_settings().line_api_url == "http://127.0.0.1:8000/dev/line-api"
    monkeypatch.setenv("LINE_API_BASE_URL", "http://127.0.0.1:9999/")
    assert load_settings().line_api_url == "http://127.0.0.1:9999"


def test_serve_answers_healthz_and_holds_50_concurrent_requests(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db", "MIMAMORI_ENV": "dev"}
    assert _cli("db", "upgrade", env=env).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "mimamori.cli.main", "serve", "--port", str(port), "--no-scheduler"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # also a read timeout while the worker boots
                pass
            assert time.monotonic() < deadline, "serve did not answer /healthz within 60 s"
            time.sleep(0.2)
        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(lambda _: requests.get(url, timeout=10).status_code, range(50)))
        assert statuses == [200] * 50
    finally:
        proc.terminate()
        proc.wait(timeout=15)
