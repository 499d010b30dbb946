"""Hybrid retrieval: dense (Chroma, multilingual embedder) + lexical (BM25 with Japanese
segmentation), the question expanded with every alias of its names, fused by reciprocal rank;
passages that mention the question's names (in either language) rank first."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from core.bilingual import bridge_language, english_words
from core.profile import load as _load_profile
from core.glossary import PLACE_KINDS, Glossary, has_cjk, is_side
from core.index import ReadIndex
from core.languages import pivot, vocabulary, written_in
from core.models import Passage
from core.names import is_adjective
from core.store import PassageStore

from app.answering.question import WIDE_DIGITS, Question, english_month, names_attribute, ordinals

PROFILE = _load_profile()

RRF_K = PROFILE.rrf_k  # calibrated values: eval/profile.yaml
ENTITY_CANDIDATES = 200  # passages naming the question's subject that are scored per question
# A document that names at most this many places is about them (a page or record on one pairing:
# a city and up to two partners), so each of its sections counts as naming them all.
SUBJECT_PLACES = 3
NEARBY_PASSAGES = 8  # a document's other passages read for a value its best passage lacks
ROWS_PER_TABLE = PROFILE.rows_per_table
WRITTEN_SAMPLE = 50  # passages read for the form the documents write a name in
# A lexical hit's least share of the question's token weight, and the place kept for the
# other language among the first passages (eval/profile.yaml says why).
MIN_MATCHED_SHARE = PROFILE.min_matched_share
OTHER_LANGUAGE_SLOT = PROFILE.other_language_slot
BRIDGE = PROFILE.bridge_channel
BRIDGE_LEAD = PROFILE.bridge_lead


def document_subjects(docs: list[str], names: list[frozenset[str]], glossary: Glossary) -> dict[str, frozenset[str]]:
    """doc -> the places a single-subject document is about: every place it names, when it names
    at most SUBJECT_PLACES (`docs`, `names`: each passage's document and names). A section of
    such a page ("Theme of the cooperation") often names one partner or none; it is still about
    the pairing the page is about."""
    places: dict[str, set[str]] = {}
    is_place = {e for e, entity in glossary.entities.items() if entity.kind in PLACE_KINDS}
    for doc, found in zip(docs, names):
        places.setdefault(doc, set()).update(found & is_place)
    return {doc: frozenset(found) for doc, found in places.items() if 0 < len(found) <= SUBJECT_PLACES}


@dataclass
class Hit:
    passage: Passage
    dense: float  # cosine similarity, 0 when not among the dense candidates
    lexical: float  # BM25 score
    coverage: float  # share of the question's names the passage mentions
    fused: float


# --- fusion: pure functions ---------------------------------------------------------------------

def reciprocal_rank_fusion(rankings: list[list[int]], candidates) -> dict[int, float]:
    """Each candidate's fused score: the sum over the rankings of 1 / (RRF_K + its rank there)."""
    fused = {i: 0.0 for i in candidates}
    for ranking in rankings:
        for rank, i in enumerate(ranking):
            if i in fused:
                fused[i] += 1 / (RRF_K + rank)
    return fused


def coverage_of(passage_names: frozenset[str], asked: list[str]) -> float:
    """The share of the question's names that a passage names."""
    return len(passage_names & set(asked)) / len(asked) if asked else 0.0


def rank_hits(hits: list[Hit], k: int) -> list[Hit]:
    """The k best: passages naming more of the question's names first, then by fused score.
    The same passage stored twice (a deck and its PDF export, a file copied into two folders)
    takes one place: a passage whose text lies wholly inside a better-ranked one (or holds it
    wholly) adds nothing, and the better-ranked copy stands for both."""
    kept, keys, deferred, rows = [], [], [], {}
    for hit in sorted(hits, key=lambda h: (-h.coverage, -h.fused, h.passage.chunk_id)):
        key = "".join(hit.passage.text.split()).casefold()
        if not any(key in other or other in key for other in keys):
            keys.append(key)
            if hit.passage.kind == "table_row":
                # Rows of one table are alike in every channel (the same header words in each):
                # beyond ROWS_PER_TABLE of them, the next passage of other text goes first.
                table = (hit.passage.doc, hit.passage.section)
                rows[table] = rows.get(table, 0) + 1
                if rows[table] > ROWS_PER_TABLE:
                    deferred.append(hit)
                    continue
            kept.append(hit)
            if len(kept) == k:
                break
    return (kept + deferred)[:k]


def with_other_language(ranked: list[Hit], hits: list[Hit], language: str, k: int) -> list[Hit]:
    """When the first OTHER_LANGUAGE_SLOT passages are all in the asker's language, the dense
    search's best passage in the other language that names the question's names as well takes
    the last of those places. The lexical channel and the name expansion favour the asker's
    language; the answer may be written only in the other."""
    head = ranked[:OTHER_LANGUAGE_SLOT]
    if len(head) < OTHER_LANGUAGE_SLOT or any(h.passage.language not in (language, "mixed") for h in head):
        return ranked
    shown = {h.passage.chunk_id for h in ranked}
    other = [h for h in hits if h.passage.language not in (language, "mixed") and h.dense > 0
             and h.coverage >= head[-1].coverage and h.passage.chunk_id not in shown]
    if not other:
        return ranked
    best = max(other, key=lambda h: (h.dense, h.passage.chunk_id))
    return (ranked[:OTHER_LANGUAGE_SLOT - 1] + [best] + ranked[OTHER_LANGUAGE_SLOT - 1:])[:k]


def with_bridged(ranked: list[Hit], bridged: Hit | None, k: int) -> list[Hit]:
    """The other-language passage the bilingual table matches best (`Retriever.bridged_best`)
    takes the last of the first OTHER_LANGUAGE_SLOT places when it is not among them and names
    the question's names as well as they do: the one passage neither the lexical channel nor,
    often, the dense one finds for a question whose answer is written only in the other
    language."""
    head = ranked[:OTHER_LANGUAGE_SLOT]
    if bridged is None or len(head) < OTHER_LANGUAGE_SLOT or bridged.coverage < head[-1].coverage:
        return ranked
    if any(h.passage.chunk_id == bridged.passage.chunk_id for h in head):
        return ranked
    rest = [h for h in ranked[OTHER_LANGUAGE_SLOT - 1:] if h.passage.chunk_id != bridged.passage.chunk_id]
    return (ranked[:OTHER_LANGUAGE_SLOT - 1] + [bridged] + rest)[:k]


_KATAKANA = re.compile(r"[ァ-ヴー]{4,}")


def _best_link(scored: list[tuple[float, str]], threshold: float) -> str | None:
    """The entity of the best (score, entity) at or above `threshold`, unless another entity
    scores as well."""
    best: dict[str, float] = {}
    for score, eid in scored:
        best[eid] = max(score, best.get(eid, 0.0))
    ranked = sorted(best.items(), key=lambda item: -item[1])
    if not ranked or ranked[0][1] < threshold or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return None
    return ranked[0][0]


class Retriever:
    """A snapshot of the store: passages, their names, the lexical index."""

    def __init__(self, store: PassageStore, glossary: Glossary, index: ReadIndex, candidates: int = 20):
        self.store = store
        self.glossary = glossary
        self.candidates = candidates
        self.index = index
        self.passages = index.passages
        self.lexical = index.lexical
        # (whole-collection tables come from the index's columns: no passage object is made here)
        self.position = {cid: i for i, cid in enumerate(self.passages.chunk_ids())}
        # Passages in the pivot language, the one the word bridge carries words into.
        base = pivot()
        self.english = np.array([language == base for language in self.passages.languages()], dtype=bool)
        # What each passage is about: the names it holds, and the places of a single-subject
        # document it belongs to.
        docs, names = self.passages.docs(), self.passages.entities()
        subjects = document_subjects(docs, names, glossary)
        self.about: list[frozenset[str]] = [found | subjects[doc] if doc in subjects else found
                                            for doc, found in zip(docs, names)]
        # entity id -> passages about it: a lookup, not a scan, at question time.
        by_entity: dict[str, list[int]] = {}
        for i, names in enumerate(self.about):
            for entity_id in names:
                by_entity.setdefault(entity_id, []).append(i)
        self.by_entity: dict[str, np.ndarray] = {e: np.array(ids, dtype=np.int64) for e, ids in by_entity.items()}
        self.present_entities = set(self.by_entity)
        self._reading_index: dict[str, set[str]] | None = None  # built on first use
        self._ja_readings: list[tuple[str, str]] | None = None  # likewise
        self._en_names: list[tuple[str, str]] | None = None  # likewise
        self._ordinals: list[frozenset[int]] | None = None  # likewise
        self._japanese_of: dict[str, frozenset[str]] | None = None  # likewise
        self._written: dict[tuple[str, str], str] = {}  # filled on first use
        self._by_doc: dict[str, list[int]] | None = None  # likewise

    def written_form(self, entity_id: str, language: str) -> str:
        """The form of an entity's name the documents write most in a language's script (among
        the first WRITTEN_SAMPLE passages naming it), or "": a line names it as its sources do
        (ブラチスラバ where the table says ブラティスラバ)."""
        key = (entity_id, language)
        if key not in self._written:
            counts: dict[str, int] = {}
            for i in self.named([entity_id])[:WRITTEN_SAMPLE].tolist():
                for m in self.glossary.find(self.passages[i].text):
                    # (a name, not its adjective: "Japanese" is no way to write Japan)
                    if m.entity_id == entity_id and written_in(m.surface, language) and not is_adjective(m.surface):
                        counts[m.surface] = counts.get(m.surface, 0) + 1
            self._written[key] = max(counts, key=lambda f: (counts[f], f)) if counts else ""
        return self._written[key]

    def ordinals_of(self, i: int) -> frozenset[int]:
        """The ordinals passage i states, in its text or its section heading ("The fourth
        meeting", 第4回)."""
        if self._ordinals is None:
            self._ordinals = [frozenset(ordinals(p.text + "\n" + p.section)) for p in self.passages]
        return self._ordinals[i]

    def matched_share(self, tokens: list[str], at: np.ndarray | None = None) -> np.ndarray:
        """Per passage (or per passage of `at`), the share of the question's token weight it
        contains. An English passage cannot contain the Japanese words of a Japanese question, so
        it is measured against the question's Latin tokens (names, acronyms, years) alone, when
        that is more."""
        share = self.lexical.matched_share(tokens, at)
        latin = [t for t in tokens if not has_cjk(t)]
        if latin and len(latin) < len(tokens):
            english = self.english if at is None else self.english[at]
            share = np.where(english, np.maximum(share, self.lexical.matched_share(latin, at)), share)
        return share

    def japanese_of(self, english: str) -> frozenset[str]:
        """The documents' Japanese words whose dictionary senses give this English word (a
        stem, as the lexical tokenizer writes it): the bilingual table read backwards, over the
        index's vocabulary only."""
        if self._japanese_of is None:
            inverse: dict[str, set[str]] = {}
            # (the index lists its words in the bridged script with their glosses: only those
            # can have any; a hand-made index without them is searched whole)
            for token in self.index.glosses or self.lexical.vocabulary:
                for word in english_words(token):
                    inverse.setdefault(word, set()).add(token)
            self._japanese_of = {w: frozenset(ts) for w, ts in inverse.items()}
        return self._japanese_of.get(english, frozenset())

    def bridged_scores(self, q: Question, tokens: list[str]) -> np.ndarray:
        """Per passage in the other language, the BM25 score of the question's own words
        (`tokens`: not the expansion of its names, whose every spelling the other channels
        match) carried across the bilingual table (募集 for "recruited", months for 期間): what
        neither the lexical channel (one language) nor the names can match. A passage must hold
        the carried words of at least two of the question's words (one, when it has one): a
        single shared gloss is as often a different sense. 0 for every other passage."""
        if q.language == bridge_language():
            words = {t: english_words(t) for t in set(tokens) if has_cjk(t)}
            other = self.english
        elif q.language == pivot():
            words = {t: self.japanese_of(t) for t in set(tokens) if t.isascii()}
            other = ~self.english
        else:  # a language the bridge does not reach
            words, other = {}, self.english
        words = {t: sorted(across) for t, across in words.items() if across}
        if not words:
            return np.zeros(len(self.passages), dtype=np.float32)
        held = sum((self.lexical.matched_share(across) > 0).astype(np.int32) for across in words.values())
        scores = self.lexical.scores(sorted({w for across in words.values() for w in across}))
        return np.where(other & (held >= min(2, len(words))), scores, 0.0)

    def bridged_ranking(self, q: Question, tokens: list[str]) -> list[int]:
        """Passages by `bridged_scores`, best first (those scoring above 0, at most
        `candidates`)."""
        return self._best_first(self.bridged_scores(q, tokens))

    def named(self, entities) -> np.ndarray:
        """The passages about any of these entities, in store order."""
        lists = [self.by_entity[e] for e in entities if e in self.by_entity]
        if len(lists) < 2:
            return lists[0] if lists else np.zeros(0, dtype=np.int64)
        held = np.zeros(len(self.passages), dtype=bool)
        for ids in lists:
            held[ids] = True
        return np.flatnonzero(held)

    def _best_first(self, scores: np.ndarray) -> list[int]:
        return [int(i) for i in np.argsort(-scores)[: self.candidates] if scores[i] > 0]

    def bridged_best(self, q: Question) -> int | None:
        """The first of `bridged_ranking` when it leads the second clearly (BRIDGE_LEAD times its
        score): a near tie is settled by nothing the question says, and an unrelated document
        joining the store (shifting every score a little) must not change the pick."""
        scores = self.bridged_scores(q, self.lexical.tokenize(q.retrieval_text))
        order = self._best_first(scores)
        if not order:
            return None
        # (the same text stored twice, a deck and its PDF export, is no rival)
        first = " ".join(self.passages[order[0]].text.split())
        rival = next((i for i in order[1:] if " ".join(self.passages[i].text.split()) != first), None)
        if rival is not None and scores[order[0]] < BRIDGE_LEAD * scores[rival]:
            return None
        return order[0]

    def katakana_parts(self, token: str) -> list[str]:
        """A katakana word as the katakana words of the index it is made of (キックオフ -> キック,
        オフ: an English passage holds "kick-off" by its parts, each with its katakana form);
        [] when it is not made of them."""
        if not _KATAKANA.fullmatch(token):
            return []
        parts, at = [], 0
        while at < len(token):
            end = next((e for e in range(len(token) - (at == 0), at + 1, -1) if token[at:e] in self.lexical.vocabulary),
                       None)  # (a part, not the whole word)
            if end is None:
                return []
            parts.append(token[at:end])
            at = end
        return parts if len(parts) > 1 else []

    def query_tokens(self, q: Question) -> list[str]:
        tokens = self.lexical.tokenize(q.retrieval_text)
        tokens += [part for t in list(tokens) for part in self.katakana_parts(t)]
        if month := vocabulary(q.language).get("month_number"):
            # 1月18日: the month as the pivot language writes it too ("18 January"), which the
            # lexical channel then matches (the Japanese index keeps 月, not its number).
            for m in re.finditer(month, q.retrieval_text.translate(WIDE_DIGITS)):
                if 1 <= int(m.group(1)) <= 12:
                    tokens.extend(self.lexical.tokenize(english_month(int(m.group(1)))))
        for entity_id in q.entities:
            for name in self.glossary.entities[entity_id].names:
                tokens.extend(self.lexical.tokenize(name))
        return tokens

    def dense(self, vector: list[float], k: int) -> dict[str, float]:
        if not self.passages:
            return {}
        return self.store.query(vector, min(k, len(self.passages)))

    def search(self, q: Question, vector: list[float], k: int) -> list[Hit]:
        # One dense search: wider when the question has an ordinal (its ranking below reads
        # further down); the fusion's dense ranking is its first `self.candidates`.
        dense = self.dense(vector, ENTITY_CANDIDATES if q.ordinals else self.candidates)
        tokens = self.query_tokens(q)
        lexical = self.lexical.scores(tokens)
        top = np.array([i for i in np.argsort(-lexical)[: self.candidates] if lexical[i] > 0], dtype=np.int64)
        top_lexical = [int(i) for i, share in zip(top, self.matched_share(tokens, top)) if share >= MIN_MATCHED_SHARE]
        dense_ranking = [self.position[c] for c in list(dense)[: self.candidates] if c in self.position]
        rankings = [dense_ranking, top_lexical]
        candidates = set(dense_ranking) | set(top_lexical)
        best = self.bridged_best(q) if BRIDGE else None
        across = [] if best is None else [best]
        candidates.update(across)
        if q.entities:
            # Passages naming the subject are candidates whatever their wording; on a large
            # corpus, the ones with the best lexical score, so the cost stays bounded.
            named = self.named(q.entities)
            if len(named) > ENTITY_CANDIDATES:
                named = named[np.argpartition(-lexical[named], ENTITY_CANDIDATES)[:ENTITY_CANDIDATES]]
            candidates.update(int(i) for i in named)
        if q.ordinals:
            # "the 4th meeting" / 第4回: passages about that ordinal, in either language, by dense
            # similarity, as a ranking of their own. Neither other channel matches "fourth" with
            # 第4回, and the embedder hardly tells one ordinal from another.
            asked = set(q.ordinals)
            ranking = [self.position[c] for c in dense
                       if c in self.position and asked & self.ordinals_of(self.position[c])]
            candidates.update(ranking)
            rankings.append(ranking)
        fused = reciprocal_rank_fusion(rankings, candidates)
        if q.entities or not q.other_names:
            # A side of the programme named beside a subject ("港湾連盟の…ノルヴィアの都市") qualifies it;
            # the subject is what a passage must name.
            subjects = [e for e in q.entities if not is_side(self.glossary.entities.get(e))] or list(q.entities)
            cover = lambda i: coverage_of(self.about[i], subjects)
        else:
            # Names the name table lacks, when the question has no other: a passage holding them
            # word for word (in its text or its section's headings) is about them.
            others = [n.casefold() for n in q.other_names]
            cover = lambda i: sum(n in (self.passages[i].section + " " + self.passages[i].text).casefold()
                                  for n in others) / len(others)
        hits = [Hit(self.passages[i], dense.get(self.passages[i].chunk_id, 0.0), float(lexical[i]),
                    cover(i), fused[i]) for i in candidates]
        ranked = with_other_language(rank_hits(hits, k), hits, q.language, k)
        bridged = next((h for h in hits if across and h.passage is self.passages[across[0]]), None)
        return with_bridged(ranked, bridged, k)

    def by_reading(self, ja_name: str) -> str | None:
        """The entity whose English name sounds like this Japanese name's reading, if exactly one
        named in the documents does."""
        from core.names import loose_key, phonetic_key, reading_key

        if self._reading_index is None:
            index: dict[str, set[str]] = {}
            for eid in self.present_entities:
                e = self.glossary.entities[eid]
                for name in [e.label(pivot()), *e.aliases]:
                    if name and name.isascii():
                        index.setdefault(phonetic_key(name), set()).add(eid)
                        index.setdefault("~" + loose_key(phonetic_key(name)), set()).add(eid)
            self._reading_index = index
        key = reading_key(ja_name)
        if len(key) < 3:
            return None
        # The same spelling, else the same consonants (katakana adds vowels and writes an r
        # English leaves silent: フランクフルト / Frankfurt).
        for k in (key, "~" + loose_key(key)):
            found = self._reading_index.get(k, set())
            if len(found) == 1 and (k == key or len(k) >= 5):
                return next(iter(found))
        return None

    def by_english_reading(self, ja_name: str, threshold: float) -> str | None:
        """The entity named in the documents whose English name the reading of this Japanese
        name sounds like, scored as ingest links names across scripts (`link_score`, at
        IURC_NAME_LINK_THRESHOLD): the looser partner of `by_reading`. None unless exactly one
        entity scores best."""
        from core.names import ja_reading, link_score

        reading = ja_reading(ja_name)
        if not reading:
            return None
        if self._en_names is None:
            self._en_names = [(eid, name) for eid in sorted(self.present_entities)
                              for name in dict.fromkeys([self.glossary.entities[eid].label(pivot()),
                                                         *self.glossary.entities[eid].aliases])
                              if name and name.isascii()]
        return _best_link([(link_score(name, reading)[0], eid) for eid, name in self._en_names], threshold)

    def by_japanese_reading(self, en_name: str, threshold: float) -> str | None:
        """The entity named in the documents whose Japanese name reads like this English
        spelling (Andreas Roettger -> アンドレアス・レットガー), scored as ingest links names
        across scripts (`link_score`, at IURC_NAME_LINK_THRESHOLD); None unless exactly one
        entity scores best."""
        from core.names import ja_reading, link_score, reading_language

        if self._ja_readings is None:
            readings = []
            for eid in sorted(self.present_entities):
                e = self.glossary.entities[eid]
                name = e.label(reading_language())
                reading = ja_reading(name) if name else ""
                if reading:
                    readings.append((eid, reading))
            self._ja_readings = readings
        return _best_link([(link_score(en_name, reading)[0], eid) for eid, reading in self._ja_readings], threshold)

    def attribute_passages(self, q: Question, limit: int = 50) -> list[Hit]:
        """Passages naming the question's subject and the attribute it asks for ("Mayor",
        市長), wherever they rank: whether the documents state it is decided on all of them."""
        if not q.attribute or not q.entities:
            return []
        named = self.named(q.entities).tolist()
        out = []
        for i in named:
            p = self.passages[i]
            if names_attribute(q.attribute, p.text):
                out.append(Hit(p, 0.0, 0.0, coverage_of(self.about[i], q.entities), 0.0))
                if len(out) == limit:
                    break
        return out

    def document_passages(self, hits: list[Hit], limit: int = NEARBY_PASSAGES) -> list[Hit]:
        """The other passages of the best hit's document (its text, not its table rows), nearest
        first: where the sentence carrying an asked value often stands when the best-matching
        passage does not hold it (a table of speakers under the seminar's heading; the seminar's
        hours in the section before)."""
        if not hits:
            return []
        best = hits[0].passage
        at = self.position.get(best.chunk_id)
        if at is None:
            return []
        shown = {h.passage.chunk_id for h in hits}
        if self._by_doc is None:  # document -> its passages, built at the first use (not a scan per question)
            by_doc: dict[str, list[int]] = {}
            for i, doc in enumerate(self.passages.docs()):
                by_doc.setdefault(doc, []).append(i)
            self._by_doc = by_doc
        same = [i for i in self._by_doc.get(best.doc, ()) if self.passages[i].kind != "table_row"
                and self.passages[i].chunk_id not in shown]
        same.sort(key=lambda i: abs(i - at))
        return [Hit(self.passages[i], 0.0, 0.0, coverage_of(self.about[i], []), 0.0) for i in same[:limit]]

    def holds_verbatim(self, term: str) -> bool:
        """Whether a passage holds `term` word for word (in its text or its section's headings);
        only passages holding each of its tokens are read."""
        tokens = self.lexical.tokenize(term)
        if not tokens:
            return False
        share = self.lexical.matched_share(tokens)
        return any(term in self.passages[i].text or term in self.passages[i].section
                   for i in np.flatnonzero(share >= 1 - 1e-4))

    def unknown_names(self, q: Question, names: list[str]) -> list[str]:
        """Names in the question that occur nowhere in the documents (e.g. a city not in the
        programme): the documents cannot be about them."""
        unknown = []
        for name in names:
            tokens = self.lexical.tokenize(name)
            if tokens and not any(t in self.lexical.vocabulary for t in tokens):
                unknown.append(name)
        for entity_id in q.entities:
            if entity_id not in self.present_entities:
                unknown.append(self.glossary.entities[entity_id].label(pivot()))
        return unknown
