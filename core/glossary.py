"""Names and their variants (corpus/glossary.csv), validated, with alias matching."""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .languages import languages, pivot

# Entity ids of names discovered in the documents (core/names.py), not typed in by staff.
DISCOVERED_PREFIX = "found:"
KINDS = ("city", "region", "country", "programme", "organisation", "person", "name")
PLACE_KINDS = ("city", "region")  # the kinds that are places a pairing or a table row joins
NAME_COLUMN = "name_{}"  # one column per language pack: name_<language code>


def columns() -> tuple[str, ...]:
    """The glossary's columns: a name column for every installed language (core/languages.py)."""
    return ("entity_id", "kind", "country", *(NAME_COLUMN.format(c) for c in languages()), "aliases")


def required_columns() -> tuple[str, ...]:
    """Columns a glossary must have: the name column of the pivot language; the other languages'
    name columns may be left out (their names then come from discovery)."""
    return ("entity_id", "kind", "country", NAME_COLUMN.format(pivot()), "aliases")


def fold(text: str) -> str:
    """Lower-case, strip diacritics (Umeå -> umea), unify width (ＥＵ -> eu)."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.casefold()


# A name folded once: every document's table (ingest.pipeline) folds the same curated names.
fold_name = lru_cache(maxsize=1 << 16)(fold)


def is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF  # CJK ideographs
        or 0xF900 <= code <= 0xFAFF
        or 0xFF66 <= code <= 0xFF9F  # half-width katakana
        or 0x31F0 <= code <= 0x31FF
        or ch in "々〆ヵヶー"
    )


CJK_CHAR = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\u31f0-\u31ff々〆ヵヶー]")


def has_cjk(text: str) -> bool:
    """Whether any character of the text is Japanese (the same characters as is_cjk)."""
    return CJK_CHAR.search(text) is not None


@dataclass
class Entity:
    entity_id: str
    kind: str
    country: str
    labels: dict[str, str]  # language code -> the name in that language (may be missing)
    aliases: list[str] = field(default_factory=list)

    def label(self, language: str) -> str:
        """The entity's name in a language, or ""."""
        return self.labels.get(language, "")

    @property
    def canonical(self) -> list[str]:
        """The entity's names in every language that has one, the pivot's first."""
        return [n for n in (self.labels.get(c, "") for c in languages()) if n]

    @property
    def names(self) -> list[str]:
        """Every written form, canonical names first."""
        seen, out = set(), []
        for name in [*self.canonical, *self.aliases]:
            if name and name not in seen:
                seen.add(name)
                out.append(name)
        return out


@dataclass(frozen=True)
class Mention:
    entity_id: str
    start: int
    end: int
    surface: str


class Glossary:
    """Entities and a matcher that finds their names in English or Japanese text."""

    REMEMBERED = 20_000  # texts whose mentions `find` keeps (a few MB), then it starts afresh

    def __init__(self, entities: list[Entity], problems: list[str] | None = None, sha256: str = ""):
        self.entities = {e.entity_id: e for e in entities}
        self.problems = problems or []
        self.sha256 = sha256
        self.text = ""  # the CSV it was read from, stored beside the collection at ingest
        # (entity id, language) -> the form the documents write, or "" (see display_name)
        self.written = None
        # (folded alias, entity id), longest first so "Grenoble-Alpes Metropole" beats "Grenoble".
        # An alias two entities share goes to the one listed first (curated rows come first),
        # whatever the process's hash seed.
        order = {e.entity_id: i for i, e in enumerate(entities)}
        pairs = {(fold_name(name), e.entity_id) for e in entities for name in e.names}
        pairs |= _side_variants(entities, {a for a, _ in pairs})
        self._aliases = sorted(pairs, key=lambda p: (-len(p[0]), p[0], order[p[1]]))
        # Names that can be split over two lines; the cleaner asks for them at every line break.
        self._multiword = [a for a, _ in self._aliases if " " in a or "-" in a]
        self._pattern = _alias_pattern([a for a, _ in self._aliases])
        self._by_alias = {a: eid for a, eid in reversed(self._aliases)}
        self._found: dict[str, tuple[Mention, ...]] = {}  # text -> its mentions (see find)

    def alias_pairs(self) -> frozenset[tuple[str, str]]:
        """Every (folded written form, entity id) the matcher knows."""
        return frozenset(self._aliases)

    def find(self, text: str, remember: bool = True) -> list[Mention]:
        """Every non-overlapping mention, left to right. Offsets are into `text`. The texts met
        last are remembered (an answer reads the same sentences several times over, and a
        serving process the same passages for many questions); `remember=False` for a text
        read once (an ingest matching every passage)."""
        if self._pattern is None:
            return []
        found = self._found.get(text) if remember else None
        if found is None:
            folded, index = _fold_with_index(text)
            found = []
            for m in self._pattern.finditer(folded):
                start, end = (m.start(), m.end()) if index is None else (index[m.start()], index[m.end() - 1] + 1)
                found.append(Mention(self._by_alias[m.group(0)], start, end, text[start:end]))
            if not remember:
                return found
            if len(self._found) >= self.REMEMBERED:
                self._found.clear()
            self._found[text] = found = tuple(found)
        return list(found)

    def match_at(self, text: str, pos: int) -> Mention | None:
        """The longest mention that starts exactly at `pos` (what `find` would give first there)."""
        if self._pattern is None:
            return None
        window = text[pos:pos + 120]
        folded, index = _fold_with_index(window)
        m = self._pattern.match(folded)
        if m is None:
            return None
        end = m.end() if index is None else index[m.end() - 1] + 1
        return Mention(self._by_alias[m.group(0)], pos, pos + end, window[:end])

    def multiword_aliases(self) -> list[str]:
        return self._multiword

    def display_name(self, entity_id: str, language: str) -> str:
        """The name to write for an entity in a language: as the documents write it in that
        script when `written` (set by the reader of a store) knows, else the table's name."""
        if self.written is not None and (form := self.written(entity_id, language)):
            return form
        e = self.entities[entity_id]
        return e.label(language) or (e.label(pivot()) if language != pivot() else "")


def _alias_pattern(aliases: list[str]) -> re.Pattern | None:
    """One pattern finding any of these folded forms in folded text, longest first."""
    latin = [a for a in aliases if a and not has_cjk(a)]
    cjk = [a for a in aliases if a and has_cjk(a)]
    try:
        return _compiled(latin, cjk, _longest_first)
    except RecursionError:  # forms nested hundreds deep (each the start of the next): listed plainly
        return _compiled(latin, cjk, lambda words: "|".join(map(re.escape, words)))


def _compiled(latin: list[str], cjk: list[str], alternation) -> re.Pattern | None:
    parts = []
    if latin:
        # Latin names need word boundaries: "EU" must not match inside "EUDEL" or "Europe".
        # (Only Latin letters count as word characters: "GAMと" is a mention of GAM.)
        parts.append(r"(?<![a-z0-9-])(?:" + alternation(latin) + r")(?![a-z0-9-])")
    if cjk:
        parts.append("(?:" + alternation(cjk) + ")")
    return re.compile("|".join(parts)) if parts else None


def _longest_first(words: list[str]) -> str:
    """A pattern matching any of the words, the longest that fits first (as an alternation of
    them longest first would), written as their prefix tree: at each position the regex engine
    follows one branch per character instead of trying every word in turn (ten times faster
    on a name table of thousands of forms)."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def pattern(node: dict) -> str:
        branches = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # a word ending here: the longer words through this node are tried first (greedy `?`)
        return "(?:" + body + ")?" if "" in node else body

    return pattern(trie)


def changed_forms(before: Glossary, after: Glossary):
    """A test of whether a text holds a written form whose entity differs between two name
    tables (added, removed, or now another entity's): only such a text can be matched
    differently by the two. None when no form changed."""
    changed = before.alias_pairs() ^ after.alias_pairs()
    forms = sorted({a for a, _ in changed}, key=lambda a: (-len(a), a))
    pattern = _alias_pattern(forms)
    if pattern is None:
        return None
    # (the text folded as `find` folds it, without the offsets a containment test does not need)
    return lambda text: pattern.search(_folded(text)) is not None


def is_side(entity: Entity | None) -> bool:
    """A country or a union of countries (Japan, the EU): a side of the programme, which
    qualifies a subject rather than being one, and is no place a meeting is held in."""
    return entity is not None and (entity.kind == "country" or (entity.kind == "region" and not entity.country))


def _side_variants(entities: list[Entity], taken: set[str]) -> set[tuple[str, str]]:
    """A name holding a country's or union's name, written with another of its forms (駐日ノルヴィア
    連合代表部 as 駐日NU代表部, "Delegation of the Norvian Union" as "… of the NU"): documents write
    either. The forms used are a side's two names and its upper-case short forms (EU), not its
    adjectives; a Latin name takes Latin forms only. One substitution per name; a form another
    entity already has is left to it."""
    out = set()
    for side in (e for e in entities if is_side(e)):
        forms = sorted({fold_name(f) for f in [*side.canonical, *(a for a in side.aliases if a.isupper())]
                        if f and len(f) >= 2}, key=len, reverse=True)
        # longest first: "European Union" is replaced whole, never its "European"
        pattern = re.compile("|".join(r"(?<![a-z0-9-])" + re.escape(f) + r"(?![a-z0-9-])"
                                      if not has_cjk(f) else re.escape(f) for f in forms))
        for e in entities:
            if e.entity_id == side.entity_id:
                continue
            for name in e.names:
                folded = fold_name(name)
                latin_name = not has_cjk(folded)
                for m in pattern.finditer(folded):
                    if m.group(0) == folded:
                        continue
                    for other in forms:
                        if other == m.group(0) or (latin_name and has_cjk(other)):
                            continue
                        variant = folded[:m.start()] + other + folded[m.end():]
                        if variant not in taken:
                            out.add((variant, e.entity_id))
    return out


def _folded(text: str) -> str:
    """The text folded as `find` folds it: each character alone (`fold`)."""
    return text.lower() if text.isascii() else text.translate(_FOLDED)  # (ASCII: lower-casing)


def _fold_with_index(text: str) -> tuple[str, list[int] | None]:
    """The folded text and, for each folded character, its index in `text`; None for the
    index when folding kept one character for one (then offsets are the same in both)."""
    folded = _folded(text)
    if text.isascii() or len(folded) == len(text) and not (_FOLDED.uneven and _FOLDED.uneven_pattern().search(text)):
        return folded, None
    return folded, [i for i, ch in enumerate(text) for _ in _FOLDED[ord(ch)]]


class _FoldTable(dict):
    """Code point -> the character folded alone (`fold`), filled as characters are met; for
    str.translate. `uneven`: the characters met whose fold is not one character."""

    def __init__(self):
        super().__init__()
        self.uneven: set[str] = set()
        self._pattern: tuple[int, re.Pattern] | None = None

    def __missing__(self, code: int) -> str:
        folded = self[code] = fold(chr(code))
        if len(folded) != 1:
            self.uneven.add(chr(code))
        return folded

    def uneven_pattern(self) -> re.Pattern:
        if self._pattern is None or self._pattern[0] != len(self.uneven):
            self._pattern = (len(self.uneven), re.compile("[" + "".join(map(re.escape, sorted(self.uneven))) + "]"))
        return self._pattern[1]


_FOLDED = _FoldTable()


class GlossaryError(ValueError):
    pass


def find_glossary(configured: str, explicit: bool, folders: list[str]) -> tuple[Path | None, list[Path]]:
    """Where the glossary is, and where it was looked for. A path given explicitly (--glossary,
    IURC_GLOSSARY) must exist as given (relative to the working directory). The default
    (`corpus/glossary.csv`) is looked for relative to the working directory, then beside the
    documents of each ingested folder (`<folder>/glossary.csv`), then in the project the code was
    installed from: running `iurc ingest` from another folder does not lose the names."""
    given = Path(configured)
    if explicit:
        return (given if given.is_file() else None), [given.resolve()]
    candidates = [given] + [Path(f) / given.name for f in folders if Path(f).is_dir()] \
        + [Path(__file__).resolve().parent.parent / given]
    seen = list(dict.fromkeys(c.resolve() for c in candidates))
    return next((c for c in seen if c.is_file()), None), seen


def curated_glossary(given: str | None, folders: list[str]) -> tuple[Glossary, list[str]]:
    """The curated glossary an ingest uses (the CLI's and the chat UI's alike), found as
    `find_glossary` says, and what to tell the user about it. `given`: a --glossary option, else
    IURC_GLOSSARY, else the default; either of the first two is explicit. An explicit path that
    does not exist is a GlossaryError; no glossary at all is an empty table (names then come
    from discovery only), said in the messages."""
    import os

    from . import settings

    explicit = given is not None or bool(os.environ.get(settings.SETTINGS["glossary"].env_var))
    found, looked = find_glossary(settings.get("glossary", given), explicit, folders)
    if found is None and explicit:
        raise GlossaryError(f"no glossary file at {looked[0]}; give an existing --glossary / IURC_GLOSSARY, "
                            "or leave both unset to use corpus/glossary.csv")
    if found is None:
        return parse_glossary(",".join(columns()) + "\n", "empty glossary"), [
            "no glossary.csv found (looked in " + ", ".join(map(str, looked))
            + "); names come from discovery in the documents only"]
    glossary = load_glossary(found)
    return glossary, list(glossary.problems)


def load_glossary(path: str | Path) -> Glossary:
    """Read and validate the glossary file; bad rows are skipped and listed in `problems`."""
    path = Path(path)
    if not path.is_file():
        return Glossary([], [f"{path}: no glossary file; names will not be matched"], "")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GlossaryError(f"{path}: the glossary must be UTF-8") from None
    return parse_glossary(text, str(path))


def parse_glossary(text: str, path: str = "glossary") -> Glossary:
    """Validate glossary CSV text (from a file, or stored beside the collection)."""
    import hashlib

    reader = csv.DictReader(text.splitlines())
    missing = [c for c in required_columns() if c not in (reader.fieldnames or [])]
    if missing:
        raise GlossaryError(f"{path}: missing columns {', '.join(missing)}; expected {', '.join(columns())}")
    name_columns = {c: NAME_COLUMN.format(c) for c in languages() if NAME_COLUMN.format(c) in reader.fieldnames}
    entities, problems, rows = [], [], list(reader)
    ids = [(r.get("entity_id") or "").strip() for r in rows]
    for line_no, row in enumerate(rows, start=2):
        entity_id = (row.get("entity_id") or "").strip()
        kind = (row.get("kind") or "").strip()
        country = (row.get("country") or "").strip()
        labels = {code: name for code, column in name_columns.items() if (name := (row.get(column) or "").strip())}
        if not entity_id:
            problems.append(f"{path}:{line_no}: empty entity_id")
        elif ids.count(entity_id) > 1 and ids.index(entity_id) != line_no - 2:
            problems.append(f"{path}:{line_no}: duplicate entity_id {entity_id!r}")
        elif kind not in KINDS:
            problems.append(f"{path}:{line_no}: kind {kind!r} is not one of {', '.join(KINDS)}")
        elif not labels:
            problems.append(f"{path}:{line_no}: {entity_id!r} has no name ({', '.join(name_columns.values())})")
        elif country and country not in ids:
            problems.append(f"{path}:{line_no}: country {country!r} is not an entity_id of this glossary")
        else:
            aliases = [a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()]
            entities.append(Entity(entity_id, kind, country, labels, aliases))
    glossary = Glossary(entities, problems, hashlib.sha256(text.encode("utf-8")).hexdigest())
    glossary.text = text
    return glossary
