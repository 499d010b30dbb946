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

import io
import json
import zlib
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

INDEX_VERSION = "3"  # bump when the stored layout or what goes into it changes


class IndexError_(ValueError):
    """A stored index that cannot be read (damaged, or written by another version)."""


@dataclass
class ReadIndex:
    generation: str
    tokenizer: str
    names_sha: str  # sha256 of the name table the passages' entities were found with
    passages: list[Passage]
    tokens: list[np.ndarray]  # per passage: token ids into lexical.vocabulary
    lexical: LexicalIndex
    # The word bridge's glosses of the vocabulary's words (core/bilingual.py), made with the
    # bridge table `bridge_id`: a serving process needs the table only for a question's new words.
    glosses: dict[str, frozenset[str]] = field(default_factory=dict)
    bridge_id: str = ""


def lexical_text(text: str) -> str:
    """What BM25 sees: the passage with only the last heading of its path ("Minutes › Session 2"
    becomes "Session 2"), so a document's title, repeated in all its passages, does not make
    them tie on its words; the dense search sees the whole path."""
    first, _, rest = text.partition("\n")
    return (first.rsplit(SECTION_JOINER, 1)[-1] + "\n" + rest) if SECTION_JOINER in first else text


def build(rows, glossary: Glossary, tokenizer: str, generation: str,
          previous: ReadIndex | None = None, previous_names: Glossary | None = None) -> ReadIndex:
    """The index of the stored passages. `rows`, in store order: {"id", "text", "metadata"} as
    Store.iter_chunks gives them, or {"id", "passage"} for a passage `previous` holds. What
    `previous` holds for a passage (same content-hash id) is reused when it was made the same
    way: its tokens with the same tokenizer, its names with the same name table, or with the
    name table `previous_names` when the passage holds none of the forms that changed since."""
    from dataclasses import replace
    from sys import intern

    tokenize = tokenizer_for(tokenizer)
    same_tokens = previous is not None and previous.tokenizer == tokenizer
    same_names = previous is not None and previous.names_sha == glossary.sha256
    old = {p.chunk_id: i for i, p in enumerate(previous.passages)} if previous else {}
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
        ids = previous.tokens[j] if same_tokens and j is not None else \
            token_ids(tokenize(lexical_text(kept.text)), vocabulary)
        rematch = not (same_names and j is not None)
        if rematch and j is not None and touched is not None and not touched(kept.text) \
                and not (kept.record is not None and touched(kept.record.cell_text)):
            rematch = False  # no form it holds changed: its names are the same
        if rematch:
            record = replace(kept.record) if kept.record is not None else None
            if record is not None:
                # The names its cells hold, in order, with the whole name table (ingest found
                # them with the document's own names only).
                record.entities = list(dict.fromkeys(m.entity_id for m in glossary.find(record.cell_text)))
            kept = replace(kept, record=record, entities=frozenset(m.entity_id for m in glossary.find(kept.text)))
        passages.append(kept)
        tokens.append(ids)
    bridge = bilingual.table_id()
    known = previous.glosses if previous is not None and previous.bridge_id == bridge else {}
    glosses = {t: known[t] if t in known else bilingual.english_words(t) for t in vocabulary if has_cjk(t)}
    return ReadIndex(generation, tokenizer, glossary.sha256, passages, tokens,
                     LexicalIndex.from_token_ids(tokens, vocabulary, tokenizer), glosses, bridge)


def to_bytes(index: ReadIndex) -> bytes:
    """The index as one compressed blob: a JSON part (passages, vocabulary) and numpy arrays."""
    vocabulary = sorted(index.lexical.vocabulary, key=index.lexical.vocabulary.__getitem__)
    head = {
        "version": INDEX_VERSION, "generation": index.generation, "tokenizer": index.tokenizer,
        "names_sha": index.names_sha, "vocabulary": vocabulary, "bridge_id": index.bridge_id,
        "glosses": {t: sorted(g) for t, g in index.glosses.items() if g},
        "passages": [[p.chunk_id, p.doc, p.location, p.section, p.language, p.kind, p.text,
                      p.record.as_record() if p.record else None, sorted(p.entities)]
                     for p in index.passages],
    }
    lengths = np.fromiter((len(t) for t in index.tokens), dtype=np.int64, count=len(index.tokens))
    arrays = {
        "head": np.frombuffer(json.dumps(head, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
        "token_ids": np.concatenate(index.tokens) if index.tokens else np.zeros(0, np.int32),
        "token_lengths": lengths,
        **index.lexical.arrays(),
    }
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return zlib.compress(buffer.getvalue(), 3)


def from_bytes(data: bytes) -> ReadIndex:
    try:
        arrays = dict(np.load(io.BytesIO(zlib.decompress(data)), allow_pickle=False))
        head = json.loads(arrays.pop("head").tobytes().decode("utf-8"))
    except (zlib.error, ValueError, OSError, KeyError, UnicodeDecodeError) as exc:
        raise IndexError_(f"the stored read index cannot be read: {exc}") from None
    if head.get("version") != INDEX_VERSION:
        raise IndexError_(f"the stored read index has version {head.get('version')!r}, not {INDEX_VERSION}")
    from sys import intern

    passages = [Passage(cid, intern(doc), location, intern(section), intern(language), intern(kind), text,
                        TableRow.from_record(record) if record else None, frozenset(entities))
                for cid, doc, location, section, language, kind, text, record, entities in head["passages"]]
    ends = np.cumsum(arrays.pop("token_lengths"))
    flat = arrays.pop("token_ids")
    tokens = np.split(flat, ends[:-1]) if len(ends) else []
    vocabulary = {t: i for i, t in enumerate(head["vocabulary"])}
    lexical = LexicalIndex.from_arrays(arrays, vocabulary, len(passages), head["tokenizer"])
    # (every word of the vocabulary in the bridged script has its glosses, stored when not empty)
    glosses = {t: frozenset(head["glosses"].get(t, ())) for t in head["vocabulary"] if has_cjk(t)}
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
            previous_names: Glossary | None = None) -> ReadIndex:
    """The index for this generation, name table and tokenizer: the stored one when it is that,
    otherwise built here (reusing what the stored one holds for unchanged passages, and its
    names where the name table `previous_names` it was built with changed no form they hold)."""
    stored = load(store)
    if stored is not None and stored.generation == generation and stored.tokenizer == tokenizer \
            and stored.names_sha == glossary.sha256:
        return stored
    if stored is None:
        return build(store.iter_chunks(), glossary, tokenizer, generation)
    # Only the passages the stored index lacks are read from the store (ids are content hashes:
    # the same id is the same text).
    held = {p.chunk_id: p for p in stored.passages}
    ids = store.chunk_ids()
    fresh = {r["id"]: r for r in store.get_chunks([i for i in ids if i not in held])}
    rows = ({"id": i, "passage": held[i]} if i in held else fresh[i] for i in ids if i in held or i in fresh)
    return build(rows, glossary, tokenizer, generation, previous=stored, previous_names=previous_names)
