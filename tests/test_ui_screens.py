"""The screens a staff member meets, walked in headless Chromium at a laptop's (1400×900) and a
phone's (390×844) size, light and dark, English and Japanese: the login pages, the first screen
after login. Each walk writes its screenshots to tests/output/ (looked at by a person)."""
from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.request

import pytest

from tests.browser import _browser, _text, click_until, log_in, open_login
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
    s = Server(venv_bin, store, log, IURC_AUTH=":".join(READER), IURC_STAFF_AUTH=":".join(STAFF),
               IURC_UPLOAD_DIR=docs / "corpus" / "uploads", IURC_FEEDBACK_FILE=log.parent / "feedback.jsonl",
               IURC_STAFF_HISTORY_FILE=log.parent / "staff_history.jsonl", IURC_MAX_FILE_BYTES=300_000)
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
        assert not re.search(r"\d{4}-\d\d-\d\d", _text(driver, "indexed"))  # its date in the reader's locale
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


# Every element a walk reads, except what is document content or a name: the conversation's
# messages (answers quote documents), the sources (passages, file names), the programme table
# (the document's own rows and column names; its own columns are tested in test_ui.py), the
# diagram and the glossary's names, the Documents list's file names, the conversations list (the
# reader's own questions), the language switch (each language named in itself) and commands.
LATIN_WALK = r"""
const skip = ['#chat .message-row', '#chat .message', '#sources .passage', '#sources summary', '#pairs',
              '#network', '#glossary [role=gridcell], #glossary td', '#documents td:first-child',
              '#conversations', '#ui-language', '.iurc-switch', 'code', '#question textarea', '#upload .file-preview',
              '#upload-outcome td:first-child'];
const hidden = (el) => { for (let e = el; e; e = e.parentElement) { const s = getComputedStyle(e);
  if (s.display === 'none' || s.visibility === 'hidden') return true; } return false; };
const excluded = (el) => skip.some((sel) => el.closest(sel)) || hidden(el);
const out = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  const el = n.parentElement, text = n.textContent.trim();
  if (text && el && !el.closest('script, style') && !excluded(el)) out.push(text);
}
for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], [alt]')) {
  if (excluded(el)) continue;
  for (const name of ['title', 'aria-label', 'placeholder', 'alt']) {
    const value = el.getAttribute(name); if (value) out.push(name + '=' + value);
  }
}
return out;
"""
# Latin letters a Japanese UI may show: acronyms (IURC, API, EU), the name of a file format, a
# size's unit, a file's name.
ALLOWED_LATIN = re.compile(r"(?<![A-Za-z])(?:[A-Z]{2,}|Markdown|[KMG]b)(?![A-Za-z])|[\w.-]+\.[a-z]{2,4}\b")


# A stored document's file name is a name too.
FILE_NAME = re.compile(r"^[\w./-]+\.[a-z]{2,4}$")


def _latin_strings(driver) -> set[str]:
    """The UI strings (text, or an attribute's value) with Latin words other than the allowed."""
    strings = (s.split("=", 1)[1] if re.match(r"^(title|aria-label|placeholder|alt)=", s) else s
               for s in driver.execute_script(LATIN_WALK))
    return {s for s in strings if not FILE_NAME.match(s) and s not in (READER[0], STAFF[0])  # user names
            and re.search(r"[A-Za-z]{2,}", ALLOWED_LATIN.sub("", s))}


def test_the_japanese_ui_shows_no_english_word(login_server, tmp_path):
    """A Japanese browser: the login, the chat before and after an answer, both views, and a staff
    upload; every UI string, Gradio's own labels and tooltips included, is Japanese."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    note = tmp_path / "kickoff_note.md"
    note.write_text("# Note\n\nThe kick-off of the cluster was held online.\n", "utf-8")
    fake = tmp_path / "agenda.pdf"
    fake.write_text("not a PDF at all\n", "utf-8")  # refused: its reason must be in Japanese too
    driver = _browser(tmp_path, "ja-JP", size=SIZES["laptop"])
    wait = WebDriverWait(driver, 90)
    found: dict[str, set[str]] = {}
    try:
        open_login(driver, login_server.url, wait)
        found["login"] = _latin_strings(driver)
        log_in(driver, STAFF)
        box = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#question textarea"))
        wait.until(lambda d: "質問の例" in _visible_text(d) and "APIを介して使用" in
                   d.execute_script("return document.querySelector('footer').textContent"))
        found["chat"] = _latin_strings(driver)
        # Gradio writes its progress line's status words as text ("processing |", "queue: 1/2 |"),
        # seen only while a request waits: a line of that kind, put in the page, is restated.
        said = driver.execute_script("""const tracker = document.createElement('div');
          tracker.dataset.testid = 'status-tracker'; document.body.append(tracker);
          const line = document.createElement('span'); line.textContent = 'queue: 1/2 | 0.3s'; tracker.append(line);
          return new Promise((done) => setTimeout(() => { const first = line.textContent;
            line.textContent = 'processing | 0.4s';
            setTimeout(() => { const text = [first, line.textContent]; tracker.remove(); done(text); }, 100); }, 100));""")
        assert said == ["待機中 1/2 | 0.3s", "処理中 | 0.4s"], said
        box.send_keys("鎌倉市とウメオ市の協力テーマは何ですか")
        box.send_keys(Keys.ENTER)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#sources a.preview"))
        time.sleep(1)
        found["answered"] = _latin_strings(driver)
        for tab in ("プログラム", "文書"):
            next(b for b in driver.find_elements(By.CSS_SELECTOR, "button[role='tab']") if b.text.startswith(tab)).click()
            time.sleep(1)
            found[tab] = _latin_strings(driver)
        wait.until(lambda d: d.find_element(By.ID, "staff-panel").is_displayed())
        driver.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(f"{note}\n{fake}")
        wait.until(lambda d: "kickoff_note" in d.find_element(By.ID, "upload").text
                   and "agenda" in d.find_element(By.ID, "upload").text)
        driver.find_element(By.ID, "add-documents").click()
        wait.until(lambda d: "PDFではありません" in d.find_element(By.ID, "upload-outcome").text)
        assert "\n追加\n" in driver.find_element(By.ID, "upload-outcome").text + "\n"
        time.sleep(1)
        # A file over the size limit is refused in the browser: the error is kept, in Japanese.
        big = tmp_path / "too_big.md"
        big.write_text("x" * 400_000, "utf-8")
        driver.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(big))
        kept = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#kept-errors .kept-error"))
        assert "ファイルが大きすぎます" in kept.text and "閉じる" in kept.text
        found["after upload"] = _latin_strings(driver)
        assert "common." not in _visible_text(driver)  # no raw i18n key once the upload ends
        _shot(driver, "documents_laptop_light_ja")
    finally:
        driver.quit()
    english = {page: sorted(strings) for page, strings in found.items() if strings}
    assert len(found) == 6 and not english, "\n".join(f"{page}: {strings}" for page, strings in english.items())


def test_the_staff_console_badge_history_confirmations_and_kept_errors(login_server, tmp_path):
    """Staff see a badge; a file is added with one progress line and a per-file history entry; the
    removal list names files as staff know them; replacing or removing asks first and declining
    changes nothing; an upload error stays until dismissed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    note = tmp_path / "site_visit_note.md"
    note.write_text("# Site visit\n\nThe delegation visited the harbour.\n", "utf-8")
    big = tmp_path / "too_big.md"
    big.write_text("x" * 400_000, "utf-8")  # over the server's IURC_MAX_FILE_BYTES
    driver = _browser(tmp_path, "en-US", size=SIZES["laptop"])
    wait = WebDriverWait(driver, 90)

    def outcome() -> str:
        return driver.find_element(By.ID, "upload-outcome").text

    def history() -> str:
        return driver.find_element(By.ID, "history").text

    def add(path, answer: bool | None = None) -> None:
        driver.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(path))
        wait.until(lambda d: path.stem in d.find_element(By.ID, "upload").text)
        driver.find_element(By.ID, "add-documents").click()
        if answer is not None:
            _answer_confirm(driver, wait, answer, path.name)

    try:
        open_login(driver, login_server.url, wait)
        log_in(driver, STAFF)
        badge = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#staff-badge .staff-badge"))
        assert badge.text == "Staff" and _in_view(driver, badge)
        next(b for b in driver.find_elements(By.CSS_SELECTOR, "button[role='tab']") if b.text == "Documents").click()
        wait.until(lambda d: d.find_element(By.ID, "staff-panel").is_displayed())

        # Where progress is drawn while the file is indexed: recorded as it appears.
        driver.execute_script("""window.progressIn = new Set();
          new MutationObserver(() => document.querySelectorAll('.progress-text, .eta-bar, .progress-level')
            .forEach((p) => { if (!p.offsetParent || !p.textContent.trim()) return;
                               const owner = p.closest('[id]'); window.progressIn.add((owner ? owner.id : '?') + ':' + p.textContent.trim().slice(0, 40)); }))
          .observe(document.body, {subtree: true, childList: true, characterData: true});""")
        add(note)
        wait.until(lambda d: "added" in outcome() and note.name in outcome())
        assert "uploads/" not in outcome()
        wait.until(lambda d: note.name in history() and "added" in history() and STAFF[0] in history())
        drawn = driver.execute_script("return [...window.progressIn]")
        # One progress line, on the result table, naming the file (not drawn again on the upload
        # box and the removal list, the event's other outputs).
        assert any(d.startswith("upload-outcome:") and f"indexing {note.name}" in d for d in drawn), drawn
        assert not [d for d in drawn if d.split(":")[0] in ("upload", "remove-choice") or "indexing" in d
                    and not d.startswith("upload-outcome:")], drawn

        # The same name again asks before replacing; declined, nothing changes.
        note.write_text("# Site visit\n\nThe delegation visited the harbour and the port office.\n", "utf-8")
        add(note, answer=False)
        time.sleep(2)
        assert "updated" not in outcome() and history().count(note.name) == 1
        driver.find_element(By.CSS_SELECTOR, "#upload button[aria-label*='Clear'], #upload .label-clear-button, "
                                              "#upload button[aria-label*='clear']").click() \
            if driver.find_elements(By.CSS_SELECTOR, "#upload button[aria-label*='Clear'], #upload .label-clear-button,"
                                                     " #upload button[aria-label*='clear']") else None
        add(note, answer=True)
        wait.until(lambda d: "updated" in outcome())
        wait.until(lambda d: history().count(note.name) == 2)

        # Removal: the list shows the file's name; declined, nothing goes; accepted, it goes.
        picker = driver.find_element(By.CSS_SELECTOR, "#remove-choice input")
        picker.click()
        option = wait.until(lambda d: next((o for o in d.find_elements(By.CSS_SELECTOR, "[role='option']")
                                            if o.text.strip() == note.name), None))
        assert not any("uploads/" in o.text for o in driver.find_elements(By.CSS_SELECTOR, "[role='option']"))
        option.click()
        driver.find_element(By.ID, "title").click()  # close the list
        driver.find_element(By.ID, "remove-documents").click()
        _answer_confirm(driver, wait, False, "1")
        time.sleep(2)
        assert "removed" not in outcome()
        driver.find_element(By.ID, "remove-documents").click()
        _answer_confirm(driver, wait, True, "1")
        wait.until(lambda d: "removed" in outcome())
        wait.until(lambda d: "removed" in history())
        _shot(driver, "staff_console_laptop_light_en")

        # An upload refused by size: its error is kept at the top until dismissed.
        driver.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(big))
        kept = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#kept-errors .kept-error"))
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, '[data-testid="toast-body"].error'))
        assert kept.is_displayed() and "too_big.md" in kept.text  # the toast went; the error stays
        assert not kept.text.startswith("Error")  # its message, not the toast's title and buttons
        _shot(driver, "staff_error_kept_laptop_light_en")
        kept.find_element(By.TAG_NAME, "button").click()
        assert not driver.find_elements(By.CSS_SELECTOR, "#kept-errors .kept-error")
    finally:
        driver.quit()


def _answer_confirm(driver, wait, accept: bool, expected: str) -> None:
    """The browser's confirmation: its text names what is to change; accept or decline it."""
    from selenium.webdriver.support import expected_conditions as ec

    alert = wait.until(ec.alert_is_present())  # (the confirm may come a moment after the click)
    assert expected in alert.text, alert.text
    alert.accept() if accept else alert.dismiss()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("language", ["en", "ja"])
def test_staff_console_and_thumbs_in_every_layout(login_server, tmp_path, size, dark, language):
    """The staff console (badge, panel, history) and a thumb's confirmation at both sizes, light
    and dark, in both languages, in the chosen language's words; screenshots of each."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    words = {"en": {"badge": "Staff", "docs": "Documents", "history": "What staff changed", "thanks": "Thanks, noted.",
                    "ask": "What did Kamakura and Umeå work on?"},
             "ja": {"badge": "スタッフ", "docs": "文書", "history": "スタッフの変更履歴", "thanks": "記録しました",
                    "ask": "鎌倉市とウメオ市の協力テーマは何ですか"}}[language]
    name = f"{size}_{'dark' if dark else 'light'}_{language}"
    driver = _browser(tmp_path, {"en": "en-US", "ja": "ja-JP"}[language], size=SIZES[size], dark=dark)
    wait = WebDriverWait(driver, 90)
    try:
        open_login(driver, login_server.url, wait)
        log_in(driver, STAFF)
        badge = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#staff-badge .staff-badge"))
        wait.until(lambda d: badge.text == words["badge"])
        assert _in_view(driver, badge)
        box = driver.find_element(By.CSS_SELECTOR, "#question textarea")
        box.send_keys(words["ask"])
        driver.find_element(By.ID, "send").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#sources a.preview"))
        note = click_until(driver, lambda d: next((b for b in d.find_elements(By.CSS_SELECTOR, "#chat button[aria-label]")
                                                   if b.get_attribute("aria-label") in ("Like", "いいね", "高評価")),
                                                  None),  # Gradio's own word, or ours
                           lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, "#chat .thumb-note")), False))
        assert words["thanks"] in note.text
        _shot(driver, f"thumb_noted_{name}")
        next(b for b in driver.find_elements(By.CSS_SELECTOR, "button[role='tab']") if b.text == words["docs"]).click()
        panel = wait.until(lambda d: d.find_element(By.ID, "staff-panel"))
        wait.until(lambda d: panel.is_displayed() and words["history"] in panel.text)
        assert driver.execute_script("return document.documentElement.scrollWidth <= "
                                     "document.documentElement.clientWidth + 1")
        driver.execute_script("document.getElementById('staff-panel').scrollIntoView({block: 'start'})")
        _shot(driver, f"staff_console_{name}")
    finally:
        driver.quit()
