"""Calibrate the abstention threshold (IURC_MIN_SENTENCE_SCORE) on the evaluation set.

usage: .venv/bin/python -m eval.calibrate [--set eval/questions.yaml] [--store .iurc/store] [--split dev]
Answers every case with abstention on weak evidence switched off, then prints the evidence
score of each case and the threshold that best separates answerable from unanswerable ones.
"""
from __future__ import annotations

import argparse


def main() -> None:
    from app.answering.service import Assistant
    from core.store import StoreConfig

    from .runner import load_cases

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", default="eval/questions.yaml")
    parser.add_argument("--store", default=None)
    parser.add_argument("--split", default=None, help="only this split (dev: never calibrate on test)")
    args = parser.parse_args()
    cases = [c for c in load_cases(args.set) if args.split in (None, c.split)]
    assistant = Assistant(StoreConfig.from_settings(args.store), min_sentence=-10.0,
                          min_named_sentence=-10.0)
    groups: dict[str, list] = {"unnamed (IURC_MIN_SENTENCE_SCORE)": [],
                               "named (IURC_MIN_NAMED_SENTENCE_SCORE)": []}
    for case in cases:
        result = assistant.ask(case.question, case.history)
        if result["abstained"] or result.get("answer_kind") == "facts":
            continue  # decided without the threshold (unknown name, bad input, table facts)
        group = "named (IURC_MIN_NAMED_SENTENCE_SCORE)" if result["entities"] else \
            "unnamed (IURC_MIN_SENTENCE_SCORE)"
        groups[group].append((result["evidence"], case.abstain, case.id))
    for name, rows in groups.items():
        rows.sort()
        print(f"\n{name}")
        for evidence, abstain, case_id in rows:
            print(f"{evidence:7.3f}  {'ABSTAIN' if abstain else 'answer '}  {case_id}")
        if rows:
            threshold, correct = best_threshold(rows)
            print(f"threshold {threshold:.3f}: {correct}/{len(rows)} cases decided right")
    print("\nTo adopt a threshold, set it under `thresholds:` in eval/profile.yaml (the one place the "
          "calibrated values live), then run `iurc eval --gate`.")


def best_threshold(rows: list[tuple[float, bool, str]]) -> tuple[float, int]:
    """The cut that decides most cases right; midway between neighbours, for a margin.
    Ties go to the lowest cut: answering is preferred over abstaining when the set cannot tell."""
    values = sorted({e for e, _, _ in rows})
    cuts = [values[0] - 0.05] + [(a + b) / 2 for a, b in zip(values, values[1:])]
    def right(t):
        return sum((e < t) == abstain for e, abstain, _ in rows)
    best = max(cuts, key=lambda t: (right(t), -t))
    return round(best, 3), right(best)


if __name__ == "__main__":
    main()
