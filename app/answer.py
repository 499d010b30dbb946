"""Grounded extractive answers: a first line naming what is answered, then sentences quoted
verbatim from the passages, each followed by [n]; or an exact answer from table facts; or an
abstention with the closest passages listed as related."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ingest.glossary import Glossary, is_cjk

from .facts import FactAnswer
from .question import YEAR, Question
from .retrieve import Hit, Passage

SENTENCE_PATTERN = re.compile(r"[^\n]+?(?:[。！？]|[.!?](?=\s|$)|$)")


@dataclass
class Span:
    passage: Passage
    start: int
    end: int
    score: float = 0.0

    @property
    def text(self) -> str:
        return self.passage.text[self.start:self.end]


@dataclass
class Citation:
    n: int
    passage: Passage
    quote: str
    score: float


@dataclass
class Answer:
    text: str
    language: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    related: list[Hit] = field(default_factory=list)
    kind: str = "extractive"  # extractive, facts, abstained, generated
    evidence: float = 0.0  # score of the best quoted sentence; abstention compares it to a threshold


def body_start(p: Passage) -> int:
    """Where the passage's own text starts (after its heading or table title line)."""
    first = p.text.split("\n", 1)[0]
    if "\n" in p.text and p.section and first == p.section:
        return len(first) + 1
    return 0


def sentences(p: Passage) -> list[Span]:
    start = body_start(p)
    if p.kind == "table_row":
        return [Span(p, start, len(p.text))]
    spans = []
    for m in SENTENCE_PATTERN.finditer(p.text, start):
        s, e = m.start(), m.end()
        while s < e and p.text[s].isspace():
            s += 1
        if e - s >= 2:
            spans.append(Span(p, s, e))
    return spans


def _join_names(names: list[str], language: str) -> str:
    if language == "ja":
        return "と".join(names)
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


# Said before a quote in the other language, so the reader knows why it reads differently.
SOURCE_LANGUAGE = {"en": {"ja": "(quoted from a Japanese source)", "en": ""},
                   "ja": {"en": "(英語の資料からの引用)", "ja": ""}}


def subject_line(q: Question, glossary: Glossary) -> str:
    """'Kamakura (Japan) and Umeå (Sweden):' / '鎌倉市とウメオ市:'."""
    if not q.entities:
        return "資料によると:" if q.language == "ja" else "From the documents:"
    names = []
    for entity_id in q.entities:
        e = glossary.entities[entity_id]
        if q.language == "ja":
            names.append(e.name_ja or e.name_en)
        else:
            country = glossary.entities.get(e.country)
            names.append(f"{e.name_en} ({country.name_en})" if e.kind == "city" and country else e.name_en)
    line = _join_names(names, q.language)
    if q.language == "ja" and not any(is_cjk(c) for c in line):
        line += "について"  # a name written in Latin letters only: the line still reads as Japanese
    return line + ":"


def facts_line(q: Question, facts: FactAnswer, glossary: Glossary) -> str:
    d, n = facts.description, len(facts.rows)
    names = [glossary.display_name(e, q.language) for e in d.get("entities", [])]
    if q.language == "ja":
        parts = []
        if d.get("years"):
            parts.append("・".join(d["years"]) + "年に開始した")
        if d.get("batch"):
            parts.append(f"{d['batch']} batchの")
        if names:
            parts.append(_join_names(names, "ja") + "が参加する")
        if d.get("topic"):
            parts.append("「" + "・".join(d["topic"]) + "」に関する")
        return "".join(parts) + f"ペア: {n}組"
    what = "pair" if n == 1 else "pairs"
    parts = []
    if names:
        parts.append("with " + _join_names(names, "en"))
    if d.get("topic"):
        parts.append("on " + ", ".join(f"“{t}”" for t in d["topic"]))
    if d.get("batch"):
        parts.append(f"in the {d['batch']} batch")
    if d.get("years"):
        parts.append("started in " + " or ".join(d["years"]))
    if q.wants_count:
        return f"{n} {what} " + " ".join(parts) + ":" if parts else f"{n} {what}:"
    parts = [("that " + p) if p.startswith("started") else p for p in parts]
    return f"{what.capitalize()} " + " ".join(parts) + f" ({n}):"


def abstain_text(q: Question, glossary: Glossary, unknown: list[str]) -> str:
    if q.language == "ja":
        about = "「" + "・".join(unknown) + "」について" if unknown else "この質問について"
        return f"資料には{about}の記載がありません。関連する可能性のある箇所を下に示します。"
    if unknown:
        return (f"The documents say nothing about {', '.join(unknown)}. "
                "The closest passages are listed as related.")
    return "The documents do not say. The closest passages are listed as related."


def _merge_adjacent(spans: list[Span]) -> list[Span]:
    """Neighbouring sentences become one quote, so every quote is one exact span."""
    merged: list[Span] = []
    for span in spans:
        last = merged[-1] if merged else None
        if last and not span.passage.text[last.end:span.start].strip():
            merged[-1] = Span(span.passage, last.start, span.end, max(last.score, span.score))
        else:
            merged.append(Span(span.passage, span.start, span.end, span.score))
    return merged


class Composer:
    """Chooses and quotes sentences. Thresholds come from settings calibrated on eval/."""

    def __init__(self, embeddings, glossary: Glossary, tokenize, min_sentence: float,
                 min_named_sentence: float, max_passages: int = 3, per_passage: int = 2):
        self.embeddings = embeddings
        self.glossary = glossary
        self.tokenize = tokenize
        self.min_sentence = min_sentence
        self.min_named_sentence = min_named_sentence
        self.max_passages = max_passages
        self.per_passage = per_passage
        self._cache: dict[str, np.ndarray] = {}

    def _vectors(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for t, v in zip(missing, self.embeddings.embed_documents(missing)):
                self._cache[t] = np.asarray(v, dtype=np.float32)
            if len(self._cache) > 50_000:  # bounded memory in long-running servers
                self._cache.clear()
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1))

    def score_spans(self, q: Question, qvec: list[float], hits: list[Hit]) -> list[Span]:
        spans = [s for h in hits for s in sentences(h.passage)]
        if not spans:
            return []
        sims = self._vectors([s.text for s in spans]) @ np.asarray(qvec, dtype=np.float32)
        wanted = set(q.entities)
        # Words of the question other than its names: what is asked about them.
        name_tokens = {t for e in wanted for n in self.glossary.entities[e].names for t in self.tokenize(n)}
        q_tokens = set(self.tokenize(q.retrieval_text)) - name_tokens
        for span, sim in zip(spans, sims):
            mentioned = {m.entity_id for m in self.glossary.find(span.text)}
            coverage = len(mentioned & wanted) / len(wanted) if wanted else 0.0
            overlap = len(q_tokens & set(self.tokenize(span.text)))
            span.score = float(sim) + 0.05 * coverage + 0.08 * min(overlap, 3)
            if q.wants_when and YEAR.search(span.text):
                span.score += 0.15
        return spans

    def compose(self, q: Question, qvec: list[float], hits: list[Hit]) -> Answer | None:
        """The extractive answer, or None when no sentence is good enough (abstain)."""
        top = [h for h in hits if h.coverage == hits[0].coverage][: self.max_passages + 2] if hits else []
        spans = self.score_spans(q, qvec, top)
        # A question anchored on a name the documents contain needs less textual evidence.
        floor = self.min_named_sentence if q.entities else self.min_sentence
        if not spans or max(s.score for s in spans) < floor:
            return None
        by_passage: dict[str, list[Span]] = {}
        for s in spans:
            by_passage.setdefault(s.passage.chunk_id, []).append(s)
        best = {cid: max(ss, key=lambda s: s.score) for cid, ss in by_passage.items()}
        ranked = sorted(best.values(), key=lambda s: -s.score)
        # Readable first: a passage in the asker's language that answers about as well as the best
        # one (within the margin that admits a second passage) leads the answer.
        own_language = [s for s in ranked if s.passage.language == q.language
                        and s.score >= max(floor, ranked[0].score - 0.05)]
        if own_language and own_language[0] is not ranked[0]:
            ranked.remove(own_language[0])
            ranked.insert(0, own_language[0])
        chosen = [ranked[0].passage]
        # When passages in both languages answer, quote both.
        for s in ranked[1:]:
            if len(chosen) >= self.max_passages:
                break
            if s.passage.language != chosen[0].language and q.entities:
                # Another language, naming the same subject: an answer in its own right.
                good = s.score >= floor
            else:
                good = s.score >= max(floor, ranked[0].score - 0.05)
            if good:
                chosen.append(s.passage)
        lines, citations = [subject_line(q, self.glossary)], []
        for passage in chosen:
            own = by_passage[passage.chunk_id]
            top_score = max(s.score for s in own)
            keep = sorted(own, key=lambda s: -s.score)[: self.per_passage]
            keep = sorted((s for s in keep if s.score >= max(floor, top_score - 0.1)),
                          key=lambda s: s.start)
            parts = [] if passage.language in (q.language, "mixed") else [SOURCE_LANGUAGE[q.language][passage.language]]
            for span in _merge_adjacent(keep):
                citations.append(Citation(len(citations) + 1, passage, span.text, span.score))
                parts.append(f"{span.text} [{len(citations)}]")
            lines.append(" ".join(parts))
        return Answer("\n".join(lines), q.language, False, citations, evidence=ranked[0].score)

    def facts(self, q: Question, facts: FactAnswer) -> Answer:
        lines, citations = [facts_line(q, facts, self.glossary)], []
        for n, row in enumerate(facts.rows, start=1):
            quote = row.text[body_start(row):]
            citations.append(Citation(n, row, quote, 1.0))
            lines.append(f"- {quote} [{n}]")
        return Answer("\n".join(lines), q.language, False, citations, kind="facts", evidence=1.0)
