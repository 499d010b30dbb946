"""A reader's walk after an answer. The source preview (app/web/preview.py): the cited place
shown inside the app, for every format, the quote highlighted; a removed or changed document said
in words; in Chromium the dialog the chat opens it in, walked with the mouse and with the
keyboard only. Then the small things: the thumb's confirmation beside it, the ratings kept with a
reopened conversation, the export's name, the conversations list closing when left."""
from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from app.web.preview import Cited, as_shown, cited_place, document_lines, gone_page, marked_lines, preview_page
from core.formats import BY_NAME
from tests.browser import _browser, click_until
from tests.conftest import OUTPUT, iurc_env
from tests.ui_server import Server


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    """The evaluation's unseen documents (PDF, PPTX, DOCX, HTML, Markdown, text), built from source."""
    from eval import build_corpus

    out = tmp_path_factory.mktemp("docs")
    build_corpus.build(out)
    return out / build_corpus.DOCS.name


def _line_with(path, fmt: str, words: str):
    return next(line for line in document_lines(path, fmt) if words in line.text)


def test_a_location_names_its_page_and_lines_in_the_formats_unit():
    assert cited_place("slide 5 · Timeline · lines 9-11", "slide") == Cited(5, 9, 11)
    assert cited_place("p. 3 · Report › 2. Partners · line 40", "p.") == Cited(3, 40, 40)
    assert cited_place("Notes · line 7", "p.") == Cited(0, 7, 7)
    assert cited_place("", "p.") == Cited(0, 0, 0)


def test_a_quote_wrapped_over_lines_is_marked_on_each_of_them():
    from app.web.preview import Line

    lines = [Line(1, 1, "The pair met in"), Line(2, 1, "Kyoto <b>in</b> May."), Line(3, 1, "Other.")]
    shown = marked_lines(lines, "met in Kyoto <b>in")
    assert shown[1] == "The pair <mark>met in</mark>"
    assert shown[2] == "<mark>Kyoto &lt;b&gt;in</mark>&lt;/b&gt; May."  # document text stays text
    assert shown[3] == "Other."
    # A table row's quote, as the pipeline wrote the row: each of its values is marked.
    row = [Line(4, 1, "| 2019 | Kobe | Ports and logistics |")]
    assert marked_lines(row, "Year: 2019; City: Kobe; Topics: Ports and logistics")[4] == \
        "| <mark>2019</mark> | <mark>Kobe</mark> | <mark>Ports and logistics</mark> |"


def test_structure_marks_are_not_shown_to_a_reader():
    assert as_shown("## Partners") == ("Partners", True)
    assert as_shown("| 2019 | Kobe | <mark>Ports</mark> |") == (
        '2019<span class="cell-gap">│</span>Kobe<span class="cell-gap">│</span><mark>Ports</mark>', False)
    assert as_shown("A line | with a bar") == ("A line | with a bar", False)


@pytest.mark.parametrize("name, words", [
    ("kawasaki_activity_record_ja.docx", "ザグレブ市とリエカ市の代表団"),
    ("news_osaka_manchester.html", "Manchester"),
    ("cluster_hydrogen_kickoff.md", "hydrogen"),
    ("iuc_exchange_meetings.txt", "meeting"),
])
def test_a_document_opens_scrolled_to_the_cited_lines_with_the_quote_highlighted(docs, name, words):
    path = docs / name
    fmt = next(f.name for f in BY_NAME.values() if path.suffix in f.extensions)
    line = _line_with(path, fmt, words)
    page = preview_page(path, fmt, f"iurc_unseen/{name}", f"Section · line {line.number}", words, "k" * 24, "ja")
    cited = re.search(r'<li value="(\d+)" class="[^"]*cited[^"]*" id="cited">(.*?)</li>', page)
    assert cited and int(cited.group(1)) == line.number  # the link's #cited lands on it
    assert "<mark>" in cited.group(2) and words in re.sub("<[^>]+>", "", cited.group(2))
    assert page.count('id="cited"') == 1 and page.count("<mark>") == 1
    assert "原本をダウンロード" in page and 'href="/original/' + "k" * 24 in page  # the download beside it
    assert "行目" in page  # the location in the reader's words


def test_a_slide_is_laid_out_alone_with_the_quote_highlighted(docs):
    path = docs / "iurc_briefing_2022.pptx"
    lines = document_lines(path, "pptx")
    line = next(x for x in lines if "hydrogen" in x.text)
    page = preview_page(path, "pptx", "d.pptx", f"slide {line.page} · line {line.number}", "hydrogen", "k" * 24, "en")
    assert '<div class="slide">' in page and "<mark>hydrogen</mark>" in page.replace("<mark>H", "<mark>h")
    other = next(x for x in lines if x.page != line.page and x.text.strip() and not x.text.startswith("#"))
    assert other.text not in page  # only the cited slide
    assert f"slide {line.page}" in page


def test_a_pdf_page_is_drawn_with_the_quote_boxed(docs):
    path = docs / "iurc_japan_report_ja.pdf"
    line = _line_with(path, "pdf", "チームリーダー")
    drawn, top = BY_NAME["pdf"].draw_page(path.read_bytes(), line.page, line.text.strip())
    assert drawn.startswith(b"\x89PNG") and top is not None and 0 < top < 1
    plain, missing = BY_NAME["pdf"].draw_page(path.read_bytes(), line.page, "no such words on any page")
    assert missing is None and plain != drawn  # nothing boxed: another image
    page = preview_page(path, "pdf", "r.pdf", f"p. {line.page} · line {line.number}", line.text, "k" * 24, "en")
    assert 'src="data:image/png;base64,' in page and 'id="cited"' in page and f"p. {line.page}" in page
    unmatched = preview_page(path, "pdf", "r.pdf", f"p. {line.page}", "no such words", "k" * 24, "en")
    assert "could not be located" in unmatched  # said, not silently shown unmarked


def test_a_removed_document_is_said_in_words_in_the_readers_language():
    assert "no longer in the index" in gone_page("en")
    assert "索引にない" in gone_page("ja")


# --- in Chromium -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def preview_server(docs, tmp_path_factory, venv_bin):
    folder = tmp_path_factory.mktemp("corpus") / "iurc_unseen"
    shutil.copytree(docs, folder)
    store = tmp_path_factory.mktemp("store")
    subprocess.run([str(venv_bin / "iurc"), "ingest", str(folder), "--store", str(store)],
                   check=True, capture_output=True, env=iurc_env(), timeout=300)
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    s = Server(venv_bin, store, log, IURC_FEEDBACK_FILE=log.parent / "feedback.jsonl")
    s.folder = folder
    yield s
    s.stop()


def _ask(driver, question: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    box = WebDriverWait(driver, 60).until(lambda d: d.find_element(By.CSS_SELECTOR, "#question textarea"))
    box.send_keys(question)
    box.send_keys(Keys.ENTER)
    WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#sources a.preview"))


def _in_frame(driver, script: str):
    from selenium.webdriver.common.by import By

    driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, "#preview-dialog iframe"))
    try:
        return driver.execute_script(script)
    finally:
        driver.switch_to.default_content()


@pytest.mark.slow
@pytest.mark.parametrize("size, dark", [((1400, 900), False), ((1400, 900), True), ((390, 844), False),
                                        ((390, 844), True)], ids=["laptop-light", "laptop-dark", "phone-light",
                                                                  "phone-dark"])
def test_a_sources_preview_opens_in_the_app_at_the_cited_place(preview_server, tmp_path, size, dark):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser(tmp_path, size=size, dark=dark)
    name = f"{'laptop' if size[0] > 600 else 'phone'}_{'dark' if dark else 'light'}"
    try:
        driver.get(preview_server.url)
        _ask(driver, "When was the hydrogen cluster kick-off?")
        link = driver.find_element(By.CSS_SELECTOR, "#sources a.preview")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
        link.click()
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: d.execute_script("return document.getElementById('preview-dialog').open"))
        wait.until(lambda d: _in_frame(d, "const i = document.querySelector('img.page');"
                                          "return i && i.complete && i.naturalWidth > 0"))
        assert _in_frame(driver, "return !!document.getElementById('cited') && "
                                 "document.querySelector('a.download').href.includes('/original/')")
        assert driver.execute_script("return document.activeElement.classList.contains('preview-close')")
        time.sleep(0.5)
        OUTPUT.mkdir(exist_ok=True)
        driver.save_screenshot(str(OUTPUT / f"preview_pdf_{name}_en.png"))
        driver.find_element(By.CSS_SELECTOR, "#preview-dialog .preview-close").click()
        assert not driver.execute_script("return document.getElementById('preview-dialog').open")

        # In Japanese: a Word document's cited row, its lines in a list scrolled to it.
        driver.find_element(By.XPATH, "//*[@id='ui-language']//label[contains(., '日本語')]").click()
        driver.find_element(By.ID, "new-conversation").click()
        _ask(driver, "ザグレブ市とリエカ市の代表団は川崎市で何を視察しましたか")
        link = next(a for a in driver.find_elements(By.CSS_SELECTOR, "#sources a.preview")
                    if a.is_displayed())
        assert "プレビュー" in link.text
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
        link.click()
        wait.until(lambda d: d.execute_script("return document.getElementById('preview-dialog').open"))
        wait.until(lambda d: _in_frame(d, "return !!document.querySelector('#cited mark')"))
        assert _in_frame(driver, "return document.body.innerText.includes('原本をダウンロード')")
        time.sleep(0.5)
        driver.save_screenshot(str(OUTPUT / f"preview_docx_{name}_ja.png"))
    finally:
        driver.quit()


@pytest.mark.slow
def test_keyboard_only_ask_open_a_footnotes_preview_and_return_to_the_input(preview_server, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser(tmp_path, size=(1400, 900))

    def active(script: str) -> bool:
        return driver.execute_script(f"const a = document.activeElement; return !!a && ({script})")

    def press_until(key, script: str, most: int = 80, shift: bool = False) -> None:
        for _ in range(most):
            if active(script):
                return
            chain = ActionChains(driver)
            if shift:
                chain.key_down(Keys.SHIFT).send_keys(key).key_up(Keys.SHIFT).perform()
            else:
                chain.send_keys(key).perform()
        assert active(script), f"not reached by keyboard: {script}"

    in_question = "a.matches('#question textarea')"
    try:
        driver.get(preview_server.url)
        WebDriverWait(driver, 60).until(lambda d: d.execute_script("return !!document.querySelector('#question textarea')"))
        press_until(Keys.TAB, in_question)
        ActionChains(driver).send_keys("When was the hydrogen cluster kick-off?", Keys.ENTER).perform()
        WebDriverWait(driver, 60).until(lambda d: d.execute_script("return !!document.querySelector('#sources a.preview')"))
        # Back to the answer's footnote, open its source card, on to the card's preview link.
        press_until(Keys.TAB, "a.matches('#chat a[href*=\"#src-\"]')", shift=True)
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        assert driver.execute_script("return document.querySelector('#sources details').open")
        press_until(Keys.TAB, "a.matches('#sources a.preview')")
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.getElementById('preview-dialog').open"))
        assert active("a.classList.contains('preview-close')")  # the focus is in the dialog
        WebDriverWait(driver, 30).until(lambda d: _in_frame(d, "return !!document.getElementById('cited')"))
        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
        WebDriverWait(driver, 10).until(lambda d: not d.execute_script("return document.getElementById('preview-dialog').open"))
        assert active("a.matches('#sources a.preview')")  # back where it was opened from
        press_until(Keys.TAB, in_question, shift=True)
        ActionChains(driver).send_keys("Which pairs started in 2021?").perform()
        assert "2021" in driver.execute_script("return document.querySelector('#question textarea').value")
    finally:
        driver.quit()


@pytest.mark.slow
def test_the_preview_of_a_removed_document_says_so(preview_server, venv_bin):
    from app.answering.service import original_key

    key = original_key("iurc_unseen/cluster_hydrogen_kickoff.md")
    url = preview_server.url + f"preview/{key}?at=line+1&q=x&lang=ja"
    assert urllib.request.urlopen(url, timeout=10).status == 200
    moved = preview_server.folder / "cluster_hydrogen_kickoff.md"
    saved = moved.read_bytes()
    try:
        moved.write_bytes(saved + b"\nchanged after ingest\n")
        with pytest.raises(urllib.error.HTTPError) as gone:
            urllib.request.urlopen(url, timeout=10)
        assert gone.value.code == 404
        body = gone.value.read().decode()
        assert "索引後にファイルが変更されました" in body and body.startswith("<!doctype html>")  # words, not JSON
    finally:
        moved.write_bytes(saved)


def test_an_export_is_named_after_its_first_question_and_date():
    from datetime import datetime

    from app.web.ui import export_name

    when = datetime(2026, 12, 3, 9, 30)
    results = [None, {"question": "What did Kobe / Marseille work on?"}, None, {"question": "And later?"}]
    assert export_name(results, when) == "What did Kobe Marseille work on-2026-12-03.md"
    assert export_name([None, {"question": "神戸市とマルセイユ市の協力テーマは?"}], when) == \
        "神戸市とマルセイユ市の協力テーマは-2026-12-03.md"
    assert export_name([], when) == "conversation-2026-12-03.md"
    assert len(export_name([{"question": "x" * 500}], when)) == 60 + len("-2026-12-03.md")


@pytest.mark.slow
def test_thumbs_say_noted_beside_them_and_stay_with_a_reopened_conversation(preview_server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser(tmp_path, size=(1400, 900))
    question = "When was the hydrogen cluster kick-off?"
    try:
        driver.get(preview_server.url)
        _ask(driver, question)
        wait = WebDriverWait(driver, 30)
        note = click_until(driver, lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, '#chat button[aria-label="Like"]')),
                                                  None),
                           lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, "#chat .thumb-note")), False))
        assert note.text == "Thanks, noted." and note.is_displayed()
        here, there = note.rect, driver.find_element(By.CSS_SELECTOR, '#chat button[aria-label="Liked"]').rect
        assert abs(here["y"] - there["y"]) < 20 and 0 < here["x"] - there["x"] < 300  # beside the thumb
        OUTPUT.mkdir(exist_ok=True)
        driver.save_screenshot(str(OUTPUT / "thumb_noted_laptop_light_en.png"))

        driver.find_element(By.ID, "export").click()
        link = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#export-file a"))
        assert urllib.parse.unquote(link.get_attribute("href")).endswith(f"{question.rstrip('?')}-"
                                                                          f"{time.strftime('%Y-%m-%d')}.md")

        # A new page: the conversation reopened from the list has its thumb as it was given.
        driver.get(preview_server.url)
        picker = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#conversations input"))
        picker.click()
        option = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#conversations [role='option'], "
                                                                      "[role='listbox'] [role='option']"))
        option.click()
        wait.until(lambda d: question in d.find_element(By.ID, "chat").text)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#chat button[aria-label="Liked"]'))

        # Leaving the conversations list with Tab closes it (it no longer covers the answer).
        picker = driver.find_element(By.CSS_SELECTOR, "#conversations input")
        picker.click()
        wait.until(lambda d: d.execute_script("return document.querySelectorAll('[role=listbox] [role=option]').length"))
        picker.send_keys(Keys.TAB)
        wait.until(lambda d: not d.execute_script("return document.querySelectorAll('[role=listbox] [role=option]').length"))
    finally:
        driver.quit()


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("size", [(1400, 900), (390, 844)], ids=["laptop", "phone"])
def test_the_views_read_well_at_both_sizes(preview_server, tmp_path, size, dark, language):
    """The programme table scrolls inside its own box with its first column kept in view and its
    headers broken between words only; the diagram has a legend (and is a list on a phone); the
    glossary shows names, not ids; the Documents view shows page counts and preview links."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser(tmp_path, {"en": "en-US", "ja": "ja-JP"}[language], size=size, dark=dark)
    wait = WebDriverWait(driver, 60)
    phone = size[0] < 600
    name = f"{'phone' if phone else 'laptop'}_{'dark' if dark else 'light'}_{language}"
    try:
        driver.get(preview_server.url)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#question textarea"))
        tab = {"en": "Programme", "ja": "プログラム"}[language]
        # (the page takes the browser's language once loaded: wait for the tab to be named in it)
        wait.until(lambda d: next((b for b in d.find_elements(By.CSS_SELECTOR, "button[role='tab']")
                                   if b.text == tab), None)).click()
        wait.until(lambda d: d.find_element(By.ID, "pairs").is_displayed())
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#network .network-legend li"))
        # The page never scrolls sideways: a wide table scrolls inside its own box.
        assert driver.execute_script("return document.documentElement.scrollWidth <= "
                                     "document.documentElement.clientWidth + 1")
        header = driver.find_element(By.CSS_SELECTOR, "#pairs th, #pairs [role=columnheader]")
        assert driver.execute_script("return getComputedStyle(arguments[0]).wordBreak", header) == "keep-all"
        pinned = driver.execute_script(
            "return [...document.querySelectorAll('#pairs td, #pairs th')].some("
            "(c) => getComputedStyle(c).position === 'sticky')")
        assert pinned  # the first column stays in view
        legend = driver.find_elements(By.CSS_SELECTOR, "#network .network-legend li")
        assert legend and all(li.text.strip() for li in legend)
        drawing = driver.find_element(By.CSS_SELECTOR, "#network .network-drawing")
        listed = driver.find_element(By.CSS_SELECTOR, "#network .network-list")
        assert drawing.is_displayed() != phone and listed.is_displayed() == phone
        if phone:
            assert all("—" in li.text for li in listed.find_elements(By.TAG_NAME, "li"))
        glossary = driver.execute_script("return document.querySelector('#glossary').innerText")
        assert not re.search(r"(^|\n)japan(\n|$)", glossary)  # no raw ids (the id is "japan", the name "Japan")
        driver.execute_script("document.getElementById('pairs').scrollIntoView({block: 'start'})")
        OUTPUT.mkdir(exist_ok=True)
        driver.save_screenshot(str(OUTPUT / f"views_programme_{name}.png"))
        driver.execute_script("document.getElementById('network').scrollIntoView({block: 'start'})")
        driver.save_screenshot(str(OUTPUT / f"views_network_{name}.png"))

        tab = {"en": "Documents", "ja": "文書"}[language]
        wait.until(lambda d: next((b for b in d.find_elements(By.CSS_SELECTOR, "button[role='tab']")
                                   if b.text == tab), None)).click()
        wait.until(lambda d: d.find_element(By.ID, "documents").is_displayed())
        text = driver.find_element(By.ID, "documents").text
        assert {"en": "slides", "ja": "スライド"}[language] in text and {"en": "pages", "ja": "ページ"}[language] in text
        links = driver.find_elements(By.CSS_SELECTOR, "#documents a[href*='/preview/']")
        assert len(links) >= 9
        assert not re.search(r"\d{4}-\d\d-\d\dT", text)  # dates in the reader's locale, not ISO
        driver.save_screenshot(str(OUTPUT / f"views_documents_{name}.png"))
        page = urllib.request.urlopen(links[0].get_attribute("href"), timeout=10).read().decode()
        assert "<main>" in page
    finally:
        driver.quit()


def test_page_counts_are_read_once_per_loaded_index():
    """The views refresh every few seconds: a document's page count is read from the index's
    locations once per index, not on every refresh."""
    from types import SimpleNamespace

    from app.web.views import page_counts

    class Passages:
        reads = 0

        def docs(self):
            return ["a.pdf", "a.pdf", "b.pptx", "c.md"]

        def locations(self):
            Passages.reads += 1
            return ["p. 2 · Intro · line 3", "p. 7 · End · lines 40-41", "slide 3 · line 9", "Notes · line 2"]

    first = SimpleNamespace(retriever=SimpleNamespace(passages=Passages()))
    assert page_counts(first) == {"a.pdf": (7, "p."), "b.pptx": (3, "slide")}
    assert page_counts(first) == {"a.pdf": (7, "p."), "b.pptx": (3, "slide")} and Passages.reads == 1
    reloaded = SimpleNamespace(retriever=SimpleNamespace(passages=Passages()))
    page_counts(reloaded)
    assert Passages.reads == 2  # a new index is read again
