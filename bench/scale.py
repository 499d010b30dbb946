"""Scale benchmark: synthetic bilingual corpora of 1k, 10k, 100k passages; ours (embedded and
through a Chroma server) next to the naive pipeline. Appends JSON lines to bench/results.jsonl
and rewrites bench/RESULTS.md and bench/latency_vs_size.png.

usage: .venv/bin/python -m bench.scale [--sizes 1000 10000 100000] [--work /tmp/iurc-bench]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
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


def _env(**extra) -> dict:
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False", PYTHONPATH=str(ROOT))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _ingest(corpus: Path, store_args: list[str]) -> tuple[int, float, float]:
    """(passages added or skipped, work seconds, wall seconds) of one `iurc ingest`."""
    started = time.perf_counter()
    run = subprocess.run([str(BIN / "iurc"), "ingest", str(corpus), *store_args], capture_output=True,
                         text=True, env=_env(), check=True)
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
                 ("load_seconds", "ask_p50_ms", "ask_p95_ms", "peak_rss_mb")}})
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
                     ("load_seconds", "ask_p50_ms", "ask_p95_ms", "peak_rss_mb")}})
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


def write_results() -> None:
    rows = [json.loads(x) for x in RESULTS.read_text("utf-8").splitlines() if x.strip()]
    latest: dict[tuple, dict] = {}
    for row in rows:
        latest[(row["size"], row["system"], row["store"])] = row
    ordered = sorted(latest.values(), key=lambda r: (r["size"], r["system"] != "ours", r["store"]))
    lines = ["# Scale benchmark results", "",
             f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
             f"no GPU. Corpus: synthetic bilingual passages from `bench/synthetic.py` (recombined corpus "
             "sentences and glossary names, marked synthetic). Produced by `.venv/bin/python -m bench.scale`;"
             " raw rows in `bench/results.jsonl`.", "",
             "| date | target size | system | store | passages | ingest s | ingest passages/s | "
             "re-ingest unchanged s (work / wall) | serving load s | ask p50 ms | ask p95 ms | serving peak RSS MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in ordered:
        reingest = f"{r['reingest_s']} / {r['reingest_wall_s']}" if "reingest_s" in r else "–"
        lines.append(f"| {r['date']} | {r['size']:,} | {r['system']} | {r['store']} | {r['passages']:,} | "
                     f"{r['ingest_s']} | {r['ingest_per_s']} | {reingest} | {r['load_seconds']} | "
                     f"{r['ask_p50_ms']} | {r['ask_p95_ms']} | {r['peak_rss_mb']} |")
    lines += ["", "Targets: ingest ≥ 150 passages/s; unchanged re-ingest of 10k ≤ 5 s; ask p95 ≤ 150 ms "
              "at 100k (embedded); serving process ≤ 1.5 GB RSS at 100k. The serving RSS is the `iurc` "
              "process only (with a Chroma server, the server holds the vectors in its own process).",
              "", "![ask latency against corpus size](latency_vs_size.png)", ""]
    (ROOT / "bench/RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
    _plot(ordered)


def _plot(rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for key in sorted({(r["system"], r["store"]) for r in rows}):
        series = sorted((r for r in rows if (r["system"], r["store"]) == key), key=lambda r: r["passages"])
        xs = [r["passages"] for r in series]
        ax.plot(xs, [r["ask_p95_ms"] for r in series], marker="o", label=f"{key[0]} ({key[1]}) p95")
        ax.plot(xs, [r["ask_p50_ms"] for r in series], marker=".", linestyle="--", label=f"{key[0]} ({key[1]}) p50")
    ax.axhline(150, color="red", linewidth=0.8, linestyle=":", label="target p95 at 100k (150 ms)")
    ax.set_xscale("log")
    ax.set_xlabel("passages in the store")
    ax.set_ylabel("ask latency, warm (ms)")
    ax.set_title("Ask latency against corpus size (2-core CPU)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(ROOT / "bench/latency_vs_size.png", dpi=100)
    plt.close(fig)


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
