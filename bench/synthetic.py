"""A synthetic bilingual corpus for scale benchmarks: sentences of the real corpus recombined
with names from the glossary. Every document says it is synthetic.

usage: .venv/bin/python -m bench.synthetic N_PASSAGES OUT_DIR [--seed 1]
"""
from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSAGES_PER_DOC = 100


def _sentences() -> tuple[list[str], list[str]]:
    text = (ROOT / "corpus/iurc_cities_and_topics_deck.txt").read_text("utf-8").replace("\n", "")
    japanese = [s + "。" for s in re.split(r"。", text) if len(s) > 20 and re.search(r"[\u3040-\u30ff]", s)]
    english = ["Participatory community planning methodology and practice",
               "Carbon neutrality and renewable energy promotion strategies by networking with other cities",
               "Transformation to a city of culture and industrial innovation",
               "Buildings and site regeneration and energy efficiency",
               "Urban planning and mobility for waterfront development",
               "Sustainable tourism utilizing unique local resources",
               "Green urban infrastructure and nature-based solutions for flood control",
               "Energy transition, deployment of hydrogen and smart mobility",
               "Raising citizens' awareness about port functions and maritime industries",
               "Urban-rural circular economy and use of biomass for energy"]
    return japanese, english


def generate(n_passages: int, out: Path, seed: int = 1) -> Path:
    """Write ceil(n / 100) Markdown documents of 100 single-passage sections each."""
    import csv

    rng = random.Random(seed)
    japanese, english = _sentences()
    with open(ROOT / "corpus/glossary.csv", encoding="utf-8") as handle:
        cities = [r for r in csv.DictReader(handle) if r["kind"] == "city"]
    folder = out / f"synthetic_{n_passages}"
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    doc = 0
    while written < n_passages:
        sections = []
        for _ in range(min(PASSAGES_PER_DOC, n_passages - written)):
            a, b = rng.sample(cities, 2)
            if rng.random() < 0.5:
                body = rng.choice(japanese).replace("トゥルク", a["name_ja"]).replace(
                    "鎌倉", b["name_ja"])
                body += f"（合成データ {written}）"
            else:
                body = (f"{a['name_en']} and {b['name_en']} exchanged on "
                        f"{rng.choice(english).lower()} and {rng.choice(english).lower()}. "
                        f"(synthetic record {written})")
            sections.append(f"# {a['name_en']} - {b['name_en']} (synthetic {written})\n\n{body}\n")
            written += 1
        header = f"# SYNTHETIC benchmark data (bench/synthetic.py, seed {seed}): not programme content\n\n\n"
        (folder / f"synthetic_{doc:05d}.md").write_text(header + "\n\n\n".join(sections), encoding="utf-8")
        doc += 1
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(generate(args.n, Path(args.out), args.seed))


if __name__ == "__main__":
    main()
