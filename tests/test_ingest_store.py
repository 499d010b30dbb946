"""Ingest into a real embedded Chroma with the fake embedder: incremental runs, failures,
locking and crash recovery."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.pipeline import ingest
from core import settings
from core.glossary import parse_glossary
from core.store import Store, StoreError, acquire, writer_lock
from tests.conftest import CORPUS, DATA, ROOT, iurc_env
from tests.fakes import DyingWorkerEmbeddings, FakeEmbeddings, WorkerFakeEmbeddings

HELPER = Path(__file__).parent / "helpers" / "fake_ingest.py"


def make_corpus(folder: Path, n_docs: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(CORPUS / "iurc_cities_and_topics_deck.txt", folder / "deck.txt")
    for i in range(n_docs - 1):
        (folder / f"note_{i:02d}.md").write_text(
            f"# Meeting {i}\n\nKobe and Marseille met in session {i} about port functions.\n\n\n"
            f"# 会議 {i}\n\n神戸とマルセイユは第{i}回の会合で港湾機能について話し合いました。"
            f"両者は観光の経験も交換しました。\n", encoding="utf-8")
    return folder


def stored_ids(store: Store) -> set[str]:
    return {row["id"] for row in store.all_chunks()}


def query_works(store: Store) -> bool:
    hits = store.query(store.embeddings.embed_query("Kobe Marseille port"), 2)
    return len(hits) == 2


def test_second_run_adds_nothing_and_does_no_embedding(tmp_path, fake_store, glossary):
    corpus = make_corpus(tmp_path / "corpus")
    first = ingest([str(corpus)], fake_store, glossary, progress=False)
    assert (first.added, first.failed) == (first.added, 0) and first.added > 18
    calls = fake_store.embeddings.calls
    second = ingest([str(corpus)], fake_store, glossary, progress=False)
    assert second.summary() == f"added 0, updated 0, skipped {first.added}, deleted 0, failed 0"
    assert fake_store.embeddings.calls == calls  # work done, not time taken: no bound on seconds


def test_a_file_as_it_was_read_is_not_read_again(tmp_path, fake_store, glossary, monkeypatch):
    """A file with the size and modification time recorded when it was read is unchanged without
    being read (what an unchanged re-ingest of a large folder costs); one rewritten since, even
    at the same size, is read and updated; one written in the last two seconds (its time may not
    change with its next write) is read again next time."""
    from dataclasses import replace
    from types import SimpleNamespace

    import ingest.pipeline as pipeline

    corpus = make_corpus(tmp_path / "corpus", 4)
    hour_ago = time.time() - 3600
    for f in corpus.iterdir():
        os.utime(f, (hour_ago, hour_ago))
    read = []
    read_file = pipeline.read_file
    monkeypatch.setattr(pipeline, "read_file", lambda path, limit: read.append(path.name) or read_file(path, limit))
    first = ingest([str(corpus)], fake_store, glossary, progress=False)
    assert len(read) == 4
    read.clear()
    second = ingest([str(corpus)], fake_store, glossary, progress=False)
    assert read == [] and second.summary() == f"added 0, updated 0, skipped {first.added}, deleted 0, failed 0"
    target = sorted(corpus.iterdir())[0]
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("a", "o"), encoding="utf-8")  # the same size, other words
    # read one second after that write, however busy the machine (the clock the ingest reads)
    written = target.stat().st_mtime_ns
    monkeypatch.setattr(pipeline, "time", SimpleNamespace(perf_counter=time.perf_counter,
                                                          time_ns=lambda: written + 1_000_000_000))
    third = ingest([str(corpus)], fake_store, glossary, progress=False)
    monkeypatch.setattr(pipeline, "time", time)
    assert read == [target.name] and third.added > 0
    read.clear()
    ingest([str(corpus)], fake_store, glossary, progress=False)
    assert read == [target.name]  # written just before it was read: read again
    os.utime(target, (hour_ago, hour_ago))
    read.clear()
    entries, names = fake_store.manifest_entries(), fake_store.stored_glossary()
    ingest([str(corpus)], fake_store, glossary, progress=False)
    ingest([str(corpus)], fake_store, glossary, progress=False)
    assert read == [target.name]  # hashed once more (the same bytes: only its time is recorded), then known
    doc = next(d for d in entries if d.endswith(target.name))
    assert fake_store.manifest_entries()[doc] == replace(entries[doc], stat=f"{target.stat().st_size}:"
                                                                            f"{target.stat().st_mtime_ns}")
    assert fake_store.stored_glossary() == names


def vectors_by_id(store: Store) -> dict[str, list[float]]:
    got = store.collection.get(include=["embeddings"])
    return {cid: [round(float(x), 5) for x in vector] for cid, vector in zip(got["ids"], got["embeddings"])}


def ingested_with(tmp_path, name: str, embeddings, glossary, corpus: Path):
    from core.store import StoreConfig, open_store

    store = open_store(StoreConfig.from_url(f"memory://{tmp_path}-{name}"), embeddings)
    return ingest([str(corpus)], store, glossary, progress=False), store


def test_a_large_ingest_embeds_in_worker_processes_and_stores_the_same(tmp_path, glossary, monkeypatch):
    """More passages than one write batch: the vectors and the passages' lexical tokens are made
    in the worker processes (the ingesting process embeds and segments nothing) and the store and
    its read index end as an ingest without workers leaves them."""
    from core import index

    segmented = []
    tokenizer_for = index.tokenizer_for
    monkeypatch.setattr(index, "tokenizer_for", lambda name: (
        lambda text: segmented.append(text) or tokenizer_for(name)(text)))
    corpus = make_corpus(tmp_path / "corpus", 8)
    monkeypatch.setenv("IURC_WRITE_BATCH", "12")
    monkeypatch.setenv("IURC_INGEST_WORKERS", "0")
    alone, plain = ingested_with(tmp_path, "alone", WorkerFakeEmbeddings(), glossary, corpus)
    assert plain.embeddings.calls > 2 and len(segmented) == alone.added  # several batches, all done here
    segmented.clear()
    monkeypatch.setenv("IURC_INGEST_WORKERS", "2")
    sent, pooled = ingested_with(tmp_path, "pooled", WorkerFakeEmbeddings(), glossary, corpus)
    assert pooled.embeddings.calls == 0 and segmented == []  # every batch went to the workers
    assert sent.summary() == alone.summary() and sent.added > 24
    assert vectors_by_id(pooled) == vectors_by_id(plain)
    assert all(e.complete for e in pooled.manifest_entries().values())
    ours, theirs = index.load(pooled), index.load(plain)
    assert ours.lexical.vocabulary == theirs.lexical.vocabulary
    assert [list(t) for t in ours.tokens] == [list(t) for t in theirs.tokens]
    assert list(ours.passages) == list(theirs.passages)


def test_the_read_index_is_built_from_the_passages_written_not_read_back(tmp_path, glossary, monkeypatch):
    """An ingest keeps the passages it wrote for the read index: neither a first ingest (with
    workers or without) nor one adding a document reads a passage back from the store, and the
    index is the one built from what the store holds."""
    from core import index
    read = []
    for name in ("iter_chunks", "get_chunks"):
        method = getattr(Store, name)
        monkeypatch.setattr(Store, name, lambda self, *a, _m=method, **k: [
            read.append(r["id"]) or r for r in _m(self, *a, **k)])
    corpus = make_corpus(tmp_path / "corpus", 8)
    monkeypatch.setenv("IURC_WRITE_BATCH", "12")
    for workers in ("0", "2"):
        monkeypatch.setenv("IURC_INGEST_WORKERS", workers)
        report, store = ingested_with(tmp_path, f"w{workers}", WorkerFakeEmbeddings(), glossary, corpus)
        assert report.added > 24 and read == []
        (corpus / "added.md").write_text("# Added\n\nA new passage about harbours.\n", encoding="utf-8")
        more = ingest([str(corpus)], store, glossary, progress=False)
        (corpus / "added.md").unlink()
        assert more.added == 1 and read == []
        built = index.build(list(store.iter_chunks()), parse_glossary(store.stored_glossary(), "stored"),
                            settings.get("lexical_tokenizer"), "")
        read.clear()
        stored = index.load(store)
        assert list(stored.passages) == list(built.passages)
        words = [{i: w for w, i in x.lexical.vocabulary.items()} for x in (stored, built)]
        assert [[words[0][i] for i in t] for t in stored.tokens] == [[words[1][i] for i in t] for t in built.tokens]


def test_a_worker_that_dies_costs_no_passage(tmp_path, glossary, monkeypatch):
    """The workers end at their first job: the ingest embeds those batches, and the next ones,
    itself (no new workers) and stores all."""
    corpus = make_corpus(tmp_path / "corpus", 24)
    monkeypatch.setenv("IURC_WRITE_BATCH", "4")  # many more batches than are sent ahead
    monkeypatch.setenv("IURC_INGEST_WORKERS", "2")
    import core.embed

    started = []
    workers = core.embed.EmbeddingWorkers
    monkeypatch.setattr(core.embed, "EmbeddingWorkers", lambda *a: started.append(1) or workers(*a))
    report, store = ingested_with(tmp_path, "dying", DyingWorkerEmbeddings(), glossary, corpus)
    assert started == [1]  # not started again for the next batches
    _, plain = ingested_with(tmp_path, "plain", FakeEmbeddings(), glossary, corpus)
    assert report.failed == 0 and store.embeddings.calls > 0
    assert vectors_by_id(store) == vectors_by_id(plain)
    assert all(e.complete for e in store.manifest_entries().values())


def test_a_small_ingest_starts_no_worker(tmp_path, glossary, monkeypatch):
    """One batch (a staff upload): embedded where the model is already loaded, no process started."""
    import core.embed

    monkeypatch.setenv("IURC_INGEST_WORKERS", "2")
    monkeypatch.setattr(core.embed, "EmbeddingWorkers", lambda *a: pytest.fail("a worker was started"))
    report, store = ingested_with(tmp_path, "small", WorkerFakeEmbeddings(), glossary,
                                  make_corpus(tmp_path / "corpus", 3))
    assert report.added > 0 and store.embeddings.calls == 1


def test_writes_are_batched_across_documents_and_a_failed_batch_is_redone(tmp_path, fake_store, glossary,
                                                                           monkeypatch):
    """Twelve documents are written in one batch: their entries pending in one call, their
    passages embedded and stored in one call, then complete in one call. When the store fails
    inside a batch, its documents stay pending, the error names them, and a re-run completes
    them with nothing stored twice."""
    corpus = make_corpus(tmp_path / "corpus", 12)
    calls: list[tuple[str, int]] = []
    add, put = Store.add, Store.put_manifests
    monkeypatch.setattr(Store, "add", lambda self, chunks, sha, vectors:
                        calls.append(("add", len(chunks))) or add(self, chunks, sha, vectors))
    monkeypatch.setattr(Store, "put_manifests", lambda self, entries:
                        calls.append((entries[0].status, len(entries))) or put(self, entries))
    report = ingest([str(corpus)], fake_store, glossary, progress=False)
    assert calls == [("pending", 12), ("add", report.added), ("complete", 12)]
    assert fake_store.embeddings.calls == 1
    expected = stored_ids(fake_store)

    from core.store import StoreConfig, open_store

    again = open_store(StoreConfig.from_url(f"memory://{tmp_path}-again"), FakeEmbeddings())
    monkeypatch.setattr(Store, "add", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(StoreError, match=r"could not write .*deck.txt.* and \d+ more .*disk full"):
        ingest([str(corpus)], again, glossary, progress=False)
    assert {e.status for e in again.manifest_entries().values()} == {"pending"}
    monkeypatch.setattr(Store, "add", add)
    rerun = ingest([str(corpus)], again, glossary, progress=False)
    assert rerun.added == report.added and stored_ids(again) == expected
    assert {e.status for e in again.manifest_entries().values()} == {"complete"}


def test_changed_document_is_replaced_and_deleted_document_removed(tmp_path, fake_store, glossary):
    corpus = make_corpus(tmp_path / "corpus")
    ingest([str(corpus)], fake_store, glossary, progress=False)
    before = stored_ids(fake_store)
    note = corpus / "note_00.md"
    note.write_text(note.read_text("utf-8").replace("port functions", "cruise tourism"), "utf-8")
    changed = ingest([str(corpus)], fake_store, glossary, progress=False)
    assert (changed.added, changed.deleted) == (1, 1)
    texts = [r["text"] for r in fake_store.all_chunks() if r["metadata"]["doc"] == "corpus/note_00.md"]
    assert any("cruise tourism" in t for t in texts) and not any("port functions" in t for t in texts)
    (corpus / "note_01.md").unlink()
    removed = ingest([str(corpus)], fake_store, glossary, progress=False)
    assert removed.deleted == 2 and removed.added == 0
    assert not any(r["metadata"]["doc"] == "corpus/note_01.md" for r in fake_store.all_chunks())
    assert "corpus/note_01.md" not in fake_store.manifest_entries()
    assert len(stored_ids(fake_store)) == len(before) - 2


def test_bad_files_fail_alone_and_stored_passages_survive(tmp_path, fake_store, glossary):
    corpus = make_corpus(tmp_path / "corpus")
    ingest([str(corpus)], fake_store, glossary, progress=False)
    before = stored_ids(fake_store)
    # A stored document turns into garbage, and bad new files arrive.
    shutil.copy(DATA / "binary/image.txt", corpus / "note_00.md")
    for rel in ("nul/nul.txt", "undecodable/bad.txt", "empty/whitespace.txt"):
        shutil.copy(DATA / rel, corpus / Path(rel).name)
    messages: list[str] = []
    report = ingest([str(corpus)], fake_store, glossary, progress=False, warn=messages.append)
    assert report.failed == 4 and report.added == 0 and report.deleted == 0
    assert sorted(m.split(": skipped: ")[1] for m in messages) == [
        "binary content (control bytes), not text", "contains NUL bytes (binary file?)",
        "empty: no text", "undecodable: not UTF-8, cp932 or EUC-JP"]
    assert stored_ids(fake_store) == before
    assert query_works(fake_store)


def test_oversized_file_is_skipped(tmp_path, fake_store, glossary, monkeypatch):
    monkeypatch.setenv("IURC_MAX_FILE_BYTES", "100")
    (tmp_path / "big.txt").write_text("Kobe " * 100)
    messages: list[str] = []
    report = ingest([str(tmp_path / "big.txt")], fake_store, glossary, progress=False, warn=messages.append)
    assert report.failed == 1 and "too large: 500 bytes > limit 100" in messages[0]


def test_missing_path_is_reported(tmp_path, fake_store, glossary):
    report = ingest([str(tmp_path / "nope")], fake_store, glossary, progress=False, warn=lambda m: None)
    assert report.failed == 1 and report.problems == [f"{tmp_path / 'nope'}: no such file or folder"]


def test_rebuild_starts_over(tmp_path, fake_store, glossary):
    corpus = make_corpus(tmp_path / "corpus")
    first = ingest([str(corpus)], fake_store, glossary, progress=False)
    again = ingest([str(corpus)], fake_store, glossary, rebuild=True, progress=False)
    assert again.added == first.added and again.skipped == 0
    assert fake_store.count() == first.added


def test_store_built_with_another_embedder_is_refused(store_config, fake_store, glossary, tmp_path):
    ingest([str(make_corpus(tmp_path / "c", 1))], fake_store, glossary, progress=False)

    class Other(FakeEmbeddings):
        name = "other"

    with pytest.raises(StoreError, match="was built with embedder 'fake-hash', not 'other'"):
        Store(store_config, Other())


def test_metadata_values_are_scalars(tmp_path, fake_store, glossary):
    ingest([str(make_corpus(tmp_path / "c", 1))], fake_store, glossary, progress=False)
    for row in fake_store.all_chunks():
        assert all(isinstance(v, (str, int, float, bool)) for v in row["metadata"].values())


def test_ids_are_stable_across_processes(tmp_path):
    code = ("import sys; sys.path.insert(0, sys.argv[1]);"
            "from core.glossary import load_glossary; from ingest.load import load;"
            "from ingest.clean import clean; from ingest.structure import structure;"
            "from ingest.chunk import chunk; g = load_glossary(sys.argv[1] + '/corpus/glossary.csv');"
            "d = load(sys.argv[1] + '/corpus/iurc_cities_and_topics_deck.txt', 'corpus/deck.txt', 10**8);"
            "print('\\n'.join(c.chunk_id for c in chunk(structure(clean(d, g), g))))")
    runs = [subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True,
                           check=True, env=iurc_env(PYTHONHASHSEED=str(seed))).stdout
            for seed in (1, 2)]
    assert runs[0] == runs[1] and len(runs[0].split()) == 18


def test_second_concurrent_ingest_is_refused(tmp_path, venv_bin):
    corpus = make_corpus(tmp_path / "corpus", 6)
    store = tmp_path / "store"
    first = subprocess.Popen([sys.executable, str(HELPER), str(store), "0.4", str(corpus)],
                             stdout=subprocess.PIPE, text=True, env=iurc_env())
    for line in first.stdout:  # holds the lock once it embeds
        if line.strip() == "embedding":
            break
    else:
        pytest.fail(f"the first ingest ended without embedding: {first.wait()}")
    second = subprocess.run([str(venv_bin / "iurc"), "ingest", str(corpus), "--store", str(store)],
                            capture_output=True, text=True, env=iurc_env(), timeout=60)
    assert second.returncode == 2
    assert "another `iurc ingest` is writing to" in second.stderr
    out, _ = first.communicate(timeout=60)
    assert first.returncode == 0 and "failed 0" in out


def _other_process_gets(lock_file: str) -> bool:
    """Whether a second process can take the writer lock now (a re-entrant lock held by this
    process would let this process in again, so only another process can tell)."""
    code = ("import sys; from filelock import FileLock, Timeout\n"
            "try:\n    FileLock(sys.argv[1], timeout=0).acquire()\nexcept Timeout:\n    sys.exit(3)\n")
    return subprocess.run([sys.executable, "-c", code, lock_file]).returncode == 0


def test_lock_is_released_after_a_run(store_config, fake_store, glossary, tmp_path):
    lock = writer_lock(store_config)
    acquire(lock, store_config)
    assert not _other_process_gets(lock.lock_file)  # the check can fail: held, it refuses
    lock.release()
    ingest([str(make_corpus(tmp_path / "c", 1))], fake_store, glossary, progress=False)
    assert _other_process_gets(lock.lock_file)


def test_sigkill_mid_ingest_then_rerun_converges(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", 25)
    reference = tmp_path / "reference"
    subprocess.run([sys.executable, str(HELPER), str(reference), "0", str(corpus)], check=True,
                   capture_output=True, env=iurc_env())
    expected = _ids_in(reference)
    rng = random.Random(2)
    for run in range(4):
        store = tmp_path / f"killed{run}"
        proc = subprocess.Popen([sys.executable, str(HELPER), str(store), "0.02", str(corpus)],
                                stdout=subprocess.PIPE, text=True, env=iurc_env())
        kill_after = rng.randint(1, 20)
        for _ in range(kill_after):
            if not proc.stdout.readline():
                break
        time.sleep(rng.random() * 0.03)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # The interrupted store opens and answers queries.
        partial = _open(store)
        partial.count()
        partial.query(FakeEmbeddings().embed_query("Kobe"), 1)
        subprocess.run([sys.executable, str(HELPER), str(store), "0", str(corpus)], check=True,
                       capture_output=True, env=iurc_env())
        assert _ids_in(store) == expected, f"run {run} (killed after {kill_after} batches)"
        assert _open(store).count() == len(expected)


def _open(path: Path) -> Store:
    from core.store import StoreConfig

    return Store(StoreConfig(str(path), "", 8000, "iurc"), FakeEmbeddings())


def _ids_in(path: Path) -> set[str]:
    return stored_ids(_open(path))


def test_the_glossary_is_found_from_any_working_directory_or_refused_clearly(tmp_path, monkeypatch, venv_bin):
    from core.glossary import find_glossary

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "glossary.csv").write_text("entity_id,kind,country,name_en,name_ja,aliases\n", "utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    found, _ = find_glossary("corpus/glossary.csv", False, [str(docs)])
    assert found == (docs / "glossary.csv").resolve()  # beside the documents
    found, looked = find_glossary("corpus/glossary.csv", False, [str(elsewhere)])
    assert found == (ROOT / "corpus" / "glossary.csv").resolve() and len(looked) == 3  # the project's
    assert find_glossary("missing.csv", True, [str(docs)])[0] is None  # given explicitly: as given
    run = subprocess.run([str(venv_bin / "iurc"), "ingest", str(docs), "--store", str(tmp_path / "s"),
                          "--glossary", "missing.csv"], capture_output=True, text=True, env=iurc_env(),
                         cwd=elsewhere, timeout=120)
    assert run.returncode != 0 and "no glossary file at" in run.stderr and "Traceback" not in run.stderr


def test_the_embedded_store_is_private_to_its_owner(tmp_path, fake_embeddings, glossary):
    # Before: store files were created 0644 (world-readable passages and originals).
    import stat

    from ingest.pipeline import ingest
    from core.store import Store, StoreConfig

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Note\n\nVeldora and Kasumigaoka share a harbour.\n", "utf-8")
    config = StoreConfig(str(tmp_path / "store"), "", 8000, "iurc")
    ingest([str(docs)], Store(config, fake_embeddings), glossary, progress=False)
    paths = [tmp_path / "store", *(tmp_path / "store").rglob("*")]
    assert len(paths) > 3
    for p in paths:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), (p, oct(mode))


@pytest.mark.parametrize("url, expected", [
    ("store/here", ("store/here", "", False)),
    ("chroma:///srv/iurc", ("/srv/iurc", "", False)),
    ("chroma+http://10.0.0.5:8001", ("", "10.0.0.5:8001", False)),
    ("chroma+http://db", ("", "db:8000", False)),
    ("memory://trial", (":memory:trial", "", True)),
])
def test_a_store_is_named_by_one_address(url, expected):
    from core.store import StoreConfig

    config = StoreConfig.from_url(url)
    server = f"{config.chroma_host}:{config.chroma_port}" if config.is_server else ""
    assert (config.store_dir, server, config.in_memory) == expected


@pytest.mark.parametrize("url", ["s3://bucket/x", "chroma+http://:80", "chroma+http://db:port"])
def test_a_bad_store_address_is_a_clear_error(url):
    from core.store import StoreConfig

    with pytest.raises(StoreError, match="store"):
        StoreConfig.from_url(url)


def test_the_in_memory_store_is_reached_through_the_factory_and_answers(tmp_path, glossary, monkeypatch):
    """IURC_STORE=memory://… : the service opens it through `open_store` like any other; two
    named in-memory stores do not see each other's passages."""
    from app.answering.service import Assistant
    from core.store import StoreConfig, open_store

    monkeypatch.setenv("IURC_STORE", f"memory://{tmp_path}/a")
    config = StoreConfig.from_settings()
    assert config.in_memory
    emb = FakeEmbeddings()
    store = open_store(config, emb)
    report = ingest([str(CORPUS)], store, glossary, progress=False)
    assert report.failed == 0 and store.count() == report.added > 0
    other = open_store(StoreConfig.from_url(f"memory://{tmp_path}/b"), emb)
    assert other.count() == 0
    result = Assistant(config, emb, glossary, min_sentence=0.05).ask("What did Kamakura and Umeå work on?")
    assert not result["abstained"] and result["citations"]
    assert all(c["doc"].startswith("corpus/") for c in result["citations"])


def test_a_passage_is_stored_as_its_document_name_and_one_packed_record_and_older_stores_still_read(
        tmp_path, fake_store, glossary):
    """New passages keep their metadata and text in one JSON value beside the document name (no
    Chroma document: its full-text index is never queried); a passage a store wrote before, its
    text as the document and its metadata key by key, reads the same."""
    ingest([str(make_corpus(tmp_path / "corpus", 2))], fake_store, glossary, progress=False)
    got = fake_store.collection.get(include=["documents", "metadatas"])
    assert got["ids"] and all(d is None for d in got["documents"])
    assert all(set(m) == {"doc", "passage"} for m in got["metadatas"])
    row = fake_store.get_chunks([got["ids"][0]])[0]
    assert row["text"] and row["metadata"]["doc"] == got["metadatas"][0]["doc"] and "text" not in row["metadata"]
    assert next(iter(fake_store.doc_chunks(row["metadata"]["doc"]).values())).keys() == row["metadata"].keys()
    # As an older version wrote it: the text as the document, the metadata key by key.
    old = dict(row["metadata"], doc="older.md")
    fake_store.collection.upsert(ids=["older"], embeddings=[fake_store.embeddings.embed_query("older text")],
                                 documents=["older text"], metadatas=[old])
    assert fake_store.get_chunks(["older"])[0] == {"id": "older", "text": "older text", "metadata": old}
    assert {r["id"]: r["text"] for r in fake_store.iter_chunks()}["older"] == "older text"
    assert fake_store.doc_chunks("older.md") == {"older": old}
