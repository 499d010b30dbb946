"""The assistant: one object that answers questions for the CLI, the UI and the evaluation."""
from __future__ import annotations

import time

from ingest import settings
from ingest.embed import make_embedder
from ingest.glossary import Glossary, load_glossary
from ingest.store import Store, StoreConfig

from .answer import Answer, Composer, abstain_text
from .facts import Facts
from .question import QuestionError, analyze, capitalised_names
from .retrieve import Retriever


class Assistant:
    def __init__(self, config: StoreConfig | None = None, embeddings=None, glossary: Glossary | None = None,
                 tokenizer: str | None = None, min_sentence: float | None = None,
                 min_named_sentence: float | None = None):
        self.config = config or StoreConfig.from_settings()
        self.embeddings = embeddings or make_embedder()
        self.glossary = glossary or load_glossary(settings.get("glossary"))
        self.tokenizer = tokenizer or settings.get("lexical_tokenizer")
        self.min_sentence = settings.get("min_sentence_score", min_sentence)
        self.min_named_sentence = settings.get("min_named_sentence_score", min_named_sentence)
        self.store = Store(self.config, self.embeddings, create=False)
        self.load()

    def load(self) -> None:
        """(Re)build the in-memory indexes from the store."""
        self.retriever = Retriever(self.store, self.embeddings, self.glossary, self.tokenizer)
        self.facts = Facts(self.retriever.passages, self.glossary)
        self.composer = Composer(self.embeddings, self.glossary, self.retriever.lexical.tokenize,
                                 self.min_sentence, self.min_named_sentence)
        self.generator = None
        if settings.get("llm_base_url"):
            from .generate import Generator

            self.generator = Generator(settings.get("llm_base_url"), settings.get("llm_model"),
                                       settings.get("llm_timeout"), self.retriever.lexical.tokenize,
                                       self.glossary)

    def ask(self, question: str, history: list[str] | None = None, k: int | None = None,
            with_retrieved: bool = False) -> dict:
        """Answer one question; the result is the `iurc ask --json` object. `with_retrieved`
        adds the ranked passages that were considered (for the evaluation)."""
        started = time.perf_counter()
        k = k or settings.get("top_k")
        try:
            q = analyze(question, self.glossary, history, settings.get("max_question_chars"))
        except QuestionError as exc:
            result = _result(question, str(exc), _guess_language(question), True, [], [],
                             started, started, error=True)
            if with_retrieved:
                result["retrieved"] = []
            return result
        names = capitalised_names(q.text, self.glossary) if q.language == "en" else \
            self._japanese_names(q.text)
        unknown = self.retriever.unknown_names(q, names)
        vector = self.embeddings.embed_query(q.retrieval_text)
        hits = self.retriever.search(q, vector, k)
        retrieved = time.perf_counter()
        answer: Answer | None = None
        if not unknown:
            facts = self.facts.match(q)
            if facts is not None:
                answer = self.composer.facts(q, facts)
            elif not q.entities or (hits and hits[0].coverage > 0):
                answer = self.composer.compose(q, vector, hits)
                if answer is not None and self.generator is not None:
                    # The generator only rewrites what the extractive step found answerable.
                    answer = self.generator.answer(q, hits) or answer
        if answer is None:
            answer = Answer(abstain_text(q, self.glossary, unknown), q.language, True, [], hits,
                            kind="abstained")
        result = _result(q.text, answer.text, answer.language, answer.abstained, answer.citations,
                         answer.related, started, retrieved)
        result["answer_kind"] = answer.kind
        result["evidence"] = round(answer.evidence, 4)
        result["entities"] = q.entities
        if with_retrieved:
            ranked = [c.passage for c in answer.citations] + [h.passage for h in hits]
            seen, result["retrieved"] = set(), []
            for p in ranked:
                if p.chunk_id not in seen:
                    seen.add(p.chunk_id)
                    result["retrieved"].append({"doc": p.doc, "location": p.location, "text": p.text})
        return result

    def _japanese_names(self, text: str) -> list[str]:
        """Proper nouns in a Japanese question (sudachi's 固有名詞) that the glossary lacks."""
        if self.tokenizer != "sudachi":
            return []
        from .lexical import _sudachi

        tok, mode = _sudachi()
        known = [(m.start, m.end) for m in self.glossary.find(text)]
        names = []
        for m in tok.tokenize(text, mode):
            pos = m.part_of_speech()
            if pos[1] == "固有名詞" and not any(s <= m.begin() < e for s, e in known):
                names.append(m.surface())
        return names


def _guess_language(text: str | None) -> str:
    from .question import question_language

    return question_language(text or "")


def _result(question, text, language, abstained, citations, related, started, retrieved,
            error: bool = False) -> dict:
    done = time.perf_counter()
    out = {
        "question": question,
        "answer": text,
        "language": language,
        "abstained": abstained,
        "citations": [{"n": c.n, "doc": c.passage.doc, "location": c.passage.location,
                       "text": c.passage.text, "quote": c.quote, "score": round(c.score, 4)}
                      for c in citations],
        "related": [{"doc": h.passage.doc, "location": h.passage.location, "text": h.passage.text,
                     "score": round(h.dense, 4)} for h in related[:3]],
        "timings_ms": {"retrieve": round((retrieved - started) * 1000, 2),
                       "answer": round((done - retrieved) * 1000, 2),
                       "total": round((done - started) * 1000, 2)},
    }
    if error:
        out["error"] = text
    return out
