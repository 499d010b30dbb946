"""Headless Chromium for the UI tests: a browser at a given size, language and colour scheme, and
the steps every walk takes (open the chat, ask, read an element that may be re-rendering)."""
from __future__ import annotations

import os
import shutil

import pytest


def _browser(tmp_path, language: str = "en-US", size: tuple[int, int] | None = None, dark: bool = False):
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are required in CI (make test installs them)")
        pytest.skip("chromium/chromedriver not installed (make test installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                f"--user-data-dir={tmp_path / 'chrome'}", f"--lang={language}"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    if size:  # the page's own size (a phone's viewport is narrower than any window Chromium opens)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": size[0], "height": size[1],
                                                                      "deviceScaleFactor": 1, "mobile": size[0] < 600})
    if dark:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    return driver


def _text(driver, element_id: str) -> str:
    """Text of an element that streaming may be re-rendering: re-found until it holds still."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    for _ in range(20):
        try:
            return driver.find_element(By.ID, element_id).text
        except StaleElementReferenceException:
            continue
    return ""


def _open_and_ask(driver, url: str, question: str):
    """Open the chat, ask, and wait until the answer's first source is in the panel."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    wait = WebDriverWait(driver, 60)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#question textarea")))
    _ask_in_browser(driver, question)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources details#src-1-1 mark")))
    return wait


def _ask_in_browser(driver, question: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.CSS_SELECTOR, "#question textarea")
    box.clear()
    box.send_keys(question)
    box.send_keys(Keys.ENTER)


def click_until(driver, find, done, tries: int = 3, seconds: float = 20):
    """Click what `find(driver)` returns until `done(driver)` is true: on a busy machine a click
    that lands while the chat re-renders can be lost. `find` may return None (already clicked:
    only wait). Returns what `done` returned."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    for _ in range(tries):
        try:
            button = find(driver)
            if button is not None:
                driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
                button.click()
            return WebDriverWait(driver, seconds).until(done)
        except (TimeoutException, StaleElementReferenceException):
            continue
    raise AssertionError("the click never took effect")


def open_login(driver, url: str, wait) -> None:
    """Open the app's address and wait for the login page (ours: served to anyone not logged in)."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    wait.until(lambda d: d.find_elements(By.ID, "reader-login"))


def log_in(driver, user: tuple[str, str]) -> None:
    """Log in on the login page that is open (readers, or staff with the staff user)."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "username").send_keys(user[0])
    driver.find_element(By.ID, "password").send_keys(user[1])
    driver.find_element(By.ID, "reader-login").click()
