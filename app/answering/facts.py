"""Table facts: list, filter and count questions answered exactly from the table rows that
ingest recovered, citing every row used. Which words filter rows comes from the tables
themselves (their column names and group labels) and the question vocabulary
(core/lang/<language>.yaml), never from one table's words."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from core.bilingual import bridged, english_words
from core.glossary import Glossary, has_cjk
from core.index import Passages
from core.lexical import latin_tokens, sudachi_tokens
from core.languages import languages, vocabulary
from core.text import SECTION_JOINER

from app.answering.question import YEAR, Question, cues, names_attribute, ordinals


@dataclass
class FactAnswer:
    rows: list
    description: dict  # which filters were applied, for the answer's first line
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # chunk id -> names its cells hold


@lru_cache(maxsize=1)
def _scaffold() -> frozenset[str]:
    """Words that say what kind of question it is, not what it is about (both languages)."""
    words: set[str] = set()
    for language in languages():
        v = vocabulary(language)
        for key in ("list_nouns", "question_words", "place_words", "number_words"):
            words |= set(latin_tokens(" ".join(str(w) for w in v.get(key, []))))
        words |= set(latin_tokens(" ".join(v.get("intents", {}).values())))
        words |= set(latin_tokens(" ".join(v.get("ordinal_words", {}) or {})))
    return frozenset(words)


class Facts:
    def __init__(self, passages: Passages | list, glossary: Glossary):
        # (only the table rows' passages are read)
        passages = passages if isinstance(passages, Passages) else Passages(passages)
        self.rows = [p for p in (passages[i] for i in passages.with_records()) if p.record and p.record.values]
        self.glossary = glossary
        self._words = {r.chunk_id: set(latin_tokens(r.record.cell_text)) for r in self.rows}
        # The names each row holds, in order, found at ingest with the whole name table
        # (core/index.py); the answer and the UI read them from here.
        self.names = {r.chunk_id: tuple(r.record.entities) for r in self.rows}
        # Words present in half the rows or more cannot tell rows apart.
        counts: dict[str, int] = {}
        for words in self._words.values():
            for token in words:
                counts[token] = counts.get(token, 0) + 1
        self._common = {t for t, n in counts.items() if n * 2 >= max(len(self.rows), 2)}

    def match(self, q: Question) -> FactAnswer | None:
        if not self.rows or not (q.wants_list or q.wants_count):
            return None
        rows = list(self.rows)
        if q.attribute:
            # "How much is the budget of X?": only a table with that column answers it.
            rows = [r for r in rows if names_attribute(q.attribute, " ".join(r.record.columns))]
        if q.years:
            # "Which pairs started in 2019?": the tables whose rows start in a year asked are the
            # ones asked about, whatever another table's title says ("New pairs in …").
            dated = {(r.doc, r.record.table) for r in rows if r.record.start_year in q.years}
            if dated:
                rows = [r for r in rows if (r.doc, r.record.table) in dated]
        asked = self._tables_asked(q, rows)
        found = self._match_rows(q, self._counted_rows(q, asked))
        if found is None and len(asked) < len(rows):
            # The table whose title says the noun ("New pairs in …") holds nothing the question
            # filters by (a country, a topic): the other tables may.
            chosen = {r.chunk_id for r in asked}
            found = self._match_rows(q, self._counted_rows(q, [r for r in rows if r.chunk_id not in chosen]))
        return found

    def _match_rows(self, q: Question, rows: list) -> FactAnswer | None:
        """The rows (of the tables considered) the question filters, with what filtered them."""
        description: dict = {}
        if not rows:
            return None
        # The tables' own structure words (column names, group labels, titles) say which table
        # and which column a question is about, not which rows it wants: those of the tables
        # considered (a topic word in another document's table title still filters these rows).
        scaffold = _scaffold() | set(latin_tokens(" ".join(
            " ".join(r.record.columns) + " " + r.record.group + " " + r.record.table for r in rows)))
        started = [r for r in rows if r.record.start_year in q.years] if q.years else []
        if started:  # rows that start in the year asked; a year no row starts in filters nothing
            rows = started
            description["years"] = q.years
        grouped = [r for r in rows if ordinals(r.record.group)]
        asked = _group_ordinals(q.text, grouped)
        if q.ordinals and not asked:
            return None  # "the second meeting": no table here counts what the question counts
        if asked:
            # "the 3rd wave": rows whose group label carries the same ordinal and the word the
            # question counts with ("wave"); an ordinal before another word does not filter.
            rows = [r for r in grouped if ordinals(r.record.group)[0] in asked]
            if rows:
                description["group"] = YEAR.sub("", rows[0].record.group).strip(" -–")
        in_rows: set[str] = set()
        if q.entities and not q.inherited:
            # Rows holding every name of the question that these rows hold ("EU" in a column
            # title filters nothing; "Oita" in a cell does); failing that, the rows holding its
            # most specific name.
            in_rows = set(q.entities) & set().union(set(), *(self.names[r.chunk_id] for r in rows))
            every = [r for r in rows if in_rows and in_rows <= set(self.names[r.chunk_id])]
            if not every and in_rows:
                rarest = min(in_rows, key=lambda e: sum(e in self.names[r.chunk_id] for r in rows))
                every, in_rows = [r for r in rows if rarest in self.names[r.chunk_id]], {rarest}
            if in_rows:
                rows = every
                description["entities"] = [e for e in q.entities if e in in_rows]
        # A name no row holds as a name ("Fukushima" inside "Energy Agency Fukushima") filters
        # the rows by its words: the rows that write it, or none.
        unheld = [] if q.inherited else [m.surface for m in self.glossary.find(q.text)
                                         if m.entity_id in q.entities and m.entity_id not in in_rows]
        for name in unheld:
            words = set(latin_tokens(name))
            if not words or words <= scaffold:
                continue  # a word of the tables' own titles ("EU" of an "EU region" column)
            rows = [r for r in rows if words <= self._words[r.chunk_id]]
            description.setdefault("topic", []).append(name)
        text = q.text
        for m in reversed(self.glossary.find(text)):
            text = text[:m.start] + " " + text[m.end:]
        # (a word of one table's structure is no topic of that table's rows, but may be one of
        # another table's: a word may title one document's seminar table and be a topic cell
        # of another's pairs)
        structure: dict[tuple, set[str]] = {}
        for r in rows:
            structure.setdefault((r.doc, r.record.table), set()).update(latin_tokens(
                " ".join(r.record.columns) + " " + r.record.group + " " + r.record.table))
        topic = [t for t in latin_tokens(text) if t not in _scaffold() and t not in self._common and not t.isdigit()
                 and not all(t in words for words in structure.values())]
        said = lambda r: set(topic) - structure[(r.doc, r.record.table)] & self._words[r.chunk_id]
        if topic:
            with_topic = [r for r in rows if said(r)]
            if with_topic:
                rows = with_topic
                description["topic"] = description.get("topic", []) + [
                    _as_written(t, q.text) for t in topic if any(t in said(r) for r in with_topic)]
        if not description and rows:
            # "How many speakers were at the business seminar?": a table the question names by its
            # whole title, nothing to filter by: all its rows.
            named = self._named_table(q, rows)
            if named:
                rows = named
                description["table"] = rows[0].record.table
        if not description or not rows:
            return None
        description["noun"] = asked_noun(q)
        return self._answer(rows, description)

    def _counted_rows(self, q: Question, rows: list) -> list:
        """"How many X …?": only rows of a table whose structure says X (its title, columns or
        group label: what its rows are; across languages through the word bridge) count; none
        when no table does ("How many people took part?" is no count of a table of pairs)."""
        if "how_many" not in q.intents:
            return rows
        if not q.focus:
            # No noun counted that the question's wording shows: the rows count only when it
            # names what a table lists ("ペア", "cities"); "いくつの区を…" counts no table.
            return rows if asked_noun(q) else []
        counted = set(latin_tokens(q.focus)) | english_words(q.focus)
        if has_cjk(q.focus):
            counted |= bridged(set(sudachi_tokens(q.focus)))
        units = vocabulary(q.language).get("row_units", [])
        if not counted or q.focus.casefold() in units or counted & set(latin_tokens(" ".join(units))):
            return rows  # "How many pairs …": every row is one
        return [r for r in rows if counted & set(latin_tokens(
            " ".join(r.record.columns) + " " + r.record.group + " " + r.record.table))]

    def _named_table(self, q: Question, rows: list) -> list:
        """The rows of the one table whose own title (its last heading) the question says every
        word of (a Japanese question through the word bridge: ビジネスセミナー for "Business
        seminar"); [] when no table, or more than one, is named so."""
        asked = set(latin_tokens(q.text))
        if has_cjk(q.text):
            asked |= bridged(set(sudachi_tokens(q.text)))
        named = [members for (doc, table), members in _by_table(rows).items()
                 if (title := set(latin_tokens(table.split(SECTION_JOINER)[-1])) - _scaffold()) and title <= asked]
        return named[0] if len(named) == 1 else []

    def _tables_asked(self, q: Question, rows: list) -> list:
        """When rows come from several tables, those of the tables whose own words (title,
        column names) the question uses most ("regions" for a table with an "EU region" column)."""
        tables = _by_table(rows)
        if len(tables) < 2:
            return rows
        asked = set(latin_tokens(q.text))
        # The noun the question lists ("speakers", 登壇者) says which table first: "Toyota City"
        # in "Which speakers are from Toyota City?" is a name, not the table's "City" column.
        noun = asked_noun(q)
        # (a Japanese noun through the bridge as a whole word too: 登壇者 is "speaker", 登壇 is not)
        nouns = bridged(set(sudachi_tokens(noun)) | {noun}) if has_cjk(noun) else set(latin_tokens(noun))
        own = {key: set(latin_tokens(" ".join(members[0].record.columns) + " " + key[1].split(SECTION_JOINER)[-1]))
               for key, members in tables.items()}
        overlap = {key: (bool(nouns & words), len(asked & words)) for key, words in own.items()}
        best = max(overlap.values())
        if best == (False, 0):
            return rows
        return [r for key, members in tables.items() if overlap[key] == best for r in members]

    def whole_table(self, q: Question, hits: list) -> FactAnswer | None:
        """"List all the speakers", 登壇者を全員: every row of the table the best-ranked row belongs
        to, when the question asks for a list or a count and names nothing to filter by."""
        if "all_rows" not in q.intents or not (q.wants_list or q.wants_count) \
                or (q.entities and not q.inherited) or q.attribute or q.intents & {"when", "who"} \
                or ("where" in q.intents and cues(q.language)["interrogative"].search(q.text)):
            # ("Where do all the cities meet?" asks for a place; "list all the towns" for the rows)
            return None
        best = next((h.passage for h in hits[:3] if h.passage.chunk_id in self.names), None)
        if best is None:
            return None
        table = (best.doc, best.record.table)
        rows = [r for r in self.rows if (r.doc, r.record.table) == table]
        return self._answer(rows, {"table": best.record.table, "noun": asked_noun(q)})

    def _answer(self, rows: list, description: dict) -> FactAnswer:
        return FactAnswer(rows, description, {r.chunk_id: self.names[r.chunk_id] for r in rows})


def _by_table(rows: list) -> dict[tuple, list]:
    """Rows grouped by their table: (document, table title) -> its rows, in order."""
    tables: dict[tuple, list] = {}
    for r in rows:
        tables.setdefault((r.doc, r.record.table), []).append(r)
    return tables


def _as_written(token: str, text: str) -> str:
    """The question's own word for a token ("Fukushima" for fukushima, "hydrogen"), else the token."""
    return next((w for w in re.findall(r"[^\W_][\w'-]*", text) if latin_tokens(w) == [token]), token)


def asked_noun(q: Question) -> str:
    """The plural noun the question lists or counts ("pairs", "speakers", ペア), or ""; a
    follow-up without one ("And Oita?") lists what the turn it points back to listed."""
    for text in [q.text] + ([q.retrieval_text] if q.context else []):
        for noun in sorted(vocabulary(q.language).get("list_nouns", []), key=len, reverse=True):
            if re.search(rf"(?<![a-z]){re.escape(noun)}(?![a-z])", text, re.I):
                return noun
    return ""


def _group_ordinals(text: str, grouped: list) -> list[int]:
    """Ordinals of the question that are followed by a word of the tables' group labels."""
    labels = " ".join(r.record.group for r in grouped).casefold()
    asked = []
    words = re.findall(r"[^\W_]+", text.casefold(), re.ASCII) or []
    for word, following in zip(words, words[1:]):
        if following in labels.split():
            asked += ordinals(word)
    return asked
