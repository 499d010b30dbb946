"""Add one document to a large store, as staff do: how much ingest work it costs, and how soon a
running server answers from it. Also the unchanged re-ingest of the store's own folder.

usage: .venv/bin/python -m bench.add_one --store /tmp/iurc-bench/store_10k
       [--folder /tmp/iurc-bench/synthetic_10000] [--runs 3]

Each run writes a new three-line Markdown file (a made-up forum in a made-up town, a different
one per run), starts `iurc ingest` on it while `iurc serve` runs on the same store, and asks the
server (POST /api/ask) every 50 ms from the moment the ingest ends until an answer cites the new
file. The file is removed again (`iurc remove`) before the next run. Appends rows to
bench/add_results.jsonl and rewrites bench/RESULTS.md. A script, not a timed test.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench/add_results.jsonl"
TOWNS = ["Quillmere", "Ostrevan", "Dunhallow", "Varnecke", "Selbury", "Kortmoor"]


def _ingest(args: list[str]) -> tuple[float, float, str]:
    """(ingest work seconds as `iurc ingest` reports them, wall seconds, its summary line)."""
    started = time.perf_counter()
    run = subprocess.run([str(BIN / "iurc"), "ingest", *args], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    work = float(re.search(r"took ([\d.]+) s", run.stderr).group(1))
    return work, wall, run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""


def _ask(url: str, question: str) -> dict:
    request = urllib.request.Request(url + "api/ask", data=json.dumps({"question": question}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def main() -> None:
    from tests.ui_server import Server

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", required=True)
    parser.add_argument("--folder", default=None, help="the folder the store was ingested from (re-ingest)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = Server(BIN, Path(args.store), Path("/tmp/iurc-add-one-serve.log"))
    rows = []
    try:
        _ask(server.url, "warm-up question")
        for run in range(args.runs):
            town = TOWNS[run % len(TOWNS)] + ("" if run < len(TOWNS) else str(run))
            with tempfile.TemporaryDirectory() as tmp:
                doc = Path(tmp) / f"forum_{town.lower()}.md"
                doc.write_text(f"# The {town} ferry forum\n\nThe {town} ferry forum met in the old customs "
                               f"hall of {town} on 3 March 2026.\n", "utf-8")
                question = f"Where did the {town} ferry forum meet?"
                started = time.perf_counter()
                work, wall, summary = _ingest([tmp, "--store", args.store])
                ended = time.perf_counter()
                answered, stored_name = None, ""
                while time.perf_counter() - ended < 120:
                    result = _ask(server.url, question)
                    stored_name = next((c["doc"] for c in result["citations"] if c["doc"].endswith(doc.name)), "")
                    if stored_name:
                        answered = time.perf_counter()
                        break
                    time.sleep(0.05)
                row = {"date": time.strftime("%Y-%m-%d"), "store": args.store, "what": "add one document",
                       "ingest_work_s": round(work, 2), "ingest_wall_s": round(wall, 2),
                       "answered_after_ingest_end_s": round(answered - ended, 2) if answered else None,
                       "answered_after_ingest_start_s": round(answered - started, 2) if answered else None,
                       "summary": summary}
                rows.append(row)
                print(json.dumps(row), flush=True)
                removed = subprocess.run([str(BIN / "iurc"), "remove", stored_name or doc.name, "--store",
                                          args.store], capture_output=True, text=True)
                if removed.returncode != 0:
                    print(f"remove failed: {removed.stderr[-300:]}", file=sys.stderr)
        if args.folder:
            work, wall, summary = _ingest([args.folder, "--store", args.store])
            row = {"date": time.strftime("%Y-%m-%d"), "store": args.store, "what": "unchanged re-ingest",
                   "ingest_work_s": round(work, 2), "ingest_wall_s": round(wall, 2), "summary": summary}
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        server.stop()
    with RESULTS.open("a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    from bench.report import write_results

    write_results()


if __name__ == "__main__":
    main()
