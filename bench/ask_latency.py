"""Warm `ask` latency on the corpus, ours next to the naive LangChain pipeline, in one run.

usage: .venv/bin/python -m bench.ask_latency [--rounds 20]
Prints p50/p95 per pipeline, throughput and peak memory. A script, not a timed test.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.runner import percentile  # noqa: E402

QUESTIONS = [
    "What did Kamakura and Umeå work on?", "トヨタとグルノーブルの協力テーマは?",
    "When does Turku aim to be carbon neutral?", "Which pairs started in 2018?",
    "Who is the mayor of Paris?", "所沢とブラティスラバの共通の関心は何ですか",
    "What do Essen and Koriyama plan for young people?", "神戸とマルセイユの協力テーマは?",
    "How many pairs started in 2017?", "Where do the cities meet every spring?",
]


def measure(ask, questions: list[str], rounds: int) -> list[float]:
    for q in questions:  # warm-up: caches, lazy loads
        ask(q)
    times = []
    for _ in range(rounds):
        for q in questions:
            started = time.perf_counter()
            ask(q)
            times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    from app.answering.service import Assistant
    from eval.baseline import NaivePipeline
    from core.embed import USEEmbeddings
    from core.glossary import load_glossary
    from ingest.pipeline import ingest
    from core.store import StoreConfig, open_store

    emb = USEEmbeddings()
    glossary = load_glossary(ROOT / "corpus/glossary.csv")
    with tempfile.TemporaryDirectory() as tmp:
        config = StoreConfig(f"{tmp}/ours", "", 8000, "iurc")
        ingest([str(ROOT / "corpus")], open_store(config, emb), glossary, progress=False)
        ours = Assistant(config, emb, glossary)
        naive = NaivePipeline([str(ROOT / "corpus")], emb, f"{tmp}/naive")

        def ours_no_cache(question):
            ours.composer._cache.clear()  # every sentence embedded again, as on a large corpus
            return ours.ask(question)

        rows = []
        for name, ask in (("ours (hybrid + facts + extractive)", ours.ask),
                          ("ours, sentence cache cleared per ask", ours_no_cache),
                          ("naive (splitter 400, Chroma top-4)", naive.ask)):
            times = measure(ask, QUESTIONS, args.rounds)
            rows.append((name, statistics.median(times), percentile(times, 0.95), len(times),
                         len(times) / (sum(times) / 1000)))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ask latency, warm, {len(QUESTIONS)} questions x {args.rounds} rounds, corpus/ "
          f"({time.strftime('%Y-%m-%d')}, {__import__('os').cpu_count()} cores)")
    print(f"{'pipeline':<38} {'p50 ms':>8} {'p95 ms':>8} {'asks':>6} {'asks/s':>8}")
    for name, p50, p95, n, rate in rows:
        print(f"{name:<38} {p50:>8.1f} {p95:>8.1f} {n:>6} {rate:>8.1f}")
    print(f"peak RSS of this process: {peak_mb:.0f} MB")
    print("targets: ours p50 <= 30 ms, p95 <= 80 ms")


if __name__ == "__main__":
    main()
