"""Cold start, measured as a user waits: from process start (interpreter, imports, model and
index load included) to the printed answer, ours (`iurc ask`) next to the naive LangChain
pipeline (a process that opens its Chroma store through langchain-chroma and prints the top
passage), in one run, on the same corpus.

usage: .venv/bin/python -m bench.cold_start [--runs 5] [--store DIR]
Prints p50/p95 seconds and peak memory per pipeline. A script, not a timed test.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.runner import percentile  # noqa: E402

QUESTION = "What did Kamakura and Umeå work on?"

NAIVE = """
import sys
import chromadb
from chromadb.config import Settings
from langchain_chroma import Chroma
from core.embed import USEEmbeddings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
store = Chroma(client=client, collection_name="naive", embedding_function=USEEmbeddings())
hits = store.similarity_search(sys.argv[2], k=4)
print(hits[0].page_content if hits else "")
"""


def timed(command: list[str], runs: int) -> tuple[list[float], int]:
    """Wall seconds of each run, and the largest peak RSS (KB) any run reached."""
    seconds, peak = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True, cwd=ROOT)
        seconds.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{command[:3]} failed: {done.stderr[-500:]}")
        peak = max(peak, int(done.stderr.strip().splitlines()[-1]))
    return seconds, peak


def serve_ready(store: str, runs: int) -> list[float]:
    """Seconds from starting `iurc serve` (before its interpreter) to its first answer through
    POST /api/ask, asked every 100 ms from the start."""
    import socket
    import urllib.error
    import urllib.request

    out = []
    for _ in range(runs):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        started = time.perf_counter()
        process = subprocess.Popen([str(Path(sys.executable).parent / "iurc"), "serve", "--port", str(port),
                                    "--store", store], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/ask",
                                             data=json.dumps({"question": QUESTION}).encode(),
                                             headers={"Content-Type": "application/json"})
            while time.perf_counter() - started < 300:
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        if json.loads(response.read()).get("answer"):
                            out.append(time.perf_counter() - started)
                            break
                except (urllib.error.URLError, ConnectionError, OSError):
                    time.sleep(0.1)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--store", default=None, help="our store (default: ingest corpus/ into a temp folder)")
    parser.add_argument("--serve", action="store_true", help="also time `iurc serve` start to its first answer")
    args = parser.parse_args()

    from core.embed import USEEmbeddings
    from eval.baseline import NaivePipeline, naive_files

    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store
        if store is None:
            store = f"{tmp}/ours"
            subprocess.run([str(bin_dir / "iurc"), "ingest", "corpus", "--store", store], check=True,
                           capture_output=True, cwd=ROOT)
        NaivePipeline([str(ROOT / "corpus")], USEEmbeddings(), f"{tmp}/naive")
        assert naive_files([str(ROOT / "corpus")])
        rows = [("ours (iurc ask)", *timed([str(bin_dir / "iurc"), "ask", QUESTION, "--store", store], args.runs)),
                ("naive (langchain-chroma)", *timed([sys.executable, "-c", NAIVE, f"{tmp}/naive", QUESTION],
                                                    args.runs))]
        serve = serve_ready(store, args.runs) if args.serve else []
    print(f"cold start, process start to printed answer, {args.runs} runs each")
    print(f"{'pipeline':28} {'p50 s':>7} {'p95 s':>7} {'peak MB':>8}")
    for name, seconds, peak in rows:
        print(f"{name:28} {statistics.median(seconds):7.2f} {percentile(seconds, 0.95):7.2f} {peak / 1024:8.0f}")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    if serve:
        print(f"{'iurc serve start -> first /api/ask answer':28} {statistics.median(serve):7.2f} {percentile(serve, 0.95):7.2f}")
    row = {"date": time.strftime("%Y-%m-%d"), "commit": commit, "store": args.store or "corpus/ (fresh)",
           **({"serve_first_answer": {"p50_s": round(statistics.median(serve), 2),
                                      "p95_s": round(percentile(serve, 0.95), 2)}} if serve else {}),
           "runs": args.runs, **{name: {"p50_s": round(statistics.median(s), 2), "p95_s": round(percentile(s, 0.95), 2),
                                        "peak_mb": round(p / 1024)} for name, s, p in rows}}
    with (ROOT / "bench/cold_results.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")
    from bench.report import write_results

    write_results()


if __name__ == "__main__":
    main()
