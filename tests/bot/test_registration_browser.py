"""Registering in /dev/chat at a phone's width, in a real headless Chromium: the form opens in
the LIFF panel, checks as you type, fills the address from the postal code, and hands back
to the chat, which finishes with the family's own rich menu."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.db import session_scope
from core.models import Home
from core.texts import t
from tests.bot.test_dev_chat import served  # noqa: F401  (fixture: the dev app on a real port)
from tests.bot.test_pages_browser import browser  # noqa: F401  (fixture: headless Chromium)

pytestmark = pytest.mark.browser
SP = "0300000000000000000055"


def _wait(driver: Any, fn: Any, timeout: float = 30) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda _: fn())


def _tap(driver: Any, label: str) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    def find() -> Any:
        try:
            found = [b for b in driver.find_elements(By.CSS_SELECTOR, "#log button, #quick button")
                     if b.text.strip() == label and b.is_displayed()]
        except StaleElementReferenceException:  # the page redrew the chat meanwhile
            return None
        return found[-1] if found else None

    button = _wait(driver, find)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


def test_a_family_member_registers_on_a_phone_with_the_form(browser: Any, served: str, clock: Any) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    browser.get(f"{served}/dev/chat/")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    _wait(browser, lambda: browser.execute_script("return document.getElementById('menu').dataset.role") == "guest")
    browser.find_element(By.ID, "follow").click()
    _tap(browser, t("roles.family", "ja"))
    _tap(browser, "家族です")
    _tap(browser, "お父さん")
    _tap(browser, "入力フォームを開く")
    browser.switch_to.frame(_wait(browser, lambda: browser.find_element(By.ID, "liffframe")))
    field = _wait(browser, lambda: browser.find_element(By.ID, "customer_number"))
    assert field.get_attribute("inputmode") == "numeric"
    field.send_keys("どこに書いてありますか？")
    browser.find_element(By.ID, "holder").click()  # leaving the field checks it
    error = browser.find_element(By.CSS_SELECTOR, '.err[data-for="customer_number"]')
    assert error.text == t("liff.home.err_customer", "ja")
    browser.find_element(By.ID, "send").click()
    assert browser.find_element(By.ID, "formerr").text == t("liff.home.fix_above", "ja")  # nothing sent
    field.clear()
    field.send_keys("1234567890")
    browser.find_element(By.ID, "holder").send_keys("山田太郎")
    browser.find_element(By.ID, "postal").send_keys("1000001")
    address = browser.find_element(By.ID, "address")
    _wait(browser, lambda: address.get_attribute("value") == "東京都千代田区千代田")
    address.send_keys("1-1")
    browser.find_element(By.ID, "phone").send_keys("090-1234-5678")
    browser.find_element(By.ID, "supply_point").send_keys(SP)
    browser.find_element(By.ID, "send").click()
    browser.switch_to.default_content()
    _wait(browser, lambda: not browser.find_element(By.ID, "liff").is_displayed())
    _tap(browser, "電話")
    _tap(browser, "会って同意をもらった")
    _tap(browser, "登録する")
    _wait(browser, lambda: browser.execute_script("return document.getElementById('menu').dataset.role") == "family")
    with session_scope() as s:
        home = s.scalar(select(Home))
        assert home.supply_point_number == SP and home.address == "東京都千代田区千代田1-1"
        assert home.customer_number == "1234567890" and home.resident.phone == "+819012345678"
