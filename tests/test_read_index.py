"""The read-side index built at ingest (core/index.py), the store interface the read side uses
(core/store.py: PassageStore) and the typed answer result (app/answering/result.py)."""
from __future__ import annotations

import json

import math

import numpy as np
import pytest

from app.answering.result import AskResult
from app.answering.service import Assistant
from core import index
from core.glossary import parse_glossary
from core.lexical import LexicalIndex
from ingest.pipeline import ingest
from core.store import PassageStore, Store
from tests.test_ingest_store import make_corpus


@pytest.fixture
def ingested(tmp_path, fake_store, glossary):
    corpus = make_corpus(tmp_path / "corpus")
    report = ingest([str(corpus)], fake_store, glossary, progress=False)
    return corpus, fake_store, report


def test_a_serving_process_loads_the_stored_index_without_segmenting_or_matching(ingested, monkeypatch):
    _, store, _ = ingested
    assert store.index_head()["generation"] == store.generation()

    def refuse(*args, **kwargs):
        raise AssertionError("the serving process segmented or matched passages itself")

    monkeypatch.setattr(index, "build", refuse)
    monkeypatch.setattr(index, "token_ids", refuse)
    assistant = Assistant(store.config, store.embeddings, min_sentence=0.05)
    assert assistant.retriever.index.generation == store.generation()
    assert len(assistant.retriever.passages) == store.count()
    result = assistant.ask("What did Kobe and Marseille discuss in session 1?")
    assert not result["abstained"] and "port functions" in result["answer"]


def test_a_serving_process_makes_only_the_passages_it_reads(ingested, monkeypatch):
    """The stored index loads as columns: starting a serving process makes no passage object
    but the table rows' (the facts read them), and an answer makes only those it reads."""
    from core.models import Passage

    _, store, _ = ingested
    made = []
    monkeypatch.setattr(index, "Passage", lambda *a, **k: made.append(a[0]) or Passage(*a, **k))
    assistant = Assistant(store.config, store.embeddings, min_sentence=0.05)
    passages = assistant.retriever.passages
    assert len(made) == len(passages.with_records()) < len(passages)
    assert assistant.retriever.by_entity and len(assistant.retriever.position) == len(passages)
    result = assistant.ask("What did Kobe and Marseille discuss in session 1?")
    assert "port functions" in result["answer"] and len(made) < len(passages)
    assert len(made) == len(set(made))  # each made once, then kept


def test_an_answer_segments_each_text_once_and_the_composer_remembers_a_bounded_number(ingested):
    """Composing one answer reads the same sentences, headings and names several times: each is
    segmented once; the next answers from the same loaded index reuse what was segmented, and
    what is remembered stays within Composer.REMEMBERED texts (then it starts afresh)."""
    import collections

    _, store, _ = ingested
    assistant = Assistant(store.config, store.embeddings, min_sentence=0.05)
    composer = assistant.composer
    question = "What did Kobe and Marseille discuss in session 1?"
    assistant.ask(question)  # the composer's own tables (from the name table), made once
    composer._tokens.clear()
    segmented = collections.Counter()
    inner = composer._tokenize
    composer._tokenize = lambda text: segmented.update([text]) or inner(text)
    assert "port functions" in assistant.ask(question)["answer"]
    first = sum(segmented.values())
    assert first and max(segmented.values()) == 1
    assistant.ask(question)
    assert sum(segmented.values()) == first  # nothing segmented again
    composer.REMEMBERED = 3
    composer._tokens.clear()
    assistant.ask(question)
    assert len(composer._tokens) <= 3 and sum(segmented.values()) > first  # bounded, so some again


def test_a_serving_process_reads_its_documents_glosses_from_the_index_not_the_bridge_table(ingested):
    """The word bridge's glosses of the documents' words are stored with the read index: a
    serving process answers without loading the bridge table; only a question's word that no
    document uses still loads it."""
    from core import bilingual

    _, store, _ = ingested
    stored = index.load(store)
    assert stored.bridge_id == bilingual.table_id() and stored.glosses
    assert all(bilingual.has_cjk(t) for t in stored.glosses)
    # a fresh serving process: nothing of the bridge loaded yet
    bilingual._table.cache_clear()
    bilingual._english_words.cache_clear()
    bilingual._STORED.clear()
    assistant = Assistant(store.config, store.embeddings, min_sentence=0.05)
    result = assistant.ask("What did Kobe and Marseille discuss in session 1?")
    assert not result["abstained"]
    assert bilingual._table.cache_info().currsize == 0, "the bridge table was loaded"
    assistant.ask("神戸は何を募集しましたか")  # 募集: a word no document uses
    assert bilingual._table.cache_info().currsize == 1


def test_an_index_grown_from_the_stored_one_glosses_only_its_new_words(ingested, glossary, monkeypatch):
    """Adding passages to a stored index keeps its words' glosses as they are and looks at only
    the words the new passages bring (not the whole vocabulary): the same glosses as an index
    built afresh."""
    from core import bilingual, settings

    _, store, _ = ingested
    kept = list(store.iter_chunks())
    japanese = next(r for r in kept if bilingual.has_cjk(r["text"]))
    # a passage with Japanese words no document holds
    new = {**japanese, "id": "new", "text": japanese["text"] + "。蒸気機関車の博物館を見学した。"}
    tokenizer = settings.get("lexical_tokenizer")
    earlier = index.build(kept, glossary, tokenizer, "a")
    looked, seen = [], []
    english_words, has_cjk = bilingual.english_words, index.has_cjk
    monkeypatch.setattr(bilingual, "english_words", lambda t: looked.append(t) or english_words(t))
    monkeypatch.setattr(index, "has_cjk", lambda t: seen.append(t) or has_cjk(t))
    grown = index.build([*kept, new], glossary, tokenizer, "b", previous=earlier)
    added = set(grown.lexical.vocabulary) - set(earlier.lexical.vocabulary)
    assert set(looked) == {t for t in grown.glosses if t not in earlier.glosses} and looked
    assert set(seen) <= added | {new["text"]}
    monkeypatch.setattr(bilingual, "english_words", english_words)
    monkeypatch.setattr(index, "has_cjk", has_cjk)
    assert grown.glosses == index.build([*kept, new], glossary, tokenizer, "c").glosses


def test_a_watching_serving_process_reloads_after_an_ingest_without_a_question(ingested, glossary, monkeypatch):
    """`iurc serve` watches the store: the new index is loaded when an ingest ends, not inside
    the next question. (The wait below only bounds a hang; what is asserted is the reload.)"""
    import time

    corpus, store, _ = ingested
    monkeypatch.setenv("IURC_RELOAD_CHECK_SECONDS", "0.05")
    assistant = Assistant(store.config, store.embeddings, min_sentence=0.05)
    before = assistant._state
    assistant.watch()
    (corpus / "note_08.md").write_text("# Meeting 8\n\nKobe and Marseille met about cruise ferries.\n", "utf-8")
    ingest([str(corpus)], store, glossary, progress=False)
    deadline = time.monotonic() + 60
    while assistant._state is before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert assistant._state is not before and assistant._state.generation == store.generation()
    assert any("cruise ferries" in p.text for p in assistant.retriever.passages)


def test_the_stored_index_is_what_a_fresh_build_gives(ingested):
    _, store, _ = ingested
    table = parse_glossary(store.stored_glossary())
    stored = index.load(store)
    fresh = index.build(store.iter_chunks(), table, "sudachi", "fresh")
    assert [p.chunk_id for p in stored.passages] == [p.chunk_id for p in fresh.passages]
    assert [p.entities for p in stored.passages] == [p.entities for p in fresh.passages]
    assert [p.record for p in stored.passages] == [p.record for p in fresh.passages]
    assert any(p.entities for p in stored.passages)
    for query in (["kobe", "port"], ["神戸", "港湾"], ["umea", "kamakura"]):
        assert np.allclose(stored.lexical.scores(query), fresh.lexical.scores(query))
        assert stored.lexical.scores(query).max() > 0


def test_a_changed_name_table_rematches_only_the_passages_holding_a_changed_form(ingested):
    """A new name ("Session 1", made up as a place) changes the name table: the index reuses
    every other passage's names and matches again only the passages that hold a form added,
    dropped or moved to another entity; the result is what a full build gives."""
    _, store, _ = ingested
    before = parse_glossary(store.stored_glossary())
    after = parse_glossary(store.stored_glossary().rstrip("\n") + "\nfound:session-one,city,,Session 1,,\n")
    previous = index.build(store.iter_chunks(), before, "sudachi", "a")
    matched = []
    find = after.find
    after.find = lambda text, *rest: matched.append(text) or find(text, *rest)
    rows = [{"id": p.chunk_id, "passage": p} for p in previous.passages]
    built = index.build(rows, after, "sudachi", "b", previous=previous, previous_names=before)
    after.find = find
    fresh = index.build(store.iter_chunks(), after, "sudachi", "c")
    assert [p.entities for p in built.passages] == [p.entities for p in fresh.passages]
    assert [p.record for p in built.passages] == [p.record for p in fresh.passages]
    assert any("found:session-one" in p.entities for p in built.passages)
    holding = [p for p in previous.passages if "session 1" in p.text.casefold()]
    assert 0 < len(matched) <= 2 * len(holding) < len(previous.passages)


def test_round_trip_through_bytes_keeps_scores_and_an_empty_store_works():
    texts = ["Kobe port functions", "神戸の港湾機能", "", "Marseille port and tourism"]
    built = LexicalIndex(texts)
    vocabulary = dict(built.vocabulary)
    restored = LexicalIndex.from_arrays(built.arrays(), vocabulary, built.size, "sudachi")
    for query in (["port"], ["港湾"], ["tourism", "kobe"]):
        assert np.allclose(built.scores(query), restored.scores(query))
    empty = index.build([], parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n"), "sudachi", "g")
    again = index.from_bytes(index.to_bytes(empty))
    assert again.passages == [] and again.lexical.scores(["port"]).size == 0


def test_a_second_ingest_segments_only_the_new_passages(ingested, monkeypatch, glossary):
    corpus, store, first = ingested
    before = index.load(store)
    note = corpus / "note_00.md"
    note.write_text(note.read_text("utf-8").replace("port functions", "cruise tourism"), "utf-8")
    segmented = []
    original = index.tokenizer_for

    def counting(name):
        tokenize = original(name)
        return lambda text: segmented.append(text) or tokenize(text)

    monkeypatch.setattr(index, "tokenizer_for", counting)
    report = ingest([str(corpus)], store, glossary, progress=False)
    assert report.added >= 1 and len(segmented) == report.added
    after = index.load(store)
    assert after.generation == store.generation() != before.generation
    for word in ("cruise", "functions"):  # the new passage's words, and the unchanged ones'
        assert after.lexical.scores(after.lexical.tokenize(word)).max() > 0
    assert len(after.passages) == store.count()


def test_a_damaged_or_stale_index_is_rebuilt_and_repaired_by_the_next_ingest(ingested, glossary, caplog):
    corpus, store, _ = ingested
    head = store.index_head()
    part = f"{head['generation']}:0"
    store.index.upsert(ids=[part], embeddings=[[1.0]], metadatas=[{"part": "AAAA"}])
    assert index.load(store) is None
    assistant = Assistant(store.config, store.embeddings, min_sentence=0.05)  # builds its own
    assert len(assistant.retriever.passages) == store.count()
    assert not assistant.ask("What did Kobe and Marseille discuss in session 1?")["abstained"]
    report = ingest([str(corpus)], store, glossary, progress=False)
    assert report.added == report.updated == 0
    repaired = index.load(store)
    assert repaired is not None and repaired.generation == store.generation()


def test_an_embedded_store_keeps_its_index_in_files_a_damaged_one_is_rebuilt(tmp_path, fake_embeddings, glossary):
    """On disk, the read-side index is a file per generation plus a head (not Chroma records):
    the previous generation's file goes when a new one is written, a damaged file is not used
    (the reader builds its own) and the next ingest writes a good one."""
    from core.store import StoreConfig, open_store

    corpus = make_corpus(tmp_path / "corpus")
    store = open_store(StoreConfig(str(tmp_path / "store"), "", 8000, "iurc"), fake_embeddings)
    ingest([str(corpus)], store, glossary, progress=False)
    folder = tmp_path / "store" / "read_index" / store.physical
    first = store.generation()
    assert [p.name for p in folder.glob("*.bin")] == [f"{first}.bin"] and (folder / "head.json").is_file()
    assert store.index.count() == 0  # nothing of it in Chroma
    (corpus / "note_09.md").write_text("# Meeting 9\n\nKobe and Marseille met again about ferries.\n", "utf-8")
    ingest([str(corpus)], store, glossary, progress=False)
    second = store.generation()
    assert second != first and [p.name for p in folder.glob("*.bin")] == [f"{second}.bin"]
    (folder / f"{second}.bin").write_bytes(b"damaged")
    assert index.load(store) is None
    assistant = Assistant(store.config, store.embeddings, min_sentence=0.05)  # builds its own
    assert len(assistant.retriever.passages) == store.count()
    report = ingest([str(corpus)], store, glossary, progress=False)
    assert report.added == report.updated == 0
    repaired = index.load(store)
    assert repaired is not None and repaired.generation == store.generation()


def test_an_unchanged_reingest_does_not_read_the_index_and_a_reader_still_checks_it(tmp_path, fake_embeddings,
                                                                                    glossary, monkeypatch):
    """An ingest that changes nothing tells an intact index file by the size and time recorded
    when it was written, without reading it, and the name table's sources by the documents'
    names' hashes, without reading the names; a serving process still checks its sha256, so a
    file damaged in place (same size, time set back) is not used."""
    import os

    from core.store import Store, StoreConfig, open_store

    corpus = make_corpus(tmp_path / "corpus")
    store = open_store(StoreConfig(str(tmp_path / "store"), "", 8000, "iurc"), fake_embeddings)
    ingest([str(corpus)], store, glossary, progress=False)
    generation = store.generation()

    def refuse(self):
        raise AssertionError("the unchanged re-ingest read the stored index")

    monkeypatch.setattr(Store, "stored_index", refuse)
    monkeypatch.setattr(Store, "document_names", refuse)  # nor the documents' names
    report = ingest([str(corpus)], store, glossary, progress=False)
    assert report.added == report.updated == report.deleted == 0 and store.generation() == generation
    monkeypatch.undo()
    path = tmp_path / "store" / "read_index" / store.physical / f"{generation}.bin"
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert store.index_intact() and index.load(store) is None


def test_documents_names_stay_out_of_the_listing_and_an_older_entry_is_moved_once(tmp_path, fake_embeddings,
                                                                                  glossary):
    """A document's discovered names are kept apart from its manifest entry (a listing reads
    their hash only); an entry written by an older version, names in its metadata, is moved by
    the next ingest and the name table it gives is the same."""
    from core.store import StoreConfig, open_store

    corpus = make_corpus(tmp_path / "corpus")
    store = open_store(StoreConfig(str(tmp_path / "store"), "", 8000, "iurc"), fake_embeddings)
    ingest([str(corpus)], store, glossary, progress=False)
    entries = store.manifest_entries()
    named = sorted(d for d, e in entries.items() if e.names_sha)
    assert named and all(e.names == "" for e in entries.values())
    names = store.document_names(named)
    assert all(json.loads(names[d]) is not None and names[d] for d in named)
    table = store.stored_glossary()
    for doc in named:  # as an older version wrote them
        metadata = {**entries[doc].as_metadata(), "names": names[doc]}
        del metadata["names_sha"]
        store.manifest.upsert(ids=[doc], embeddings=[[1.0]], documents=[doc], metadatas=[metadata])
        store.names.delete(ids=[doc])
    assert all(store.manifest_entries()[d].names == names[d] for d in named)
    from ingest.pipeline import _store_name_table

    store.put_glossary(table, parse_glossary(table).sha256, made_from="")  # made again, from every entry
    assert not _store_name_table(store, glossary)  # (what `iurc remove` runs, without moving them)
    assert store.stored_glossary() == table
    report = ingest([str(corpus)], store, glossary, progress=False)
    assert report.added == report.updated == 0 and not report.glossary_changed
    assert all(e.names == "" for e in store.manifest_entries().values())
    assert store.document_names(named) == names and store.stored_glossary() == table


def test_a_reader_that_uses_another_name_table_builds_its_entities_itself(ingested, glossary):
    _, store, _ = ingested
    assistant = Assistant(store.config, store.embeddings, glossary, min_sentence=0.05)
    assert assistant.retriever.index.names_sha == glossary.sha256 != index.load(store).names_sha


# --- the store interface -----------------------------------------------------------------------

class InMemoryStore:
    """A second PassageStore, in memory: ingest writes to it and the assistant answers from it,
    which only works if neither needs more than the interface."""

    def __init__(self, config, embeddings):
        self.config, self.embeddings, self.embedder_name = config, embeddings, "fake"
        self.rows: dict[str, dict] = {}
        self.records: dict[str, dict] = {}
        self.blob: dict = {}

    def add(self, chunks, doc_sha256, vectors):
        from core.store import chunk_metadata

        shas = [doc_sha256] * len(chunks) if isinstance(doc_sha256, str) else doc_sha256
        for c, v, sha in zip(chunks, vectors, shas, strict=True):  # the pipeline embeds; a store only keeps
            self.rows[c.chunk_id] = {"id": c.chunk_id, "text": c.text, "metadata": chunk_metadata(c, sha),
                                     "vector": np.asarray(v) / (np.linalg.norm(v) or 1.0)}

    def update_metadata(self, chunks, doc_sha256):
        from core.store import chunk_metadata

        for c in chunks:
            self.rows[c.chunk_id]["metadata"] = chunk_metadata(c, doc_sha256)

    def delete(self, ids):
        for i in ids:
            self.rows.pop(i, None)

    def doc_chunks(self, doc):
        return {i: r["metadata"] for i, r in self.rows.items() if r["metadata"]["doc"] == doc}

    def count(self):
        return len(self.rows)

    def query(self, vector, k):
        v = np.asarray(vector) / (np.linalg.norm(vector) or 1.0)
        sims = sorted(((float(r["vector"] @ v), i) for i, r in self.rows.items()), reverse=True)[:k]
        return {i: s for s, i in sims}

    def warm(self):
        return False  # nothing to load: the first query warms nothing either

    def iter_chunks(self, page=5000):
        for r in self.rows.values():
            yield {"id": r["id"], "text": r["text"], "metadata": r["metadata"]}

    def all_chunks(self):
        return list(self.iter_chunks())

    def chunk_ids(self):
        return list(self.rows)

    def get_chunks(self, ids):
        return [{k: self.rows[i][k] for k in ("id", "text", "metadata")} for i in ids if i in self.rows]

    def begin_rebuild(self):
        self.rows, self.records, self.blob = {}, {}, {}

    def commit_rebuild(self):
        pass

    def reopen(self):
        return self

    def manifest_entries(self):
        return {d: m for d, m in self.records.items() if not d.startswith("__")}

    def put_manifest(self, entry):
        self.records[entry.doc] = entry

    def put_manifests(self, entries):
        for entry in entries:
            self.put_manifest(entry)

    def put_stats(self, stats):
        from dataclasses import replace

        for doc, stat in stats.items():
            if doc in self.records:
                self.records[doc] = replace(self.records[doc], stat=stat)

    def document_names(self, docs):
        return {d: self.records[d].names for d in docs if d in self.records}

    def delete_manifest(self, doc):
        self.records.pop(doc, None)

    def glossary_made_from(self):
        return getattr(self, "_made_from", "")

    def put_glossary(self, text, sha256, made_from=""):
        self._made_from = made_from
        self.records["__glossary__"] = {"text": text}

    def stored_glossary(self):
        return self.records.get("__glossary__", {}).get("text")

    def put_names(self, report_json):
        self.records["__names__"] = {"text": report_json}

    def stored_names(self):
        return self.records.get("__names__", {}).get("text")

    def put_index(self, blob, generation, tokenizer):
        self.blob = {"blob": blob, "generation": generation, "tokenizer": tokenizer}

    def stored_index(self):
        return (self.blob["generation"], self.blob["blob"]) if self.blob else None

    def index_head(self):
        return {k: v for k, v in self.blob.items() if k != "blob"}

    def index_intact(self):
        return self.stored_index() is not None

    def bump_generation(self, generation=""):
        self.records["__generation__"] = {"generation": generation or "g"}
        return self.records["__generation__"]["generation"]

    def generation(self):
        return self.records.get("__generation__", {}).get("generation", "")


def test_the_chroma_store_and_another_implementation_both_serve(tmp_path, store_config, fake_embeddings, glossary):
    assert isinstance(Store(store_config, fake_embeddings), PassageStore)
    other = InMemoryStore(store_config, fake_embeddings)
    assert isinstance(other, PassageStore)
    corpus = make_corpus(tmp_path / "corpus")
    report = ingest([str(corpus)], other, glossary, progress=False)
    assert report.added == other.count() > 0
    assistant = Assistant(store_config, fake_embeddings, store=other, min_sentence=0.05)
    result = assistant.ask("What did Kobe and Marseille discuss in session 1?")
    assert not result["abstained"] and "port functions" in result["answer"]


# --- the typed result -------------------------------------------------------------------------

def test_the_typed_result_and_its_json_form(ingested):
    _, store, _ = ingested
    assistant = Assistant(store.config, store.embeddings, min_sentence=0.05)
    typed = assistant.answer("What did Kobe and Marseille discuss in session 1?")
    assert isinstance(typed, AskResult) and typed.citations and typed.citations[0].quote in typed.citations[0].text
    as_json = typed.as_dict()
    assert {"question", "answer", "language", "abstained", "citations", "related", "timings_ms",
            "answer_kind", "evidence", "entities"} == set(as_json)
    assert set(as_json["citations"][0]) == {"n", "doc", "location", "text", "quote", "score", "language"}
    assert set(as_json["timings_ms"]) == {"retrieve", "answer", "total"}
    refused = assistant.answer("x" * 100_000, with_retrieved=True).as_dict()
    assert refused["abstained"] and refused["error"] and refused["retrieved"] == []
    assert math.isclose(refused["timings_ms"]["retrieve"], 0.0)
