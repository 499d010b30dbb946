"""Ingest throughput beside the embedder's own: one `iurc ingest` of a synthetic corpus into a fresh
store, then the same passages' texts embedded alone in batches (what the pipeline can at best
reach, since every passage must be embedded), in the same run on the same machine.

usage: .venv/bin/python -m bench.ingest_rate [--sizes 10000 100000] [--work /tmp/iurc-bench]

Appends rows to bench/ingest_rate_results.jsonl and rewrites bench/RESULTS.md. A script, not a
timed test.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench/ingest_rate_results.jsonl"
BATCH = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000])
    parser.add_argument("--work", default="/tmp/iurc-bench")
    parser.add_argument("--keep", action="store_true", help="keep the stores (rate_store_<size>) for other benchmarks")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.synthetic import generate
    from core.embed import make_embedder
    from core.store import StoreConfig, open_store

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        corpus = generate(size, work)
        store_dir = work / f"rate_store_{size}"
        shutil.rmtree(store_dir, ignore_errors=True)
        run = subprocess.run([str(BIN / "iurc"), "ingest", str(corpus), "--store", str(store_dir)],
                             capture_output=True, text=True, check=True)
        ingest_s = float(re.search(r"took ([\d.]+) s", run.stderr).group(1))
        added = int(re.search(r"added (\d+)", run.stdout).group(1))
        # The same texts, embedded alone: what the store holds is what was embedded.
        store = open_store(StoreConfig(str(store_dir), "", 8000, "iurc"), None, create=False)
        texts = [r["text"] for r in store.iter_chunks()]
        embedder = make_embedder()
        embedder.embed_documents(texts[:8])  # the model loads outside the clock
        started = time.perf_counter()
        for i in range(0, len(texts), BATCH):
            embedder.embed_documents(texts[i:i + BATCH])
        embed_s = time.perf_counter() - started
        # The same texts through the ingest's embedding workers alone (one thread per process):
        # what embedding can reach on this machine when nothing else runs.
        from core.embed import EmbeddingWorkers
        from core import settings

        workers = EmbeddingWorkers(embedder, settings.get("ingest_workers"))
        for f in [workers.submit(texts[:8]) for _ in range(workers.processes)]:
            f.result()
        time.sleep(3)  # every worker's model loaded outside the clock
        started = time.perf_counter()
        for f in [workers.submit(texts[i:i + 128]) for i in range(0, len(texts), 128)]:
            f.result()
        workers_s = time.perf_counter() - started
        workers.close()
        row = {"date": time.strftime("%Y-%m-%d"), "size": size, "passages": added, "ingest_s": round(ingest_s, 1),
               "ingest_per_s": round(added / ingest_s, 1), "embed_only_s": round(embed_s, 1),
               "embed_only_per_s": round(len(texts) / embed_s, 1),
               "share_of_embedder": round((added / ingest_s) / (len(texts) / embed_s), 3),
               "workers": settings.get("ingest_workers"), "workers_alone_per_s": round(len(texts) / workers_s, 1),
               "share_of_workers": round((added / ingest_s) / (len(texts) / workers_s), 3)}
        print(json.dumps(row), flush=True)
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
        if not args.keep:
            shutil.rmtree(store_dir, ignore_errors=True)
    from bench.report import write_results

    write_results()


if __name__ == "__main__":
    main()
