"""`iurc eval`: score the assistant and the naive baseline with the same deterministic metrics
(no model judge) on every run of eval/runs.yaml (the seed split, the unseen split, and the
unseen split with the glossary reduced to its header), write one Markdown report with a chart,
and gate each run and split on eval/thresholds.yaml."""
from __future__ import annotations

import json
import re
import statistics
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from core import settings
from core.text import detect_language
from app.answering.lead import FIRST_LINE_COLUMNS, columns
from core.glossary import is_cjk

METRICS = ["pass_rate", "first_line", "fact_language", "lead_on_topic", "pass_rate_400", "recall_at_1", "recall_at_5", "mrr", "citation_precision", "citation_recall",
           "fact_recall", "abstention_precision", "abstention_recall", "language_accuracy", "readable"]
# The metrics the `alike` rule compares (issue 12's contract); the reader's metrics of issue 24
# are gated by their own minimums.
ALIKE_METRICS = ["pass_rate", "pass_rate_400", "recall_at_1", "recall_at_5", "mrr", "citation_precision", "citation_recall",
                 "fact_recall", "abstention_precision", "abstention_recall", "language_accuracy", "readable"]
# Metrics the gate holds below a maximum (the rest above a minimum).
MAXIMUM_METRICS = {"garbled", "chars_before_fact"}
# The old pass rule (key facts anywhere in the answer's first this many characters), reported
# beside the first-line rule for comparison.
ANSWER_HEAD_CHARS = 400
LABELS = {"recall_at_1": "retrieval recall@1", "recall_at_5": "retrieval recall@5", "mrr": "MRR",
          "citation_precision": "citation precision", "citation_recall": "citation recall",
          "fact_recall": "key-fact recall", "abstention_precision": "abstention precision",
          "abstention_recall": "abstention recall", "language_accuracy": "answer-language accuracy",
          "abstention_accuracy": "abstention decision accuracy", "pass_rate": "cases passed (share)",
          "readable": "readable in the asker's language", "bare_quotes": "bare heading / furniture quotes",
          "first_line": "first line answers", "fact_language": "facts in the asker's script (line 1)",
          "lead_on_topic": "lead on topic", "pass_rate_400": "old rule: facts in first 400 chars",
          "garbled": "garbled tokens (count)", "chars_before_fact": "chars before first fact (median)",
          "topic_shift_rate": "topic shifts answered", "offtopic_abstained": "off-topic after a topic, abstained"}


class EvalSetError(ValueError):
    pass


@dataclass
class Source:
    doc: str | tuple[str, ...]  # several: any of them holds the passage (a deck and its PDF export)
    snippet: str

    @property
    def docs(self) -> tuple[str, ...]:
        return (self.doc,) if isinstance(self.doc, str) else tuple(self.doc)


@dataclass
class Case:
    id: str
    question: str
    language: str
    kind: str
    history: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    facts: list[list[str]] = field(default_factory=list)
    abstain: bool = False
    split: str = "all"  # the unseen split's "dev" or "test" half


@dataclass
class CaseScore:
    case: Case
    answer: str
    abstained: bool
    cited: list[str]  # locations
    latency_ms: float
    recall_at_1: float | None = None
    recall_at_5: float | None = None
    rr: float | None = None
    citation_precision: float | None = None
    citation_recall: float | None = None
    fact_recall: float | None = None
    head_fact_recall: float | None = None  # facts within the answer's first ANSWER_HEAD_CHARS
    language_ok: bool = False
    readable: float = 0.0  # share of the answer's letters in the question's script
    bare_quotes: int = 0  # quotes that are only a heading or page furniture
    first_line_facts: float | None = None  # share of key facts stated in the answer's first line
    first_line_columns: int = 0  # its width, citation marks aside (a wide character counts 2)
    fact_language: bool | None = None  # every key fact in line 1 in the asker's script
    lead_on_topic: bool | None = None  # nothing about another subject before the first key fact
    chars_before_fact: int | None = None  # characters of the answer before its first key fact
    garbled: list[str] = field(default_factory=list)  # answer words found in no document

    @property
    def first_line(self) -> bool:
        """The reader's rule: every key fact in the first line, and the line short enough to read."""
        return (self.first_line_facts or 0) >= 1 and self.first_line_columns <= FIRST_LINE_COLUMNS

    def _other_rules(self) -> str:
        if self.bare_quotes:
            return "FAIL (bare heading/furniture quote)"
        if (self.citation_recall or 0) == 0:
            return "FAIL (source not cited)"
        return "pass"

    @property
    def verdict(self) -> str:
        if self.case.abstain:
            return "pass" if self.abstained else "FAIL (answered)"
        if self.abstained:
            return "FAIL (abstained)"
        if not self.first_line:
            if (self.fact_recall or 0) < 1:
                return "FAIL (facts)"
            if (self.first_line_facts or 0) < 1:
                return "FAIL (facts not in line 1)"
            return f"FAIL (line 1 is {self.first_line_columns} columns)"
        return self._other_rules()

    @property
    def verdict_400(self) -> str:
        """The old rule: key facts anywhere in the first 400 characters."""
        if self.case.abstain:
            return "pass" if self.abstained else "FAIL (answered)"
        if self.abstained or (self.head_fact_recall or 0) < 1:
            return "FAIL"
        return self._other_rules()


def load_cases(path: str | Path) -> list[Case]:
    data = yaml.safe_load(Path(path).read_text("utf-8"))
    default_doc = (data.get("defaults") or {}).get("doc", "")
    cases, ids = [], set()
    for i, raw in enumerate(data.get("cases") or [], start=1):
        where = f"{path}: case {i} ({raw.get('id', 'no id')})"
        for key in ("id", "question", "language", "kind"):
            if not raw.get(key):
                raise EvalSetError(f"{where}: missing {key!r}")
        if raw["id"] in ids:
            raise EvalSetError(f"{where}: duplicate id")
        ids.add(raw["id"])
        if raw["language"] not in ("en", "ja"):
            raise EvalSetError(f"{where}: language must be en or ja")
        if raw.get("split", "all") not in ("all", "dev", "test"):
            raise EvalSetError(f"{where}: split must be dev or test")
        abstain = bool(raw.get("abstain"))
        if not abstain and not (raw.get("sources") and raw.get("facts")):
            raise EvalSetError(f"{where}: needs sources and facts, or abstain: true")
        cases.append(Case(
            id=raw["id"], question=raw["question"], language=raw["language"], kind=raw["kind"],
            history=list(raw.get("history") or []),
            sources=[Source(_doc(s.get("doc", default_doc)), s["snippet"]) for s in raw.get("sources") or []],
            facts=[[str(a) for a in (f if isinstance(f, list) else [f])] for f in raw.get("facts") or []],
            abstain=abstain, split=raw.get("split", "all")))
    return cases


def _doc(value) -> str | tuple[str, ...]:
    return tuple(value) if isinstance(value, list) else value


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def holds(passage: dict, source: Source) -> bool:
    return passage["doc"] in source.docs and _norm(source.snippet) in _norm(passage["text"])


def score(case: Case, result: dict, furniture: dict | None = None, reference: "Reference | None" = None) -> CaseScore:
    """One answer against its case. `furniture`: per document, its headings and page-furniture
    lines (eval/corpus/furniture.json), to tell a bare heading or footer from an answer.
    `reference`: what the documents and the name table hold (garbled words, other subjects)."""
    retrieved = result.get("retrieved", [])
    cited = result["citations"]
    answer = result["answer"]
    first_line = answer.splitlines()[0] if answer else ""
    s = CaseScore(case, answer, bool(result["abstained"]), [c["location"] for c in cited],
                  result["timings_ms"]["total"],
                  language_ok=bool(first_line) and _answer_language(first_line) == case.language,
                  readable=readable_share(answer, case.language),
                  bare_quotes=sum(is_bare_quote(c, furniture or {}) for c in cited))
    if reference is not None:
        s.garbled = reference.garbled(answer, case.question, case.history)
    if case.abstain:
        return s
    sources = case.sources
    s.recall_at_1 = sum(any(holds(p, src) for p in retrieved[:1]) for src in sources) / len(sources)
    s.recall_at_5 = sum(any(holds(p, src) for p in retrieved[:5]) for src in sources) / len(sources)
    rank = next((i for i, p in enumerate(retrieved, 1) if any(holds(p, src) for src in sources)), None)
    s.rr = 1 / rank if rank else 0.0
    if cited:
        facts = [_norm(a) for f in case.facts for a in f]
        s.citation_precision = sum(
            any(holds(c, src) for src in sources) or any(a in _norm(c["text"]) for a in facts)
            for c in cited) / len(cited)
    else:
        s.citation_precision = 0.0
    s.citation_recall = sum(any(holds(c, src) for c in cited) for src in sources) / len(sources)
    s.fact_recall = sum(any(_norm(a) in _norm(answer) for a in f) for f in case.facts) / len(case.facts)
    head = _norm(answer[:ANSWER_HEAD_CHARS])
    s.head_fact_recall = sum(any(_norm(a) in head for a in f) for f in case.facts) / len(case.facts)
    line = _norm(_CITATION_MARK.sub("", first_line))
    s.first_line_facts = sum(any(_norm(a) in line for a in f) for f in case.facts) / len(case.facts)
    s.first_line_columns = columns(_CITATION_MARK.sub("", first_line).strip())
    # Each fact in the asker's script: an alternative written in it (or in neither script, a
    # number) stands in line 1; a fact with no such alternative cannot be asked for in that script.
    s.fact_language = all(
        any(_norm(a) in line for a in f if _fact_script(a) in (case.language, None))
        or not any(_fact_script(a) in (case.language, None) for a in f)
        for f in case.facts)
    plain = _norm(_CITATION_MARK.sub("", answer))
    at = [plain.find(_norm(a)) for f in case.facts for a in f if _norm(a) in plain]
    s.chars_before_fact = min(at) if at else None
    if reference is not None and at:
        # Nothing before the first key fact is about another subject: no sentence there names
        # places or people of which none is the question's (or its facts').
        own = set(result.get("entities") or []) | reference.entities(case.question + " " + " ".join(case.history)) \
            | {e for f in case.facts for a in f for e in reference.entities(a)}
        before = _CITATION_MARK.sub("", answer)
        cut = min((i for i in (_find_fact(before, a) for f in case.facts for a in f) if i >= 0), default=len(before))
        s.lead_on_topic = not any(reference.subjects(part) and not reference.subjects(part) & own
                                  for part in _SENTENCE_SPLIT.split(before[:cut]))
    else:
        s.lead_on_topic = bool(at)
    return s


_SENTENCE_SPLIT = re.compile(r"(?<=[。！？.!?])\s+|\n|(?<=[。！？])")


def _find_fact(text: str, fact: str) -> int:
    """Where a key fact first stands in a text (NFKC, case-folded), or -1."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return folded.find(_norm(fact))


def _fact_script(text: str) -> str | None:
    """The script a key fact is written in: ja (any kana or kanji), en (Latin letters), or None."""
    if any(is_cjk(c) for c in text):
        return "ja"
    return "en" if any(c.isalpha() for c in text) else None


_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f'’]*")
_KATAKANA_RUN = re.compile(r"[\u30a1-\u30fa\u30fc]{2,}")


def is_cjk_name(name: str) -> bool:
    return any("\u3040" <= c <= "\u9fff" for c in name)


class Reference:
    """What a run's store holds, for the reader-facing checks: every Latin word and the whole
    text of the documents, the name table's forms, the answer templates' own words. An answer
    word found in none of them, nor in the question, is garbled (a romanised reading no document
    writes, a broken plural)."""

    def __init__(self, texts: list[str], glossary, template_text: str = ""):
        from core.names import english_exonym

        self.glossary = glossary
        forms = [n for e in glossary.entities.values() for n in e.names] if glossary else []
        # A place's English name from CLDR (ブリュッセル -> Brussels) is its name, not a reading
        # made up: the answer may state it even when no document writes it in English.
        forms += [x for n in forms if is_cjk_name(n) and (x := english_exonym(n))]
        known = "\n".join(texts + forms + [template_text])
        self.text = unicodedata.normalize("NFKC", known)
        self.words = {w.casefold() for w in _LATIN_WORD.findall(self.text)}

    @classmethod
    def of(cls, assistant) -> "Reference":
        from core.languages import vocabulary

        templates = []
        for language in ("en", "ja"):
            templates.append(json.dumps(vocabulary(language).get("answers", {}), ensure_ascii=False))
        templates.append(" ".join(_month_words()))
        return cls([p.text for p in assistant.retriever.passages], assistant.glossary, "\n".join(templates))

    def entities(self, text: str) -> set[str]:
        """Name-table entities a text names; countries are context ("Japan", "EU"), not a subject."""
        if not self.glossary:
            return set()
        return {m.entity_id for m in self.glossary.find(text)
                if self.glossary.entities[m.entity_id].kind != "country"}

    def subjects(self, text: str) -> set[str]:
        """The places and people a text names (the subjects an answer may stray to)."""
        if not self.glossary:
            return set()
        return {m.entity_id for m in self.glossary.find(text)
                if self.glossary.entities[m.entity_id].kind in ("city", "region", "person")}

    def garbled(self, answer: str, question: str, history: list[str] = ()) -> list[str]:
        asked = unicodedata.normalize("NFKC", question + " " + " ".join(history))
        asked_words = {w.casefold() for w in _LATIN_WORD.findall(asked)}
        answer = unicodedata.normalize("NFKC", _CITATION_MARK.sub("", answer))
        bad = [w for w in _LATIN_WORD.findall(answer)
               if w.casefold() not in self.words and w.casefold() not in asked_words]
        bad += [k for k in _KATAKANA_RUN.findall(answer) if k not in self.text and k not in asked]
        return list(dict.fromkeys(bad))


def _month_words() -> list[str]:
    from babel import Locale

    en = Locale("en")
    return [n for ctx in ("format", "stand-alone") for w in ("wide", "abbreviated") for n in en.months[ctx][w].values()]


_CITATION_MARK = re.compile(r"\[\d+\]")
_PAGE_NUMBER = re.compile(r"^[\W_]*(p\.?|page|slide)?\s*\d+(\s*(/|of)\s*\d+)?[\W_]*$", re.I)


def _script_of(ch: str) -> str | None:
    if is_cjk(ch):
        return "ja"
    if "LATIN" in unicodedata.name(ch, ""):
        return "en"
    return None


def readable_share(answer: str, language: str) -> float:
    """Share of the answer's letters (citation marks left out) written in the question's script:
    kana and kanji for a Japanese question, Latin letters for an English one."""
    scripts = [_script_of(c) for c in _CITATION_MARK.sub("", answer) if c.isalpha()]
    scripts = [x for x in scripts if x]
    return round(sum(x == language for x in scripts) / len(scripts), 4) if scripts else 0.0


def _section_labels(location: str) -> list[str]:
    """The heading parts of a location ("p. 2 · Mutual learning · lines 3-9" -> ["Mutual learning"])."""
    return [part for part in location.split(" · ")
            if not re.match(r"^(p\.|slide|line|lines|§)\s*[\d-]*$", part.strip())]


def is_bare_quote(citation: dict, furniture: dict) -> bool:
    """True when the quote holds nothing but headings, page furniture or page numbers: the
    quote's text with those removed leaves fewer than three letters or digits."""
    known = furniture.get(citation["doc"], {})
    strings = known.get("headings", []) + known.get("furniture", []) + _section_labels(citation["location"])
    rest = _norm(citation.get("quote") or "")
    for text in sorted((_norm(t) for t in strings if t.strip()), key=len, reverse=True):
        rest = rest.replace(text, " ")
    if _PAGE_NUMBER.match(rest.strip()):
        return True
    rest = " ".join(token for token in rest.split(" ") if not _PAGE_NUMBER.match(token))
    return sum(c.isalnum() for c in rest) < 3


def _answer_language(line: str) -> str:
    return "ja" if detect_language(line) in ("ja", "mixed") else "en"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def summarize(scores: list[CaseScore]) -> dict:
    def mean(values):
        values = [v for v in values if v is not None]
        return round(sum(values) / len(values), 4) if values else None

    answerable = [s for s in scores if not s.case.abstain]
    predicted = [s for s in scores if s.abstained]
    expected = [s for s in scores if s.case.abstain]
    return {
        "cases": len(scores),
        "pass_rate": mean(float(s.verdict == "pass") for s in scores),
        "pass_rate_400": mean(float(s.verdict_400 == "pass") for s in scores),
        # Answerable cases whose first line states every key fact, short enough to read.
        "first_line": mean(float(s.first_line and not s.abstained) for s in answerable),
        "fact_language": mean(float(bool(s.fact_language) and s.first_line and not s.abstained) for s in answerable),
        "lead_on_topic": mean(float(bool(s.lead_on_topic) and not s.abstained) for s in answerable),
        "garbled": sum(len(s.garbled) for s in scores),
        "chars_before_fact": statistics.median([s.chars_before_fact for s in answerable
                                                if s.chars_before_fact is not None] or [0]),
        # Conversations: a self-contained question after another subject, answered; an
        # off-topic question after a subject, abstained.
        "topic_shift_rate": mean(float(s.verdict == "pass") for s in scores if s.case.kind == "topic_shift"),
        "offtopic_abstained": mean(float(s.abstained) for s in scores if s.case.kind == "offtopic_after_topic"),
        "recall_at_1": mean(s.recall_at_1 for s in answerable),
        "recall_at_5": mean(s.recall_at_5 for s in answerable),
        "mrr": mean(s.rr for s in answerable),
        "citation_precision": mean(s.citation_precision for s in answerable),
        "citation_recall": mean(s.citation_recall for s in answerable),
        "fact_recall": mean(s.fact_recall for s in answerable),
        # No abstention at all is no precision at all: 0, not undefined.
        "abstention_precision": round(sum(s.case.abstain for s in predicted) / len(predicted), 4)
        if predicted else 0.0,
        "abstention_recall": round(sum(s.abstained for s in expected) / len(expected), 4)
        if expected else None,
        "abstention_accuracy": mean(float(s.abstained == s.case.abstain) for s in scores),
        "language_accuracy": mean(float(s.language_ok) for s in scores),
        "readable": mean(s.readable for s in scores),
        "bare_quotes": sum(s.bare_quotes for s in scores),
        "latency_p50_ms": round(statistics.median([s.latency_ms for s in scores]), 2) if scores else None,
        "latency_p95_ms": round(percentile([s.latency_ms for s in scores], 0.95), 2),
        "passed": sum(s.verdict == "pass" for s in scores),
    }


def by_kind(scores: list[CaseScore]) -> dict[str, dict]:
    kinds = sorted({s.case.kind for s in scores})
    return {k: summarize([s for s in scores if s.case.kind == k]) for k in kinds}


def run_system(ask, cases: list[Case], furniture: dict | None = None,
               reference: Reference | None = None) -> list[CaseScore]:
    return [score(case, ask(case.question, case.history), furniture, reference) for case in cases]


def evaluate(assistant, cases: list[Case], corpus: list[str] | None, embeddings=None,
             furniture: dict | None = None) -> dict:
    """Ours and (when a corpus is given) the naive baseline, same cases, same metrics."""
    reference = Reference.of(assistant)
    ours = run_system(lambda q, h: assistant.ask(q, h, with_retrieved=True), cases, furniture, reference)
    return {"ours": ours,
            "baseline": naive_scores(corpus, embeddings or assistant.embeddings, cases, furniture, reference)
            if corpus else None}


def naive_scores(corpus: list[str], embeddings, cases: list[Case], furniture: dict | None,
                 reference: Reference | None = None) -> list[CaseScore]:
    """The naive baseline over the same files, in a throwaway store."""
    from .baseline import NaivePipeline

    with tempfile.TemporaryDirectory() as tmp:
        naive = NaivePipeline(corpus, embeddings, tmp)
        # The baseline has no conversation memory: it sees the question alone.
        return run_system(lambda q, h: naive.ask(q), cases, furniture, reference)


# --- the runs of eval/runs.yaml ---------------------------------------------------------------

@dataclass
class Run:
    """One evaluation run: a case set asked of a store built from `corpus` with `glossary`
    ("" = the glossary reduced to its header row)."""
    name: str
    set_path: str
    corpus: list[str]
    glossary: str
    description: str = ""


@dataclass
class RunResult:
    run: Run
    ours: list[CaseScore]
    baseline: list[CaseScore] | None

    def splits(self) -> dict[str, tuple[list[CaseScore], list[CaseScore] | None]]:
        """Scores per split ("all" for a set without splits, else "dev" and "test")."""
        names = sorted({s.case.split for s in self.ours}, key=["all", "dev", "test"].index)
        return {name: ([s for s in self.ours if s.case.split == name],
                       [s for s in self.baseline if s.case.split == name] if self.baseline else None)
                for name in names}


def load_runs(path: str | Path) -> list[Run]:
    data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    runs = []
    for raw in data.get("runs") or []:
        for key in ("name", "set", "corpus"):
            if not raw.get(key):
                raise EvalSetError(f"{path}: run {raw.get('name', '?')}: missing {key!r}")
        runs.append(Run(raw["name"], raw["set"], list(raw["corpus"]), raw.get("glossary", "") or "",
                        raw.get("description", "")))
    return runs


def load_furniture(path: str | Path) -> dict:
    path = Path(path)
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def header_only_glossary(source: str | Path, target: Path) -> Path:
    """The glossary reduced to its header row: the run that shows what names alone are worth."""
    header = Path(source).read_text("utf-8-sig").splitlines()[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(header + "\n", "utf-8")
    return target


def execute_run(run: Run, store_root: Path, embeddings, furniture: dict, baseline: bool = True,
                naive_cache: dict | None = None, log=print) -> RunResult:
    """Ingest the run's corpus into its own store (incremental across calls), ask every case of
    ours and of the naive baseline. Naive results are shared between runs over the same files."""
    from app.answering.service import Assistant
    from core.glossary import load_glossary
    from ingest.pipeline import ingest
    from core.store import StoreConfig, open_store

    for path in run.corpus:
        if not Path(path).exists():
            raise EvalSetError(f"run {run.name}: {path} does not exist"
                               + (" (build it: python -m eval.build_corpus)" if "eval/corpus" in path else ""))
    glossary_path = run.glossary or header_only_glossary(
        settings.get("glossary"), store_root / "glossary-header-only.csv")
    glossary = load_glossary(str(glossary_path))
    config = StoreConfig(str(store_root / run.name), "", 8000, "iurc")
    report = ingest(run.corpus, open_store(config, embeddings), glossary, progress=False,
                    warn=lambda message: log(f"  {run.name}: {message}"))
    log(f"  {run.name}: ingest {report.summary()}")
    cases = load_cases(run.set_path)
    # the Assistant reads the name table stored with the collection, not the CSV
    assistant = Assistant(config, embeddings)
    out = evaluate(assistant, cases, None, furniture=furniture)
    result = RunResult(run, out["ours"], None)
    if baseline:
        key = (run.set_path, tuple(run.corpus))
        cache = naive_cache if naive_cache is not None else {}
        if key not in cache:
            cache[key] = naive_scores(run.corpus, embeddings, cases, furniture, Reference.of(assistant))
        result.baseline = cache[key]
    return result


# --- gate ---------------------------------------------------------------------------------------

def check_gate(summary: dict, thresholds: dict) -> list[str]:
    """Metrics below their threshold, as messages; empty when the gate passes."""
    failures = []
    for metric, minimum in thresholds.items():
        value = summary.get(metric)
        if metric.endswith("_ms") or metric in MAXIMUM_METRICS:
            if value is None or value > minimum:
                failures.append(f"{metric} = {value} > {minimum}")
        elif value is None or value < minimum:
            failures.append(f"{metric} = {value} < {minimum}")
    return failures


def load_thresholds(path: str | Path, run: str = "seed", split: str = "all") -> dict:
    """The thresholds of one run and split: `runs: {run: {split: {minimum: …, maximum: …}}}`."""
    data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    block = ((data.get("runs") or {}).get(run) or {}).get(split) or {}
    return {k: float(v) for k, v in (block.get("minimum") or {}).items()} | \
        {k: float(v) for k, v in (block.get("maximum") or {}).items()}


def check_alike(summary: dict, reference: dict, within: float) -> list[str]:
    """Metrics of a run more than `within` below the same metric of its reference run."""
    return [f"{m} = {summary[m]:.4f} is more than {within} below {reference[m]:.4f}"
            for m in ALIKE_METRICS if summary.get(m) is not None and reference.get(m) is not None
            and summary[m] < reference[m] - within - 1e-9]


def gate_results(results: list[RunResult], thresholds_path: str | Path) -> list[str]:
    failures = []
    for result in results:
        for split, (ours, _) in result.splits().items():
            limits = load_thresholds(thresholds_path, result.run.name, split)
            if not limits:
                failures.append(f"{result.run.name}/{split}: no thresholds in {thresholds_path}")
            failures += [f"{result.run.name}/{split}: {f}" for f in check_gate(summarize(ours), limits)]
    # A run that must stay close to another on every metric (without the glossary: within 0.05
    # of the curated run, issue 12).
    data = yaml.safe_load(Path(thresholds_path).read_text("utf-8")) or {}
    by_name = {r.run.name: r for r in results}
    for rule in data.get("alike") or []:
        run, like = by_name.get(rule["run"]), by_name.get(rule["like"])
        if run is None or like is None:
            continue
        theirs = like.splits()
        for split, (ours, _) in run.splits().items():
            if split in theirs:
                failures += [f"{rule['run']}/{split} against {rule['like']}: {f}" for f in
                             check_alike(summarize(ours), summarize(theirs[split][0]), float(rule["within"]))]
    return failures


# --- report -------------------------------------------------------------------------------------

def runs_table(results: list[RunResult]) -> str:
    """Every metric (rows) for every run and split (columns), ours / naive."""
    columns = [(r, split, o, b) for r in results for split, (o, b) in r.splits().items()]
    head = "| metric | " + " | ".join(f"{r.run.name} {split} ({len(o)})" for r, split, o, _ in columns) + " |"
    rows = [head, "|---" * (len(columns) + 1) + "|"]
    summaries = [(summarize(o), summarize(b) if b else {}) for _, _, o, b in columns]
    for metric in METRICS + ["abstention_accuracy", "bare_quotes", "garbled", "chars_before_fact",
                             "topic_shift_rate", "offtopic_abstained", "latency_p95_ms", "passed"]:
        cells = [f"{_fmt(so.get(metric))} / {_fmt(sb.get(metric))}" for so, sb in summaries]
        rows.append(f"| {LABELS.get(metric, metric)} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def kinds_table(ours: list[CaseScore], baseline: list[CaseScore] | None) -> str:
    kinds_o, kinds_b = by_kind(ours), by_kind(baseline) if baseline else {}
    lines = ["| kind | cases | passed (ours / naive) | fact recall | citation recall | recall@5 | "
             "abstention accuracy | readable |", "|---|---|---|---|---|---|---|---|"]
    for kind, s in kinds_o.items():
        b = kinds_b.get(kind, {})
        lines.append(f"| {kind} | {s['cases']} | {s['passed']} / {b.get('passed', '–')} | "
                     f"{_fmt(s['fact_recall'])} / {_fmt(b.get('fact_recall'))} | "
                     f"{_fmt(s['citation_recall'])} / {_fmt(b.get('citation_recall'))} | "
                     f"{_fmt(s['recall_at_5'])} / {_fmt(b.get('recall_at_5'))} | "
                     f"{_fmt(s['abstention_accuracy'])} / {_fmt(b.get('abstention_accuracy'))} | "
                     f"{_fmt(s['readable'])} / {_fmt(b.get('readable'))} |")
    return "\n".join(lines)


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _cases_table(ours: list[CaseScore], baseline: list[CaseScore] | None) -> list[str]:
    lines = ["| id | kind | question | verdict (ours) | first line (ours) | cited (ours) | verdict (naive) |",
             "|---|---|---|---|---|---|---|"]
    for i, s in enumerate(ours):
        b = baseline[i].verdict if baseline else "–"
        cited = "; ".join(s.cited) or ("abstained" if s.abstained else "–")
        first = (s.answer.splitlines() or [""])[0]
        garbled = f" (garbled: {', '.join(s.garbled)})" if s.garbled else ""
        lines.append(f"| {s.case.id} | {s.case.kind} | {_cell(s.case.question)} | {s.verdict}{garbled} | "
                     f"{_cell(first[:160])} | {_cell(cited)} | {b} |")
    return lines


def write_report(results: list[RunResult], report_dir: str | Path) -> Path:
    """One report for all runs: the side-by-side table, a chart, per-kind tables per run and
    split, and case rows for every split except the unseen test half (numbers only there)."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    chart = report_dir / "metrics_by_run.png"
    plot(results, chart)
    lines = ["# Evaluation report", "",
             "Ours against the naive baseline (default splitter, chunk 400, same embedder, Chroma "
             "top-4, answer = top chunk, never abstains; it loads PDF page text with pypdf, DOCX "
             "paragraphs and table cells with python-docx, the whole text of an HTML page with "
             "BeautifulSoup and every text frame, table and note of a PPTX with python-pptx).",
             "Cells read ours / naive. A case passes when its answer's **first line** states every "
             f"key fact and reads at a glance (at most {FIRST_LINE_COLUMNS} columns, a CJK character "
             "counting 2), no quote is a bare heading or page furniture, and an expected source is "
             "cited (answerable cases), or when it abstains (unanswerable ones). The old rule (facts "
             f"anywhere in the first {ANSWER_HEAD_CHARS} characters) is reported beside it.", ""]
    for r in results:
        lines.append(f"- **{r.run.name}**: `{r.run.set_path}` over {', '.join(f'`{c}`' for c in r.run.corpus)}, "
                     f"glossary {'`' + r.run.glossary + '`' if r.run.glossary else 'reduced to its header'}"
                     + (f". {r.run.description}" if r.run.description else ""))
    lines += ["", runs_table(results), "", f"![metrics by run]({chart.name})", ""]
    for r in results:
        for split, (ours, baseline) in r.splits().items():
            lines += [f"## {r.run.name} · {split}: by kind", "", kinds_table(ours, baseline), ""]
            if split == "test":
                lines += ["Test half: numbers only; its cases are not listed, so that nobody reads "
                          "them one by one while changing answering code.", ""]
            else:
                lines += [f"### {r.run.name} · {split}: cases", ""] + _cases_table(ours, baseline) + [""]
    path = report_dir / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def plot(results: list[RunResult], path: Path) -> None:
    """One row per run: key metrics per split (left), pass rate per kind (right); ours vs naive."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    metrics = ["pass_rate", "fact_recall", "citation_recall", "recall_at_5", "abstention_accuracy", "readable"]
    fig, axes = plt.subplots(len(results), 2, figsize=(20, 4.6 * len(results)), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.4]})
    for row, r in zip(axes, results):
        left, right = row
        splits = r.splits()
        width = 0.8 / (2 * len(splits))
        x = np.arange(len(metrics))
        for i, (split, (ours, baseline)) in enumerate(splits.items()):
            so, sb = summarize(ours), summarize(baseline) if baseline else {}
            left.bar(x + (2 * i) * width - 0.4 + width / 2, [so.get(m) or 0 for m in metrics], width,
                     label=f"ours · {split}", color=["#1f77b4", "#2ca02c", "#9467bd"][i])
            left.bar(x + (2 * i + 1) * width - 0.4 + width / 2, [sb.get(m) or 0 for m in metrics], width,
                     label=f"naive · {split}", color=["#aaaaaa", "#cccccc", "#dddddd"][i])
        left.set_xticks(x, [LABELS[m] for m in metrics], rotation=20, ha="right", fontsize=9)
        left.set_ylim(0, 1.05)
        left.set_title(f"{r.run.name}: overall", fontsize=11)
        left.legend(fontsize=8, ncol=2)
        left.grid(axis="y", alpha=0.3)
        ours_all = [score for scores, _ in splits.values() for score in scores]
        base_all = [score for _, scores in splits.values() for score in (scores or [])]
        kinds_o, kinds_b = by_kind(ours_all), by_kind(base_all) if base_all else {}
        kinds = list(kinds_o)
        xk = np.arange(len(kinds))
        right.bar(xk - 0.2, [kinds_o[k]["pass_rate"] or 0 for k in kinds], 0.4, label="ours", color="#1f77b4")
        right.bar(xk + 0.2, [(kinds_b.get(k) or {}).get("pass_rate") or 0 for k in kinds], 0.4,
                  label="naive baseline", color="#bbbbbb")
        right.set_xticks(xk, kinds, rotation=35, ha="right", fontsize=9)
        right.set_ylim(0, 1.05)
        right.set_title(f"{r.run.name}: cases passed by kind (all splits)", fontsize=11)
        right.legend(fontsize=8)
        right.grid(axis="y", alpha=0.3)
    fig.suptitle("IURC assistant against the naive baseline: seed, unseen, unseen without glossary", fontsize=13)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def as_json(results: list[RunResult]) -> dict:
    out = {}
    for r in results:
        splits = {}
        for split, (ours, baseline) in r.splits().items():
            splits[split] = {
                "summary": {"ours": summarize(ours), "baseline": summarize(baseline) if baseline else None},
                "by_kind": {"ours": by_kind(ours), "baseline": by_kind(baseline) if baseline else None},
            }
            if split != "test":
                splits[split]["cases"] = [
                    {"id": s.case.id, "kind": s.case.kind, "verdict": s.verdict, "abstained": s.abstained,
                     "cited": s.cited, **{k: v for k, v in asdict(s).items()
                                          if k in ("recall_at_1", "recall_at_5", "rr", "citation_precision",
                                                   "citation_recall", "fact_recall", "head_fact_recall",
                                                   "first_line_facts", "first_line_columns", "fact_language",
                                                   "lead_on_topic", "chars_before_fact", "garbled",
                                                   "language_ok", "readable", "bare_quotes", "latency_ms")}}
                    for s in ours]
        out[r.run.name] = splits
    return out
