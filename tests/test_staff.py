"""Staff document management (issue 15, point 3): uploads checked by content before anything
parses them, names stripped of paths, per-file outcomes, removal, one writer at a time; the
staff login separate from readers'; hostile uploads; and, in headless Chromium, a staff upload
of a DOCX that a reader's open page can then answer from without a refresh."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ingest import upload
from core.store import Store, writer_lock
from tests.conftest import CORPUS, OUTPUT, ROOT, iurc_env
from tests.test_limits import _bomb, _office
from tests.ui_server import Server

MINUTES = ROOT / "eval/corpus/iurc_unseen/r2r_exchange_minutes.docx"  # made by `make corpus-eval`
ELF = Path("/bin/ls").read_bytes()  # a real executable
NOTE = "# Port note\n\nKobe and Marseille met about port functions in 2018.\n".encode()


def _docs(store: Store) -> set[str]:
    return set(store.manifest_entries())


def test_names_lose_any_path_and_unsafe_characters():
    assert upload.safe_name("../../etc/passwd.md") == "passwd.md"
    assert upload.safe_name("C:\\Users\\x\\minutes.docx") == "minutes.docx"
    assert upload.safe_name(".hidden.md") == "hidden.md"
    assert upload.safe_name("a\nb\x00c.md") == "a_b_c.md"
    assert upload.safe_name("../..") == "" and upload.safe_name("") == ""
    long = upload.safe_name("x" * 300 + ".pdf")
    assert len(long) == upload.MAX_NAME_CHARS and long.endswith(".pdf")


def test_hostile_uploads_fail_one_by_one_and_the_good_one_is_added(tmp_path, fake_store, glossary):
    folder = tmp_path / "corpus" / "uploads"
    before = _docs(fake_store)
    outcomes, _ = upload.add([
        ("../../../outside.md", NOTE),                      # a path in the name
        ("bomb.docx", _bomb("docx", 64 << 20)),            # a ZIP bomb named .docx
        ("report.pdf", ELF),                                # an executable renamed .pdf
        ("deck.pptx", _office("docx")),                    # a Word file named .pptx
        ("big.md", b"# x\n" + b"y" * 250_000),             # over the size limit below
        ("tool.exe", ELF),                                  # not a type we read
    ], folder, fake_store, glossary, max_bytes=200_000)
    got = {o.name: (o.status, o.reason) for o in outcomes}
    assert got["outside.md"][0] == "added"
    assert not (tmp_path / "outside.md").exists() and (folder / "outside.md").is_file()
    assert got["bomb.docx"][0] == "failed" and "ZIP bomb" in got["bomb.docx"][1]
    assert got["report.pdf"] == ("failed", "not a PDF: the content is an executable (ELF)")
    assert got["deck.pptx"][0] == "failed" and "it is a Word (.docx) file" in got["deck.pptx"][1]
    assert got["big.md"][0] == "failed" and "too large" in got["big.md"][1]
    assert got["tool.exe"][0] == "failed" and "unsupported file type .exe" in got["tool.exe"][1]
    assert sorted(p.name for p in folder.iterdir()) == ["outside.md"]  # refused files are not kept
    assert _docs(fake_store) - before == {"corpus/uploads/outside.md"}


def test_a_file_that_fails_to_parse_is_not_kept_and_a_changed_one_keeps_its_old_version(tmp_path, fake_store,
                                                                                        glossary):
    folder = tmp_path / "corpus" / "uploads"
    upload.add([("note.md", NOTE)], folder, fake_store, glossary, 10**6)
    # A PDF header on garbage passes the content check but not the parser: failed, not kept.
    outcomes, _ = upload.add([("broken.pdf", b"%PDF-1.7\n" + b"garbage " * 50)], folder, fake_store, glossary, 10**6)
    assert outcomes[0].status == "failed" and not (folder / "broken.pdf").exists()
    # The same name again, now with no text: failed, and the earlier file is back.
    outcomes, _ = upload.add([("note.md", b"   \n")], folder, fake_store, glossary, 10**6)
    assert outcomes[0].status == "failed" and (folder / "note.md").read_bytes() == NOTE
    outcomes, _ = upload.add([("note.md", NOTE)], folder, fake_store, glossary, 10**6)
    assert outcomes[0].status == "unchanged"


def test_one_writer_at_a_time_and_nothing_half_added(tmp_path, fake_store, glossary):
    import threading

    from core.store import StoreError

    folder = tmp_path / "corpus" / "uploads"
    lock = writer_lock(fake_store.config)
    held = threading.Event()
    done = threading.Event()

    def other_writer():  # another process's ingest, as far as the lock can tell: another thread
        with lock:
            held.set()
            done.wait(30)

    thread = threading.Thread(target=other_writer)
    thread.start()
    held.wait(10)
    try:
        with pytest.raises(StoreError, match="another"):
            upload.add([("note.md", NOTE)], folder, fake_store, glossary, 10**6)
        assert not (folder / "note.md").exists()
    finally:
        done.set()
        thread.join()


def test_removing_a_document_deletes_an_uploaded_file_and_says_so_of_others(tmp_path, fake_store, glossary):
    from ingest.pipeline import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "deck.md").write_bytes(NOTE)
    ingest([str(corpus)], fake_store, glossary, progress=False)
    upload.add([("note.md", NOTE.replace(b"Port", b"Harbour"))], corpus / "uploads", fake_store, glossary, 10**6)
    assert _docs(fake_store) == {"corpus/deck.md", "corpus/uploads/note.md"}
    generation = fake_store.generation()
    outcomes = upload.delete(["corpus/uploads/note.md", "corpus/deck.md", "corpus/nothing.md"],
                             corpus / "uploads", fake_store, glossary)
    got = {o.name: o for o in outcomes}
    assert got["corpus/uploads/note.md"].status == "removed" and not (corpus / "uploads/note.md").exists()
    assert got["corpus/deck.md"].status == "removed" and "stays at" in got["corpus/deck.md"].reason
    assert got["corpus/nothing.md"].status == "failed"
    assert _docs(fake_store) == set() and fake_store.doc_chunks("corpus/deck.md") == {}
    assert fake_store.generation() != generation  # running servers reload


def test_the_next_cli_ingest_of_the_corpus_finds_an_upload_unchanged(tmp_path, fake_store, glossary):
    from ingest.pipeline import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    upload.add([("note.md", NOTE)], corpus / "uploads", fake_store, glossary, 10**6)
    report = ingest([str(corpus)], fake_store, glossary, progress=False)
    assert (report.added, report.deleted) == (0, 0) and report.skipped > 0
    assert [f["status"] for f in report.files] == ["unchanged"]


def test_a_reader_cannot_add_or_remove(tmp_path, fake_store, glossary):
    from app.web.staff import NOT_STAFF, StaffDesk, StaffSessions

    class Reader:  # what a handler sees of a reader's request: no staff cookie
        app = None
        cookies = {"iurc-staff": "guessed"}

    class Assistant:
        store = fake_store

        def reload_if_changed(self, force=False):
            return False

    (tmp_path / "x.md").write_bytes(NOTE)
    desk = StaffDesk(Assistant(), StaffSessions(("boss", "pw")))
    before = _docs(fake_store)
    assert [(o.status, o.reason) for o in desk.add([str(tmp_path / "x.md")], Reader())] == [("failed", NOT_STAFF)]
    assert [(o.status, o.reason) for o in desk.remove(sorted(before), Reader())] == [("failed", NOT_STAFF)]
    assert _docs(fake_store) == before and (tmp_path / "x.md").exists()


def test_a_staff_action_needs_the_action_token_of_that_session(tmp_path, fake_store, glossary, monkeypatch):
    """A request carrying the staff cookie (as a forged cross-site request would: the browser
    sends cookies) but not the action token the staff page was given adds and removes nothing,
    and its uploaded temporary copies are removed; a path outside the upload folder is never
    touched. Before: the cookie alone was enough (checked by reverting app/web/staff.py)."""
    from app.web.staff import NOT_STAFF, StaffDesk, StaffSessions

    monkeypatch.setenv("IURC_UPLOAD_DIR", str(tmp_path / "corpus" / "uploads"))
    sessions = StaffSessions(("boss", "pw"))
    token = sessions.login("boss", "pw")

    class Staff:
        app = None
        cookies = {"iurc-staff": token}

    class Assistant:
        store = fake_store

        def reload_if_changed(self, force=False):
            return False

    temp = tmp_path / "gradio"
    (temp / "h1").mkdir(parents=True)
    for name, age in (("abandoned", 7200), ("recent", 60)):  # folders whose files Gradio's clean-up removed
        (temp / name).mkdir()
        os.utime(temp / name, (time.time() - age, time.time() - age))
    (temp / "kept").mkdir()
    (temp / "kept" / "f.md").write_bytes(NOTE)
    (temp / "h1" / "note.md").write_bytes(NOTE)
    outside = tmp_path / "keep.md"
    outside.write_bytes(NOTE)
    desk = StaffDesk(Assistant(), sessions, temp_root=temp)
    before = _docs(fake_store)
    right = desk.action_token(Staff())
    assert right and desk.action_token(type("Reader", (), {"app": None, "cookies": {}})()) == ""
    for forged in ("", "0" * 64, sessions.action_token(None, {"iurc-staff": "guessed"})):
        assert [o.reason for o in desk.remove(sorted(before), Staff(), forged)] == [NOT_STAFF]
    assert [o.reason for o in desk.add([str(temp / "h1" / "note.md"), str(outside)], Staff(), "x")] == [NOT_STAFF]
    assert _docs(fake_store) == before
    assert not (temp / "h1").exists() and outside.exists()  # the temporary copy and its folder went
    assert sorted(p.name for p in temp.iterdir()) == ["kept", "recent"]  # an hour-old empty folder went
    (temp / "h2").mkdir()
    (temp / "h2" / "note.md").write_bytes(NOTE)
    assert [o.status for o in desk.add([str(temp / "h2" / "note.md")], Staff(), right)] == ["added"]
    assert not (temp / "h2").exists()
    other = StaffSessions(("boss", "pw"))  # another process (or a restart): its tokens differ
    assert other.action_token(None, {"iurc-staff": other.login("boss", "pw")}) != right


def test_one_staff_users_sessions_are_capped(monkeypatch):
    from app.web.staff import StaffSessions

    monkeypatch.setenv("IURC_MAX_SESSIONS_PER_USER", "2")
    sessions = StaffSessions(("boss", "pw"))
    first, second, third = (sessions.login("boss", "pw") for _ in range(3))
    assert [sessions.is_staff(None, {"iurc-staff": t}) for t in (first, second, third)] == [False, True, True]


def test_staff_sessions_expire_and_log_out():
    from app.web.staff import StaffSessions

    sessions = StaffSessions(("boss", "pw"), hours=1)
    assert sessions.login("boss", "wrong") is None and sessions.login("reader", "pw") is None
    token = sessions.login("boss", "pw")
    assert sessions.is_staff(None, {"iurc-staff": token})
    sessions.logout(token)
    assert not sessions.is_staff(None, {"iurc-staff": token})
    expired = StaffSessions(("boss", "pw"), hours=0)
    assert not expired.is_staff(None, {"iurc-staff": expired.login("boss", "pw")})


def test_staff_and_reader_logins_must_name_different_users(monkeypatch):
    from app.web.guard import staff_from_setting
    from core.settings import SettingError

    monkeypatch.setenv("IURC_AUTH", "team:a")
    monkeypatch.setenv("IURC_STAFF_AUTH", "team:b")
    with pytest.raises(SettingError, match="another user"):
        staff_from_setting()
    monkeypatch.setenv("IURC_STAFF_AUTH", "nocolon")
    with pytest.raises(SettingError, match="user:password"):
        staff_from_setting()


# --- a running server -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def staff_server(tmp_path_factory, venv_bin):
    """A server over a fresh copy of the seed corpus, with readers' and staff logins."""
    root = tmp_path_factory.mktemp("staff")
    shutil.copytree(CORPUS, root / "corpus")
    subprocess.run([str(venv_bin / "iurc"), "ingest", str(root / "corpus"), "--store", str(root / "store")],
                   check=True, capture_output=True, env=iurc_env(), timeout=300)
    server = Server(venv_bin, root / "store", root / "serve.log", IURC_STAFF_AUTH="boss:staff-pw",
                    IURC_UPLOAD_DIR=root / "corpus" / "uploads", IURC_MAX_FILE_BYTES=3_000_000,
                    IURC_FEEDBACK_FILE=root / "feedback.jsonl")
    server.root = root
    yield server
    server.stop()


def _post(url: str, data: bytes, headers: dict) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "----iurc-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _staff_cookie(server) -> str:
    status, headers, _ = _post(server.url + "staff/login", b"username=boss&password=staff-pw",
                               {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303
    return headers["set-cookie"].split(";")[0]


@pytest.mark.slow
def test_uploads_are_for_staff_only_and_oversized_ones_are_refused(staff_server):
    body, kind = _multipart("note.md", NOTE)
    status, _, text = _post(staff_server.url + "gradio_api/upload", body, {"Content-Type": kind})
    assert status == 403 and b"only staff" in text  # a reader
    status, _, _ = _post(staff_server.url + "staff/login", b"username=boss&password=wrong",
                         {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401
    cookie = _staff_cookie(staff_server)
    status, _, text = _post(staff_server.url + "gradio_api/upload", body, {"Content-Type": kind, "Cookie": cookie})
    assert status == 200 and b"note.md" in text
    big, kind = _multipart("big.md", b"#" * 3_500_000)  # over IURC_MAX_FILE_BYTES=3000000
    status, _, _ = _post(staff_server.url + "gradio_api/upload", big, {"Content-Type": kind, "Cookie": cookie})
    assert status == 413
    assert not (staff_server.root / "corpus" / "uploads").exists()  # an upload alone adds nothing


def _tab(driver, label: str) -> None:
    from selenium.webdriver.common.by import By

    next(t for t in driver.find_elements(By.CSS_SELECTOR, "button[role=tab]") if label in t.text).click()


def _shown(driver, element_id: str) -> bool:
    from selenium.webdriver.common.by import By

    return any(e.is_displayed() for e in driver.find_elements(By.ID, element_id))


def test_a_foreign_origin_staff_removal_is_refused(staff_server):
    """A page on another site posting a removal with the staff cookie (Gradio's event route) is
    refused before Gradio sees it; the corpus document stays and still answers."""
    import json

    cookie = _staff_cookie(staff_server)
    body = json.dumps({"data": [["corpus/iurc_cities_and_topics_deck.txt"], "en", ""], "fn_index": 0,
                       "session_hash": "forged"}).encode()
    for origin in ("https://evil.example", "null"):
        status, _, text = _post(staff_server.url + "gradio_api/queue/join", body,
                                {"Content-Type": "application/json", "Cookie": cookie, "Origin": origin})
        assert status == 403 and b"cross-site request refused" in text, (status, text)
    status, _, text = _post(staff_server.url + "api/ask", json.dumps({"question": "What did Kamakura and Umea "
                                                                      "work on?"}).encode(),
                            {"Content-Type": "application/json"})
    assert status == 200 and json.loads(text)["citations"], text


@pytest.mark.slow
def test_staff_upload_in_chromium_is_answered_on_a_readers_open_page(staff_server, tmp_path):
    """A reader's page is open; staff log in, add the minutes (DOCX) and a hostile file in the
    Documents view; the reader, without reloading, asks about the minutes and gets them cited,
    and the reader's Documents view lists them."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.test_ui import _ask_in_browser, _browser, _text

    if not MINUTES.exists():
        pytest.fail(f"{MINUTES} is missing: `make corpus-eval` (run by `make test`) makes it")
    question = "Who represented DG REGIO at the fourth exchange meeting of EU regions and Japanese prefectures?"
    bad = tmp_path / "agenda.pdf"
    bad.write_bytes(ELF)
    reader = _browser(tmp_path / "reader")
    staff = _browser(tmp_path / "staff")
    try:
        reader.get(staff_server.url)
        wait = WebDriverWait(reader, 60)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#question textarea")))
        _tab(reader, "Documents")
        wait.until(lambda d: "log in" in _text(d, "staff-state"))
        assert not _shown(reader, "staff-panel")
        _tab(reader, "Ask")

        staff.get(staff_server.url + "staff")
        staff.find_element(By.ID, "username").send_keys("boss")
        staff.find_element(By.ID, "password").send_keys("staff-pw")
        staff.find_element(By.ID, "staff-login").click()
        swait = WebDriverWait(staff, 120)
        swait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#question textarea")))
        _tab(staff, "Documents")
        swait.until(lambda d: _shown(d, "staff-panel"))
        staff.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(f"{MINUTES}\n{bad}")
        swait.until(lambda d: "agenda" in _text(d, "upload") and "r2r_exchange_minutes" in _text(d, "upload"))
        staff.find_element(By.ID, "add-documents").click()
        swait.until(lambda d: "not a PDF" in _text(d, "upload-outcome"))
        outcome = _text(staff, "upload-outcome")
        assert "added" in outcome and "not a PDF: the content is an executable (ELF)" in outcome
        staff.execute_script("arguments[0].scrollIntoView({block: 'center'})",
                             staff.find_element(By.ID, "upload-outcome"))
        staff.save_screenshot(str(OUTPUT / "e2e_staff_upload.png"))
        uploads = staff_server.root / "corpus" / "uploads"
        assert sorted(p.name for p in uploads.iterdir()) == ["r2r_exchange_minutes.docx"]

        _ask_in_browser(reader, question)  # the reader's page was never reloaded
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources details#src-1-1 mark")))
        assert "Popens" in _text(reader, "chat")
        assert "uploads/r2r_exchange_minutes.docx" in _text(reader, "sources")
        _tab(reader, "Documents")
        WebDriverWait(reader, 40).until(lambda d: "r2r_exchange_minutes.docx" in _text(d, "documents"))
        reader.save_screenshot(str(OUTPUT / "e2e_reader_sees_upload.png"))
    finally:
        reader.quit()
        staff.quit()


def test_the_cli_removes_a_document_the_same_way(tmp_path, venv_bin):
    """`iurc remove`: the same removal as the staff panel, from the command line; an unknown
    name is reported and makes the exit code 1; the file itself is left alone."""
    import json

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "note.md").write_bytes(NOTE)
    store = tmp_path / "store"
    run = lambda *args: subprocess.run([str(venv_bin / "iurc"), *args, "--store", str(store)],  # noqa: E731
                                       capture_output=True, text=True, env=iurc_env(), timeout=300)
    assert run("ingest", str(corpus)).returncode == 0
    removed = run("remove", "corpus/note.md", "corpus/none.md")
    assert removed.returncode == 1
    assert "corpus/note.md: removed (1 passages)" in removed.stdout
    assert "corpus/none.md: not removed: not in the index" in removed.stdout
    docs = {c["document"] for c in json.loads(run("chunks", "--json").stdout)}
    assert "corpus/note.md" not in docs and docs and (corpus / "note.md").exists()


def test_a_replaced_upload_keeps_its_earlier_version_and_the_folder_has_a_quota(tmp_path, fake_store, glossary,
                                                                                 monkeypatch):
    # Before: a file with an existing name silently replaced it, and uploads had no disk quota.
    folder = tmp_path / "corpus" / "uploads"
    upload.add([("note.md", NOTE)], folder, fake_store, glossary, 10**6)
    changed = NOTE + b"\nKasumigaoka also joined later.\n"
    outcomes, _ = upload.add([("note.md", changed)], folder, fake_store, glossary, 10**6)
    assert outcomes[0].status == "updated" and ".versions/" in outcomes[0].reason
    kept = list((folder / ".versions").iterdir())
    assert len(kept) == 1 and kept[0].read_bytes() == NOTE and (folder / "note.md").read_bytes() == changed
    assert "corpus/uploads/.versions" not in " ".join(_docs(fake_store))  # hidden: never ingested
    monkeypatch.setenv("IURC_UPLOAD_QUOTA_BYTES", str(len(NOTE) * 3))
    outcomes, _ = upload.add([("big.md", b"# Big\n\n" + b"Veldora word. " * 100)], folder, fake_store, glossary, 10**6)
    assert outcomes[0].status == "failed" and "IURC_UPLOAD_QUOTA_BYTES" in outcomes[0].reason
    assert not (folder / "big.md").exists()


def test_names_with_direction_overrides_cannot_pose_as_another_type():
    assert upload.safe_name("invoice\u202efdp.md") == "invoice_fdp.md"
    assert upload.safe_name("a\u200bb.md") == "a_b.md"
