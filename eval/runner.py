"""`iurc eval`: score the assistant and the naive baseline on eval/questions.yaml with the
same deterministic metrics (no model judge), write a Markdown report with a chart, and gate
on eval/thresholds.yaml."""
from __future__ import annotations

import statistics
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from ingest.chunk import detect_language

METRICS = ["recall_at_1", "recall_at_5", "mrr", "citation_precision", "citation_recall",
           "fact_recall", "abstention_precision", "abstention_recall", "language_accuracy"]
LABELS = {"recall_at_1": "retrieval recall@1", "recall_at_5": "retrieval recall@5", "mrr": "MRR",
          "citation_precision": "citation precision", "citation_recall": "citation recall",
          "fact_recall": "key-fact recall", "abstention_precision": "abstention precision",
          "abstention_recall": "abstention recall", "language_accuracy": "answer-language accuracy",
          "abstention_accuracy": "abstention decision accuracy"}


class EvalSetError(ValueError):
    pass


@dataclass
class Source:
    doc: str
    snippet: str


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
    language_ok: bool = False

    @property
    def verdict(self) -> str:
        if self.case.abstain:
            return "pass" if self.abstained else "FAIL (answered)"
        if self.abstained:
            return "FAIL (abstained)"
        if (self.fact_recall or 0) < 1:
            return "partial (facts)"
        if (self.citation_recall or 0) == 0:
            return "partial (citations)"
        return "pass"


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
        abstain = bool(raw.get("abstain"))
        if not abstain and not (raw.get("sources") and raw.get("facts")):
            raise EvalSetError(f"{where}: needs sources and facts, or abstain: true")
        cases.append(Case(
            id=raw["id"], question=raw["question"], language=raw["language"], kind=raw["kind"],
            history=list(raw.get("history") or []),
            sources=[Source(s.get("doc", default_doc), s["snippet"]) for s in raw.get("sources") or []],
            facts=[[str(a) for a in (f if isinstance(f, list) else [f])] for f in raw.get("facts") or []],
            abstain=abstain))
    return cases


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def holds(passage: dict, source: Source) -> bool:
    return passage["doc"] == source.doc and _norm(source.snippet) in _norm(passage["text"])


def score(case: Case, result: dict) -> CaseScore:
    retrieved = result.get("retrieved", [])
    cited = result["citations"]
    answer = result["answer"]
    first_line = answer.splitlines()[0] if answer else ""
    s = CaseScore(case, answer, bool(result["abstained"]), [c["location"] for c in cited],
                  result["timings_ms"]["total"],
                  language_ok=bool(first_line) and _answer_language(first_line) == case.language)
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
    return s


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
        "latency_p50_ms": round(statistics.median([s.latency_ms for s in scores]), 2) if scores else None,
        "latency_p95_ms": round(percentile([s.latency_ms for s in scores], 0.95), 2),
        "passed": sum(s.verdict == "pass" for s in scores),
    }


def by_kind(scores: list[CaseScore]) -> dict[str, dict]:
    kinds = sorted({s.case.kind for s in scores})
    return {k: summarize([s for s in scores if s.case.kind == k]) for k in kinds}


def run_system(ask, cases: list[Case]) -> list[CaseScore]:
    return [score(case, ask(case.question, case.history)) for case in cases]


def evaluate(assistant, cases: list[Case], corpus: list[str] | None, embeddings=None) -> dict:
    """Ours and (when a corpus is given) the naive baseline, same cases, same metrics."""
    ours = run_system(lambda q, h: assistant.ask(q, h, with_retrieved=True), cases)
    out = {"ours": ours, "baseline": None}
    if corpus:
        from .baseline import NaivePipeline

        with tempfile.TemporaryDirectory() as tmp:
            naive = NaivePipeline(corpus, embeddings or assistant.embeddings, tmp)
            # The baseline has no conversation memory: it sees the question alone.
            out["baseline"] = run_system(lambda q, h: naive.ask(q), cases)
    return out


def check_gate(summary: dict, thresholds: dict) -> list[str]:
    """Metrics below their threshold, as messages; empty when the gate passes."""
    failures = []
    for metric, minimum in thresholds.items():
        value = summary.get(metric)
        if metric.endswith("_ms"):
            if value is None or value > minimum:
                failures.append(f"{metric} = {value} > {minimum}")
        elif value is None or value < minimum:
            failures.append(f"{metric} = {value} < {minimum}")
    return failures


def load_thresholds(path: str | Path) -> dict:
    data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    return {k: float(v) for k, v in (data.get("minimum") or {}).items()} | \
        {k: float(v) for k, v in (data.get("maximum") or {}).items()}


def summary_table(ours: dict, baseline: dict | None) -> str:
    rows = ["| metric | ours | naive baseline |", "|---|---|---|"]
    for metric in METRICS + ["abstention_accuracy", "latency_p50_ms", "latency_p95_ms", "passed"]:
        label = LABELS.get(metric, metric)
        b = baseline.get(metric) if baseline else None
        rows.append(f"| {label} | {_fmt(ours.get(metric))} | {_fmt(b)} |")
    return "\n".join(rows)


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def write_report(result: dict, report_dir: str | Path, set_path: str) -> Path:
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    ours, baseline = result["ours"], result["baseline"]
    summary_o, summary_b = summarize(ours), summarize(baseline) if baseline else None
    chart = report_dir / "metrics_by_kind.png"
    plot(by_kind(ours), by_kind(baseline) if baseline else None, chart)
    lines = ["# Evaluation report", "", f"Set: `{set_path}` ({len(ours)} cases). Ours against the naive "
             "baseline (default splitter, chunk 400, same embedder, Chroma top-4, answer = top chunk, "
             "never abstains).", "", summary_table(summary_o, summary_b), "",
             f"![metrics by question kind]({chart.name})", "", "## By kind", ""]
    kinds_o, kinds_b = by_kind(ours), by_kind(baseline) if baseline else {}
    lines.append("| kind | cases | fact recall (ours / naive) | citation recall | recall@5 | abstention accuracy | passed (ours / naive) |")
    lines.append("|---|---|---|---|---|---|---|")
    for kind, s in kinds_o.items():
        b = kinds_b.get(kind, {})
        lines.append(f"| {kind} | {s['cases']} | {_fmt(s['fact_recall'])} / {_fmt(b.get('fact_recall'))} | "
                     f"{_fmt(s['citation_recall'])} / {_fmt(b.get('citation_recall'))} | "
                     f"{_fmt(s['recall_at_5'])} / {_fmt(b.get('recall_at_5'))} | "
                     f"{_fmt(s['abstention_accuracy'])} / {_fmt(b.get('abstention_accuracy'))} | "
                     f"{s['passed']} / {b.get('passed', '–')} |")
    lines += ["", "## Cases", "", "| id | kind | question | verdict (ours) | cited (ours) | verdict (naive) |",
              "|---|---|---|---|---|---|"]
    for i, s in enumerate(ours):
        b = baseline[i].verdict if baseline else "–"
        cited = "; ".join(s.cited) or ("abstained" if s.abstained else "–")
        lines.append(f"| {s.case.id} | {s.case.kind} | {_cell(s.case.question)} | {s.verdict} | "
                     f"{_cell(cited)} | {b} |")
    path = report_dir / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def plot(ours: dict, baseline: dict | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    metrics = ["recall_at_5", "mrr", "citation_precision", "citation_recall", "fact_recall",
               "abstention_accuracy", "language_accuracy"]
    kinds = list(ours)
    fig, axes = plt.subplots(2, 4, figsize=(18, 8.5))
    x = np.arange(len(kinds))
    for ax, metric in zip(axes.flat, metrics):
        o = [ours[k].get(metric) or 0 for k in kinds]
        ax.bar(x - 0.2, o, 0.4, label="ours", color="#1f77b4")
        if baseline:
            b = [baseline.get(k, {}).get(metric) or 0 for k in kinds]
            ax.bar(x + 0.2, b, 0.4, label="naive baseline", color="#bbbbbb")
        ax.set_title(LABELS[metric], fontsize=11)
        ax.set_xticks(x, kinds, rotation=35, ha="right", fontsize=9)
        ax.set_ylim(0, 1.05)
        ax.grid(axis="y", alpha=0.3)
    axes.flat[-1].axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    axes.flat[-1].legend(handles, labels, loc="center", fontsize=12)
    fig.suptitle("IURC assistant: metrics by question kind (blank = not applicable or 0)", fontsize=13)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def as_json(result: dict) -> dict:
    ours, baseline = result["ours"], result["baseline"]
    return {
        "summary": {"ours": summarize(ours), "baseline": summarize(baseline) if baseline else None},
        "by_kind": {"ours": by_kind(ours), "baseline": by_kind(baseline) if baseline else None},
        "cases": [{"id": s.case.id, "kind": s.case.kind, "verdict": s.verdict, "abstained": s.abstained,
                   "cited": s.cited, **{k: v for k, v in asdict(s).items()
                                        if k in ("recall_at_1", "recall_at_5", "rr", "citation_precision",
                                                 "citation_recall", "fact_recall", "language_ok", "latency_ms")}}
                  for s in ours],
    }
