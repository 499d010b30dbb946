"""How cost grows with the store: for stores of several sizes, one serving process measured
(`bench.probe`: ready time from its start, warm ask p50/p95, peak memory) with the add-one-document
time `bench.add_one` recorded for the same store, a straight line fitted through each measure
against the number of passages, and its value at 1M passages. Writes the table to
bench/growth_results.jsonl (rows) and bench/RESULTS.md, and the plot to bench/growth.png.

usage: .venv/bin/python -m bench.growth STORE [STORE ...]
A script, not a timed test; the projection is a line through measured points, not a measurement.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench/growth_results.jsonl"
MEASURES = [("ready_seconds", "ready s (process start to first answer, in process)"),
            ("ask_p50_ms", "warm ask p50 ms"), ("ask_p95_ms", "warm ask p95 ms"),
            ("peak_rss_mb", "serving process peak MB"), ("add_one_s", "add one document: answered after ingest end s")]
PROJECT_TO = 1_000_000


def _probe(store: str) -> dict:
    run = subprocess.run([sys.executable, "-m", "bench.probe", "ours", "--store", store], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    return json.loads(run.stdout.strip().splitlines()[-1])


def _passages(store: str) -> int:
    sys.path.insert(0, str(ROOT))
    from core.store import StoreConfig, open_store

    return open_store(StoreConfig(store, "", 8000, "iurc"), None, create=False).count()


def _add_one(store: str) -> float | None:
    rows = [json.loads(x) for x in (ROOT / "bench/add_results.jsonl").read_text("utf-8").splitlines() if x.strip()] \
        if (ROOT / "bench/add_results.jsonl").exists() else []
    times = [r["answered_after_ingest_end_s"] for r in rows
             if r["store"] == store and r["what"] == "add one document" and r.get("answered_after_ingest_end_s")]
    times = times[-3:]  # the latest run of bench.add_one (three documents) on this store
    return round(sorted(times)[len(times) // 2], 2) if times else None


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line through the points."""
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    return my - slope * mx, slope


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stores", nargs="+")
    args = parser.parse_args()
    rows = []
    for store in args.stores:
        probe = _probe(store)
        row = {"date": time.strftime("%Y-%m-%d"), "store": store, "passages": _passages(store),
               **{k: probe.get(k) for k in ("ready_seconds", "ask_p50_ms", "ask_p95_ms", "peak_rss_mb")},
               "add_one_s": _add_one(store)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    with RESULTS.open("a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    from bench.report import write_results

    write_results()


def projections(rows: list[dict]) -> dict[str, tuple[float, float, float]]:
    """Per measure: (intercept, slope per passage, value at PROJECT_TO passages)."""
    out = {}
    for key, _ in MEASURES:
        points = [(r["passages"], r[key]) for r in rows if r.get(key) is not None]
        if len({x for x, _ in points}) >= 2:
            a, b = fit(points)
            out[key] = (a, b, a + b * PROJECT_TO)
    return out


def plot(rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fits = projections(rows)
    fig, axes = plt.subplots(1, len(MEASURES), figsize=(4 * len(MEASURES), 3.6))
    for ax, (key, label) in zip(axes, MEASURES):
        points = sorted((r["passages"], r[key]) for r in rows if r.get(key) is not None)
        if points:
            ax.plot([x for x, _ in points], [y for _, y in points], marker="o", label="measured")
        if key in fits:
            a, b, _ = fits[key]
            low = min(x for x, _ in points)
            xs = [low * (PROJECT_TO / low) ** (i / 50) for i in range(51)]  # the line, drawn on a log axis
            ax.plot(xs, [a + b * x for x in xs], linestyle=":", label="fitted line, to 1M (projection)")
        ax.set_xscale("log")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("passages")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(ROOT / "bench/growth.png", dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
