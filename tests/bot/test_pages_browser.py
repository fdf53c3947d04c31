"""The watcher's pages in a real headless Chromium (Debian's package, driven by Selenium).

Skips with a reason when Chromium is not installed, except under CI where it must be.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from bot.app import create_app
from core.clock import ManualClock
from core.settings import Settings
from core.texts import t
from tests.bot.pages_world import World, build_world

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=412,915")

pytestmark = pytest.mark.browser


def _need_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if not missing:
        return
    reason = f"{', '.join(missing)} not installed (apt-get install -y chromium chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[object]:
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mimamori-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def server(settings: Settings, db) -> Iterator[str]:
    """The real app on a real port, served by werkzeug in a thread."""
    app = create_app(settings)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def world(db, clock: ManualClock) -> World:
    return build_world()


def _image_loaded(driver: object, css: str) -> bool:
    from selenium.webdriver.support.ui import WebDriverWait

    script = f"const i = document.querySelector('{css}'); return !!i && i.complete && i.naturalWidth > 0;"
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(script))
    return bool(driver.execute_script(f"return document.querySelector('{css}').naturalWidth;"))


def test_a_watcher_opens_the_graph_then_an_alert_and_its_timeline(browser, server: str, world: World) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server + world.page("usage", h=world.home_a, w=world.watcher_a))
    assert "電気使用量グラフ" in browser.title
    assert _image_loaded(browser, "img#graph")
    assert "kWh" in browser.find_element(By.ID, "total").text

    browser.find_element(By.LINK_TEXT, "週").click()
    assert _image_loaded(browser, "img#graph")

    browser.find_element(By.ID, "nav-alerts").click()
    alerts = browser.find_elements(By.CSS_SELECTOR, "a.alert")
    assert len(alerts) == 1
    alerts[0].click()
    assert "異常通知詳細" in browser.title
    assert _image_loaded(browser, "img#graph")
    timeline = browser.find_element(By.ID, "timeline").text
    assert t("reports.timeline.contact.voice", "ja", who="お父さん", n=1, result=t("reports.result.no_answer")) \
        in timeline
    assert "<b>長男</b>さんが対応を引き受けました" in timeline  # shown as text, not markup
    assert "2026-06-01 05:00" in timeline


def test_expired_and_tampered_links_are_refused_politely(browser, server: str, world: World,
                                                         clock: ManualClock) -> None:
    from selenium.webdriver.common.by import By

    url = server + world.page("alerts", h=world.home_a, w=world.watcher_a)
    head, token = url.rsplit("/", 1)
    browser.get(f"{head}/{token[:-3]}xyz")
    assert "このページは開けません" in browser.title
    assert browser.find_element(By.ID, "denied").is_displayed()
    browser.get(url)
    assert "異常通知一覧" in browser.title
    clock.advance(timedelta(hours=25))
    browser.get(url)
    assert "このページは開けません" in browser.title
