"""Score `iurc names --suggest` against the names the evaluation corpus writes in both scripts
(eval/name_pairs.yaml): the share of those pairs proposed, and the proposed pairs that contradict
one (an English form paired with another Japanese name, or the reverse). Proposed pairs the list
does not mention are printed for review.

usage: .venv/bin/python -m eval.names_check --store .iurc/eval/unseen_no_glossary
"""
from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
from pathlib import Path

import yaml

from core.glossary import fold


def _ja_match(expected: str, forms: set[str]) -> bool:
    return any(f == e or f.startswith(e) or e.startswith(f) for e in expected.split("|") for f in forms if f)


def _en_match(expected: str, forms: set[str]) -> bool:
    e = fold(expected)
    return any(fold(f) == e or fold(f).startswith(e) for f in forms if f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", default=".iurc/eval/unseen_no_glossary")
    parser.add_argument("--pairs", default="eval/name_pairs.yaml")
    args = parser.parse_args()
    pairs = yaml.safe_load(Path(args.pairs).read_text("utf-8"))["pairs"]
    out = subprocess.run([str(Path(sys.executable).parent / "iurc"), "names", "--store", args.store, "--suggest"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for r in csv.DictReader(io.StringIO(out)):
        forms = [r["name_en"], r["name_ja"], *r["aliases"].split("|")]
        en = {f for f in forms if f and f.isascii() or f and not any("\u3040" <= c <= "\u9fff" for c in f)}
        ja = {f for f in forms if f and any("\u3040" <= c <= "\u9fff" for c in f)}
        rows.append((r, en, ja))
    found, missed = [], []
    for en, ja in pairs:
        hit = any(_en_match(en, e) and _ja_match(ja, j) for _, e, j in rows)
        (found if hit else missed).append(f"{en} / {ja}")
    wrong, other = [], []
    for r, e, j in rows:
        if not e or not j:
            continue
        expected_en = [p for p in pairs if _en_match(p[0], e)]
        expected_ja = [p for p in pairs if _ja_match(p[1], j)]
        label = f"{r['name_en']} / {r['name_ja']}"
        if (expected_en and not any(_ja_match(p[1], j) for p in expected_en)) or \
                (expected_ja and not any(_en_match(p[0], e) for p in expected_ja)):
            wrong.append(label)
        elif not expected_en and not expected_ja:
            other.append(label)
    proposed = sum(1 for _, e, j in rows if e and j)
    print(f"pairs in both scripts: {len(pairs)}; proposed: {len(found)} ({len(found) / len(pairs):.0%})")
    print("missed: " + "; ".join(missed))
    print(f"suggested rows with both scripts: {proposed}; contradicting the list: {len(wrong)}: " + "; ".join(wrong))
    print("not in the list (review by hand): " + "; ".join(other))


if __name__ == "__main__":
    main()
