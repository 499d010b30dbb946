"""The read-side index: everything a serving process needs besides the vectors, computed at
ingest and stored with the collection (`Store.put_index`), so a serving process on any machine
loads it without segmenting or matching any text:

- the passages (text, location, table record) in store order;
- the name-table entities each passage names (and, for a table row, the names its cells hold);
- each passage's lexical tokens (kept so the next ingest only segments new passages) and the
  BM25 score matrix built from them.

It is tied to one store generation, one lexical tokenizer and one name table. A serving process
that finds it missing, stale or built with another tokenizer or name table rebuilds what differs
in memory (`build` with the stored one as `previous`), as every process had to before."""
from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import islice
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from . import bilingual
from .glossary import Glossary, changed_forms, has_cjk
from .lexical import LexicalIndex, token_ids, tokenizer_for
from .models import Passage, TableRow
from .text import SECTION_JOINER

if TYPE_CHECKING:
    from .store import PassageStore

INDEX_VERSION = "4"  # bump when the stored layout or what goes into it changes
MAGIC = b"IURCIX4\n"


class IndexError_(ValueError):
    """A stored index that cannot be read (damaged, or written by another version)."""


class Passages(Sequence[Passage]):
    """The passages in store order. Loaded from a stored index, they stay in the stored columns
    (one UTF-8 buffer of texts, small tables of documents, sections and names) and a Passage
    object is made the first time one is read, then kept: a serving process that answers from a
    few hundred passages of 110k does not build 110k objects at start. The whole-collection
    views a retriever needs (ids, documents, languages, kinds, names) come from the columns."""

    def __init__(self, items: list[Passage] | None = None, columns: dict | None = None):
        self._items: list[Passage | None] = list(items) if items is not None else [None] * len(columns["ids"])
        self._columns = columns
        self._entities: list[frozenset[str]] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        item = self._items[i]
        if item is None:
            item = self._items[i] = self._make(i if i >= 0 else i + len(self))
        return item

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, (Passages, list)) else NotImplemented

    def _make(self, i: int) -> Passage:
        c = self._columns
        a, b = c["text_ends"][i - 1] if i else 0, c["text_ends"][i]
        text = bytes(c["text"][a:b]).decode("utf-8")
        a, b = c["record_ends"][i - 1] if i else 0, c["record_ends"][i]
        record = TableRow.from_record(json.loads(bytes(c["records"][a:b]).decode("utf-8"))) if b > a else None
        return Passage(c["ids"][i], c["docs"][c["doc_of"][i]], c["locations"][i], c["sections"][c["section_of"][i]],
                       c["languages"][c["language_of"][i]], c["kinds"][c["kind_of"][i]], text, record,
                       self.entities()[i])

    def _column(self, table: str, of: str, attribute: str) -> list[str]:
        if self._columns is None:
            return [getattr(p, attribute) for p in self._items]
        names = self._columns[table]
        return [names[k] for k in self._columns[of].tolist()]

    def chunk_ids(self) -> list[str]:
        return self._columns["ids"] if self._columns is not None else [p.chunk_id for p in self._items]

    def docs(self) -> list[str]:
        return self._column("docs", "doc_of", "doc")

    def locations(self) -> list[str]:
        return self._columns["locations"] if self._columns is not None else [p.location for p in self._items]

    def languages(self) -> list[str]:
        return self._column("languages", "language_of", "language")

    def kinds(self) -> list[str]:
        return self._column("kinds", "kind_of", "kind")

    def entities(self) -> list[frozenset[str]]:
        """Each passage's names (one frozenset per distinct set, shared)."""
        if self._entities is None:
            if self._columns is None:
                self._entities = [p.entities for p in self._items]
            else:
                names, ends, ids = self._columns["entity_names"], self._columns["entity_ends"], self._columns["entity_ids"]
                shared: dict[tuple, frozenset[str]] = {}
                out, start = [], 0
                for end in ends.tolist():
                    key = tuple(ids[start:end].tolist())
                    found = shared.get(key)
                    if found is None:
                        found = shared[key] = frozenset(names[k] for k in key)
                    out.append(found)
                    start = end
                self._entities = out
        return self._entities

    def with_records(self) -> list[int]:
        """The positions of the passages that are table rows (a record)."""
        if self._columns is None:
            return [i for i, p in enumerate(self._items) if p.record is not None]
        ends = self._columns["record_ends"]
        return np.flatnonzero(np.diff(ends, prepend=0)).tolist()


class Tokens(Sequence[np.ndarray]):
    """Each passage's lexical token ids, as one flat array and the passages' end offsets."""

    def __init__(self, flat: np.ndarray, ends: np.ndarray):
        self.flat, self.ends = flat, ends

    @classmethod
    def of(cls, lists: list[np.ndarray]) -> "Tokens":
        ends = np.cumsum(np.fromiter((len(t) for t in lists), dtype=np.int64, count=len(lists)))
        flat = np.concatenate(lists).astype(np.int32, copy=False) if lists else np.zeros(0, np.int32)
        return cls(flat, ends)

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self.flat[(self.ends[i - 1] if i else 0):self.ends[i]]


@dataclass
class ReadIndex:
    generation: str
    tokenizer: str
    names_sha: str  # sha256 of the name table the passages' entities were found with
    passages: Passages
    tokens: Tokens  # per passage: token ids into lexical.vocabulary
    lexical: LexicalIndex
    # The word bridge's glosses of the vocabulary's words (core/bilingual.py), made with the
    # bridge table `bridge_id`: a serving process needs the table only for a question's new words.
    glosses: dict[str, frozenset[str]] = field(default_factory=dict)
    bridge_id: str = ""

    def __post_init__(self):
        if not isinstance(self.passages, Passages):
            self.passages = Passages(self.passages)
        if not isinstance(self.tokens, Tokens):
            self.tokens = Tokens.of(list(self.tokens)) if len(self.tokens) else \
                Tokens(np.zeros(0, np.int32), np.zeros(len(self.passages), np.int64))


def lexical_text(text: str) -> str:
    """What BM25 sees: the passage with only the last heading of its path ("Minutes › Session 2"
    becomes "Session 2"), so a document's title, repeated in all its passages, does not make
    them tie on its words; the dense search sees the whole path."""
    first, _, rest = text.partition("\n")
    return (first.rsplit(SECTION_JOINER, 1)[-1] + "\n" + rest) if SECTION_JOINER in first else text


def passage_tokens(text: str, tokenizer: str) -> list[str]:
    """What BM25 counts for a passage: its lexical text's tokens."""
    return tokenizer_for(tokenizer)(lexical_text(text))


@dataclass
class Written:
    """A passage an ingest has just stored, kept for the read index so that it is not read back
    from the store: its row as `Store.get_chunks` gives it, and its lexical tokens when an
    embedding worker made them."""
    row: dict
    tokens: list[str] | None = None


def build(rows, glossary: Glossary, tokenizer: str, generation: str,
          previous: ReadIndex | None = None, previous_names: Glossary | None = None,
          made: dict[str, Written] | None = None) -> ReadIndex:
    """The index of the stored passages. `rows`, in store order: {"id", "text", "metadata"} as
    Store.iter_chunks gives them, or {"id", "passage"} for a passage `previous` holds. What
    `previous` holds for a passage (same content-hash id) is reused when it was made the same
    way: its tokens with the same tokenizer, its names with the same name table, or with the
    name table `previous_names` when the passage holds none of the forms that changed since.
    `made`: passages the ingest wrote, with the tokens its worker processes made (by `tokenizer`)."""
    from dataclasses import replace
    from sys import intern

    same_tokens = previous is not None and previous.tokenizer == tokenizer
    same_names = previous is not None and previous.names_sha == glossary.sha256
    old = {cid: i for i, cid in enumerate(previous.passages.chunk_ids())} if previous else {}
    # Which reused passages must have their names matched again: those holding a written form
    # the name table added, dropped or gave another entity (all of them without the old table).
    touched = None
    if previous is not None and not same_names and previous_names is not None \
            and previous_names.sha256 == previous.names_sha:
        touched = changed_forms(previous_names, glossary) or (lambda text: False)
    # Reused token ids keep their meaning: the vocabulary grows from the previous one.
    vocabulary: dict[str, int] = dict(previous.lexical.vocabulary) if same_tokens else {}
    passages, tokens = [], []
    for r in rows:
        j = old.get(r["id"])
        kept = r.get("passage")
        if kept is None:
            meta = r["metadata"]
            # Names repeated across passages are interned: one string per document, not per passage.
            record = TableRow.from_record(json.loads(meta["record"])) if meta.get("record") else None
            kept = Passage(r["id"], intern(meta["doc"]), meta["location"], intern(meta["section"]),
                           intern(meta["language"]), intern(meta["kind"]), r["text"], record)
        if same_tokens and j is not None:
            ids = previous.tokens[j]
        else:
            ready = made[r["id"]].tokens if made and r["id"] in made else None
            ids = token_ids(passage_tokens(kept.text, tokenizer) if ready is None else ready, vocabulary)
        rematch = not (same_names and j is not None)
        if rematch and j is not None and touched is not None and not touched(kept.text) \
                and not (kept.record is not None and touched(kept.record.cell_text)):
            rematch = False  # no form it holds changed: its names are the same
        if rematch:
            record = replace(kept.record) if kept.record is not None else None
            if record is not None:
                # The names its cells hold, in order, with the whole name table (ingest found
                # them with the document's own names only).
                record.entities = list(dict.fromkeys(m.entity_id for m in glossary.find(record.cell_text, False)))
            kept = replace(kept, record=record, entities=frozenset(m.entity_id for m in glossary.find(kept.text, False)))
        passages.append(kept)
        tokens.append(ids)
    bridge = bilingual.table_id()
    same_bridge = previous is not None and previous.bridge_id == bridge
    known = previous.glosses if same_bridge else {}
    # (the vocabulary grown from the previous one: its words' glosses are taken whole, and only
    # the words this build added are looked at)
    grown = same_tokens and same_bridge
    glosses = dict(known) if grown else {}
    glosses.update((t, known[t] if t in known else bilingual.english_words(t))
                   for t in (islice(vocabulary, len(previous.lexical.vocabulary), None) if grown else vocabulary)
                   if has_cjk(t))
    return ReadIndex(generation, tokenizer, glossary.sha256, passages, tokens,
                     LexicalIndex.from_token_ids(tokens, vocabulary, tokenizer), glosses, bridge)


def _table(values: list[str]) -> tuple[list[str], np.ndarray]:
    """Distinct values in first-seen order, and each value's position among them."""
    positions: dict[str, int] = {}
    of = np.fromiter((positions.setdefault(v, len(positions)) for v in values), dtype=np.int32, count=len(values))
    return list(positions), of


def _utf8_column(values) -> tuple[np.ndarray, np.ndarray]:
    """Strings as one UTF-8 buffer and each one's end offset."""
    encoded = [v.encode("utf-8") for v in values]
    ends = np.cumsum(np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded)))
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends


def to_bytes(index: ReadIndex) -> bytes:
    """The index as one uncompressed blob: a JSON head (tables, vocabulary, glosses, where each
    array lies) and the arrays after it, each at an 8-byte boundary, so loading is one read and
    views on it (no parsing of passage texts, no decompression)."""
    passages = list(index.passages)
    vocabulary = sorted(index.lexical.vocabulary, key=index.lexical.vocabulary.__getitem__)
    docs, doc_of = _table([p.doc for p in passages])
    sections, section_of = _table([p.section for p in passages])
    languages, language_of = _table([p.language for p in passages])
    kinds, kind_of = _table([p.kind for p in passages])
    entity_names, _ = _table([e for p in passages for e in sorted(p.entities)])
    where = {e: k for k, e in enumerate(entity_names)}
    entity_ids = np.fromiter((where[e] for p in passages for e in sorted(p.entities)), dtype=np.int32)
    entity_ends = np.cumsum(np.fromiter((len(p.entities) for p in passages), dtype=np.int64, count=len(passages)))
    text, text_ends = _utf8_column(p.text for p in passages)
    records, record_ends = _utf8_column(json.dumps(p.record.as_record(), ensure_ascii=False) if p.record else ""
                                        for p in passages)
    arrays = {"doc_of": doc_of, "section_of": section_of, "language_of": language_of, "kind_of": kind_of,
              "entity_ids": entity_ids, "entity_ends": entity_ends, "text": text, "text_ends": text_ends,
              "records": records, "record_ends": record_ends,
              "token_ids": index.tokens.flat.astype(np.int32, copy=False), "token_ends": index.tokens.ends,
              **index.lexical.arrays()}
    head = {
        "version": INDEX_VERSION, "generation": index.generation, "tokenizer": index.tokenizer,
        "names_sha": index.names_sha, "vocabulary": vocabulary, "bridge_id": index.bridge_id,
        "glosses": {t: sorted(g) for t, g in index.glosses.items() if g},
        "ids": [p.chunk_id for p in passages], "locations": [p.location for p in passages],
        "docs": docs, "sections": sections, "languages": languages, "kinds": kinds, "entity_names": entity_names,
        "arrays": {},
    }
    offset, parts = 0, []
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        head["arrays"][name] = [array.dtype.str, list(array.shape), offset]
        data = array.tobytes()
        parts.append(data + b"\0" * (-len(data) % 8))
        offset += len(parts[-1])
    encoded = json.dumps(head, ensure_ascii=False).encode("utf-8")
    encoded += b" " * (-(len(MAGIC) + 8 + len(encoded)) % 8)
    return b"".join([MAGIC, len(encoded).to_bytes(8, "little"), encoded, *parts])


def from_bytes(data: bytes) -> ReadIndex:
    """The index from its blob: the arrays are views on `data`, the passages made when read."""
    try:
        if not data.startswith(MAGIC):
            raise ValueError("not a read index of this version")
        size = int.from_bytes(data[len(MAGIC):len(MAGIC) + 8], "little")
        start = len(MAGIC) + 8
        head = json.loads(data[start:start + size].decode("utf-8"))
        base = start + size
        buffer = memoryview(data)
        arrays = {}
        for name, (dtype, shape, offset) in head["arrays"].items():
            dtype = np.dtype(dtype)
            count = int(np.prod(shape)) if shape else 1
            arrays[name] = np.frombuffer(buffer, dtype=dtype, count=count, offset=base + offset).reshape(shape)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise IndexError_(f"the stored read index cannot be read: {exc}") from None
    if head.get("version") != INDEX_VERSION:
        raise IndexError_(f"the stored read index has version {head.get('version')!r}, not {INDEX_VERSION}")
    columns = {k: head[k] for k in ("ids", "locations", "docs", "sections", "languages", "kinds", "entity_names")}
    columns.update((k, arrays.pop(k)) for k in ("doc_of", "section_of", "language_of", "kind_of", "entity_ids",
                                                 "entity_ends", "text", "text_ends", "records", "record_ends"))
    if any(len(columns[k]) != len(columns["ids"]) for k in ("locations", "doc_of", "text_ends", "entity_ends")):
        raise IndexError_("the stored read index's columns disagree in length")
    passages = Passages(columns=columns)
    tokens = Tokens(arrays.pop("token_ids"), arrays.pop("token_ends"))
    vocabulary = {t: i for i, t in enumerate(head["vocabulary"])}
    lexical = LexicalIndex.from_arrays(arrays, vocabulary, len(passages), head["tokenizer"])
    # (every word of the vocabulary in the bridged script has its glosses, stored when not empty)
    stored = head["glosses"]
    glosses = {t: frozenset(stored.get(t, ())) for t in head["vocabulary"] if has_cjk(t)}
    return ReadIndex(head["generation"], head["tokenizer"], head["names_sha"], passages, tokens, lexical,
                     glosses, head.get("bridge_id", ""))


def load(store: "PassageStore") -> ReadIndex | None:
    """The index stored with the collection, or None (none stored, being replaced, unreadable)."""
    stored = store.stored_index()
    if stored is None:
        return None
    try:
        return from_bytes(stored[1])
    except IndexError_:
        return None


def current(store: "PassageStore", glossary: Glossary, tokenizer: str, generation: str,
            previous_names: Glossary | None = None, made: dict[str, Written] | None = None) -> ReadIndex:
    """The index for this generation, name table and tokenizer: the stored one when it is that,
    otherwise built here (reusing what the stored one holds for unchanged passages, and its
    names where the name table `previous_names` it was built with changed no form they hold).
    `made`: the passages this ingest wrote (they are not read back from the store)."""
    stored = load(store)
    if stored is not None and stored.generation == generation and stored.tokenizer == tokenizer \
            and stored.names_sha == glossary.sha256:
        return stored
    if stored is None and not made:
        return build(store.iter_chunks(), glossary, tokenizer, generation)
    # Only the passages neither the stored index nor this ingest holds are read from the store
    # (ids are content hashes: the same id is the same text), in store order.
    held = {cid: j for j, cid in enumerate(stored.passages.chunk_ids())} if stored is not None else {}
    made = made or {}
    ids = store.chunk_ids()
    fresh = {r["id"]: r for r in store.get_chunks([i for i in ids if i not in held and i not in made])}
    rows = ({"id": i, "passage": stored.passages[held[i]]} if i in held else made[i].row if i in made else fresh[i]
            for i in ids if i in held or i in made or i in fresh)
    return build(rows, glossary, tokenizer, generation, previous=stored, previous_names=previous_names, made=made)
