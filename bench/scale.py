"""Scale benchmark: synthetic bilingual corpora of 1k, 10k, 100k passages; ours (embedded and
through a Chroma server) next to the naive pipeline. Appends JSON lines to bench/results.jsonl
and rewrites bench/RESULTS.md and bench/latency_vs_size.png.

usage: .venv/bin/python -m bench.scale [--sizes 1000 10000 100000] [--work /tmp/iurc-bench]
       [--modes embedded no_discovery server naive]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench/results.jsonl"

from bench.report import write_results  # noqa: E402


def _env(**extra) -> dict:
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False", PYTHONPATH=str(ROOT))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _ingest(corpus: Path, store_args: list[str], **env) -> tuple[int, float, float]:
    """(passages added or skipped, work seconds, wall seconds) of one `iurc ingest`."""
    started = time.perf_counter()
    run = subprocess.run([str(BIN / "iurc"), "ingest", str(corpus), *store_args], capture_output=True,
                         text=True, env=_env(**env), check=True)
    wall = time.perf_counter() - started
    counts = {k: int(v) for k, v in re.findall(r"(added|updated|skipped|deleted|failed) (\d+)", run.stdout)}
    work = float(re.search(r"took ([\d.]+) s", run.stderr).group(1))
    return counts["added"] + counts["skipped"] + counts["updated"], work, wall


def _probe(*args: str) -> dict:
    run = subprocess.run([sys.executable, "-m", "bench.probe", *args], capture_output=True, text=True,
                         env=_env(), check=True, cwd=ROOT)
    return json.loads(run.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _record(row: dict) -> None:
    row = {"date": time.strftime("%Y-%m-%d"), **row}
    print(json.dumps(row), flush=True)
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")


def run_size(size: int, work: Path, modes: list[str]) -> None:
    from bench.synthetic import generate

    corpus = generate(size, work)
    if "embedded" in modes:
        store = work / f"store_{size}"
        shutil.rmtree(store, ignore_errors=True)
        n, secs, wall = _ingest(corpus, ["--store", str(store)])
        _, re_secs, re_wall = _ingest(corpus, ["--store", str(store)])
        probe = _probe("ours", "--store", str(store))
        _record({"size": size, "system": "ours", "store": "embedded", "passages": n,
                 "ingest_s": secs, "ingest_per_s": round(n / secs, 1), "reingest_s": re_secs,
                 "reingest_wall_s": round(re_wall, 2), **{k: probe[k] for k in
                 ("load_seconds", "ready_seconds", "reload_seconds", "ask_p50_ms", "ask_p95_ms", "peak_rss_mb")
                 if k in probe}})
    if "no_discovery" in modes:
        # The same ingest without name discovery: what discovery adds (issue 12: at most 20%).
        store = work / f"store_nodisc_{size}"
        shutil.rmtree(store, ignore_errors=True)
        n, secs, wall = _ingest(corpus, ["--store", str(store)], IURC_NAME_DISCOVERY="off")
        _record({"size": size, "system": "ours, no name discovery", "store": "embedded", "passages": n,
                 "ingest_s": secs, "ingest_per_s": round(n / secs, 1)})
    if "server" in modes:
        port, data = _free_port(), work / f"chroma_{size}"
        shutil.rmtree(data, ignore_errors=True)
        server = subprocess.Popen([str(BIN / "chroma"), "run", "--path", str(data), "--host", "127.0.0.1",
                                   "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            args = ["--chroma-host", "127.0.0.1", "--chroma-port", str(port)]
            n, secs, _ = _ingest(corpus, args)
            _, re_secs, re_wall = _ingest(corpus, args)
            probe = _probe("ours", *args)
            _record({"size": size, "system": "ours", "store": "chroma server", "passages": n,
                     "ingest_s": secs, "ingest_per_s": round(n / secs, 1), "reingest_s": re_secs,
                     "reingest_wall_s": round(re_wall, 2), **{k: probe[k] for k in
                     ("load_seconds", "ready_seconds", "reload_seconds", "ask_p50_ms", "ask_p95_ms",
                      "peak_rss_mb") if k in probe}})
        finally:
            server.terminate()
            server.wait(timeout=30)
    if "naive" in modes:
        naive_dir = work / f"naive_{size}"
        shutil.rmtree(naive_dir, ignore_errors=True)
        probe = _probe("naive", "--naive-corpus", str(corpus), "--naive-dir", str(naive_dir))
        _record({"size": size, "system": "naive", "store": "embedded", "passages": probe["passages"],
                 "ingest_s": probe["ingest_seconds"], "ingest_per_s": probe["ingest_per_s"],
                 **{k: probe[k] for k in ("load_seconds", "ask_p50_ms", "ask_p95_ms", "peak_rss_mb")}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--modes", nargs="+", default=["embedded", "server", "naive"])
    parser.add_argument("--work", default="/tmp/iurc-bench")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    for size in args.sizes:
        run_size(size, work, args.modes)
        write_results()


if __name__ == "__main__":
    main()
