"""The assistant: one object that answers questions for the CLI, the UI and the evaluation."""
from __future__ import annotations

import copy
import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from core import index, settings
from core.bilingual import bridged, table_id, use_stored
from core.embed import make_embedder
from core.glossary import Glossary, load_glossary, parse_glossary
from core.store import PassageStore, StoreConfig, StoreGone, open_store

from app.answering.answer import Answer, Composer, abstain_text, asked_values
from app.answering.facts import Facts
from app.answering.result import AskResult, CitedPassage, RelatedPassage, Timings
from app.answering.link import Linked, link
from app.answering.question import Question, QuestionError, analyze
from app.answering.retrieve import Retriever

log = logging.getLogger("iurc")


@dataclass
class _State:
    """Everything built from one generation of the store; replaced whole on reload."""

    store: PassageStore
    generation: str
    glossary: Glossary
    retriever: Retriever
    facts: Facts
    composer: Composer
    generator: object | None
    _known: tuple[frozenset, frozenset] | None = field(default=None, init=False, repr=False)

    def known_words(self) -> tuple[frozenset, frozenset]:
        """Every word the documents use (the lexical vocabulary, and the English words its
        Japanese ones mean through the word bridge), and the first five letters of each Latin
        one; built at the first question that needs them."""
        if self._known is None:
            vocabulary = set(self.retriever.lexical.vocabulary)
            words = frozenset(vocabulary | bridged({t for t in vocabulary if not t.isascii()}))
            self._known = words, frozenset(w[:5] for w in words if w.isascii() and len(w) >= 5)
        return self._known


class Assistant:
    def __init__(self, config: StoreConfig | None = None, embeddings=None, glossary: Glossary | None = None,
                 tokenizer: str | None = None, min_sentence: float | None = None,
                 min_named_sentence: float | None = None, store: PassageStore | None = None):
        """`store`: any PassageStore (default: the Chroma store `config` names)."""
        self.config = config or StoreConfig.from_settings()
        self.embeddings = embeddings or make_embedder()
        self._given_glossary = glossary
        self.tokenizer = tokenizer or settings.get("lexical_tokenizer")
        self.min_sentence = settings.get("min_sentence_score", min_sentence)
        self.min_named_sentence = settings.get("min_named_sentence_score", min_named_sentence)
        self.reload_seconds = settings.get("reload_check_seconds")
        self._reload_lock = threading.Lock()
        self._checked_at = time.monotonic()
        # The embedding model loads first, in its own thread: its work is native code, which runs
        # beside the store client's imports and the read-side index load here (a cold `iurc ask`
        # waits for the longer of the two, not their sum).
        model = threading.Thread(target=_load_model, args=(self.embeddings,), daemon=True)
        model.start()
        store = store or open_store(self.config, self.embeddings, create=False)
        # The store's vector index loads on first use; warmed here too, so the first question
        # does not pay for it.
        warm = threading.Thread(target=_warm, args=(self.embeddings, store, model), daemon=True)
        warm.start()
        self._state = self._build(store)
        # The documents' known words, which most questions read (their glosses come with the
        # read index: the bridge table itself loads only for a question's word no document uses).
        self._state.known_words()
        warm.join()

    # The current generation's parts; each question reads them from one _State.
    store = property(lambda self: self._state.store)
    glossary = property(lambda self: self._state.glossary)
    retriever = property(lambda self: self._state.retriever)
    facts = property(lambda self: self._state.facts)
    composer = property(lambda self: self._state.composer)

    def _build(self, store: PassageStore) -> _State:
        generation = store.generation()
        glossary = self._given_glossary
        if glossary is None:
            # The glossary the passages were built with travels with the collection, so every
            # process, on any machine, matches names the same way; the file is the fallback.
            stored = store.stored_glossary()
            glossary = parse_glossary(stored, "glossary stored with the collection") if stored \
                else load_glossary(settings.get("glossary"))
        # Passages, their names and the lexical index as ingest stored them for this generation;
        # rebuilt here only when this process uses another tokenizer or name table.
        read_index = index.current(store, glossary, self.tokenizer, generation)
        if read_index.bridge_id and read_index.bridge_id == table_id():
            use_stored(read_index.glosses)  # the documents' words need no bridge table loaded
        retriever = Retriever(store, glossary, read_index)
        # An answer writes names as these documents write them (its own copy of the table: the
        # table given may serve other stores, and the UI's views keep the table's names).
        written = copy.copy(glossary)
        written.written = retriever.written_form
        generator = None
        if settings.get("llm_base_url"):
            from app.answering.generate import Generator

            generator = Generator(settings.get("llm_base_url"), settings.get("llm_model"),
                                  settings.get("llm_timeout"), retriever.lexical.tokenize, glossary)
        return _State(store, generation, glossary, retriever, Facts(retriever.passages, glossary),
                      Composer(self.embeddings, written, retriever.lexical.tokenize, self.min_sentence,
                               self.min_named_sentence), generator)

    def load(self) -> None:
        """Rebuild the in-memory indexes from the store now."""
        self._state = self._build(self._state.store)

    def document_of(self, key: str) -> str | None:
        """The stored document whose `original_key` this is, or None."""
        return next((doc for doc in self._state.store.manifest_entries() if original_key(doc) == key), None)

    def original(self, key: str) -> tuple[Path, str] | None:
        """The file the stored document with this `original_key` was read from, and its format,
        when it is still on this machine and unchanged since ingest; None otherwise. Only
        documents in the manifest have keys, so no other path can be asked for."""
        doc = self.document_of(key)
        entry = self._state.store.manifest_entries().get(doc) if doc else None
        if not entry or not entry.complete or not entry.path:
            return None
        path = Path(entry.path)
        try:
            if path.is_symlink() or not path.is_file():
                return None
            data = path.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            return None  # changed since it was indexed: what is cited is not in this file any more
        return path, entry.format

    def watch(self) -> threading.Thread:
        """Check the store's generation every IURC_RELOAD_CHECK_SECONDS in a thread of its own and
        reload as soon as it changed, so a serving process has the new index ready before the
        next question rather than building it inside that question (`iurc serve` does this)."""
        def loop() -> None:
            while True:
                time.sleep(self.reload_seconds)
                try:
                    self.reload_if_changed(force=True)
                except Exception as exc:  # noqa: BLE001 - a failed check is retried; questions go on
                    log.warning("store check failed: %s: %s", type(exc).__name__, exc)

        thread = threading.Thread(target=loop, name="iurc-store-watch", daemon=True)
        thread.start()
        return thread

    def reload_if_changed(self, force: bool = False) -> bool:
        """Reload when an ingest (from any process) changed the store. Checked at most every
        IURC_RELOAD_CHECK_SECONDS; questions in flight finish on the state they started with."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.reload_seconds:
            return False
        self._checked_at = now
        if not self._reload_lock.acquire(blocking=False):
            return False  # another thread is reloading
        try:
            if self._state.store.generation() == self._state.generation:
                return False
            try:
                self._state = self._build(self._state.store.reopen())
            except Exception as exc:  # noqa: BLE001 - store mid-switch or unreachable: keep serving
                log.warning("reload failed, still answering from the loaded index: %s: %s",
                            type(exc).__name__, exc)
                return False
            return True
        finally:
            self._reload_lock.release()

    def search(self, question: str, history: list[str] | None = None, k: int | None = None) -> list:
        """The passages the assistant would answer from, best first (hybrid retrieval over the
        question's names in both scripts), without composing an answer. Raises QuestionError
        for a question that cannot be asked."""
        self.reload_if_changed()
        state = self._state
        q = self._analysed(question, history, state).question
        return state.retriever.search(q, self.embeddings.embed_query(q.retrieval_text), k or settings.get("top_k"))

    def _analysed(self, question: str, history: list[str] | None, state: _State) -> Linked:
        """The question analysed and its names linked: what search and answer both work from.
        Raises QuestionError for a question that cannot be asked."""
        q = analyze(question, state.glossary, history, settings.get("max_question_chars"))
        if q.context == "bare" and _new_words(q, state):
            # No subject of its own, but a word the documents never use: a new topic, asked for
            # itself (and refused if the documents cannot answer it), not the last subject's.
            q = analyze(question, state.glossary, None, settings.get("max_question_chars"))
        linked = link(q, state.glossary, state.retriever, self.tokenizer)
        if q.context in ("pronoun", "bare") and not q.inherited and not linked.question.entities \
                and not linked.question.other_names and history:
            # "そのテーマは?" after a question about a programme the name table lacks: the subject
            # pointed back to is the names the last question wrote.
            before = link(analyze(history[-1], state.glossary, None, settings.get("max_question_chars")),
                          state.glossary, state.retriever, self.tokenizer).question
            if before.other_names and not before.entities:
                linked = Linked(replace(linked.question, other_names=before.other_names, inherited=True), linked.unknown)
        return linked

    def ask(self, question: str, history: list[str] | None = None, k: int | None = None,
            with_retrieved: bool = False) -> dict:
        """Answer one question; the result is the `iurc ask --json` object. `with_retrieved`
        adds the ranked passages that were considered (for the evaluation)."""
        return self.answer(question, history, k, with_retrieved).as_dict()

    @staticmethod
    def _names_every_subject(q: Question, citation, state) -> bool:
        """The quoted sentence (or its section's heading) names every subject of the question
        ("霞ヶ丘市が訪問した地域": a sentence about "the five towns" does not name 霞ヶ丘市);
        a follow-up's subjects, inherited from an earlier turn, may stand as a pronoun."""
        if q.inherited:
            return True
        named = {m.entity_id for m in state.glossary.find(citation.quote + " " + citation.passage.section)}
        return set(q.entities) <= named

    def answer(self, question: str, history: list[str] | None = None, k: int | None = None,
               with_retrieved: bool = False) -> AskResult:
        """Answer one question (typed; `ask` gives the same as JSON-ready dict)."""
        self.reload_if_changed()
        state = self._state
        started = time.perf_counter()
        k = k or settings.get("top_k")
        try:
            linked = self._analysed(question, history, state)
        except QuestionError as exc:
            question = question if isinstance(question, str) else repr(question)[:200]
            return _result(question, Answer(str(exc), _guess_language(question), True, kind="abstained"), started, started,
                           error=str(exc), ranking=[] if with_retrieved else None)
        q, unknown = linked.question, list(linked.unknown)
        vector = self.embeddings.embed_query(q.retrieval_text)
        try:
            hits = state.retriever.search(q, vector, k)
        except StoreGone:
            # A rebuild switched the store while this question was under way: answer from the
            # new one (the question's analysis stands; names are re-read from the new table).
            for _ in range(100):  # another thread may be reloading already: wait for it
                if self._state is not state or self.reload_if_changed(force=True):
                    return self.answer(question, history, k, with_retrieved)
                time.sleep(0.1)
            raise
        retrieved = time.perf_counter()
        answer: Answer | None = None
        if not unknown and (q.entities or q.other_names) and not asked_values(q) and not q.years and not q.ordinals:
            # "What will the weather be in X tomorrow?": X is in the documents, but nothing
            # asked about it is, in either language: the documents cannot answer it.
            unknown = _unknown_words(q, state)
        if not unknown:
            facts = state.facts.match(q) or state.facts.whole_table(q, hits)
            if facts is not None and q.entities and all(r.language != q.language for r in facts.rows):
                # Table rows in another language than the asker's: a passage in the asker's own
                # language that names every subject and answers well enough is the readable answer.
                prose = state.composer.compose(q, vector, hits)
                # (a count is answered by prose only when its number counts the noun asked:
                # 「5都市が参加」 does not count the regions a town visited)
                if prose is not None and prose.citations and prose.citations[0].passage.language == q.language and \
                        (not q.wants_count or state.composer.counts_asked(q, prose.citations[0].quote)) and \
                        hits and hits[0].coverage == 1.0 and self._names_every_subject(q, prose.citations[0], state) and \
                        all(y in prose.citations[0].quote for y in q.years):  # about the year asked
                    facts, answer = None, prose
            if facts is not None:
                answer = state.composer.facts(q, facts)
            elif answer is None and (not q.entities or (hits and hits[0].coverage > 0)):
                answer = state.composer.compose(q, vector, hits, state.retriever.attribute_passages(q),
                                                state.retriever.document_passages(hits) if asked_values(q) else ())
            if answer is not None and answer.kind == "extractive" and state.generator is not None:
                # The generator only rewrites what the extractive step found answerable.
                answer = state.generator.answer(q, hits) or answer
        if answer is None:
            answer = Answer(abstain_text(q, state.glossary, unknown), q.language, True, [], hits,
                            kind="abstained")
        return _result(q.text, answer, started, retrieved, entities=q.entities,
                       # The retriever's own ranking, before the answer reorders passages or adds
                       # table rows: the evaluation's recall@k and MRR measure retrieval.
                       ranking=hits if with_retrieved else None)


def _new_words(q: Question, state: _State) -> bool:
    """Whether the question uses a word (as the lexical index tokenizes it) no document has."""
    vocabulary = state.retriever.lexical.vocabulary
    return any(token not in vocabulary for token in state.retriever.lexical.tokenize(q.text))


def _unknown_words(q: Question, state: _State) -> list[str]:
    """The words a question asks about beyond its names, as written, when no document uses any
    of them (nor, through the Japanese -> English word bridge, a word meaning one); [] otherwise."""
    tokenize = state.retriever.lexical.tokenize
    names = state.composer.name_tokens(q) | {t for n in [*q.other_names, *q.spelled.values()] for t in tokenize(n)}
    asked = [t for t in dict.fromkeys(tokenize(q.text)) if t not in names and not t.isdigit()]
    if not asked:
        return []
    # A Latin word the documents use in another form ("cooperate", "cooperation") is known: one
    # of their words shares its first five letters (the Snowball stemmer does not fold every
    # derived form: "organisation", "organise").
    known, prefixes = state.known_words()
    if any(t in known or (t.isascii() and len(t) >= 5 and t[:5] in prefixes) for t in asked):
        return []
    # A Japanese word whose English meanings an English document uses is known too: through the
    # word bridge, or a word family of the vocabulary files (役職 asked of a table headed "Role").
    families = state.composer.word_families()
    if any(bridged({t}) & known for t in asked if not t.isascii()) \
            or any(families.get(t, frozenset()) & known for t in asked):
        return []
    # Only words as the question writes them count (not the readings the tokenizer adds, nor
    # the dictionary forms of inflected Japanese verbs, which the documents may say otherwise),
    # and a single one ("What did X talk about?") is too little to call the question another
    # topic: it may be a verb the documents say in other words.
    written = [t for t in asked if t in q.text.casefold()]
    return written if len(written) >= 2 else []


def _load_model(embeddings) -> None:
    try:
        embeddings.embed_query("warm-up")
    except Exception:  # noqa: BLE001 - a model that cannot load says so at the first real question
        pass


def _warm(embeddings, store: PassageStore, model: threading.Thread) -> None:
    try:
        # (beside the model's load when the store can load its index without a real vector)
        warmed = store.warm()
    except Exception:  # noqa: BLE001 - a failing store shows at the first real question
        warmed = False
    model.join()
    if warmed:
        return
    try:
        store.query(embeddings.embed_query("warm-up"), 1)
    except Exception:  # noqa: BLE001 - an empty store or a failing one shows at the first real question
        pass


def original_key(doc: str) -> str:
    """An opaque handle for a stored document in URLs: its name never becomes a path."""
    return hashlib.sha256(doc.encode("utf-8")).hexdigest()[:24]


def _guess_language(text: str | None) -> str:
    from app.answering.question import question_language

    return question_language(text or "")


def _result(question: str, answer: Answer, started: float, retrieved: float, entities=(), error: str = "",
            ranking: list | None = None) -> AskResult:
    done = time.perf_counter()
    return AskResult(
        question=question, answer=answer.text, language=answer.language, abstained=answer.abstained,
        citations=[CitedPassage(c.n, c.passage.doc, c.passage.location, c.passage.text, c.quote,
                                round(c.score, 4), c.passage.language) for c in answer.citations],
        related=[_related(h) for h in answer.related[:3]],
        timings_ms=Timings(round((retrieved - started) * 1000, 2), round((done - retrieved) * 1000, 2),
                           round((done - started) * 1000, 2)),
        answer_kind=answer.kind, evidence=round(answer.evidence, 4), entities=list(entities), error=error,
        retrieved=None if ranking is None else [_related(h) for h in ranking])


def _related(hit) -> RelatedPassage:
    return RelatedPassage(hit.passage.doc, hit.passage.location, hit.passage.text, round(hit.dense, 4),
                          hit.passage.language)
