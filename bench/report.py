"""bench/RESULTS.md and bench/latency_vs_size.png from the raw rows the benchmarks append
(bench/results.jsonl: scale; bench/load_results.jsonl: load)."""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench/results.jsonl"
LOAD_RESULTS = ROOT / "bench/load_results.jsonl"
FORMAT_RESULTS = ROOT / "bench/format_results.jsonl"
COLD_RESULTS = ROOT / "bench/cold_results.jsonl"
ADD_RESULTS = ROOT / "bench/add_results.jsonl"
RATE_RESULTS = ROOT / "bench/ingest_rate_results.jsonl"
GROWTH_RESULTS = ROOT / "bench/growth_results.jsonl"


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()] if path.exists() else []


def write_results() -> None:
    rows = _rows(RESULTS)
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
             "re-ingest unchanged s (work / wall) | serving load s | ready s (first answer) | reload s | ask p50 ms | ask p95 ms | serving peak RSS MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in ordered:
        reingest = f"{r['reingest_s']} / {r['reingest_wall_s']}" if "reingest_s" in r else "–"
        lines.append(f"| {r['date']} | {r['size']:,} | {r['system']} | {r['store']} | {r['passages']:,} | "
                     f"{r['ingest_s']} | {r['ingest_per_s']} | {reingest} | {r.get('load_seconds', '–')}"
                     f"{' (incl. its ingest)' if r['system'] == 'naive' else ''} | "
                     f"{r.get('ready_seconds', '–')} | {r.get('reload_seconds', '–')} | "
                     f"{r.get('ask_p50_ms', '–')} | {r.get('ask_p95_ms', '–')} | {r.get('peak_rss_mb', '–')} |")
    lines += ["", "Targets: ingest ≥ 150 passages/s; unchanged re-ingest of 10k ≤ 5 s; ask p95 ≤ 150 ms "
              "at 100k (embedded); serving process ≤ 1.5 GB RSS at 100k. The serving RSS is the `iurc` "
              "process only (with a Chroma server, the server holds the vectors in its own process).",
              "", "![ask latency against corpus size](latency_vs_size.png)", ""]
    loads = _rows(LOAD_RESULTS)
    if loads:
        lines += ["## Load (`.venv/bin/python -m bench.load`)", "",
                  "Simulated users ask on loopback, through the chat's Gradio queue (`Gradio queue (http)`: "
                  "plain HTTP to /gradio_api/call/ask with one session per user, as one open chat page; "
                  "`gradio_client`: the client library, whose threads took most of the two cores in the "
                  "earlier rows) or the JSON API (`--api`: POST /api/ask), with a random think time of "
                  "0–0.5 s, against `iurc serve` at its default settings (concurrency 4; queue 32 until "
                  "2026-12-03, 64 since) on the store named (the seed corpus, `.iurc/store`, when none is). "
                  "Rows from 2026-12-03 with 20 users and the last ones with 50 are at the defaults; the "
                  "others varied IURC_CONCURRENCY / IURC_QUEUE_SIZE or used one session per request. One "
                  "user asking the 110k store through the API is the warm HTTP latency at that size.", "",
                  "| date | store | path | users | seconds | requests | answered | refused (queue full) | lost | errors | "
                  "answered p50 ms | answered p95 ms | answers/s | server RSS MB start / max / end |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in loads[-10:]:
            store = Path(r.get("store") or ".iurc/store").name
            lines.append(f"| {r['date']} | {'seed corpus' if store == 'store' else store} | "
                         f"{r.get('path', 'Gradio queue')} | {r['users']} | {r['seconds']} | "
                         f"{r['requests']} | {r['answered']} | "
                         f"{r['refused']} | {r['lost']} | {r['error']} | {r['answered_p50_ms']} | "
                         f"{r['answered_p95_ms']} | {r['throughput_per_s']} | "
                         f"{' / '.join(map(str, r['server_rss_mb_start_max_end']))} |")
        lines.append("")
    colds = _rows(COLD_RESULTS)
    lines += _section(
        "Cold start (`.venv/bin/python -m bench.cold_start`)",
        "From process start (the clock starts before the interpreter: imports, model and index load "
        "included) to the printed answer of one question, ours (`iurc ask`) beside the naive LangChain "
        "pipeline (a process opening its Chroma store through langchain-chroma and printing the top "
        "passage, always on the corpus), in the same run; with `--serve`, `iurc serve` from its start to "
        "its first answer through POST /api/ask. Targets: `iurc ask` ≤ 2 s on the corpus, ≤ 3 s at 110k; "
        "serve to first answer ≤ 5 s at 110k.",
        ["date", "commit", "store", "runs", "ours p50 / p95 s", "naive p50 / p95 s (corpus)", "peak MB ours / naive",
         "iurc serve start to first answer p50 / p95 s"],
        [[r["date"], r["commit"], r["store"], r["runs"], f"{o['p50_s']} / {o['p95_s']}",
          f"{n['p50_s']} / {n['p95_s']}", f"{o['peak_mb']} / {n['peak_mb']}",
          f"{r['serve_first_answer']['p50_s']} / {r['serve_first_answer']['p95_s']}" if "serve_first_answer" in r else "–"]
         for r in colds[-6:] for o, n in [(r["ours (iurc ask)"], r["naive (langchain-chroma)"])]])
    lines += _section(
        "Ingest against the embedder (`.venv/bin/python -m bench.ingest_rate`)",
        "One `iurc ingest` of a synthetic corpus into a fresh embedded store (work seconds as it reports "
        "them), then the same passages' texts embedded alone in batches of 64 with the same model, in the "
        "same run. Target: ingest ≥ 80% of the embedder's own rate. Since 2026-12-04 the ingest embeds in "
        "worker processes of one thread each (`IURC_INGEST_WORKERS`); the last two columns are the same "
        "texts through those workers alone, with nothing else running: what embedding reaches on this "
        "machine, a stricter reference than the embedder's own.",
        ["date", "size", "passages", "ingest s", "ingest passages/s", "embedder alone s",
         "embedder passages/s", "share", "workers alone passages/s", "share of workers"],
        [[r["date"], f"{r['size']:,}", f"{r['passages']:,}", r["ingest_s"], r["ingest_per_s"], r["embed_only_s"],
          r["embed_only_per_s"], f"{r['share_of_embedder']:.0%}",
          f"{r['workers_alone_per_s']} ({r['workers']})" if "workers" in r else "–",
          f"{r['share_of_workers']:.0%}" if "workers" in r else "–"] for r in _rows(RATE_RESULTS)[-6:]])
    lines += _section(
        "Add one document to a large store (`.venv/bin/python -m bench.add_one`)",
        "A three-line Markdown file ingested into a store while `iurc serve` runs on it; the server is "
        "asked every 50 ms from the end of the ingest until an answer cites the new file; then the store's "
        "own folder re-ingested unchanged. Ingest work is what `iurc ingest` reports (process start-up, "
        "imports and model load are in the wall time). Target: answered ≤ 2 s after the ingest ends; "
        "unchanged re-ingest ≤ 0.2 s of work at 110k.",
        ["date", "store", "what", "ingest work s", "ingest wall s", "answered after ingest end s", "summary"],
        [[r["date"], Path(r["store"]).name, r["what"], r["ingest_work_s"], r["ingest_wall_s"],
          r.get("answered_after_ingest_end_s") or "–", r["summary"]] for r in _rows(ADD_RESULTS)[-12:]])
    growth = _rows(GROWTH_RESULTS)
    if growth:
        from bench.growth import MEASURES, PROJECT_TO, plot, projections

        latest = {}
        for r in growth:
            latest[r["store"]] = r
        measured = sorted(latest.values(), key=lambda r: r["passages"])
        fits = projections(measured)
        lines += _section(
            "How cost grows (`.venv/bin/python -m bench.growth STORE …`)",
            "One serving process per store (`bench.probe`: ready time from its start in process, warm ask "
            "p50/p95, peak memory) and the add-one-document time `bench.add_one` recorded for the same "
            "store; the last row is a straight line through the measured points at 1M passages, a "
            "projection, not a measurement. ![growth](growth.png)",
            ["passages", *(label for _, label in MEASURES)],
            [[f"{r['passages']:,}", *(r.get(k) if r.get(k) is not None else "–" for k, _ in MEASURES)]
             for r in measured]
            + [[f"{PROJECT_TO:,} (projected)", *(round(fits[k][2], 1) if k in fits else "–" for k, _ in MEASURES)]])
        plot(measured)
    formats = _rows(FORMAT_RESULTS)
    if formats:
        latest_date = formats[-1]["date"]
        lines += ["## Ingest by format (`.venv/bin/python -m bench.formats`)", "",
                  "Copies of the evaluation corpus's documents per format. Parse = load, clean, structure "
                  "and chunk (no embedding), ours against the naive baseline's loaders (pypdf, python-docx, "
                  "BeautifulSoup, python-pptx); ingest = the whole `iurc ingest` into a fresh embedded store "
                  "with the real embedder. Pages are PDF pages or PPTX slides.", "",
                  "| date | format | files | pages | KB | passages | parse s (ours / naive) | parse pages/s | "
                  "ingest s | ingest pages/s | ingest passages/s | failed |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in (r for r in formats if r["date"] == latest_date):
            lines.append(f"| {r['date']} | {r['format']} | {r['files']} | {r['pages'] or '–'} | {r['kb']} | "
                         f"{r['passages']} | {r['parse_s']} / {r['naive_parse_s']} | "
                         f"{r['parse_pages_per_s'] or '–'} | {r['ingest_s']} | {r['ingest_pages_per_s'] or '–'} | "
                         f"{r['ingest_passages_per_s']} | {r['failed']} |")
        lines.append("")
    (ROOT / "bench/RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
    if rows:
        _plot(ordered)


def _section(title: str, intro: str, columns: list[str], rows: list[list]) -> list[str]:
    """A RESULTS.md section: its heading, what was run, and a table (nothing without rows)."""
    if not rows:
        return []
    return [f"## {title}", "", intro, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns),
            *("| " + " | ".join(map(str, row)) + " |" for row in rows), ""]


def _plot(rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for key in sorted({(r["system"], r["store"]) for r in rows if "ask_p95_ms" in r}):
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


