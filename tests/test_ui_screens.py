"""The screens a staff member meets, walked in headless Chromium at a laptop's (1400×900) and a
phone's (390×844) size, light and dark, English and Japanese: the login pages, the first screen
after login. Each walk writes its screenshots to tests/output/ (looked at by a person)."""
from __future__ import annotations

import shutil
import subprocess
import urllib.request

import pytest

from tests.browser import _browser, _text
from tests.conftest import CORPUS, OUTPUT, iurc_env
from tests.ui_server import Server

SIZES = {"laptop": (1400, 900), "phone": (390, 844)}
READER, STAFF = ("reader", "r3ad"), ("staff", "st4ff")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def login_server(tmp_path_factory, venv_bin):
    """The corpus behind a readers' login and a staff login."""
    docs = tmp_path_factory.mktemp("docs")
    shutil.copytree(CORPUS, docs / "corpus")
    store = tmp_path_factory.mktemp("store")
    subprocess.run([str(venv_bin / "iurc"), "ingest", str(docs / "corpus"), "--store", str(store)],
                   check=True, capture_output=True, env=iurc_env(), timeout=300)
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    s = Server(venv_bin, store, log, IURC_AUTH=":".join(READER), IURC_STAFF_AUTH=":".join(STAFF))
    yield s
    s.stop()


def _shot(driver, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    driver.save_screenshot(str(OUTPUT / f"{name}.png"))


def _visible_text(driver) -> str:
    return driver.execute_script("return document.body.innerText")


def _in_view(driver, element) -> bool:
    """Wholly inside the first screen, without scrolling."""
    box = driver.execute_script("const r = arguments[0].getBoundingClientRect();"
                                "return [r.top, r.bottom, r.left, r.right, window.innerHeight, window.innerWidth]",
                                element)
    top, bottom, left, right, height, width = box
    return top >= 0 and bottom <= height and left >= 0 and right <= width + 1


def test_the_login_page_names_the_product_and_switches_language_without_showing_documents(login_server):
    page = urllib.request.urlopen(login_server.url, timeout=10).read().decode()
    assert "IURC programme assistant" in page and "IURC プログラム アシスタント" in page
    assert "Kamakura" not in page and "Kamacon" not in page  # nothing of the documents before login
    assert '"components"' not in page  # and not the app's layout either


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("language", ["en", "ja"])
def test_login_then_first_screen_shows_input_and_examples_without_scrolling(login_server, tmp_path, size, dark,
                                                                            language):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    name = f"first_{size}_{'dark' if dark else 'light'}_{language}"
    driver = _browser(tmp_path, "en-US", size=SIZES[size], dark=dark)
    try:
        driver.get(login_server.url)
        wait = WebDriverWait(driver, 60)
        wait.until(ec.presence_of_element_located((By.ID, "username")))
        product = {"en": "IURC programme assistant", "ja": "IURC プログラム アシスタント"}[language]
        if language == "ja":  # the switch on the login page (an English browser)
            assert "IURC プログラム アシスタント" not in _visible_text(driver)
            driver.find_element(By.CSS_SELECTOR, "[data-iurc-switch='ja']").click()
        text = _visible_text(driver)
        assert product in text
        other = {"en": "IURC プログラム アシスタント", "ja": "IURC programme assistant"}[language]
        assert other not in text  # one language at a time
        for element in driver.find_elements(By.CSS_SELECTOR, ".iurc-brand, #username, #password, form button"):
            assert _in_view(driver, element)
        # A wrong password says so, in the chosen language, and logs nobody in.
        driver.find_element(By.ID, "username").send_keys(READER[0])
        driver.find_element(By.ID, "password").send_keys("wrong")
        driver.find_element(By.ID, "reader-login").click()
        failed = {"en": "Wrong user or password", "ja": "ユーザー名かパスワードが違う"}[language]
        wait.until(lambda d: failed in d.find_element(By.ID, "message").text)
        _shot(driver, f"login_{size}_{'dark' if dark else 'light'}_{language}")
        driver.find_element(By.ID, "password").clear()
        driver.find_element(By.ID, "password").send_keys(READER[1])
        driver.find_element(By.ID, "reader-login").click()
        question = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#question textarea")))
        # The language chosen on the login page is the chat's, Gradio's own labels included.
        wait.until(lambda d: {"en": "Examples", "ja": "質問の例"}[language] in _visible_text(d))
        footer = {"en": "Use via API", "ja": "APIを介して使用"}[language]
        wait.until(lambda d: footer in d.execute_script("return document.querySelector('footer').textContent"))
        # The first screen: the input, the examples and the landing line, no scrolling.
        assert _in_view(driver, question)
        assert _in_view(driver, driver.find_element(By.ID, "send"))
        example = driver.find_elements(By.CSS_SELECTOR, ".gallery-item, button.gallery-item, [data-testid='dataset'] button")
        assert example and _in_view(driver, example[0])
        assert _in_view(driver, driver.find_element(By.ID, "indexed"))
        switch = driver.find_element(By.ID, "ui-language")
        assert _in_view(driver, switch)
        assert driver.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", switch)
        assert {"en": "Indexed:", "ja": "索引済み"}[language] in _text(driver, "indexed")
        _shot(driver, name)
    finally:
        driver.quit()


@pytest.mark.parametrize("size", SIZES)
def test_the_staff_login_is_styled_and_says_it_is_for_staff(login_server, tmp_path, size):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser(tmp_path, "ja-JP", size=SIZES[size])
    try:
        driver.get(login_server.url + "staff")
        wait = WebDriverWait(driver, 30)
        wait.until(ec.presence_of_element_located((By.ID, "staff-login")))
        text = _visible_text(driver)
        # A Japanese browser gets the Japanese page; the title is never broken inside a word.
        assert "IURC プログラム アシスタント" in text and "スタッフ" in text
        assert "IURC programme assistant" not in text
        title = driver.find_element(By.CSS_SELECTOR, ".iurc-l-ja .iurc-product")
        assert driver.execute_script("return getComputedStyle(arguments[0]).wordBreak", title) == "keep-all"
        button = driver.find_element(By.ID, "staff-login")
        assert driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", button) \
            not in ("rgba(0, 0, 0, 0)", "rgb(239, 239, 239)")  # styled, not the browser's default
        _shot(driver, f"staff_login_{size}_ja")
        driver.find_element(By.CSS_SELECTOR, "[data-iurc-switch='en']").click()
        assert "Staff" in _visible_text(driver) and "IURC programme assistant" in _visible_text(driver)
    finally:
        driver.quit()
