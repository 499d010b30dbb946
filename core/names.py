"""Names: the curated glossary plus the names discovered in the documents, linked across scripts.

Every part of the assistant that needs names (cleaning, table rows, question analysis,
retrieval, answers, the UI) reads one `Glossary`: the name table built here. Curated rows of
`corpus/glossary.csv` come first and win; discovered names follow:

- Japanese: proper nouns from sudachi (places, people, organisations, countries) with their
  readings; an administrative suffix (市・町・県…, per `core/lang/ja.yaml`) is kept as a
  variant (大阪市 / 大阪);
- English: runs of capitalised words that are not sentence openers or common words
  (`core/lang/en.yaml`), diacritics folded by the matcher (Umeå = Umea);
- countries and their languages (used as demonyms: Polish, ポーランド語) from CLDR via babel,
  for the countries the documents name;
- links between an English and a Japanese form: written side by side ("世界都市(World
  Cities)"), or the Japanese reading romanised (cutlet) and compared with the English name by
  a phonetic key; each link keeps its evidence and a confidence, and only links at or above
  IURC_NAME_LINK_THRESHOLD join the table (the rest are suggestions for `iurc names --suggest`).
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

from .glossary import DISCOVERED_PREFIX, NAME_COLUMN, Glossary, columns, fold, has_cjk, is_cjk, parse_glossary
from .languages import pack, packs, pivot, vocabulary


def reading_language() -> str:
    """The language whose names are linked to the pivot's by their romanised readings (a pack
    with `readings`), or ""."""
    return next((p.code for p in packs().values() if p.readings), "")


def _col(language: str) -> str:
    return NAME_COLUMN.format(language)


def place_suffixes() -> dict:
    """Administrative suffixes (市, 県 …) of every language that writes names with them."""
    return _place_suffixes(tuple(packs()))


@lru_cache(maxsize=4)
def _place_suffixes(codes: tuple[str, ...]) -> dict:
    out: dict = {}
    for code in codes:
        out.update(vocabulary(code).get("place_suffixes") or {})
    return out


# --- discovery, one document at a time ---------------------------------------------------------

def discover(text: str) -> dict:
    """The names one document contains, JSON-ready (stored in its manifest record, so an
    unchanged document is never read again to rebuild the table)."""
    found = {code: DISCOVERERS[p.name_discovery](text, code) for code, p in packs().items()
             if p.name_discovery in DISCOVERERS}
    return {**found, "pairs": side_by_side(text), "countries": countries_in(text), "acronyms": acronyms_in(text)}


_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")


def acronyms_in(text: str) -> list[list[str]]:
    """[long form, acronym] where a document spells an acronym out: capitalised words, with
    the short function words a name may hold (vocabulary: name_connectors), whose initials
    make an acronym the document also uses ("International Urban and Regional Cooperation" /
    "IURC")."""
    connectors = "|".join(vocabulary(pivot()).get("name_connectors", []))
    out = []
    for short in sorted(set(_ACRONYM.findall(text))):
        parts = [rf"{c}[\w'’-]*" for c in short]
        pattern = r"\b" + rf"(?:\s+(?:{connectors}))*\s+".join(parts) + r"\b"
        m = re.search(pattern, text)
        if m and " " in m.group(0):
            out.append([" ".join(m.group(0).split()), short])
    return out


_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
# What a sentence-opening capital follows: a capitalised word there may be an ordinary word.
# (A table cell, "| Toyama |", is not an opener: a capitalised cell is usually a name.)
_OPENERS = ".!?:;•(「『\"“–—-*#"
MAX_NAME_WORDS = 5


def discover_capitalised(text: str, language: str) -> dict[str, dict]:
    """Runs of capitalised Latin words that name something: {name: {"kind", "count"}} (the
    language's name_prefixes and not_names say which capitalised words are not names)."""
    words = vocabulary(language)
    prefixes, not_names = set(words["name_prefixes"]), set(words["not_names"]) | calendar_words(language)
    lowered = _lowercase_words(text)
    found: dict[str, dict] = {}
    lines = text.splitlines()
    following = [""] * len(lines)  # the next non-blank line after each line
    nxt = ""
    for i in range(len(lines) - 1, -1, -1):
        following[i] = nxt
        if lines[i].strip():
            nxt = lines[i]
    for line, after in zip(lines, following):
        if _names_only_row(line, after):
            # "Hirosaki Donostia-San Sebastian" above "Spain Buildings and …": the name cells of a
            # flattened table row whose country cell was wrapped to the next line.
            for name in _cells_of(line):
                if name.casefold() not in not_names and name.casefold() not in prefixes:
                    _count(found, name, inside=True)
            continue
        run: list[re.Match] = []
        for m in list(_WORD.finditer(line)) + [None]:
            joins = m is not None and run and line[run[-1].end():m.start()] in (" ", "") and _capital(m.group(0))
            if m is not None and (joins or (not run and _capital(m.group(0)))):
                run.append(m)
                continue
            if run:
                _keep_run(line, run, prefixes, not_names, lowered, found)
            run = [m] if m is not None and _capital(m.group(0)) else []
    return found


def _names_only_row(line: str, after: str) -> bool:
    """A line of capitalised words only, followed by a line that opens with a country."""
    words = line.split()
    if not 2 <= len(words) <= MAX_NAME_WORDS or not all(_capital(w) for w in words):
        return False
    if any(not re.fullmatch(r"[^\W\d_][\w'’.-]*", w) for w in words):
        return False
    opening = after.split()[:3]
    countries = _country_names_en()
    return any(fold(" ".join(opening[:n]).strip(",;:")) in countries for n in range(1, len(opening) + 1))


def _cells_of(line: str) -> list[str]:
    """Names of a names-only row: one per word, a hyphenated compound taking the word after it
    ("Donostia-San Sebastian", "Grenoble-Alpes Metropole")."""
    cells: list[str] = []
    for word in line.split():
        if cells and "-" in cells[-1].split()[-1] and len(cells[-1].split()) == 1:
            cells[-1] += " " + word
        else:
            cells.append(word)
    return cells


def _capital(word: str) -> bool:
    return word[:1].isupper() or (word[:2].lower() == "d'" and word[2:3].isupper())


def _keep_run(line, run, prefixes, not_names, lowered, found) -> None:
    while run and run[0].group(0).casefold().strip(".") in prefixes:
        run = run[1:]
    while run and run[-1].group(0).casefold().strip(".") in prefixes:
        run = run[:-1]
    if not run or len(run) > MAX_NAME_WORDS:
        return  # nothing left, or a run of capitals too long to be one name (a flattened table)
    name = re.sub(r"['’]s$", "", line[run[0].start():run[-1].end()]).strip(".'’-")  # Osaka's -> Osaka
    if not name or has_cjk(name) or len(name) < 2:
        return
    single = len(run) == 1
    key = name.casefold()
    country = None if single else _country_start([m.group(0) for m in run])
    if country is not None:
        # "Yokohama Frankfurt Germany Carbon ...": cells of a flattened table row, not one name;
        # the words before the country are names of their own (a cell is not a sentence opener).
        for m in run[:country]:
            word = m.group(0).strip(".'’-")
            if len(word) > 1 and word.casefold() not in not_names and word.casefold() not in lowered \
                    and word.casefold() not in prefixes:
                _count(found, word, inside=True)
        return
    if single and (key in not_names or key in lowered or (name.isupper() and len(name) <= 2) or _common_noun(name)):
        return
    if single and "-" in name and all(part.casefold() in not_names or part.casefold() in prefixes
                                      or _common_noun(part) for part in name.split("-") if _capital(part)):
        return  # "Director-General", "Region-to-Region": a title or compound of ordinary words
    before = line[:run[0].start()].rstrip()
    # A run of capitalised words opening a sentence and going on with it ("Terry Ward of …",
    # "Lena Lindahl, coordinator") is a name when its first word is not an ordinary word of the
    # document ("The Mayor of …" is not); a run that the line's next capital follows may be the
    # cells of a flattened table row.
    first, rest = run[0].group(0).casefold(), line[run[-1].end():].lstrip()
    named_opener = not single and first not in lowered and first not in not_names and \
        bool(rest) and (rest[0] in ",;" or rest[0].islower())
    _count(found, name, inside=(bool(before) and before[-1] not in _OPENERS) or named_opener)


@lru_cache(maxsize=50_000)
def _common_noun(word: str) -> bool:
    """A capitalised word that sudachi's dictionary knows as an ordinary English noun (it gives
    loanwords such as "Delegation" or "Workshop" a katakana reading): a heading or table cell
    word, not a name. Names it knows are proper nouns (Paris); most it does not know at all."""
    from sudachipy import SplitMode

    if not (word[:1].isupper() and word[1:].islower() and word.isalpha()):
        return False  # an acronym (NHTA, SDGs) or a compound: left to the other rules
    if word.casefold() in _territory_words():
        return False  # a country or its adjective (Japanese, European): a name, by CLDR
    morphemes = _tokenizer().tokenize(word, SplitMode.C)
    return len(morphemes) == 1 and not morphemes[0].is_oov() and morphemes[0].part_of_speech()[1] == "普通名詞"


def _count(found: dict, name: str, inside: bool) -> None:
    """One more sighting of an English name; `inside`: not at the opening of a sentence or line."""
    entry = found.setdefault(name, {"kind": "name", "count": 0, "inside": 0})
    entry["count"] += 1
    entry["inside"] += int(inside)


def _country_start(words: list[str]) -> int | None:
    """Where the first country name (CLDR) starts among a run's words, when it is only part of
    the run; None otherwise."""
    countries = _country_names_en()
    return next((i for i in range(len(words)) for j in range(i + 1, len(words) + 1)
                 if j - i < len(words) and fold(" ".join(words[i:j])) in countries), None)


@lru_cache(maxsize=1)
def _country_names_en() -> frozenset[str]:
    return frozenset(fold(t[pivot()]) for t in _territories().values())


def _lowercase_words(text: str) -> set[str]:
    return {w for w in re.findall(r"\b[a-z][a-z'-]+\b", text)}


def calendar_words(language: str = "") -> frozenset[str]:
    """Month and weekday names of a language (the pivot's by default), casefolded (CLDR)."""
    return _calendar_words(pack(language or pivot()).locale)


@lru_cache(maxsize=None)
def _calendar_words(locale: str) -> frozenset[str]:
    from babel import Locale

    cldr = Locale.parse(locale)
    words = set()
    for context in ("format", "stand-alone"):
        for width in ("wide", "abbreviated"):
            words |= {v.casefold() for v in cldr.months[context][width].values()}
            words |= {v.casefold() for v in cldr.days[context][width].values()}
    return frozenset(words)


def discover_japanese(text: str, language: str) -> dict[str, dict]:
    """Proper nouns from sudachi: {surface: {"kind", "reading", "count"}}. A place keeps its
    administrative suffix; a katakana word right before such a suffix is taken as a place."""
    from sudachipy import SplitMode

    words = vocabulary(language)
    suffixes, kinds = words["place_suffixes"], words["proper_noun_kinds"]
    honorifics, joiners = set(words["name_suffixes"]), set(words["name_joiners"])
    found: dict[str, dict] = {}
    for piece in _japanese_runs(text):
        tokens = _tokenizer().tokenize(piece, SplitMode.C)
        i = 0
        while i < len(tokens):
            m = tokens[i]
            pos = m.part_of_speech()
            surface = m.surface()
            if not _CJK.search(surface):
                i += 1  # a Latin word in Japanese text is found by the English side
                continue
            katakana = _katakana(surface) and len(surface) >= 2
            proper = pos[0] == "名詞" and pos[1] == "固有名詞"
            if not (proper or (katakana and pos[0] == "名詞")):
                i += 1
                continue
            kind = kinds.get(pos[2], "name") if proper else "name"
            if kind == "country" or pos[3] == "国":
                kind = "country"
            parts, reading, j = [surface], [m.reading_form()], i + 1
            # A foreign name in parts: セザール・モレノ; a person's family and given names: 井村 秀文.
            while j < len(tokens):
                nxt = tokens[j]
                if nxt.surface() in joiners and j + 1 < len(tokens) and _katakana(parts[-1]) \
                        and _katakana(tokens[j + 1].surface()) and _name_token(tokens[j + 1]):
                    parts += [nxt.surface(), tokens[j + 1].surface()]
                    reading += [" ", tokens[j + 1].reading_form()]
                    j += 2
                elif kind == "person" and nxt.part_of_speech()[1] == "固有名詞" and nxt.part_of_speech()[2] == "人名":
                    parts.append(nxt.surface())
                    reading += [" ", nxt.reading_form()]
                    j += 1
                elif katakana and _katakana(nxt.surface()) and nxt.part_of_speech()[0] == "名詞":
                    parts.append(nxt.surface())  # グレーター + マンチェスター
                    reading.append(nxt.reading_form())
                    j += 1
                else:
                    break
            name = "".join(parts)
            after = tokens[j].surface() if j < len(tokens) else ""
            suffix = "" if after in honorifics else next(
                (s for s in sorted(suffixes, key=len, reverse=True)
                 if after == s or (after.startswith(s) and not is_cjk(after[len(s)]))), "")
            if not proper and not suffix and not any(tokens[k].is_oov() for k in range(i, j)):
                i = j  # a katakana common noun that names no place (one the dictionary lacks is a name)
                continue
            own = next((x for x in sorted(suffixes, key=len, reverse=True)
                        if proper and name.endswith(x) and len(name) > len(x) + 1), "")
            if own:  # 大阪市 as one token: its base 大阪 is a form of the same name
                base_reading = "".join(reading)
                for r in suffixes[own]["readings"]:
                    if base_reading.endswith(r):
                        base_reading = base_reading[:-len(r)]
                        break
                _add_ja(found, name[:-len(own)], suffixes[own]["kind"] if kind in ("city", "name") else kind,
                        base_reading)
            if after in honorifics:
                kind = "person" if kind == "name" else kind
            elif suffix:
                kind = suffixes[suffix]["kind"] if kind in ("city", "name") else kind
                _add_ja(found, name + suffix, kind, "".join(reading) + suffixes[suffix]["readings"][0])
            _add_ja(found, name, kind, "".join(reading))
            i = j
    return found


@lru_cache(maxsize=1)
def _tokenizer():
    from sudachipy import Dictionary

    return Dictionary(dict="core").create()


def _name_token(m) -> bool:
    pos = m.part_of_speech()
    return pos[0] == "名詞" and (pos[1] == "固有名詞" or _katakana(m.surface()))


def _katakana(text: str) -> bool:
    return bool(text) and all("\u30a0" <= c <= "\u30ff" for c in text)


def _add_ja(found: dict, name: str, kind: str, reading: str) -> None:
    entry = found.setdefault(name, {"kind": kind, "reading": reading, "count": 0})
    entry["count"] += 1


# The characters is_cjk accepts, as one class: a regex search beats a per-character loop.
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\u31f0-\u31ff々〆ヵヶー]")


def _japanese_runs(text: str):
    """The document's Japanese text in pieces sudachi accepts (it refuses very long input)."""
    for line in text.splitlines():
        if _CJK.search(line):
            for start in range(0, len(line), 4000):
                yield line[start:start + 4000]


# The Japanese side is katakana and kanji only: a hiragana particle (の, で) ends a name.
_SIDE_JA_EN = re.compile(r"([\u30a0-\u30ff\u4e00-\u9fff々]{2,20})\s*[(（]\s*([A-Z][A-Za-z\u00c0-\u024f'’ .-]{1,60}?)\s*[)）]")
_SIDE_EN_JA = re.compile(r"([A-Z][A-Za-z\u00c0-\u024f'’.-]*(?: [A-Z][A-Za-z\u00c0-\u024f'’.-]*){0,5})\s*[(（]\s*([\u30a0-\u30ff\u4e00-\u9fff々]{2,20})\s*[)）]")


def side_by_side(text: str) -> list[list[str]]:
    """Names written with their translation in brackets: 仙台市(Sendai), Umeå (ウメオ)."""
    pairs = [[en.strip(), ja] for ja, en in _SIDE_JA_EN.findall(text)]
    pairs += [[en.strip(), ja] for en, ja in _SIDE_EN_JA.findall(text)]
    return [p for i, p in enumerate(pairs) if p not in pairs[:i]]


# UN M.49 codes of the continents CLDR names (Africa, Oceania, Americas, Asia, Europe).
CONTINENTS = ("002", "009", "019", "142", "150")


def _territories() -> dict[str, dict]:
    return _territories_in(tuple(packs()))


@lru_cache(maxsize=4)
def _territories_in(codes: tuple[str, ...]) -> dict[str, dict]:
    """CLDR country names in English and Japanese, with their official languages' names (an
    English language name doubles as the adjective and demonym: Polish, Portuguese)."""
    from babel import Locale
    from babel.languages import get_official_languages

    base = pivot()
    locales = {code: Locale.parse(p.locale) for code, p in packs().items()}
    en = locales[base]
    out = {}
    for code, name in en.territories.items():
        if not (len(code) == 2 and code.isalpha() or code in CONTINENTS) \
                or any(code not in cldr.territories for cldr in locales.values()):
            continue
        languages = list(get_official_languages(code, de_facto=True))[:1]
        adjectives = vocabulary(base).get("continent_adjectives", {}).get(code) if code in CONTINENTS else \
            [en.languages[lang] for lang in languages if lang in en.languages]
        # In the other languages, the country's language's name stands for its adjective
        # (ポーランド語), with the pack's own names of regions (territory_names).
        others = [w for lang_code, cldr in locales.items() if lang_code != base
                  for w in [*(cldr.languages[lang] for lang in languages if lang in cldr.languages),
                            *(vocabulary(lang_code).get("territory_names") or {}).get(code, [])]]
        out[code] = {**{c: cldr.territories[code] for c, cldr in locales.items()},
                     "adjectives": list(adjectives or []), "other_forms": others}
    return out


@lru_cache(maxsize=1)
def _territory_words() -> frozenset[str]:
    """Country names and adjectives in English, casefolded (Japan, Japanese, Europe, European)."""
    return frozenset(w.casefold() for t in _territories().values() for w in [t[pivot()], *t["adjectives"]])


def is_adjective(word: str) -> bool:
    """A country's or continent's adjective, not its name ("European", "Japanese", "Polish")."""
    return word.casefold() in _adjectives()


@lru_cache(maxsize=1)
def _adjectives() -> frozenset[str]:
    names = {t[pivot()].casefold() for t in _territories().values()}
    return frozenset(a.casefold() for t in _territories().values() for a in t["adjectives"]) - names


@lru_cache(maxsize=1)
def _cldr_cities() -> dict[str, str]:
    """Pivot -> reading-language names of the cities CLDR names time zones after (Prague -> プラハ)."""
    from babel import Locale

    other = reading_language()
    return {zone.rsplit("/", 1)[-1].replace("_", " "): data["city"]
            for zone, data in Locale.parse(pack(other).locale).time_zones.items() if data.get("city")} if other else {}


@lru_cache(maxsize=1)
def _cldr_english() -> dict[str, str]:
    """Japanese -> English names of CLDR's cities and territories (プラハ -> Prague)."""
    out = {ja: en for en, ja in _cldr_cities().items()}
    other = reading_language()
    out.update({t[other]: t[pivot()] for t in _territories().values()} if other else {})
    return out


def english_exonym(ja_name: str) -> str:
    """The English name CLDR gives a Japanese place name (its place suffix aside), or ""."""
    table = _cldr_english()
    if ja_name in table:
        return table[ja_name]
    suffix = place_suffix(ja_name)
    return table.get(ja_name[: -len(suffix)], "") if suffix else ""


def territory_by_short_name(name: str) -> str:
    """The CLDR English name of a country written by a short form CLDR's data (as babel ships
    it) lacks ("UK" -> United Kingdom; `territory_short_names` in core/lang/en.yaml), or ""."""
    code = (vocabulary(pivot()).get("territory_short_names") or {}).get(name)
    return _territories().get(code, {}).get(pivot(), "") if code else ""


def _territory_forms() -> tuple[dict[str, str], dict[str, str], int]:
    return _territory_forms_in(tuple(packs()))


@lru_cache(maxsize=4)
def _territory_forms_in(codes: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str], int]:
    """Country names by form: Latin forms (casefolded), Japanese forms, most words in a Latin one."""
    latin, cjk = {}, {}
    for code, t in _territories().items():
        extra = [w for c in packs() for w in (vocabulary(c).get("territory_names") or {}).get(code, [])]
        for form in [*(t[c] for c in packs()), *extra]:
            (cjk if _CJK.search(form) else latin).setdefault(form.casefold(), code)
    return latin, cjk, max(len(f.split()) for f in latin)


_LATIN_WORD = re.compile(r"[a-zà-ÿ][a-zà-ÿ'’.-]*")
_KATAKANA_RUN = re.compile("[\u30a0-\u30ff]+")


def countries_in(text: str) -> list[str]:
    """CLDR countries a text names. Latin names are looked up as runs of up to a few words and
    must stand alone; a katakana name must be a whole katakana word ("マリ" is not in "マリーナ");
    a name with kanji (日本) is found anywhere."""
    latin, cjk, most = _territory_forms()
    # casefold, not fold: the whole document folded character by character costs more than the
    # few country names with diacritics (Côte d'Ivoire) are worth.
    folded = text.casefold()
    found = list(_LATIN_WORD.finditer(folded))
    words = [m.group(0).strip(".'’-") for m in found]
    # A country's name followed by a capitalised word that is no country's is part of another
    # name ("Palau Robert", a building in Barcelona), not the country.
    inside = {i for i, m in enumerate(found[1:], start=1)
              if text[m.start():m.start() + 1].isupper() and words[i] not in _territory_words()
              and re.fullmatch(r"[ \t]+", text[found[i - 1].end():m.start()])
              and not found[i - 1].group(0).endswith(".")}
    codes = {latin[" ".join(words[i:i + n])] for i in range(len(words)) for n in range(1, most + 1)
             if " ".join(words[i:i + n]) in latin and i + n not in inside}
    runs = set(_KATAKANA_RUN.findall(text))
    codes |= {code for form, code in cjk.items()
              if (form in runs if _katakana(form) else form in text)}
    return sorted(codes)


# --- linking and the table -----------------------------------------------------------------------

@dataclass
class Link:
    en: str
    ja: str
    confidence: float
    evidence: str


@dataclass
class NameReport:
    """What discovery found and how it was linked; `iurc names` prints it."""
    names: list[dict] = field(default_factory=list)  # one per discovered entity
    suggestions: list[Link] = field(default_factory=list)  # links below the threshold

    def to_json(self) -> str:
        return json.dumps({"names": self.names, "suggestions": [asdict(s) for s in self.suggestions]},
                          ensure_ascii=False)


@lru_cache(maxsize=4096)
def romaji(katakana: str) -> str:
    return _romanizer().romaji(katakana) if katakana else ""


@lru_cache(maxsize=1)
def _romanizer():
    import cutlet

    katsu = cutlet.Cutlet()
    katsu.use_foreign_spelling = False
    return katsu


_LONG = [("ou", "o"), ("oo", "o"), ("uu", "u"), ("aa", "a"), ("ii", "i"), ("ee", "e"), ("ei", "e")]


def hepburn(katakana: str, person: bool = False) -> str:
    """A reading in the usual English spelling of Japanese names: Hepburn without long-vowel
    marks (キタキュウシュウ -> Kitakyushu, オオイタ -> Oita); one word for a place, a word per
    part for a person's name."""
    words = []
    for word in (romaji(katakana).split() if person else [romaji(katakana).replace(" ", "")]):
        word = word.lower()
        for long, short in (("ou", "o"), ("oo", "o"), ("uu", "u")):
            word = word.replace(long, short)
        words.append(word.capitalize())
    return " ".join(words)


def reading_key(ja_name: str) -> str:
    """The phonetic key of a Japanese name's reading, its place suffix left out (生駒市 -> ikoma):
    what an English spelling of the name is compared with."""
    reading = ja_reading(ja_name)
    return phonetic_key(romaji(reading)) if reading else ""


def ja_reading(ja_name: str) -> str:
    """A Japanese name's reading in katakana, its place suffix left out (生駒市 -> イコマ), or ""
    when it has none in katakana."""
    # A double hyphen joins the parts of a foreign name as the middle dot does.
    reading = "".join(m.reading_form() for m in _tokenizer().tokenize(re.sub("[=＝]", "・", ja_name)))
    suffix = place_suffix(ja_name)
    for r in place_suffixes()[suffix]["readings"] if suffix else ():
        if reading.endswith(r):
            reading = reading[: -len(r)]
            break
    return reading if _katakana(reading) else ""


def place_suffix(ja_name: str) -> str:
    """The longest administrative suffix (市, 県, 都市圏 …, core/lang/ja.yaml) a Japanese name
    ends with, something before it, or ""."""
    return next((s for s in sorted(place_suffixes(), key=len, reverse=True)
                 if ja_name.endswith(s) and len(ja_name) > len(s)), "")


def phonetic_key(text: str) -> str:
    """A spelling-independent key: Latin letters only, l=r, v=b, c=k (not in ch), long vowels
    and doubled letters collapsed: Oosaka, Osaka -> osaka; Ruugo, Lugo -> rugo."""
    key = re.sub(r"[^a-z]", "", fold(text))
    key = key.replace("l", "r").replace("v", "b").replace("ch", "\0").replace("c", "k").replace("\0", "ch")
    for long, short in _LONG:
        key = key.replace(long, short)
    return re.sub(r"(.)\1+", r"\1", key)


def skeleton(key: str) -> str:
    """Consonants only, an 'r' before a consonant or at the end dropped (English spelling
    writes it, Japanese katakana does not): zagurebu, zagreb -> zgrb; manchesuta, manchester
    -> mnchst."""
    key = re.sub(r"r(?=[^aeiouy]|$)", "", key)
    return re.sub(r"[aeiouy]", "", key)


def loose_key(key: str) -> str:
    """The consonants of a phonetic key without r: furankufuruto, frankfurt -> fnkft."""
    return re.sub(r"[aeiouyr]", "", key)


def link_score(en: str, ja_reading: str) -> tuple[float, str]:
    """Confidence that an English name and a Japanese reading (katakana) are the same name."""
    ja_key, en_key = phonetic_key(romaji(ja_reading)), phonetic_key(en)
    if not ja_key or not en_key:
        return 0.0, ""
    if ja_key == en_key:
        return 0.95, f"reading {romaji(ja_reading)!r} = {en!r}"
    ja_parts, en_parts = romaji(ja_reading).split(), en.split()
    if len(ja_parts) > 1 and sorted(map(phonetic_key, ja_parts)) == sorted(map(phonetic_key, en_parts)):
        return 0.9, f"reading {romaji(ja_reading)!r} = {en!r} (name order differs)"
    ratio = SequenceMatcher(None, ja_key, en_key).ratio()
    bones_ja, bones_en = skeleton(ja_key), skeleton(en_key)
    if len(bones_en) >= 3 and bones_ja == bones_en and ratio >= 0.6:
        return round(0.6 + 0.3 * ratio, 3), f"reading {romaji(ja_reading)!r} sounds like {en!r}"
    close = round(0.85 * ratio, 3) if ratio >= 0.8 and min(len(ja_key), len(en_key)) >= 4 else 0.0
    alike = sounds_alike(en, ja_reading)
    if alike >= SOUNDS_ALIKE and round(0.9 * alike, 3) > close:
        return round(0.9 * alike, 3), f"reading {romaji(ja_reading)!r} sounds like {en!r} word by word"
    if close:
        return close, f"reading {romaji(ja_reading)!r} close to {en!r}"
    return 0.0, ""


# Word-by-word sound similarity from which two names may be the same (0.9 x this is the link's
# confidence, compared with IURC_NAME_LINK_THRESHOLD).
SOUNDS_ALIKE = 0.75


def sounds_alike(en: str, ja_reading: str) -> float:
    """How alike an English name and a katakana reading sound, word by word (パトリシア・フロール
    / Patricia Flor): per word, the better of its spelling and of its English pronunciation
    written in katakana (e2k), compared with the reading's romanisation; 0 when the word
    counts differ or a one-word name is too short to tell."""
    ja_words = [w for w in re.split(r"[・･\s]+", ja_reading) if w]
    en_words = [w for w in re.split(r"[\s\-]+", en) if w]
    if not ja_words or len(ja_words) != len(en_words):
        return 0.0
    total = 0.0
    for ja_word, en_word in zip(ja_words, en_words):
        ja_key, en_key = phonetic_key(romaji(ja_word)), phonetic_key(en_word)
        if not ja_key or not en_key or (len(en_words) == 1 and min(len(ja_key), len(en_key)) < 5):
            return 0.0
        spoken = phonetic_key(romaji(_english_katakana(fold(en_word))))
        total += max(SequenceMatcher(None, ja_key, key).ratio() for key in (en_key, spoken))
    return total / len(en_words)


@lru_cache(maxsize=8192)
def _english_katakana(word: str) -> str:
    """An English word as an English speaker says it, in katakana (e2k's character model)."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    return _e2k()(letters) if letters else ""


@lru_cache(maxsize=1)
def _e2k():
    from e2k import C2K

    return C2K()


def build_table(curated: Glossary, found: dict[str, dict], threshold: float,
                link: bool = True) -> tuple[Glossary, NameReport]:
    """The name table: curated rows, then the discovered names of every document (`found`:
    document name -> its `discover()` result) linked across scripts. `link=False` skips the
    cross-script linking (a document's own names for its structure need no translation)."""
    report = NameReport()
    curated_forms = {fold(n) for e in curated.entities.values() for n in e.names}
    en_names: dict[str, dict] = {}
    ja_names: dict[str, dict] = {}
    pairs: dict[tuple[str, str], str] = {}
    codes: set[str] = set()
    acronyms: dict[str, str] = {}
    # Short forms the documents define ("European Union (EU)"): names as much as curated ones.
    defined = {fold(short) for result in found.values() for _, short in result.get("acronyms", [])}
    base_language, other = pivot(), reading_language()
    for doc, result in sorted(found.items()):
        for name, info in result.get(base_language, {}).items():
            if info["inside"] == 0 and (" " not in name or info["count"] < 2):
                continue  # seen only opening a sentence or line: an ordinary word, or a table row
            if " " in name and (_holds_a_name(name, curated) or _holds_a_known_word(name, defined)):
                continue  # a listed name next to other words: juxtaposed names, not a new one
            entry = en_names.setdefault(name, {"docs": [], "count": 0})
            entry["docs"].append(doc)
            entry["count"] += info["count"]
        for name, info in result.get(other, {}).items() if other else ():
            entry = ja_names.setdefault(name, {"docs": [], "count": 0, "kind": info["kind"],
                                               "reading": info["reading"]})
            entry["docs"].append(doc)
            entry["count"] += info["count"]
        for en, ja in result.get("pairs", []):
            pairs.setdefault((en, ja), doc)
        codes.update(result.get("countries", []))
        for long, short in result.get("acronyms", []):
            acronyms.setdefault(long, short)
    rows: list[dict] = []
    suffixes = place_suffixes()
    linked_en: dict[str, str] = {}  # English name -> the Japanese group it joined
    groups = _ja_groups(ja_names)
    candidates: list[tuple[float, str, str, str]] = []
    for (en, ja), doc in pairs.items():
        base = next((b for b, g in groups.items() if ja in g["forms"]), None)
        if base is None:  # a name sudachi does not know as one, written with its translation
            base = ja
            groups[ja] = {"forms": [ja], "docs": [doc], "kind": "name", "reading": "", "name": ja, "count": 1}
        en_names.setdefault(en, {"docs": [doc], "count": 1})
        candidates.append((1.0, en, base, f"written side by side in {doc}"))
    cities = _cldr_cities() if link else {}
    latin_countries, cjk_countries, _ = _territory_forms()
    for base, group in groups.items() if link else ():
        country_ja = next((cjk_countries[f] for f in group["forms"] if f in cjk_countries), None)
        for en in en_names:
            ja = cities.get(en)
            if ja and any(f == ja or f.startswith(ja) and f[len(ja):] in suffixes for f in group["forms"]):
                candidates.append((1.0, en, base, f"CLDR city names: {en} = {ja}"))
                continue
            if (country_ja or latin_countries.get(en.casefold())) and country_ja != latin_countries.get(en.casefold()):
                continue  # a country is its CLDR name in the other script, however alike another sounds (Slovenia, スロバキア)
            score, why = link_score(en, group["reading"])
            if score:
                candidates.append((score, en, base, why))
    taken_en, taken_ja = set(), set()
    for score, en, base, why in sorted(candidates, key=lambda c: -c[0]):
        if en in taken_en or base in taken_ja:
            continue
        link = Link(en, groups[base]["name"], score, why)
        if score < threshold:
            report.suggestions.append(link)
            continue
        taken_en.add(en)
        taken_ja.add(base)
        linked_en[en] = base
        groups[base]["pivot"], groups[base]["link"] = en, link
    for base, group in groups.items():
        en = group.get("pivot", "")
        if link and not en and any("\u4e00" <= c <= "\u9fff" for c in base) and group["reading"] \
                and group["kind"] in ("city", "region", "person"):  # countries take CLDR names
            # A kanji name no English text spells: its romanised reading stands in (北九州 ->
            # Kitakyushu), so an English question can name it and an English answer can say it.
            en = hepburn(group["reading"], person=group["kind"] == "person")
            group["link"] = Link(en, group["name"], 0.8, f"romanised reading of {group['name']}")
        forms = [en] + group["forms"] if en else group["forms"]
        rows.append(_row(group["kind"], {base_language: en, other: group["name"]},
                         [f for f in forms if f not in (en, group["name"])],
                         group["docs"], group.get("link")))
    for en, info in en_names.items():
        if en not in linked_en:
            # "International Urban and Regional Cooperation" and "IURC" are one name when both
            # occur: the long form joins its acronym's row.
            short = acronyms.get(en) or acronym(en)
            aliases = [short] if short != en and short in en_names else []
            rows.append(_row("name", {base_language: en}, aliases, info["docs"],
                             Link(en, "", 0.9, f"acronym {short}") if aliases else None))
    for long, short in sorted(acronyms.items()):
        if long not in en_names:  # spelled out with "and", "of": not a capitalised run
            rows.append(_row("name", {base_language: short}, [long], [], Link(long, "", 0.9, f"acronym {short}")))
    for code in sorted(codes):
        t = _territories()[code]
        rows.append(_row("region" if code in CONTINENTS else "country", {c: t[c] for c in packs()},
                         t["adjectives"] + t["other_forms"], ["CLDR"],
                         Link(t[base_language], t[other] if other else "", 1.0, "CLDR territory names")))
    for row in rows:
        row["aliases"] = sorted(set(row["aliases"]) | set(short_forms(row)) - set(_names_of(row)))
    rows = _merge_rows(rows)
    table_rows, aliases_for_curated = [], {}
    used_ids = set(curated.entities)
    curated_owner = {}
    for eid, e in curated.entities.items():
        for n in e.names:
            curated_owner.setdefault(fold(n), eid)
    for row in rows:
        forms = [f for f in [*_names_of(row), *row["aliases"]] if f]
        overlap = next((curated_owner[fold(f)] for f in forms if fold(f) in curated_owner), None)
        if overlap:
            # Curated rows win; forms the curators did not list join their row.
            extra = [f for f in forms if fold(f) not in curated_forms]
            aliases_for_curated.setdefault(overlap, []).extend(extra)
            row["merged_into"] = overlap
        else:
            row["entity_id"] = _unique_id(row, used_ids)
            table_rows.append(row)
        report.names.append(row)
    return _glossary(curated, table_rows, aliases_for_curated), report


def short_forms(row: dict) -> list[str]:
    """The first part of a place's compound name, as people shorten it: "Grenoble-Alpes
    Metropole" -> "Grenoble", グルノーブル・アルプ・メトロポール -> グルノーブル (not for people:
    セザール・モレノ is not セザール)."""
    if row["kind"] in ("person", "country"):
        return []
    out = []
    first = row[_col(pivot())].split()[0] if row[_col(pivot())] else ""
    if "-" in first and first[:1].isupper():
        head = first.split("-")[0]
        if len(head) >= 4:
            out.append(head)
    ja = row.get(_col(reading_language()), "")
    if "・" in ja and _katakana(ja.split("・")[0]) and len(ja.split("・")[0]) >= 3:
        out.append(ja.split("・")[0])
    return out


def acronym(name: str) -> str:
    """Initials of a multi-word name's capitalised words: "European Union" -> "EU"."""
    words = name.replace("-", " ").split()
    if len(words) < 2:
        return name
    return "".join(w[0] for w in words if w[:1].isupper())


def _holds_a_name(name: str, curated: Glossary) -> bool:
    return any(m.end - m.start < len(name) for m in curated.find(name))


def _holds_a_known_word(name: str, defined: set[str]) -> bool:
    """A word of the name is a country or its adjective (CLDR: "Japanese Prefectures") or a
    short form the documents define ("EU Regions"): what a curated table would hold, so the
    glossary-free table treats the phrase as the curated one does."""
    words = [fold(w) for w in re.split(r"[\s–-]+", name) if w]
    return len(words) > 1 and any(w in _territory_words() or w in defined for w in words)


def _merge_rows(rows: list[dict]) -> list[dict]:
    """Rows that share a written form are one name (a phonetic link, a CLDR country, the same
    name seen alone in English): joined transitively, the earliest row giving the names."""
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, row in enumerate(rows):
        for f in (fold(f) for f in [*_names_of(row), *row["aliases"]] if f):
            if f in owner:
                a, b = root(owner[f]), root(i)
                parent[max(a, b)] = min(a, b)
            else:
                owner[f] = i
    merged: dict[int, dict] = {}
    for i, row in enumerate(rows):
        r = root(i)
        if r not in merged:
            merged[r] = row
            continue
        first = merged[r]
        cldr = "CLDR" in row["docs"]
        for key in map(_col, packs()):
            if row.get(key) and (not first.get(key) or cldr):
                if first[key] and first[key] != row[key]:
                    first["aliases"] = sorted(set(first["aliases"]) | {first[key]})
                first[key] = row[key]  # CLDR's names are the standard ones ("Europe", not "Oshu")
        if cldr:
            first["link"] = row.get("link") or first.get("link")
        if first["kind"] == "name" and row["kind"] != "name":
            first["kind"] = row["kind"]  # "country" from CLDR says more than "name"
        if not first.get("link") and row.get("link"):
            first["link"] = row["link"]
        extra = [f for f in [*_names_of(row), *row["aliases"]] if f]
        first["aliases"] = sorted((set(first["aliases"]) | set(extra)) - set(_names_of(first)))
        first["docs"] = sorted(set(first["docs"]) | set(row["docs"]))[:20]
    return list(merged.values())


def _ja_groups(ja_names: dict[str, dict]) -> dict[str, dict]:
    """Japanese forms grouped by the name without its suffix (大阪市, 大阪 -> 大阪)."""
    suffixes = place_suffixes()
    groups: dict[str, dict] = {}
    # 北九州 is the base of 北九州市: it is not itself 北九 + 州.
    bases = {n[:-len(x)] for n in ja_names for x in suffixes if n.endswith(x) and len(n) > len(x) + 1}
    for name, info in sorted(ja_names.items(), key=lambda kv: len(kv[0])):
        base, reading = name, info["reading"]
        for suffix in sorted(suffixes, key=len, reverse=True):
            if name in bases and name in ja_names:
                break
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                base = name[:-len(suffix)]
                for r in suffixes[suffix]["readings"]:
                    if reading.endswith(r):
                        reading = reading[:-len(r)]
                        break
                break
        group = groups.setdefault(base, {"forms": [], "docs": [], "kind": info["kind"], "reading": reading,
                                         "name": name, "count": 0})
        group["forms"].append(name)
        group["docs"] = sorted(set(group["docs"]) | set(info["docs"]))
        if info["count"] > group["count"] or name != base:  # the suffixed form is the display name
            group["name"], group["count"] = name, max(group["count"], info["count"])
            if info["kind"] != "name":
                group["kind"] = info["kind"]
    return groups


def _row(kind, names: dict[str, str], aliases, docs, link: Link | None) -> dict:
    """A row of the name table: its name in each language (name_<code>; "" when unknown)."""
    return {"kind": kind, **{_col(c): names.get(c, "") for c in packs()}, "aliases": sorted(set(aliases)),
            "docs": sorted(set(docs))[:20], "link": asdict(link) if link else None}


def _names_of(row: dict) -> list[str]:
    return [row.get(_col(c), "") for c in packs()]


def _unique_id(row: dict, used: set[str]) -> str:
    base = DISCOVERED_PREFIX + (re.sub(r"[^a-z0-9]+", "-", fold(row[_col(pivot())])).strip("-")
                                or phonetic_key(romaji(_reading_of(row))) or str(len(used)))
    eid, n = base, 2
    while eid in used:
        eid, n = f"{base}-{n}", n + 1
    used.add(eid)
    return eid


def _reading_of(row: dict) -> str:
    return row.get(_col(reading_language()), "")


def _glossary(curated: Glossary, rows: list[dict], extra_aliases: dict[str, list[str]]) -> Glossary:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns())
    for e in curated.entities.values():
        aliases = list(dict.fromkeys(e.aliases + extra_aliases.get(e.entity_id, [])))
        writer.writerow([e.entity_id, e.kind, e.country, *(e.label(c) for c in packs()), "|".join(aliases)])
    for row in rows:
        kind = row["kind"] if row["kind"] in ("city", "region", "country", "organisation", "person") else "name"
        writer.writerow([row["entity_id"], kind, "", *_names_of(row), "|".join(row["aliases"])])
    return parse_glossary(out.getvalue(), "name table")


def suggest_rows(report: NameReport) -> str:
    """CSV rows in the glossary's columns for staff to review and paste into corpus/glossary.csv:
    every discovered name with forms in both scripts, then the links below the threshold."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns())
    base, other = pivot(), reading_language()
    for row in report.names:
        if row.get("entity_id") and row.get(_col(base)) and row.get(_col(other)):
            slug = row["entity_id"][len(DISCOVERED_PREFIX):]
            writer.writerow([slug, row["kind"] if row["kind"] != "name" else "city", "", *_names_of(row),
                             "|".join(row["aliases"])])
    for link in report.suggestions:
        slug = re.sub(r"[^a-z0-9]+", "-", fold(link.en)).strip("-")
        names = [{base: link.en, other: link.ja}.get(c, "") for c in packs()]
        writer.writerow([slug, "city", "", *names, f"# check: {link.evidence} ({link.confidence})"])
    return out.getvalue()


# How each language's names are found (a pack's `name_discovery`; "none": glossary names only).
DISCOVERERS = {"capitalised": discover_capitalised, "japanese": discover_japanese}
