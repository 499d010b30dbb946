"""Ingest throughput per format: `.venv/bin/python -m bench.formats [--copies 20]`.

Builds the evaluation corpus (`python -m eval.build_corpus` sources), copies each document
--copies times, and times (1) parsing alone (load, clean, structure, chunk), ours against the
naive loaders of the baseline, and (2) a whole ingest into a fresh embedded store with the real
embedder. Prints pages (or slides) per second for PDF and PPTX next to the text formats, and
appends the rows to bench/format_results.jsonl (bench/RESULTS.md shows the latest)."""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.chunk import chunk  # noqa: E402
from ingest.clean import clean  # noqa: E402
from core.glossary import load_glossary  # noqa: E402
from core.formats import FORMATS  # noqa: E402
from ingest.load import load  # noqa: E402
from ingest.structure import structure  # noqa: E402

OUT = ROOT / "bench/format_results.jsonl"


def units(path: Path) -> int:
    """Pages of a PDF, slides of a PPTX, 0 for formats without pages."""
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return len(PdfReader(str(path)).pages)
    if path.suffix == ".pptx":
        from pptx import Presentation

        return len(Presentation(str(path)).slides)
    return 0


def main() -> None:
    from eval import build_corpus
    from eval.baseline import naive_text
    from core.embed import make_embedder
    from ingest.pipeline import ingest
    from core.store import StoreConfig, open_store

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    glossary = load_glossary(str(ROOT / "corpus/glossary.csv"))
    embeddings = make_embedder()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / "built"
        build_corpus.build(built)
        sources = sorted((built / build_corpus.DOCS.name).iterdir())
        for fmt in FORMATS:  # every registered format the built corpus has files of
            files = [p for p in sources if p.suffix.lower() in fmt.extensions]
            if not files:
                continue
            extensions, fmt = fmt.extensions, fmt.name
            folder = Path(tmp) / fmt
            for n in range(args.copies):
                for f in files:
                    (folder / f"copy{n:03d}").mkdir(parents=True, exist_ok=True)
                    shutil.copy(f, folder / f"copy{n:03d}" / f.name)
            paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in extensions)
            pages = sum(units(p) for p in paths)
            size_kb = sum(p.stat().st_size for p in paths) / 1024
            started = time.perf_counter()
            passages = 0
            for p in paths:
                doc = load(p, p.name, 50_000_000)
                passages += len(chunk(structure(clean(doc, glossary), glossary), 500))
            parse_s = time.perf_counter() - started
            started = time.perf_counter()
            for p in paths:
                naive_text(p)
            naive_s = time.perf_counter() - started
            config = StoreConfig(str(Path(tmp) / f"store-{fmt}"), "", 8000, "iurc")
            report = ingest([str(folder)], open_store(config, embeddings), glossary, progress=False,
                            warn=lambda message: None)
            row = {"date": date.today().isoformat(), "format": fmt, "files": len(paths), "pages": pages,
                   "kb": round(size_kb, 1), "passages": passages, "parse_s": round(parse_s, 3),
                   "naive_parse_s": round(naive_s, 3), "ingest_s": round(report.seconds, 2),
                   "failed": report.failed,
                   "parse_pages_per_s": round(pages / parse_s, 1) if pages else None,
                   "ingest_pages_per_s": round(pages / report.seconds, 1) if pages else None,
                   "ingest_passages_per_s": round(passages / report.seconds, 1)}
            rows.append(row)
            print(json.dumps(row))
    with open(OUT, "a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    from .report import write_results

    write_results()


if __name__ == "__main__":
    main()
