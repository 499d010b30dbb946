"""The chat UI: rendering, the /ask API through gradio_client, limits, login, feedback, and an
end-to-end run in headless Chromium."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.error
import urllib.request

import pytest
import yaml

from tests.conftest import CORPUS, DATA, OUTPUT, check_citations, iurc_env
from tests.browser import _ask_in_browser, _browser, _open_and_ask, _text
from tests.ui_server import Server

HOSTILE = {"question": "q", "language": "en", "abstained": False, "answer": (
    "Kobe:\nKobe harbour hosts cruise ships <img src=x onerror=alert(1)> ![t](https://evil.example/p.png) "
    "see https://evil.example/phish [1]"), "citations": [{
        "n": 1, "doc": "d.md", "location": "Kobe harbour note · line 3", "score": 0.5,
        "text": "Kobe harbour note\nKobe harbour hosts cruise ships <img src=x onerror=alert(1)> ![t](https://evil.example/p.png)",
        "quote": "Kobe harbour hosts cruise ships <img src=x onerror=alert(1)>"}]}


def test_answer_markdown_is_inert_and_footnotes_link_to_sources():
    from app.web.render import answer_markdown

    md = answer_markdown(HOSTILE)
    assert "<img" not in md and "&lt;img src=x onerror=alert\\(1\\)&gt;" in md
    assert "![" not in md and "](https" not in md and "https://" not in md
    assert md.endswith(" [\\[1\\]](#src-0-1)")
    assert answer_markdown(HOSTILE, 5).endswith(" [\\[1\\]](#src-5-1)")


def test_sources_panel_escapes_and_marks_the_quote():
    from app.web.render import sources_html

    panel = sources_html(HOSTILE)
    assert "<img" not in panel
    assert '<details id="src-0-1" open>' in panel
    assert "<mark>Kobe harbour hosts cruise ships &lt;img src=x onerror=alert(1)&gt;</mark>" in panel


def test_a_passage_quoted_twice_is_one_source_card_with_both_numbers_and_marks():
    from app.web.render import sources_html

    text = "Kobe hosts cruise ships. The port has a ferry line. Marseille hosts cruise ships too."
    cited = [{"n": n, "doc": "d.md", "location": "line 1", "text": text, "quote": q, "score": 0.5, "language": "en"}
             for n, q in ((1, "Kobe hosts cruise ships."), (2, "Marseille hosts cruise ships too."))]
    cited.append({**cited[0], "n": 3, "doc": "e.md"})  # the same text in another file: its own card
    panel = sources_html({"abstained": False, "answer": "", "citations": cited})
    assert panel.count("<details") == 2 and "[1][2] d.md · line 1" in panel and "[3] e.md" in panel
    assert 'id="src-0-2" class="also"' in panel  # the footnote [2] finds the shared card
    assert panel.count("<mark>") == 3 and "<mark>Marseille hosts cruise ships too.</mark>" in panel


def test_abstention_panel_lists_related_passages():
    from app.web.render import answer_markdown, sources_html

    result = {"abstained": True, "answer": "The documents say nothing about Paris.", "citations": [],
              "related": [{"doc": "d", "location": "l", "text": "t <b>x</b>", "score": 0.1, "language": "ja"}]}
    assert answer_markdown(result).startswith("**No answer in the documents")
    panel = sources_html(result)
    assert "related: d · l · 日本語" in panel and "<b>x</b>" not in panel and "score" not in panel
    assert 'class="preview" href="/preview/' in panel  # a related passage opens at its place too


def test_feedback_export_makes_draft_cases(tmp_path, venv_bin):
    path = tmp_path / "feedback.jsonl"
    records = [
        {"rating": "up", "question": "Which pairs started in 2018?", "language": "en", "answer": "…",
         "abstained": False, "citations": [{"doc": "corpus/deck.txt", "location": "l",
                                            "quote": "IUC 2017-2020, Cities and Topics · 2nd batch 2018- | Japanese City: Toyota"}]},
        {"rating": "down", "question": "パリの市長は誰ですか", "language": "ja", "answer": "…", "abstained": True,
         "citations": []},
        {"rating": "comment", "comment": "should say 2029", "question": "Which pairs started in 2018?",
         "language": "en", "answer": "…", "abstained": False, "citations": []},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    run = subprocess.run([str(venv_bin / "iurc"), "feedback", "export", "--file", str(path)],
                         capture_output=True, text=True, env=iurc_env(), timeout=60)
    assert run.returncode == 0 and run.stderr.strip() == "2 draft cases"
    cases = yaml.safe_load(run.stdout)
    assert cases[0]["question"] == "Which pairs started in 2018?"
    assert cases[0]["sources"] == [{"doc": "corpus/deck.txt", "snippet": "IUC 2017-2020, Cities and Topics · 2nd b"}]
    assert cases[0]["review"] == "staff rated the answer up; comments: should say 2029"
    assert cases[1]["kind"] == "abstain" and "abstain" not in cases[1]  # thumbs down: to be reviewed


# --- a running server ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def ui_store(tmp_path_factory, venv_bin):
    docs = tmp_path_factory.mktemp("docs")
    shutil.copytree(CORPUS, docs / "corpus")
    shutil.copy(DATA / "hostile/kobe_harbour_note.md", docs / "corpus")
    store = tmp_path_factory.mktemp("ui_store")
    subprocess.run([str(venv_bin / "iurc"), "ingest", str(docs / "corpus"), "--store", str(store)],
                   check=True, capture_output=True, env=iurc_env(), timeout=300)
    return store


@pytest.fixture(scope="module")
def server(ui_store, venv_bin, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("serve")
    s = Server(venv_bin, ui_store, log_dir / "serve.log", IURC_FEEDBACK_FILE=log_dir / "feedback.jsonl")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False)


@pytest.mark.slow
def test_api_answers_in_english_and_japanese_with_citations(client):
    en = client.predict("What did Kamakura and Umeå work on?", api_name="/ask")
    check_citations(en)
    assert en["language"] == "en" and any("Kamacon" in c["quote"] for c in en["citations"])
    ja = client.predict("トヨタとグルノーブルの協力テーマは?", api_name="/ask")
    check_citations(ja)
    assert ja["language"] == "ja" and "エネルギー転換" in ja["answer"].splitlines()[0]


@pytest.mark.slow
def test_eight_questions_at_once_get_eight_answers(client):
    questions = ["Which pairs started in 2018?", "When does Turku aim to be carbon neutral?",
                 "所沢とブラティスラバの共通の関心は何ですか", "What do Kobe and Marseille work on?",
                 "How many pairs started in 2017?", "Who is the mayor of Paris?",
                 "2019年に始まったペアはどれですか", "What did Ikoma and Ancona work on?"]
    jobs = [client.submit(q, api_name="/ask") for q in questions]
    results = [job.result(timeout=120) for job in jobs]
    assert [r["question"] for r in results] == questions
    assert all(r["answer"] for r in results)


@pytest.mark.slow
def test_over_long_question_gets_the_message(client):
    result = client.predict("Kamakura " * 200, api_name="/ask")
    assert result["abstained"]
    assert result["answer"].startswith("The question is too long (1800 characters; the limit is 1000).")


@pytest.mark.slow
def test_only_the_ask_endpoint_is_public(client):
    info = client.view_api(print_info=False, return_format="dict")
    assert list(info["named_endpoints"]) == ["/ask"]


@pytest.mark.slow
def test_files_outside_the_app_are_refused(server):
    for path in ["file=corpus/glossary.csv", "file=/etc/passwd", "file=../../etc/passwd",
                 "gradio_api/file=/etc/passwd", "gradio_api/file=" + str(CORPUS / "glossary.csv")]:
        try:
            with urllib.request.urlopen(server.url + path, timeout=10) as response:
                body = response.read()
                assert b"root:" not in body and b"entity_id" not in body, path
        except urllib.error.HTTPError as exc:
            assert exc.code in (403, 404), (path, exc.code)


@pytest.mark.slow
def test_cited_originals_are_served_read_only_and_only_from_the_index(server):
    from app.web.render import original_link
    from app.answering.service import original_key

    deck = "corpus/iurc_cities_and_topics_deck.txt"
    with urllib.request.urlopen(server.url + "original/" + original_key(deck), timeout=10) as response:
        assert response.read() == (CORPUS / "iurc_cities_and_topics_deck.txt").read_bytes()
        assert response.headers["Content-Type"].startswith("text/plain")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    for path in ["original/" + original_key("corpus/glossary.csv"), "original/" + original_key("/etc/passwd"),
                 "original/../../etc/passwd", "original/%2e%2e%2fetc%2fpasswd", "original/" + "0" * 24]:
        try:
            with urllib.request.urlopen(server.url + path, timeout=10) as response:
                assert b"root:" not in response.read(), path
                assert not path.startswith("original/"), path  # an unknown key never answers 200
        except urllib.error.HTTPError as exc:
            assert exc.code in (403, 404), (path, exc.code)
    assert 'href="/original/' in original_link("reports/r.pdf", "p. 3 · Background · lines 4-9")
    assert "#page=3" in original_link("reports/r.pdf", "p. 3 · Background · lines 4-9")
    assert "#page" not in original_link("decks/d.pptx", "slide 5 · Timeline · line 9")


@pytest.mark.slow
def test_login_required_when_auth_is_set(ui_store, venv_bin, tmp_path):
    from gradio_client import Client

    from app.answering.service import original_key

    s = Server(venv_bin, ui_store, tmp_path / "serve.log", IURC_AUTH="staff:s3cret")
    try:
        with pytest.raises(Exception):
            Client(s.url, verbose=False).predict("Which pairs started in 2018?", api_name="/ask")
        for path, data in [("config", None), ("gradio_api/info", None), ("gradio_api/info?all_endpoints=true", None),
                           ("gradio_api/call/ask", b'{"data": ["Which pairs started in 2018?"]}'),
                           ("gradio_api/queue/join", b'{"data": ["x"], "fn_index": 0, "session_hash": "a"}'),
                           ("gradio_api/upload", b"x"),
                           ("original/" + original_key("corpus/iurc_cities_and_topics_deck.txt"), None)]:
            request = urllib.request.Request(s.url + path, data=data, headers={"Content-Type": "application/json"})
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(request, timeout=10)
            assert info.value.code in (401, 403), path
        page = urllib.request.urlopen(s.url, timeout=10).read().decode()
        # The login page names the product (tests/test_ui_screens.py) but shows nothing of the
        # documents or of the app's layout.
        assert "Kamakura" not in page and '"components"' not in page
        ok = Client(s.url, auth=("staff", "s3cret"), verbose=False)
        assert len(ok.predict("Which pairs started in 2018?", api_name="/ask")["citations"]) == 3
    finally:
        s.stop()


# --- end to end in headless Chromium ---------------------------------------------------------
@pytest.mark.slow
def test_end_to_end_in_chromium(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser(tmp_path)
    OUTPUT.mkdir(exist_ok=True)
    try:
        driver.get(server.url)
        wait = WebDriverWait(driver, 60)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#question textarea")))
        _ask_in_browser(driver, "What did Kamakura and Umeå work on?")
        # The sources panel is filled by the last streamed update: the answer is complete then.
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources details#src-1-1 mark")))
        assert "Kamacon" in _text(driver, "chat")
        driver.execute_script("document.querySelector('#sources details#src-1-1').open = false")
        driver.find_element(By.CSS_SELECTOR, '#chat a[href$="#src-1-1"]').click()
        source = driver.find_element(By.CSS_SELECTOR, "#sources details#src-1-1")
        assert source.get_attribute("open") is not None
        assert driver.find_element(By.CSS_SELECTOR, "#sources details#src-1-1 mark").text.strip()
        driver.save_screenshot(str(OUTPUT / "e2e_answer.png"))

        # Markup never runs or loads: the hostile passage was neutralised at ingest, and a question
        # carrying HTML and a markdown image is shown as text.
        driver.execute_script("window.__alerts = []; window.alert = (m) => window.__alerts.push(m);")
        _ask_in_browser(driver, "What does Kobe harbour host every spring? <img src=x onerror=alert(1)> "
                                "![t](https://evil.example/p.png)")
        wait.until(lambda d: "harbour" in _text(d, "sources"))
        chat = _text(driver, "chat")
        assert "<img src=x onerror=alert(1)>" in chat and "![t](https" in chat
        images = driver.find_elements(By.CSS_SELECTOR, "#chat img, #sources img")
        assert all("evil.example" not in (i.get_attribute("src") or "") and
                   (i.get_attribute("src") or "").rstrip("/").split("/")[-1] != "x" for i in images)
        links = driver.find_elements(By.CSS_SELECTOR, "#chat a, #sources a")
        assert all("evil.example" not in (a.get_attribute("href") or "") for a in links)
        assert driver.execute_script("return window.__alerts.length") == 0
        driver.save_screenshot(str(OUTPUT / "e2e_hostile.png"))

        # An over-long question gets the friendly message.
        _ask_in_browser(driver, "x" * 1200)
        wait.until(lambda d: "please keep it under 1000" in _text(d, "chat"))

        # The programme view lists the city pairs from the ingested table.
        tab = next(b for b in driver.find_elements(By.CSS_SELECTOR, "button[role='tab']")
                   if b.text.startswith("Programme"))
        # (after three answers the page is scrolled down: the tab row at the viewport's top edge
        # took a click once, in CI, as a user's scroll would not let it)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tab)
        tab.click()
        wait.until(lambda d: "Grenoble-Alpes Metropole" in _text(d, "pairs"))
        assert "Donostia-San Sebastian" in _text(driver, "pairs")
        driver.save_screenshot(str(OUTPUT / "e2e_programme.png"))
    finally:
        driver.quit()


def _post_json(url: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"),
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.code, {}


@pytest.mark.slow
def test_json_api_answers_beside_the_chat(server):
    with urllib.request.urlopen(server.url + "api/health", timeout=10) as response:
        health = json.loads(response.read())
    assert health["status"] == "ok" and health["passages"] > 0
    status, result = _post_json(server.url + "api/ask", {"question": "What did Kamakura and Umeå work on?"})
    assert status == 200 and not result["abstained"] and result["citations"]
    check_citations(result)
    status, result = _post_json(server.url + "api/ask", {"question": "それはいつ始まりましたか",
                                                         "history": ["トヨタとグルノーブルの協力テーマは?"]})
    assert status == 200 and result["language"] == "ja"
    assert _post_json(server.url + "api/ask", {"history": []})[0] == 422  # no question: refused, clearly
    with urllib.request.urlopen(server.url + "api/openapi.json", timeout=10) as response:
        assert "/api/ask" in json.loads(response.read())["paths"]
    with urllib.request.urlopen(server.url + "api/docs", timeout=10) as response:
        assert response.status == 200


@pytest.mark.slow
def test_json_api_needs_the_login_when_auth_is_set(ui_store, venv_bin, tmp_path):
    import base64

    s = Server(venv_bin, ui_store, tmp_path / "serve.log", IURC_AUTH="staff:s3cret")
    try:
        assert _post_json(s.url + "api/ask", {"question": "Which pairs started in 2018?"})[0] == 401
        wrong = {"Authorization": "Basic " + base64.b64encode(b"staff:nope").decode()}
        assert _post_json(s.url + "api/ask", {"question": "Which pairs started in 2018?"}, wrong)[0] == 401
        right = {"Authorization": "Basic " + base64.b64encode(b"staff:s3cret").decode()}
        status, result = _post_json(s.url + "api/ask", {"question": "Which pairs started in 2018?"}, right)
        assert status == 200 and len(result["citations"]) == 3
    finally:
        s.stop()


@pytest.mark.slow
def test_served_app_headers_body_limit_uploads_and_wrong_types(server):
    with urllib.request.urlopen(server.url, timeout=10) as response:
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    # A 50 MB body is refused from its headers, before a byte of it is read.
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.putrequest("POST", "/api/ask")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(50_000_000))
    connection.endheaders()
    assert connection.getresponse().status == 413  # no byte of the body was ever sent
    connection.close()
    upload = urllib.request.Request(server.url + "gradio_api/upload", data=b"--x--\r\n",
                                    headers={"Content-Type": "multipart/form-data; boundary=x"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(upload, timeout=10)
    assert info.value.code == 403
    assert _post_json(server.url + "api/ask", {"question": 123})[0] == 422
    assert _post_json(server.url + "api/ask", {"question": "When?", "history": ["Kobe?"] * 100_000})[0] == 422


@pytest.mark.slow
def test_wrong_logins_are_throttled_and_the_right_one_waits(ui_store, venv_bin, tmp_path):
    s = Server(venv_bin, ui_store, tmp_path / "serve.log", IURC_AUTH="staff:s3cret")

    def login(password: str) -> int:
        data = urllib.parse.urlencode({"username": "staff", "password": password}).encode()
        try:
            with urllib.request.urlopen(urllib.request.Request(s.url + "login", data=data), timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code

    try:
        codes = [login("wrong") for _ in range(50)]
        assert codes[:5] == [400] * 5 and codes.count(429) >= 40
        assert login("s3cret") == 429  # not accepted at once after a flood of wrong ones
    finally:
        s.stop()


@pytest.mark.slow
def test_login_page_works_in_chromium_behind_the_guard(ui_store, venv_bin, tmp_path):
    """The login page loads with only the routes the guard leaves open and under the CSP, and
    after logging in the chat answers."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    s = Server(venv_bin, ui_store, tmp_path / "serve.log", IURC_AUTH="staff:s3cret")
    driver = _browser(tmp_path)
    try:
        driver.get(s.url)
        wait = WebDriverWait(driver, 60)
        password = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "input[type='password']")))
        user = driver.find_element(By.CSS_SELECTOR, "input[type='text'], input:not([type])")
        user.send_keys("staff")
        password.send_keys("s3cret")
        driver.find_element(By.CSS_SELECTOR, "form button[type='submit']").click()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#question textarea")))
        _ask_in_browser(driver, "What did Kamakura and Umeå work on?")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources details#src-1-1 mark")))
        assert "Kamacon" in _text(driver, "chat")
    finally:
        driver.quit()
        s.stop()


@pytest.mark.slow
def test_a_rebuild_while_the_server_answers_loses_no_answer(tmp_path, venv_bin):
    """`iurc ingest --rebuild` in another process while `iurc serve` answers a steady stream of
    API questions: none fails, and the new content is answered after the switch."""
    import threading

    docs = tmp_path / "corpus"
    shutil.copytree(CORPUS, docs)
    note = docs / "kobe_note.md"
    note.write_text("# Kobe note\n\nKobe and Marseille met about port functions.\n", "utf-8")
    store = tmp_path / "store"
    subprocess.run([str(venv_bin / "iurc"), "ingest", str(docs), "--store", str(store)], check=True,
                   capture_output=True, env=iurc_env(), timeout=300)
    s = Server(venv_bin, store, tmp_path / "serve.log", IURC_RELOAD_CHECK_SECONDS=0.2,
               IURC_RATE_PER_MINUTE=100_000)  # one steady client, not the rate limiter, is under test
    answers, failures, stop = [], [], threading.Event()

    def ask_steadily():
        while not stop.is_set():
            status, result = _post_json(s.url + "api/ask", {"question": "What did Kobe and Marseille discuss?"})
            (answers if status == 200 and not result.get("error") else failures).append(
                (status, result.get("answer", "") or result.get("detail", "")))
            time.sleep(0.02)

    asker = threading.Thread(target=ask_steadily)
    asker.start()
    try:
        time.sleep(1)
        note.write_text("# Kobe note\n\nKobe and Marseille met about cruise tourism.\n", "utf-8")
        subprocess.run([str(venv_bin / "iurc"), "ingest", str(docs), "--store", str(store), "--rebuild"],
                       check=True, capture_output=True, env=iurc_env(), timeout=300)
        deadline = time.time() + 30
        while time.time() < deadline and not (answers and "cruise tourism" in answers[-1][1]):
            time.sleep(0.2)
    finally:
        stop.set()
        asker.join(timeout=60)
        s.stop()
    assert failures == [] and len(answers) > 10
    assert "port functions" in answers[0][1] and "cruise tourism" in answers[-1][1]


@pytest.mark.slow
def test_each_answer_keeps_its_own_sources_and_feedback_and_clear_starts_over(ui_store, venv_bin, tmp_path):
    """Two answers: [1] of the first opens the first's source; after an over-long question,
    thumbs on the earlier answers are saved against their own questions; Clear forgets the
    conversation, so a follow-up has no old context."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    feedback = tmp_path / "feedback.jsonl"
    s = Server(venv_bin, ui_store, tmp_path / "serve.log", IURC_FEEDBACK_FILE=feedback)
    driver = _browser(tmp_path)
    first, second = "What did Kamakura and Umeå work on?", "Which pairs started in 2018?"

    def shown(section: str) -> bool:
        return driver.find_element(By.ID, section).is_displayed()

    def saved() -> list[dict]:
        return [json.loads(line) for line in feedback.read_text("utf-8").splitlines()] if feedback.exists() else []

    try:
        wait = _open_and_ask(driver, s.url, first)
        _ask_in_browser(driver, second)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources details#src-3-1 mark")))
        assert shown("answer-3") and not shown("answer-1")
        driver.find_element(By.CSS_SELECTOR, '#chat a[href$="#src-1-1"]').click()
        wait.until(lambda d: shown("answer-1") and not shown("answer-3"))
        assert driver.find_element(By.CSS_SELECTOR, "#answer-1 .asked").text == first
        assert driver.find_element(By.CSS_SELECTOR, "#src-1-1").get_attribute("open") is not None
        driver.save_screenshot(str(OUTPUT / "e2e_first_answer_source.png"))
        driver.find_element(By.CSS_SELECTOR, "#export button, button#export").click()
        link = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#export-file a")))
        with urllib.request.urlopen(link.get_attribute("href"), timeout=10) as response:
            exported = response.read().decode("utf-8")
        assert f"## {first}" in exported and f"## {second}" in exported and "[1] corpus/" in exported

        _ask_in_browser(driver, "x" * 1200)
        wait.until(lambda d: "please keep it under 1000" in _text(d, "chat"))
        likes = driver.find_elements(By.CSS_SELECTOR, '#chat button[aria-label="Like"]')
        dislikes = driver.find_elements(By.CSS_SELECTOR, '#chat button[aria-label="Dislike"]')
        assert len(likes) == len(dislikes) == 3  # two answers and the note

        def rate(button, count: int) -> None:
            # On a loaded machine a click that lands while the chat re-renders after the note
            # can be lost (no event in the server's log, no record): click again only then, so a
            # record is never written twice.
            for _ in range(3):
                button.click()
                try:
                    WebDriverWait(driver, 20).until(lambda d: len(saved()) == count)
                    return
                except TimeoutException:
                    assert len(saved()) == count - 1, saved()
            raise AssertionError(f"rating {count} was never recorded: {saved()}")

        rate(likes[0], 1)
        rate(dislikes[1], 2)
        for _ in range(3):  # the note is not an answer; a lost click (see rate) writes nothing either
            dislikes[2].click()
            try:
                WebDriverWait(driver, 20).until(lambda d: "Nothing to rate" in d.find_element(By.TAG_NAME, "body").text)
                break
            except TimeoutException:
                assert len(saved()) == 2, saved()
        else:
            raise AssertionError("rating the note never said there is nothing to rate")
        assert [(r["rating"], r["question"]) for r in saved()] == [("up", first), ("down", second)]

        driver.find_element(By.CSS_SELECTOR, '#chat button[aria-label="Clear"]').click()
        wait.until(lambda d: "Kamakura" not in _text(d, "chat"))
        _ask_in_browser(driver, "When did they start?")
        wait.until(lambda d: "When did they start?" in _text(d, "chat") and len(_text(d, "chat")) > 40)
        time.sleep(1)
        chat = _text(driver, "chat")
        assert "Kamakura" not in chat and "Tokorozawa" not in chat and "Umeå" not in chat
        driver.save_screenshot(str(OUTPUT / "e2e_after_clear.png"))
    finally:
        driver.quit()
        s.stop()


@pytest.mark.slow
def test_landing_says_what_is_indexed_and_phone_and_dark_layouts_fit(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser(tmp_path)
    try:
        driver.set_window_size(400, 860)
        driver.get(server.url + "?__theme=dark")
        wait = WebDriverWait(driver, 60)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#question textarea")))
        assert "Indexed:" in _text(driver, "indexed") and "documents" in _text(driver, "indexed")
        _ask_in_browser(driver, "What did Kamakura and Umeå work on?")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources details#src-1-1 mark")))
        # The chat box takes at most ~55% of a phone screen and the input sits right under it.
        box = driver.find_element(By.CSS_SELECTOR, "#question textarea")
        chat = driver.find_element(By.ID, "chat")
        screen = driver.execute_script("return window.innerHeight")
        assert chat.size["height"] <= 0.6 * screen
        assert 0 <= box.location["y"] - (chat.location["y"] + chat.size["height"]) < 150
        width = driver.execute_script("return document.documentElement.clientWidth")
        for card in driver.find_elements(By.CSS_SELECTOR, "#sources details"):
            assert card.location["x"] + card.size["width"] <= width + 1  # source cards fit the screen
        mark = driver.find_element(By.CSS_SELECTOR, "#sources details#src-1-1 mark")
        colour = driver.execute_script("return getComputedStyle(arguments[0]).color", mark)
        background = driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", mark)
        assert colour != background and "255, 255, 255" not in colour  # never white on pale yellow
        driver.save_screenshot(str(OUTPUT / "e2e_phone_dark.png"))
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", mark)
        driver.save_screenshot(str(OUTPUT / "e2e_phone_dark_sources.png"))
    finally:
        driver.quit()


def test_programme_view_shows_each_table_with_its_own_columns(tmp_path, glossary):
    from app.answering.service import Assistant
    from app.web.views import programme_table, programme_tables
    from ingest.pipeline import ingest
    from core.store import Store, StoreConfig
    from tests.fakes import FakeEmbeddings

    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "iurc_cities_and_topics_deck.txt", docs)
    (docs / "meetings.md").write_text("# Exchange meetings\n\n| Month | Venue | Host |\n|---|---|---|\n"
                                      "| May 2019 | Tokyo | Kobe |\n| October 2018 | Brussels | Marseille |\n", "utf-8")
    config, emb = StoreConfig(str(tmp_path / "store"), "", 8000, "iurc"), FakeEmbeddings()
    ingest([str(docs)], Store(config, emb), glossary, progress=False)
    assistant = Assistant(config, emb, min_sentence=0.05)
    tables = programme_tables(assistant)
    assert tables[0] == "IUC 2017-2020, Cities and Topics" and "Exchange meetings" in tables
    meetings = programme_table(assistant, "Exchange meetings")
    assert list(meetings.columns)[:3] == ["Month", "Venue", "Host"]
    assert meetings["Month"].tolist() == ["May 2019", "October 2018"]  # months under their own column
    pairs = programme_table(assistant, tables[0], query="ウメオ")
    assert pairs["EU City"].tolist() == ["Umea"] and "Month" not in pairs.columns


def test_a_conversation_exports_as_markdown_with_numbered_sources():
    from app.web.render import conversation_markdown

    abstained = {"question": "Who is the mayor of Paris?", "abstained": True, "citations": [],
                 "answer": "The documents say nothing about Paris.",
                 "related": [{"doc": "d.md", "location": "line 2", "text": "t", "score": 0.1}]}
    text = conversation_markdown([None, HOSTILE, None, None, None, abstained])
    assert text.count("## ") == 2 and "## q" in text and "## Who is the mayor of Paris?" in text
    assert "[1] d.md · Kobe harbour note · line 3: “Kobe harbour hosts cruise ships" in text
    assert "related: d.md · line 2" in text


@pytest.mark.slow
def test_conversations_survive_a_reload_and_reopen(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver = _browser(tmp_path)
    question = "Which pairs started in 2018?"
    try:
        wait = _open_and_ask(driver, server.url, question)
        wait.until(lambda d: question in d.find_element(By.CSS_SELECTOR, "#conversations input").get_attribute("value"))
        driver.refresh()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#question textarea")))
        assert "Tokorozawa" not in _text(driver, "chat")  # a fresh page starts empty …
        driver.find_element(By.CSS_SELECTOR, "#conversations input").click()
        option = wait.until(lambda d: next((o for o in d.find_elements(By.CSS_SELECTOR, "#conversations li")
                                            if question in o.text), None))
        option.click()
        wait.until(lambda d: "Tokorozawa" in _text(d, "chat"))  # … and the saved one reopens whole
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources details#src-1-1 mark")))
        driver.find_element(By.ID, "new-conversation").click()
        wait.until(lambda d: "Tokorozawa" not in _text(d, "chat"))
        driver.save_screenshot(str(OUTPUT / "e2e_conversations.png"))
    finally:
        driver.quit()


@pytest.mark.slow
def test_the_ui_speaks_the_browsers_language_switches_and_copies_with_sources(server, tmp_path):
    """A Japanese browser gets the Japanese UI (no English left in labels, tabs, buttons); the
    switch turns it English and a reload keeps the choice; "copy" puts the conversation on the
    clipboard as Markdown with numbered sources; the Programme view draws who works with whom."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.test_staff import _tab

    driver = _browser(tmp_path, "ja")
    try:
        driver.get(server.url)
        wait = WebDriverWait(driver, 60)
        wait.until(lambda d: "索引済み" in _text(d, "indexed"))
        tabs = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "button[role=tab]")]
        assert tabs == ["質問", "プログラム", "文書"]
        box = driver.find_element(By.CSS_SELECTOR, "#question textarea")
        assert box.get_attribute("placeholder") == "プログラムについて質問…"
        assert _text(driver, "send") == "質問する" and "会話をコピー" in _text(driver, "copy-conversation")
        _ask_in_browser(driver, "鎌倉市とウメオ市は何に取り組みましたか")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources details#src-1-1 mark")))
        assert "原本" in _text(driver, "sources") and "open" not in _text(driver, "sources")
        driver.save_screenshot(str(OUTPUT / "e2e_japanese_ui.png"))

        driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": server.url.rstrip("/"), "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        driver.find_element(By.ID, "copy-conversation").click()
        wait.until(lambda d: "コピーしました" in _text(d, "status"))
        copied = driver.execute_async_script(
            "const done = arguments[arguments.length - 1]; navigator.clipboard.readText().then(done, e => done('ERR ' + e));")
        assert copied.startswith("# IURC") and "## 鎌倉市とウメオ市は何に取り組みましたか" in copied
        assert "[1] corpus/" in copied and "\\" not in copied  # numbered sources, no Markdown escapes

        _tab(driver, "プログラム")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#network svg line"))
        labels = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "#network svg text")]
        assert len(labels) >= 4 and "鎌倉市" in labels
        driver.execute_script("document.getElementById('network').scrollIntoView()")
        driver.save_screenshot(str(OUTPUT / "e2e_network_ja.png"))

        driver.find_element(By.CSS_SELECTOR, "#ui-language input[value=en]").click()
        wait.until(lambda d: "Indexed:" in _text(d, "indexed"))
        assert [t.text for t in driver.find_elements(By.CSS_SELECTOR, "button[role=tab]")] == \
            ["Ask", "Programme", "Documents"]
        wait.until(lambda d: "Kamakura" in " ".join(t.text for t in d.find_elements(By.CSS_SELECTOR, "#network svg text")))
        driver.refresh()
        wait.until(lambda d: "Indexed:" in _text(d, "indexed"))  # the choice outlives a reload
        assert driver.find_element(By.CSS_SELECTOR, "#ui-language input[value=en]").is_selected()
    finally:
        driver.quit()


@pytest.mark.slow
def test_a_topic_shift_in_chromium_is_answered_about_the_new_subject(server, tmp_path):
    """Issue 24: a self-contained question after another subject is answered about its own
    subject, not the earlier one; a follow-up with a pronoun keeps the earlier subject."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver = _browser(tmp_path)
    try:
        wait = _open_and_ask(driver, server.url, "What did Kamakura and Umeå work on?")
        _ask_in_browser(driver, "What do Tokorozawa and Bratislava share?")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources details#src-3-1 mark")))
        sources = driver.find_element(By.CSS_SELECTOR, "#sources section#answer-3").get_attribute("textContent")
        # The new question's sources are about its own subject: the pair's row, not Kamakura's.
        assert "Tokorozawa" in sources or "所沢" in sources, sources
        assert "Kamacon" not in sources and "カマコン" not in sources, sources
        chat = _text(driver, "chat")
        last = chat[chat.rindex("What do Tokorozawa and Bratislava share?"):]
        assert "Kamakura" not in last and "鎌倉" not in last, last
        assert "Green urban infrastructure" in last or "グリーンインフラ" in last, last
        # A follow-up with a pronoun keeps the last subject, and its first line names it.
        _ask_in_browser(driver, "When did they start?")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources details#src-5-1 mark")))
        chat = _text(driver, "chat")
        follow = chat[chat.rindex("When did they start?"):]
        assert "Tokorozawa and Bratislava" in follow and "2018" in follow, follow
        driver.save_screenshot(str(OUTPUT / "e2e_topic_shift.png"))
    finally:
        driver.quit()


def test_why_a_file_was_refused_is_said_in_the_readers_language():
    """The loaders' real messages, turned into Japanese by the pack's load_errors; English as is."""
    import re

    from app.web.render import said_in
    from core.formats import BY_NAME, LoadError, check_content, check_size, decode_text, for_name

    messages = []
    for call in (lambda: check_size(400_000, 300_000), lambda: for_name("x.exe"), lambda: decode_text(b"a\x00b"),
                 lambda: check_content(BY_NAME["pdf"], b"PK\x03\x04 zip"), lambda: check_content(BY_NAME["txt"], b"%PDF-1.7"),
                 lambda: check_content(BY_NAME["docx"], b"%PDF-1.7 not a zip")):
        with pytest.raises(LoadError) as refused:
            call()
        messages.append(str(refused.value))
    for message in messages:
        assert said_in(message, "en") == message
        japanese = said_in(message, "ja")
        assert japanese != message, message
        # What stays in Latin letters: acronyms, setting names, file endings.
        rest = re.sub(r"(?<![A-Za-z])(?:[A-Z]{2,}|IURC_\w+|\.\w+|Word|Excel|PowerPoint|Markdown)(?![A-Za-z])", "",
                      japanese)
        assert not re.search(r"[A-Za-z]{2,}", rest), japanese
    assert said_in("a message no pack knows", "ja") == "a message no pack knows"
