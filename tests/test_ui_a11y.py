"""Accessibility scan: axe-core (MPL-2.0, installed by `make test` into tests/a11y/) run in
Chromium over every page a reader and a staff member see: the readers' and the staff's login, the
chat before and after an answer, the Programme and Documents views (with the staff panel), a
source preview and the page of a removed source; light and dark, English and Japanese. No
serious or critical violation may be reported (colour contrast, WCAG AA, among them)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.browser import _browser, log_in, open_login
from tests.conftest import OUTPUT, iurc_env
from tests.ui_server import Server

AXE = Path(__file__).parent / "a11y/node_modules/axe-core/axe.min.js"
READER, STAFF = ("reader", "r3ad"), ("staff", "st4ff")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def axe() -> str:
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail("axe-core is required in CI (make test installs it into tests/a11y)")
        pytest.skip("axe-core not installed: cd tests/a11y && npm install")
    return AXE.read_text("utf-8")


@pytest.fixture(scope="module")
def a11y_server(tmp_path_factory, venv_bin):
    from eval import build_corpus

    docs = tmp_path_factory.mktemp("docs")
    build_corpus.build(docs)
    store = tmp_path_factory.mktemp("store")
    subprocess.run([str(venv_bin / "iurc"), "ingest", str(docs / build_corpus.DOCS.name), "--store", str(store)],
                   check=True, capture_output=True, env=iurc_env(), timeout=300)
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    s = Server(venv_bin, store, log, IURC_AUTH=":".join(READER), IURC_STAFF_AUTH=":".join(STAFF),
               IURC_UPLOAD_DIR=log.parent / "uploads", IURC_FEEDBACK_FILE=log.parent / "feedback.jsonl")
    yield s
    s.stop()


def violations(driver, axe: str) -> list[dict]:
    """axe-core's violations on the page once it is idle (no request's progress drawn: an overlay
    shown while a request runs is not the page), the serious and critical ones."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 60).until(lambda d: d.execute_script(
        "return [...document.querySelectorAll('[data-testid=\"status-tracker\"]')]"
        ".every((t) => t.classList.contains('hide') || !t.offsetParent)"))
    driver.execute_script(axe)
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations.map((v) => ("
        "{id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '').slice(0, 200))}"
        "))), (e) => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")
    return [v for v in found if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("language", ["en", "ja"])
def test_no_serious_or_critical_violation_on_any_page(a11y_server, axe, tmp_path, dark, language):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser(tmp_path, "en-US", size=(1400, 900), dark=dark)
    wait = WebDriverWait(driver, 60)
    found: dict[str, list] = {}

    def scan(page: str) -> None:
        found[page] = violations(driver, axe)

    try:
        driver.get(a11y_server.url)
        wait.until(lambda d: d.find_elements(By.ID, "username"))
        if language == "ja":
            driver.find_element(By.CSS_SELECTOR, "[data-iurc-switch='ja']").click()
        scan("login")
        driver.get(a11y_server.url + "staff")
        wait.until(lambda d: d.find_elements(By.ID, "staff-login"))
        scan("staff login")
        # With a readers' login too, staff log in on the chat's form with the staff user.
        open_login(driver, a11y_server.url, wait)
        log_in(driver, STAFF)
        box = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#question textarea"))
        wait.until(lambda d: {"en": "Examples", "ja": "質問の例"}[language] in d.find_element(By.TAG_NAME, "body").text)
        scan("chat, empty")
        box.send_keys({"en": "When was the hydrogen cluster kick-off?",
                       "ja": "ザグレブ市とリエカ市の代表団は川崎市で何を視察しましたか"}[language])
        box.send_keys(Keys.ENTER)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#sources a.preview"))
        scan("chat, answered")
        preview = driver.find_element(By.CSS_SELECTOR, "#sources a.preview").get_attribute("href")
        for tab in ({"en": "Programme", "ja": "プログラム"}[language], {"en": "Documents", "ja": "文書"}[language]):
            next(b for b in driver.find_elements(By.CSS_SELECTOR, "button[role='tab']") if b.text.startswith(tab)).click()
            wait.until(lambda d: d.execute_script("return document.querySelector('[role=tabpanel]:not([hidden])') !== null"))
            if tab in ("Documents", "文書"):
                wait.until(lambda d: d.find_element(By.ID, "staff-panel").is_displayed())
            scan(tab)
        driver.get(preview)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "main"))
        scan("source preview")
        driver.get(a11y_server.url + f"preview/{'0' * 24}?lang={language}")
        scan("removed source")
        OUTPUT.mkdir(exist_ok=True)
        driver.save_screenshot(str(OUTPUT / f"a11y_removed_source_{'dark' if dark else 'light'}_{language}.png"))
    finally:
        driver.quit()
    reported = {page: v for page, v in found.items() if v}
    assert len(found) == 8 and not reported, "\n".join(f"{page}: {v}" for page, v in reported.items())
