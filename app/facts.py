"""Table facts: list, filter and count questions answered exactly from the table rows that
ingest recovered, citing every row used."""
from __future__ import annotations

from dataclasses import dataclass

from ingest.glossary import Glossary

from .lexical import latin_tokens
from .question import Question
from .retrieve import Passage

# Words that say what kind of question it is, not what it is about.
_SCAFFOLD = {"pair", "city", "citi", "town", "region", "partner", "member", "countri", "country",
             "start", "began", "begin", "join", "batch", "work", "cooperat", "cooperate", "topic",
             "year", "japanese", "eu", "european", "number", "how", "many", "which", "list", "all",
             "programme", "program", "iuc", "iurc", "1st", "2nd", "3rd", "first", "second", "third"}


@dataclass
class FactAnswer:
    rows: list[Passage]
    description: dict  # which filters were applied, for the answer's first line


class Facts:
    def __init__(self, passages: list[Passage], glossary: Glossary):
        self.rows = [p for p in passages if p.record and p.record.get("values")]
        self.glossary = glossary
        self._words = {r.chunk_id: set(latin_tokens(" ".join(r.record["values"].values()))) for r in self.rows}
        # Words present in half the rows or more cannot tell rows apart ("city", "energy"?).
        counts: dict[str, int] = {}
        for words in self._words.values():
            for token in words:
                counts[token] = counts.get(token, 0) + 1
        self._common = {t for t, n in counts.items() if n * 2 >= max(len(self.rows), 2)}

    def match(self, q: Question) -> FactAnswer | None:
        if not self.rows or not (q.wants_list or q.wants_count):
            return None
        rows, description = list(self.rows), {}
        if q.years:
            rows = [r for r in rows if r.record.get("start_year") in q.years]
            description["years"] = q.years
        if q.batch:
            rows = [r for r in rows if r.record.get("group", "").lower().startswith(q.batch.lower())]
            description["batch"] = q.batch
        if q.entities and not q.inherited:
            wanted = set(q.entities)
            rows = [r for r in rows if wanted & set(r.record.get("entities", []))]
            description["entities"] = q.entities
        topic = [t for t in latin_tokens(q.text) if t not in _SCAFFOLD and t not in self._common
                 and not t.isdigit()]
        if topic:
            with_topic = [r for r in rows if set(topic) & self._words[r.chunk_id]]
            if with_topic:
                rows = with_topic
                description["topic"] = [t for t in topic if any(t in self._words[r.chunk_id] for r in with_topic)]
        if not description or not rows:
            return None
        return FactAnswer(rows, description)
