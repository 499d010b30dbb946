"""Beyond one process: a real `chroma run` server, two app processes, and reload after re-ingest."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request

import pytest

from eval.runner import load_cases
from tests.conftest import CORPUS, ROOT, iurc_env
from tests.ui_server import Server, free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory, venv_bin):
    path = tmp_path_factory.mktemp("chroma_data")
    port = free_port()
    log = open(path.parent / "chroma.log", "w")
    process = subprocess.Popen([str(venv_bin / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1",
                                "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=iurc_env())
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        raise RuntimeError("chroma run did not start")
    yield port
    process.terminate()
    process.wait(timeout=20)
    log.close()


def iurc(venv_bin, *args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv_bin / "iurc"), *args], capture_output=True, text=True,
                          env=iurc_env(**env), timeout=600, cwd=ROOT)


def server_args(port: int, collection: str = "iurc") -> dict:
    return {"IURC_CHROMA_HOST": "127.0.0.1", "IURC_CHROMA_PORT": port, "IURC_COLLECTION": collection}


def comparable(line: str) -> dict:
    r = json.loads(line)
    return {"id": r["id"], "answer": r["answer"], "abstained": r["abstained"],
            "citations": [(c["doc"], c["location"], c["quote"]) for c in r["citations"]]}


def test_server_store_gives_the_same_answers_as_the_embedded_store(chroma_server, venv_bin, tmp_path):
    assert iurc(venv_bin, "ingest", str(CORPUS), **server_args(chroma_server)).returncode == 0
    embedded = tmp_path / "embedded"
    assert iurc(venv_bin, "ingest", str(CORPUS), "--store", str(embedded)).returncode == 0
    batch = tmp_path / "eval.jsonl"
    batch.write_text("".join(json.dumps({"id": c.id, "question": c.question, "history": c.history},
                                        ensure_ascii=False) + "\n" for c in load_cases(ROOT / "eval/questions.yaml")),
                     encoding="utf-8")
    # Two separate app processes on the server at once, and one on the embedded store.
    command = [str(venv_bin / "iurc"), "ask", "--batch", str(batch), "--json"]
    procs = [subprocess.Popen(command + ["--chroma-host", "127.0.0.1", "--chroma-port", str(chroma_server)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=iurc_env(), cwd=ROOT)
             for _ in range(2)]
    local = iurc(venv_bin, "ask", "--batch", str(batch), "--json", "--store", str(embedded))
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    expected = [comparable(x) for x in local.stdout.splitlines()]
    assert len(expected) == len(load_cases(ROOT / "eval/questions.yaml"))
    for out in outputs:
        assert [comparable(x) for x in out.splitlines()] == expected

    chunks_server = json.loads(iurc(venv_bin, "chunks", "--json", **server_args(chroma_server)).stdout)
    chunks_local = json.loads(iurc(venv_bin, "chunks", "--json", "--store", str(embedded)).stdout)
    assert [c["id"] for c in chunks_server] == [c["id"] for c in chunks_local]
    again = iurc(venv_bin, "ingest", str(CORPUS), **server_args(chroma_server))
    assert again.stdout.strip().endswith("added 0, updated 0, skipped 18, deleted 0, failed 0")
    run = iurc(venv_bin, "eval", "--no-baseline", "--report", str(tmp_path / "r"), **server_args(chroma_server))
    assert run.returncode == 0 and "| key-fact recall | 1.000 / – |" in run.stdout


def test_glossary_travels_with_the_collection(chroma_server, venv_bin, tmp_path):
    """A process without the glossary file matches names like the one that ingested."""
    args = server_args(chroma_server, "glossary_check")
    assert iurc(venv_bin, "ingest", str(CORPUS), **args).returncode == 0
    run = iurc(venv_bin, "ask", "ウメオ市と鎌倉市の協力内容を教えてください", "--json",
               IURC_GLOSSARY=tmp_path / "missing.csv", **args)
    result = json.loads(run.stdout)
    assert result["entities"] == ["umea", "kamakura"] and not result["abstained"]


NEW_DOC = "# Sapporo winter note\n\nSapporo hosts a snow festival with ice sculptures every February.\n"


@pytest.mark.parametrize("mode", ["embedded", "server"])
def test_running_serve_answers_from_a_new_ingest_without_restart(mode, chroma_server, venv_bin, tmp_path):
    from gradio_client import Client

    docs = tmp_path / "docs"
    shutil.copytree(CORPUS, docs)
    store = tmp_path / "store"
    env = {"IURC_RELOAD_CHECK_SECONDS": "0.5"}
    if mode == "server":
        env.update(server_args(chroma_server, "reload_check"))
    assert iurc(venv_bin, "ingest", str(docs), "--store", str(store), **env).returncode == 0
    server = Server(venv_bin, store, tmp_path / "serve.log", **env)
    try:
        client = Client(server.url, verbose=False)
        before = client.predict("What does Sapporo host in February?", api_name="/ask")
        assert before["abstained"]
        (docs / "sapporo.md").write_text(NEW_DOC, encoding="utf-8")
        run = iurc(venv_bin, "ingest", str(docs), "--store", str(store), **env)
        assert "added 1," in run.stdout
        time.sleep(1.0)
        after = client.predict("What does Sapporo host in February?", api_name="/ask")
        assert not after["abstained"]
        assert after["citations"][0]["doc"] == "docs/sapporo.md"
        assert "snow festival" in after["citations"][0]["quote"]
    finally:
        server.stop()


def test_the_chroma_guard_refuses_requests_without_the_token(chroma_server, venv_bin, tmp_path):
    # The Chroma 1.x server has no authentication; `iurc chroma-guard` in front of it refuses
    # anyone without IURC_CHROMA_TOKEN, and the app passes the token.
    import urllib.error

    token = "t0ken-for-the-test-0123456789"
    port = free_port()
    log = open(tmp_path / "guard.log", "w")
    guard = subprocess.Popen([str(venv_bin / "iurc"), "chroma-guard", "--listen", f"127.0.0.1:{port}",
                              "--upstream", f"127.0.0.1:{chroma_server}"], stdout=log, stderr=subprocess.STDOUT,
                             env=iurc_env(IURC_CHROMA_TOKEN=token), cwd=ROOT)
    try:
        url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(urllib.request.Request(url, headers={"X-Chroma-Token": token}), timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=5)
        assert refused.value.code == 401
        with pytest.raises(urllib.error.HTTPError) as wrong:
            urllib.request.urlopen(urllib.request.Request(url, headers={"X-Chroma-Token": "x" * 30}), timeout=5)
        assert wrong.value.code == 401
        through = {"IURC_CHROMA_HOST": "127.0.0.1", "IURC_CHROMA_PORT": port, "IURC_COLLECTION": "guarded"}
        ingest = iurc(venv_bin, "ingest", str(CORPUS), **through, IURC_CHROMA_TOKEN=token)
        assert ingest.returncode == 0, ingest.stderr
        answer = iurc(venv_bin, "ask", "--json", "What did Kamakura and Umeå work on?", **through,
                      IURC_CHROMA_TOKEN=token)
        assert answer.returncode == 0 and json.loads(answer.stdout)["citations"], answer.stderr
        without = iurc(venv_bin, "ask", "What did Kamakura and Umeå work on?", **through)
        assert without.returncode != 0 and "Traceback" not in without.stderr, without.stderr
    finally:
        guard.terminate()
        guard.wait(timeout=20)
        log.close()
