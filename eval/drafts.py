"""Draft evaluation cases from chat feedback: a staff member completes and adds them."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold())[:30].strip("-") or "case"


def drafts_from_feedback(path: str | Path) -> tuple[str, int]:
    """YAML text of draft cases (one per rated or commented question) and how many."""
    records = [json.loads(line) for line in Path(path).read_text("utf-8").splitlines() if line.strip()]
    by_question: dict[str, dict] = {}
    for record in records:
        entry = by_question.setdefault(record["question"], {"record": record, "ratings": [], "comments": []})
        if record.get("rating") in ("up", "down"):
            entry["ratings"].append(record["rating"])
        if record.get("comment"):
            entry["comments"].append(record["comment"])
    cases = []
    for i, (question, entry) in enumerate(by_question.items(), start=1):
        record = entry["record"]
        verdict = entry["ratings"][-1] if entry["ratings"] else "comment"
        case = {"id": f"fb-{i:03d}-{_slug(question)}", "question": question,
                "language": record.get("language", "en"), "kind": "abstain" if record.get("abstained") else
                ("ja" if record.get("language") == "ja" else "en"),
                "review": f"staff rated the answer {verdict}" + (
                    "; comments: " + " / ".join(entry["comments"]) if entry["comments"] else "")}
        if record.get("abstained") and verdict == "up":
            case["abstain"] = True
        else:
            # Sources the answer cited, as snippets; facts to be written by the reviewer.
            case["sources"] = [{"doc": c["doc"], "snippet": c["quote"][:40]} for c in record.get("citations", [])]
            case["facts"] = [["TODO: what the answer must state"]]
        cases.append(case)
    header = ("# Draft cases from chat feedback. Review each: fix kind, sources and facts (a thumbs-down\n"
              "# means the cited passages may be wrong), drop the 'review' key, then append to\n"
              "# eval/questions.yaml under cases:.\n")
    return header + yaml.safe_dump(cases, allow_unicode=True, sort_keys=False), len(cases)
