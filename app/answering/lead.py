"""The answer's first line, what a reader acts on: one strategy per kind of question.

A strategy says which value the first line must carry (a date for "when", a place for "where",
a person for "who", a number for "how many", nothing for "what"/"why"), and how it is said when
the answering sentence is in the other language (the values that need no translation: names
through the name table, dates, numbers). A new intent is one entry in STRATEGIES plus its cue
words in core/lang/<language>.yaml. The wording is in the `answers` section of those files.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# A first line reads at a glance: at most this many columns (a CJK character counts 2).
FIRST_LINE_COLUMNS = 240
# Where a long sentence may be cut into clauses: after a comma, semicolon or colon (either
# script), or around a dash.
_CLAUSE_END = re.compile(r"(?<=[,;:、，；：…])\s*|\s+[–—]\s+")
_ELLIPSIS = "…"
# Where the items of a listing sentence end: after a comma, semicolon or colon (either script).
_LIST_CLAUSE_END = re.compile(r"(?<=[,;:、，；：])\s*")


@dataclass(frozen=True)
class Strategy:
    """How one kind of question is answered on the first line."""

    intent: str
    value: str  # the kind of value the line must carry ("" = the answering clause itself)
    states: tuple[str, ...]  # what is stated from an other-language sentence: names, people, dates, numbers


STRATEGIES = {
    "when": Strategy("when", "date", ("dates", "names")),
    "time": Strategy("time", "time", ("times",)),
    "duration": Strategy("duration", "duration", ("durations",)),
    "where": Strategy("where", "place", ("places",)),
    "who": Strategy("who", "person", ("people",)),
    "how_many": Strategy("how_many", "number", ("numbers", "names")),
    "what": Strategy("what", "", ("names", "dates")),
}
# When a question has several intents ("when and where"), the first of these leads.
ORDER = ("who", "time", "duration", "when", "where", "how_many")


def strategy(intents: set[str]) -> Strategy:
    return next((STRATEGIES[i] for i in ORDER if i in intents), STRATEGIES["what"])


def columns(text: str) -> int:
    """Display width: a wide or full-width character counts 2."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def clause(sentence: str, keep, limit: int = FIRST_LINE_COLUMNS) -> str:
    """The sentence itself when it fits in `limit` columns; else the clauses around the one that
    `keep(clause)` scores highest, as many as fit, with an ellipsis where it was cut."""
    sentence = " ".join(sentence.split())
    if columns(sentence) <= limit:
        return sentence
    parts = _parts(sentence, _CLAUSE_END)
    if len(parts) < 2:
        return _cut(sentence, limit)
    best = max(range(len(parts)), key=lambda i: (keep(parts[i]), -i))
    lo = hi = best
    while True:
        grown = False
        for lo2, hi2 in ((lo, hi + 1), (lo - 1, hi)):
            if 0 <= lo2 and hi2 < len(parts) and columns("".join(parts[lo2:hi2 + 1])) + 2 <= limit:
                lo, hi, grown = lo2, hi2, True
                break
        if not grown:
            break
    text = "".join(parts[lo:hi + 1]).strip()
    if columns(text) > limit - 2:
        text = _cut(text, limit - 2)
    text = text.rstrip(",;:、，；： ")
    return (_ELLIPSIS if lo > 0 else "") + text + (_ELLIPSIS if hi < len(parts) - 1 and not text.endswith(_ELLIPSIS) else "")


def best_clause(sentence: str, keep) -> str:
    """The clause of a sentence that `keep(clause)` scores highest; clauses that score as high
    are kept with it (nothing tells them apart)."""
    parts = _parts(sentence, _CLAUSE_END) or [sentence]
    scores = [keep(part) for part in parts]
    return "".join(part for part, score in zip(parts, scores) if score == max(scores))


def own_clauses(sentence: str, names_own, names_other) -> str:
    """A sentence listing several subjects ("A on X, B on Y, and C on Z") as far as it is about the
    question's: its clauses about another subject are left out (a clause naming nothing goes
    with the one before it), with an ellipsis where something was left out. The sentence itself
    when no clause names the question's subject or none names another."""
    parts = _parts(sentence, _LIST_CLAUSE_END)
    own = [names_own(p) for p in parts]
    other = [names_other(p) and not o for p, o in zip(parts, own)]
    if not any(own) or not any(other):
        return sentence
    keep, dropping = [], False
    for part, o, x in zip(parts, own, other):
        dropping = x or (dropping and not o)
        keep.append(not dropping)
    out = ""
    for i, part in enumerate(parts):
        if keep[i]:
            # after an ellipsis, a space only before Latin text ("…Bratislava", "…長野市")
            out += (" " if out.endswith(_ELLIPSIS) and part[:1].isascii() and out[:-1] else "") + part
        elif not out.endswith(_ELLIPSIS):
            out = out.rstrip().rstrip(",;:、，；：").rstrip() + _ELLIPSIS
    return out.strip()


def clause_parts(sentence: str) -> list[str]:
    """The clauses of a listing sentence (cut after commas, semicolons, colons)."""
    return _parts(sentence, _LIST_CLAUSE_END)


def _parts(sentence: str, ends: re.Pattern) -> list[str]:
    """The sentence cut after each match of `ends`, blank pieces left out."""
    cuts = [0] + [m.end() for m in ends.finditer(sentence) if 0 < m.end() < len(sentence)] + [len(sentence)]
    return [sentence[a:b] for a, b in zip(cuts, cuts[1:]) if sentence[a:b].strip()]


def _cut(text: str, limit: int) -> str:
    out, width = [], 0
    for ch in text:
        width += columns(ch)
        if width > limit - 1:
            break
        out.append(ch)
    return "".join(out).rstrip() + _ELLIPSIS
