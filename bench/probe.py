"""One serving process, measured: load time, warm ask p50/p95, peak RSS. Prints one JSON line.

usage: python -m bench.probe ours|naive [--store DIR | --chroma-host H --chroma-port P]
       [--naive-corpus PATH --naive-dir DIR] [--rounds N]
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

from bench.ask_latency import QUESTIONS
from eval.runner import percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("system", choices=["ours", "naive"])
    parser.add_argument("--store")
    parser.add_argument("--chroma-host", default="")
    parser.add_argument("--chroma-port", type=int, default=8000)
    parser.add_argument("--naive-corpus")
    parser.add_argument("--naive-dir")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    started = time.perf_counter()
    out: dict = {"system": args.system}
    if args.system == "ours":
        from app.answering.service import Assistant
        from core.store import StoreConfig

        assistant = Assistant(StoreConfig.from_settings(args.store, args.chroma_host or None, args.chroma_port))
        ask = assistant.ask
        out["passages"] = len(assistant.retriever.passages)
    else:
        from eval.baseline import NaivePipeline
        from core.embed import USEEmbeddings

        naive = NaivePipeline([args.naive_corpus], USEEmbeddings(), args.naive_dir)
        out["ingest_seconds"] = round(naive.ingest_seconds, 2)
        out["passages"] = naive.size
        out["ingest_per_s"] = round(naive.size / naive.ingest_seconds, 1)
        ask = naive.ask
    out["load_seconds"] = round(time.perf_counter() - started, 2)
    ask(QUESTIONS[0])
    out["ready_seconds"] = round(time.perf_counter() - started, 2)  # until the first answer
    for q in QUESTIONS:
        ask(q)
    times = []
    for _ in range(args.rounds):
        for q in QUESTIONS:
            t = time.perf_counter()
            ask(q)
            times.append((time.perf_counter() - t) * 1000)
    out["ask_p50_ms"] = round(statistics.median(times), 2)
    out["ask_p95_ms"] = round(percentile(times, 0.95), 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if args.system == "ours":
        out["ingest_one_seconds"], out["reload_seconds"] = _reload(assistant, args)
    print(json.dumps(out))


def _reload(assistant, args) -> tuple[float, float]:
    """Another process ingests one new document into the served store; this process then
    reloads. (ingest seconds, seconds from the reload check to the next answer)."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        doc = Path(tmp) / "reload_probe_note.txt"
        doc.write_text(f"Reload probe\n\nA short note added while the assistant is serving ({time.time()}).\n", "utf-8")
        store = ["--store", args.store] if args.store else \
            ["--chroma-host", args.chroma_host, "--chroma-port", str(args.chroma_port)]
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "iurc"), "ingest", str(doc), *store],
                       check=True, capture_output=True)
        ingested = time.perf_counter() - started
    started = time.perf_counter()
    assert assistant.reload_if_changed(force=True), "the ingest did not change the generation"
    assistant.ask(QUESTIONS[0])
    return round(ingested, 2), round(time.perf_counter() - started, 2)


if __name__ == "__main__":
    main()
