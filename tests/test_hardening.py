"""Hardening, round two: a rebuild while questions are answered, request limits (body, history,
login attempts, feedback, per-client), output without markup, questions cleaned like documents.
The served app's end of these is tested against a running `iurc serve` in test_ui.py."""
from __future__ import annotations

import json
import resource
import subprocess
import threading
import time

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from app.web.guard import Guard, RateLimit, Throttle
from app.answering.question import QuestionError, analyze
from app.answering.service import Assistant
from ingest.pipeline import ingest
from core.store import Store
from tests.conftest import iurc_env
from tests.test_ingest_store import make_corpus

QUESTION = "What did Kobe and Marseille discuss in session 1?"


# --- rebuild without downtime ------------------------------------------------------------------

def test_a_rebuild_while_questions_are_answered_loses_none(tmp_path, store_config, fake_embeddings, glossary,
                                                          monkeypatch):
    monkeypatch.setenv("IURC_RELOAD_CHECK_SECONDS", "0.05")
    corpus = make_corpus(tmp_path / "corpus")
    ingest([str(corpus)], Store(store_config, fake_embeddings), glossary, progress=False)
    assistant = Assistant(store_config, fake_embeddings, min_sentence=0.05)
    assert "port functions" in assistant.ask(QUESTION)["answer"]
    answers, errors, stop = [], [], threading.Event()

    def ask_steadily():
        while not stop.is_set():
            try:
                result = assistant.ask(QUESTION)
                (errors if result.get("error") or result["abstained"] else answers).append(result["answer"])
            except Exception as exc:  # noqa: BLE001 - any failure is what this test counts
                errors.append(f"{type(exc).__name__}: {exc}")

    asker = threading.Thread(target=ask_steadily)
    asker.start()
    try:
        time.sleep(0.3)
        for note in corpus.glob("note_*.md"):
            note.write_text(note.read_text("utf-8").replace("port functions", "cruise tourism"), "utf-8")
        writer = Store(store_config, fake_embeddings)
        before = writer.physical
        ingest([str(corpus)], writer, glossary, rebuild=True, progress=False)
        deadline = time.time() + 20
        while time.time() < deadline and not (answers and "cruise tourism" in answers[-1]):
            time.sleep(0.05)
    finally:
        stop.set()
        asker.join(timeout=30)
    assert errors == [] and len(answers) > 5
    assert "cruise tourism" in answers[-1] and "port functions" in answers[0]
    names = {c.name for c in writer.client.list_collections()}
    assert writer.physical != before and before not in names  # the replaced set is dropped


def test_a_rebuild_that_fails_midway_leaves_the_old_store_served(tmp_path, store_config, fake_embeddings, glossary):
    corpus = make_corpus(tmp_path / "corpus")
    ingest([str(corpus)], Store(store_config, fake_embeddings), glossary, progress=False)
    writer = Store(store_config, fake_embeddings)

    def broken_add(chunks, sha):
        raise OSError("disk full")

    writer.add = broken_add
    with pytest.raises(Exception):
        ingest([str(corpus)], writer, glossary, rebuild=True, progress=False)
    assistant = Assistant(store_config, fake_embeddings, min_sentence=0.05)
    assert "port functions" in assistant.ask(QUESTION)["answer"]


# --- questions and histories --------------------------------------------------------------------

def test_histories_are_bounded_and_refused_quickly(glossary):
    for history, words in ([["Where is Kobe?"] * 100_000, "entries"], [["x" * 1_000_000], "longer"],
                           ["not a list", "list"], [[123], "list"]):
        with pytest.raises(QuestionError, match=words):
            analyze("When did they start?", glossary, history)
    with pytest.raises(QuestionError, match="text"):
        analyze(123, glossary)


def test_a_huge_history_costs_no_memory_and_an_answer_says_why(corpus_assistant_fake):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(4):
        result = corpus_assistant_fake.ask("When did they start?", ["Where is Kobe?"] * 100_000)
        assert result["abstained"] and "history" in result["error"].lower()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KB: flat


def test_a_zero_width_character_in_a_name_is_ignored(corpus_assistant_fake):
    plain = corpus_assistant_fake.ask("What did Kamakura and Umeå work on?")
    hidden = corpus_assistant_fake.ask("What did Kama\u200bkura and Ume\u200då work on?")
    assert not hidden["abstained"] and hidden["entities"] == plain["entities"] and hidden["entities"]


@pytest.mark.slow
def test_batch_lines_with_wrong_types_or_huge_histories_fail_alone(tmp_path, venv_bin):
    from tests.conftest import CORPUS

    store = tmp_path / "store"
    subprocess.run([str(venv_bin / "iurc"), "ingest", str(CORPUS), "--store", str(store)], check=True,
                   capture_output=True, env=iurc_env(), timeout=300)
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join([
        json.dumps({"id": "number", "question": 123}),
        json.dumps({"id": "long", "question": "When did they start?", "history": ["Kobe?"] * 10_000}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "ok", "question": "Which pairs started in 2018?"})]) + "\n", "utf-8")
    run = subprocess.run([str(venv_bin / "iurc"), "ask", "--batch", str(batch), "--store", str(store)],
                         capture_output=True, text=True, env=iurc_env(), timeout=300)
    assert run.returncode == 0, run.stderr
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert [o["id"] for o in out] == ["number", "long", 3, "ok"]
    assert all(o.get("error") for o in out[:3]) and "history" in out[1]["error"].lower()
    assert len(out[3]["citations"]) == 3 and "Traceback" not in run.stderr


# --- markup never reaches an answer --------------------------------------------------------------

def test_markup_split_over_lines_or_built_from_entities_is_removed(tmp_path, fake_store, glossary):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "evil.txt").write_text(
        "Kobe and Marseille met about port functions <img\nsrc=x onerror=alert(1)> in 2019.\n\n\n"
        "Kobe and Marseille also discussed &lt;script&gt;alert(2)&lt;/script&gt; cruise tourism.\n\n\n"
        "Twice encoded: &amp;lt;iframe src=evil.example&amp;gt; ferries &amp; harbours.\n", "utf-8")
    ingest([str(folder)], fake_store, glossary, progress=False)
    texts = " ".join(r["text"] for r in fake_store.all_chunks())
    for bad in ("<img", "onerror", "<script", "alert(", "<iframe", "&lt;", "&amp;lt;"):
        assert bad not in texts, bad
    assert "port functions" in texts and "cruise tourism" in texts and "ferries & harbours" in texts
    assistant = Assistant(fake_store.config, fake_store.embeddings, min_sentence=0.05)
    answer = json.dumps(assistant.ask("What did Kobe and Marseille discuss?"), ensure_ascii=False)
    assert "<" not in answer and "onerror" not in answer


# --- the guard in front of the served app --------------------------------------------------------

def _guarded(credentials=None, throttle=None, routes_ready=None) -> TestClient:
    async def ok(request):
        body = await request.body()
        return JSONResponse({"ok": True, "bytes": len(body)})

    async def login(request):
        form = (await request.body()).decode()
        return JSONResponse({"success": True}) if "password=right" in form else \
            JSONResponse({"detail": "Incorrect credentials."}, status_code=400)

    app = Starlette(routes=[Route("/", ok), Route("/api/ask", ok, methods=["POST"]), Route("/api/docs", ok),
                            Route("/login", login, methods=["POST"]), Route("/gradio_api/upload", ok, methods=["POST"])],
                    middleware=[Middleware(Guard, credentials=credentials, address_throttle=throttle or Throttle(),
                                           routes_ready=routes_ready)])
    return TestClient(app)


def test_large_bodies_are_refused_before_they_are_read():
    client = _guarded()
    assert client.post("/api/ask", content=b"x" * 50_000_000).status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(60):
            yield b"x" * 1_000_000

    assert client.post("/api/ask", content=chunks()).status_code == 413
    small = client.post("/api/ask", content=b"{}")
    assert small.status_code == 200 and small.json()["bytes"] == 2


def test_uploads_are_closed_and_every_response_has_security_headers():
    client = _guarded()
    assert client.post("/gradio_api/upload", files={"files": ("a.txt", b"x")}).status_code == 403
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"


def test_with_a_login_only_the_login_page_answers_without_it():
    import base64

    client = _guarded(credentials=("staff", "right"))
    assert client.get("/").status_code == 200  # the login page
    assert client.get("/api/docs").status_code == 401
    good = {"Authorization": "Basic " + base64.b64encode(b"staff:right").decode()}
    assert client.get("/api/docs", headers=good).status_code == 200


def test_fifty_wrong_logins_from_one_address_are_throttled():
    client = _guarded(credentials=("staff", "right"))
    codes = [client.post("/login", data={"username": "staff", "password": "wrong"}).status_code for _ in range(50)]
    assert codes[:5] == [400] * 5 and codes.count(429) >= 40
    right = client.post("/login", data={"username": "staff", "password": "right"})
    assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1


def test_the_login_check_throttles_a_user_at_an_address_even_with_the_right_password(monkeypatch):
    from app.web import guard

    monkeypatch.setattr(guard, "LOGINS", guard.Logins(ceiling=1000))
    # One instant throughout: the test asserts what is counted, not how long a wait lasts.
    monkeypatch.setattr(guard, "time", type("Frozen", (), {"monotonic": staticmethod(lambda: 1000.0)}))
    check = guard.throttled_login(("staff", "right"))
    token = guard.CLIENT_ADDRESS.set("10.0.0.1")
    try:
        assert check("staff", "right")
        assert [check("staff", "wrong") for _ in range(50)] == [False] * 50
        assert not check("staff", "right")  # still waiting, at this address
    finally:
        guard.CLIENT_ADDRESS.reset(token)
    assert guard.LOGINS.wait("staff", "10.0.0.1") > 0 and guard.LOGINS.wait("staff", "10.0.0.2") == 0
    token = guard.CLIENT_ADDRESS.set("10.0.0.2")
    try:
        assert check("staff", "right")  # the same user elsewhere is not locked out
    finally:
        guard.CLIENT_ADDRESS.reset(token)


def _basic(user: str, password: str) -> dict:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_three_hundred_basic_auth_guesses_are_throttled(monkeypatch):
    # Before this layer, Basic auth on the guarded routes had no throttle at all: 300 wrong
    # passwords got 401 each and the right one 200 (the outside probe's finding).
    from app.web import guard

    monkeypatch.setattr(guard, "LOGINS", guard.Logins())
    client = _guarded(credentials=("staff", "right"))
    codes = [client.get("/api/docs", headers=_basic("staff", f"guess{i}")).status_code for i in range(300)]
    # Work done, not time taken: the first 5 are checked, then each further check waits twice as
    # long as the last, so however slowly the 300 arrive (even over a day) fewer than 30 are
    # ever compared with the password; the rest are refused with 429.
    assert codes[:5] == [401] * 5 and codes.count(401) < 30 and codes.count(429) > 270


def test_guesses_from_rotating_addresses_do_not_lock_out_the_real_user(monkeypatch):
    # Before this layer, the form logins were throttled per user name alone: failures from any
    # address made the real user wait too, right password included (the probe: 40 s).
    from app.web import guard

    monkeypatch.setattr(guard, "LOGINS", guard.Logins(ceiling=20, window=3600))  # (a slow machine's minute)
    real = _guarded(credentials=("staff", "right"))
    real_client = TestClient(real.app, client=("192.0.2.10", 5000))
    assert real_client.get("/api/docs", headers=_basic("staff", "right")).status_code == 200  # a known pair
    for n in range(200):  # one guess each from 200 addresses: past the per-user ceiling
        attacker = TestClient(real.app, client=(f"198.51.100.{n}", 5000))
        attacker.get("/api/docs", headers=_basic("staff", f"guess{n}"))
    assert real_client.get("/api/docs", headers=_basic("staff", "right")).status_code == 200
    # A new address is held back while the spray goes on (the global ceiling) ...
    newcomer = TestClient(real.app, client=("203.0.113.7", 5000))
    assert newcomer.get("/api/docs", headers=_basic("staff", "right")).status_code == 429
    # ... and another user is not affected at all.
    assert guard.LOGINS.wait("reader", "203.0.113.7") == 0


def test_the_client_address_is_taken_from_a_trusted_proxy_only(monkeypatch):
    from app.web.guard import client_address

    scope = {"client": ("10.1.1.1", 1), "headers": [(b"x-forwarded-for", b"6.6.6.6, 198.51.100.9")]}
    assert client_address(scope) == "10.1.1.1"  # not a trusted proxy: the header is ignored
    monkeypatch.setenv("IURC_TRUSTED_PROXIES", "10.1.1.1")
    assert client_address(scope) == "198.51.100.9"  # the address the proxy itself saw


def test_a_made_up_authorization_header_gives_no_allowance_of_its_own():
    # The key used to be the header's last 24 characters, so a random header beside a valid
    # cookie gave a fresh allowance on every request.
    from starlette.requests import Request

    from app.web.ui import client_key

    def request(headers):
        return Request({"type": "http", "method": "POST", "path": "/api/ask", "client": ("192.0.2.5", 1),
                        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
                        "app": Starlette()})

    keys = {client_key(request(_basic("x", f"random{i}")), ("staff", "right")) for i in range(20)}
    assert keys == {"address:192.0.2.5"}
    assert client_key(request(_basic("staff", "right")), ("staff", "right")) == "user:staff"


def test_rate_limit_and_throttle_counters():
    limit = RateLimit(3, window=60)
    assert [limit.allow("a") for _ in range(5)] == [True, True, True, False, False] and limit.allow("b")
    throttle = Throttle(free=2, longest=8)
    for _ in range(6):
        throttle.failed("x")
    assert 0 < throttle.wait("x") <= 8


def test_feedback_is_capped_per_client_and_rotated(tmp_path, monkeypatch):
    from app.web.ui import FeedbackLog

    monkeypatch.setenv("IURC_FEEDBACK_MAX_BYTES", "20000")
    log = FeedbackLog(tmp_path / "feedback.jsonl")
    written = sum(log.append({"comment": "x" * 1900}, "one-client") for _ in range(1000))
    assert written == 20  # IURC_FEEDBACK_PER_MINUTE
    assert log.append({"comment": "another"}, "another-client")
    total = sum(p.stat().st_size for p in tmp_path.glob("feedback.jsonl*"))
    assert (tmp_path / "feedback.jsonl.1").exists() and total < 60_000
    assert (tmp_path / "feedback.jsonl").stat().st_size <= 20_000


def test_an_api_request_at_start_up_waits_for_the_routes_instead_of_a_404():
    ready = threading.Event()
    client = _guarded(routes_ready=ready)
    threading.Timer(0.3, ready.set).start()
    started = time.perf_counter()
    assert client.post("/api/ask", content=b"{}").status_code == 200
    assert time.perf_counter() - started >= 0.25
    assert client.get("/").status_code == 200  # the chat page never waits


def test_a_state_change_from_another_origin_is_refused(monkeypatch):
    # A page of another site posting to the app with the staff's cookie (a removal, an upload)
    # is refused before any handler runs; the app's own pages and non-browser clients are not.
    client = _guarded()
    own = {"Origin": "http://testserver", "Host": "testserver"}
    assert client.post("/api/ask", content=b"{}", headers=own).status_code == 200
    assert client.post("/api/ask", content=b"{}").status_code == 200  # curl, the CLI: no Origin
    foreign = client.post("/api/ask", content=b"{}", headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and "cross-site" in foreign.json()["detail"]
    assert client.post("/api/ask", content=b"{}", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    # A page that hides its origin ("null") is refused; the browser's own word that a request
    # comes from our page (Sec-Fetch-Site: same-origin) is taken.
    assert client.post("/api/ask", content=b"{}", headers={"Origin": "null"}).status_code == 403
    assert client.post("/api/ask", content=b"{}", headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"}
                       ).status_code == 200
    preflight = client.options("/api/ask", headers={"Origin": "https://evil.example",
                                                    "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    # A configured public host name: the app answers for it only.
    monkeypatch.setenv("IURC_PUBLIC_HOST", "assistant.example.org")
    assert client.get("/", headers={"Host": "rebound.example"}).status_code == 421
    assert client.post("/api/ask", content=b"{}", headers={"Host": "assistant.example.org",
                                                           "Origin": "https://assistant.example.org"}).status_code == 200


def test_cookies_are_never_samesite_none_and_no_cors_headers_leave():
    from app.web.guard import _cookie_headers

    headers = [(b"set-cookie", b"access-token=abc; HttpOnly; Path=/; SameSite=None; Secure"),
               (b"access-control-allow-origin", b"https://evil.example"),
               (b"access-control-allow-credentials", b"true"), (b"content-type", b"text/html")]
    plain = dict(_cookie_headers(headers, https=False))
    assert plain[b"set-cookie"] == b"access-token=abc; HttpOnly; Path=/; SameSite=Lax"
    assert b"access-control-allow-origin" not in plain and b"access-control-allow-credentials" not in plain
    secure = dict(_cookie_headers(headers, https=True))
    assert secure[b"set-cookie"] == b"access-token=abc; HttpOnly; Path=/; Secure; SameSite=Lax"


def test_a_lone_surrogate_is_refused_clearly_and_bad_requests_log_one_short_line(corpus_assistant_fake, caplog):
    # Before: a lone surrogate gave 500 (tokenizer, JSON writer), and each validation error of a
    # large bad request was logged (one 990 KB request wrote 5.2 MB of log).
    import logging

    from fastapi import FastAPI

    from app.web.ui import add_api_routes

    app = FastAPI()
    add_api_routes(app, corpus_assistant_fake, None, 2, 4)
    client = TestClient(app)
    # The schema names the errors a client meets (it listed only 200 and 422 before).
    assert {"401", "413", "422", "429", "503"} <= set(app.openapi()["paths"]["/api/ask"]["post"]["responses"])
    lone = client.post("/api/ask", content=b'{"question": "Kamakura \\ud800 and Umea?"}',
                       headers={"content-type": "application/json"})
    assert lone.status_code == 422 and "surrogate" in lone.text
    assert client.post("/api/ask", json={"question": "What did Kamakura and Umea work on?"}).status_code == 200
    with caplog.at_level(logging.INFO):
        caplog.clear()
        bad = client.post("/api/ask", content=b'{"question": "x", "history": [' + b",".join([b"{}"] * 300_000)
                          + b"]}", headers={"content-type": "application/json"})  # ~1 MB, each entry wrong
        assert bad.status_code == 422 and len(bad.content) < 2_000, bad.text[:300]
        logged = sum(len(r.getMessage()) for r in caplog.records)
    assert logged < 10_000
    # The question check itself, for every channel (the chat calls it too).
    from app.answering.question import QuestionError, analyze

    with pytest.raises(QuestionError):
        analyze("Kamakura \ud800?", corpus_assistant_fake.glossary)


def _with_sessions(client: TestClient, tokens: dict) -> None:
    app = client.app
    app.tokens, app.cookie_id = tokens, "c"


def test_logout_ends_only_that_session_and_sessions_expire_and_are_bounded(monkeypatch):
    # Before: Gradio's /logout ended every session of the user (with one shared reader login,
    # every reader's), and sessions never expired (2000 logins: +227 MB, kept up to 10,000).
    client = _guarded(credentials=("reader", "right"))
    _with_sessions(client, {"t1": "reader", "t2": "reader"})
    mine = {"Cookie": "access-token-unsecure-c=t1"}
    other = {"Cookie": "access-token-unsecure-c=t2"}
    assert client.get("/api/docs", headers=mine).status_code == 200
    out = client.get("/logout", headers=mine, follow_redirects=False)
    assert out.status_code == 302 and "t1" not in client.app.tokens
    assert client.get("/api/docs", headers=mine).status_code == 401
    assert client.get("/api/docs", headers=other).status_code == 200  # another reader stays in

    monkeypatch.setenv("IURC_SESSION_HOURS", "0")  # every login ends as soon as it is older than now
    short = _guarded(credentials=("reader", "right"))
    _with_sessions(short, {"t3": "reader"})
    short.get("/api/docs", headers={"Cookie": "access-token-unsecure-c=t3"})
    time.sleep(0.01)
    assert short.get("/api/docs", headers={"Cookie": "access-token-unsecure-c=t3"}).status_code == 401
    assert short.app.tokens == {}

    monkeypatch.setenv("IURC_SESSION_HOURS", "12")
    monkeypatch.setenv("IURC_MAX_SESSIONS", "2")
    many = _guarded(credentials=("reader", "right"))
    _with_sessions(many, {f"s{i}": "reader" for i in range(50)})
    assert many.get("/api/docs", headers={"Cookie": "access-token-unsecure-c=s49"}).status_code in (200, 401)
    assert len(many.app.tokens) <= 2


def test_one_users_logins_are_capped_and_that_users_oldest_ends_first(monkeypatch):
    # Before: no cap per user (only the total): one login name could hold every session slot.
    monkeypatch.setenv("IURC_MAX_SESSIONS_PER_USER", "2")
    client = _guarded(credentials=("reader", "right"))
    _with_sessions(client, {"a1": "reader", "a2": "reader", "a3": "reader", "b1": "other"})
    for token in ("a1", "a2", "a3", "b1"):  # seen in this order: a1 is the reader's oldest
        assert client.get("/api/docs", headers={"Cookie": f"access-token-unsecure-c={token}"}).status_code == 200
    assert sorted(client.app.tokens) == ["a2", "a3", "b1"]  # the other user keeps theirs
    assert client.get("/api/docs", headers={"Cookie": "access-token-unsecure-c=a1"}).status_code == 401
