"""Entity linking: an analysed question's names matched against the store's name table, as one
step that returns a new, immutable question (search and answer both read it).

- English questions: capitalised names the table lacks as entities; a run of them whose
  reading sounds like a name the documents write only in Japanese is that entity.
- Japanese questions: proper nouns (sudachi) and Latin names; a katakana name whose reading is
  an English name of the table is that entity; a place with a CLDR English name (プラハ ->
  Prague) is that name, or is searched by it when the documents write it in English only.
The names left over that no document holds are `unknown` (the documents cannot be about them).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType

from core import settings
from core.bilingual import bridge_language, bridged
from core.glossary import DISCOVERED_PREFIX, Glossary
from core.lexical import proper_nouns, sudachi_tokens
from core.languages import LATIN, pack, pivot
from core.names import english_exonym, territory_by_short_name

from app.answering.question import Question, capitalised_names, compound_terms, ja_name_runs, name_runs
from app.answering.retrieve import Retriever


@dataclass(frozen=True)
class Linked:
    question: Question  # entities, spellings, other names and retrieval text filled in
    unknown: tuple[str, ...]  # names (or entities) no document holds


def common_compound(entity_id: str, glossary: Glossary) -> bool:
    """A name found in the documents that is only common words (港湾協力, "harbour
    cooperation"; ウェビナー), of no known kind and with no English form: a term, not the subject
    a passage must name to be about the question."""
    e = glossary.entities.get(entity_id)
    other = bridge_language()
    if e is None or not entity_id.startswith(DISCOVERED_PREFIX) or e.kind != "name" or e.label(pivot()) \
            or not other or not e.label(other):
        return False
    tokens = sudachi_tokens(e.label(other))
    return bool(tokens) and all(bridged({t}) for t in tokens)


def link(q: Question, glossary: Glossary, retriever: Retriever, tokenizer: str) -> Linked:
    """`q` with every name it writes linked to an entity where one clearly matches."""
    threshold = settings.get("name_link_threshold")  # ingest's own, for links across scripts
    entities = [e for e in q.entities if not common_compound(e, glossary)]
    spelled, extra = dict(q.spelled), []

    def take(entity: str | None, spelled_as: str) -> bool:
        if not entity or entity in entities:
            return False
        entities.append(entity)
        spelled[entity] = spelled_as
        return True

    def current() -> Question:
        return replace(q, entities=tuple(entities))

    if pack(q.language).script == LATIN:
        names = capitalised_names(q.text, glossary)
        # A name the documents write only in Japanese (a person in katakana): the entity
        # whose reading sounds like the question's spelling, if one clearly does.
        absent = set(retriever.unknown_names(current(), names))
        # ... and a name of several words no document writes as such, though each word occurs
        # ("Torino Social Impact": トリノ・ソーシャル・インパクト in the documents)
        runs = name_runs(q.text, absent) + [run for run in name_runs(q.text, set(names))
                                             if " " in run and not retriever.holds_verbatim(run)]
        for run in dict.fromkeys(runs):
            if take(retriever.by_japanese_reading(run, threshold), run):
                names = [n for n in names if n not in run.split()]
        # A country by its short form ("UK"): the country the name table has by its full name.
        for name in list(names):
            full = territory_by_short_name(name)
            matches = glossary.find(full) if full else []
            if matches and matches[0].surface == full and (take(matches[0].entity_id, name)
                                                           or matches[0].entity_id in entities):
                names.remove(name)
    else:
        known = [(m.start, m.end) for m in glossary.find(q.text)]
        found = [] if tokenizer != "sudachi" else [
            (start, name) for start, name in proper_nouns(q.text) if not any(s <= start < e for s, e in known)]
        names = [name for _, name in found] + capitalised_names(q.text, glossary)
        # A long compound the tokenizer does not call a proper noun (a programme's name) is a
        # name too, when a passage holds it word for word (only passages holding each of its
        # tokens are read). A term no passage holds (one the documents write in English only) is
        # no name to refuse.
        terms = [t for t in compound_terms(q.text, glossary) if not any(n in t for n in names)]
        names += [t for t in terms if retriever.holds_verbatim(t)]
        # A name of several parts (アンナ・ベルトラン) is first matched whole.
        for run, parts in ja_name_runs(q.text, found):
            if take(retriever.by_english_reading(run, threshold), run):
                names = [n for n in names if n not in parts]
        # A Japanese name the table lacks, whose reading is an English name it has (生駒 ->
        # Ikoma): that name, as if the question had spelled it.
        for name in list(names):
            entity = retriever.by_reading(name)
            exonym = "" if entity else english_exonym(name)  # プラハ -> Prague (CLDR)
            if entity is None and not exonym:
                # Not the same sound key, but close enough by ingest's own link score
                # (a person's name, a spelling the key does not fold).
                entity = retriever.by_english_reading(name, threshold)
            if exonym:
                matches = glossary.find(exonym)
                entity = matches[0].entity_id if matches and matches[0].surface == exonym else None
                if entity is None and retriever.unknown_names(current(), [exonym]) == []:
                    names.remove(name)  # written in English only: searched by that name
                    extra.append(exonym)
                    continue
            if take(entity, name):
                names.remove(name)
    linked = replace(q, entities=tuple(entities), spelled=MappingProxyType(spelled),
                     retrieval_text=" ".join([q.retrieval_text, *extra]))
    unknown = retriever.unknown_names(linked, names)
    return Linked(replace(linked, other_names=tuple(n for n in names if n not in unknown)), tuple(unknown))
