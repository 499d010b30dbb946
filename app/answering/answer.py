"""Grounded extractive answers: a first line naming what is answered, then sentences quoted
verbatim from the passages, each followed by [n]; or an exact answer from table facts; or an
abstention with the closest passages listed as related."""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from core.profile import load as _load_profile
from core.bilingual import bridge_language, bridged, common_english, counter_words
from core.glossary import DISCOVERED_PREFIX, PLACE_KINDS, Glossary, has_cjk, is_cjk, is_side
from core.languages import LATIN, languages, pack, pivot, vocabulary, written_in
from core.names import english_exonym, is_adjective, place_suffix, reading_language
from core.text import SECTION_JOINER

from app.answering.facts import FactAnswer
from app.answering.lead import (FIRST_LINE_COLUMNS, Strategy, best_clause, clause, clause_parts, columns, own_clauses,
                                strategy)
from app.answering.question import (INTENT_VALUES, WIDE_DIGITS, YEAR, Question, attribute_spans, counted, cues, days_in,
                                    english_months,
                                    names_attribute, ordinals)
from app.answering.retrieve import Hit, Passage

PROFILE = _load_profile()

# A sentence ends at its punctuation or at the end of its line (list items, lines of a table).
SENTENCE_PATTERN = re.compile(r"[^\n]+?(?:[。！？]|[.!?](?=\s|$)|(?=\n)|$)")


@dataclass
class Span:
    passage: Passage
    start: int
    end: int
    score: float = 0.0

    @property
    def text(self) -> str:
        return self.passage.text[self.start:self.end]


@dataclass
class Citation:
    n: int
    passage: Passage
    quote: str
    score: float


@dataclass
class Answer:
    text: str
    language: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    related: list[Hit] = field(default_factory=list)
    kind: str = "extractive"  # extractive, facts, abstained, generated
    evidence: float = 0.0  # score of the best quoted sentence; abstention compares it to a threshold


def body_start(p: Passage) -> int:
    """Where the passage's own text starts (after its heading or table title line)."""
    first = p.text.split("\n", 1)[0]
    if "\n" in p.text and p.section and first == p.section:
        return len(first) + 1
    return 0


def sentences(p: Passage) -> list[Span]:
    start = body_start(p)
    if p.kind == "table_row":
        # A row quotes from its table's own title on: the heading path above it is in the location.
        head_end = p.text.find(" | ", start)
        path_end = p.text.rfind(SECTION_JOINER, start, head_end) if head_end > 0 else -1
        return [Span(p, path_end + len(SECTION_JOINER) if path_end >= 0 else start, len(p.text))]
    spans = []
    for m in SENTENCE_PATTERN.finditer(p.text, start):
        s, e = m.start(), m.end()
        while s < e and p.text[s].isspace():
            s += 1
        if e - s >= 2:
            spans.append(Span(p, s, e))
    return spans


def _join_names(names: list[str], language: str) -> str:
    return pack(language).join_names(names)


def wording(language: str) -> dict:
    """The answer's fixed wording in one language (core/lang/<language>.yaml, `answers`)."""
    return vocabulary(language)["answers"]


def source_label(asker: str, source: str, key: str = "other_language_source") -> str:
    """Said before a quote in another language, so the reader knows why it reads differently
    ("From a Japanese source:"): the asker's template (`answers.<key>`) with the source
    language's name in the asker's language (CLDR); "" for the asker's own language."""
    if source in (asker, "mixed", "") or source not in languages():
        return ""
    return wording(asker)[key].format(language=_language_name(source, asker))


@lru_cache(maxsize=None)
def _language_name(code: str, in_language: str) -> str:
    from babel import Locale

    return Locale.parse(pack(in_language).locale).languages.get(pack(code).locale, code)


# --- what can be said in the asker's language without translating ---------------------------

@lru_cache(maxsize=None)
def _month_names() -> dict[str, int]:
    """English month names and abbreviations (CLDR, through babel) and their numbers."""
    from babel import Locale

    en = Locale.parse(pack(pivot()).locale)
    return {name: number for ctx in ("format", "stand-alone") for w in ("wide", "abbreviated")
            for number, name in en.months[ctx][w].items()}


@lru_cache(maxsize=None)
def _month_numbers() -> dict[str, int]:
    return english_months()


@lru_cache(maxsize=None)
def _date_patterns() -> tuple[re.Pattern, re.Pattern]:
    months = "|".join(sorted(map(re.escape, _month_numbers()), key=len, reverse=True))
    en = re.compile(rf"\b(\d{{1,2}})(?:\s*(?:to|and|–|-)\s*(\d{{1,2}}))?\s+({months})\s+((?:19|20)\d\d)\b", re.I)
    ja = re.compile(r"((?:19|20)\d\d)年(\d{1,2})月(?:(\d{1,2})日)?(?:\s*(?:[〜~～-]|から)\s*(\d{1,2})日)?"
                    r"(?:(?<!日)\s*(?:[〜~～-]|から)\s*(\d{1,2})月(?![\d日]))?")  # 2021年5月から8月
    return en, ja


def _format_date(year: int, month: int, day: int | None, last: int | None, language: str,
                 last_month: int | None = None) -> str:
    return pack(language).format_date(year, month, day, last, last_month)


# Kinds of name that are never a person (a discovered "name" may be one).
_NOT_PEOPLE = frozenset({*PLACE_KINDS, "country", "organisation", "programme"})
# Kinds of name that are never the place a "which cities" question asks for.
_NOT_PLACES = frozenset({"programme", "organisation", "person"})


def stated_values(quote: str, language: str, glossary: Glossary, skip: set[str],
                  kinds: tuple[str, ...] = ("names", "dates"), countries: bool = False) -> list[str]:
    """What a quote in the other language says that needs no translation, written for the asker,
    in the order of `kinds`: names in the asker's script (from the name table), dates and
    years, numbers. `countries`: the question asks for countries (kept beside cities)."""
    found: dict[str, list[str]] = {"names": [], "people": [], "places": [], "dates": [], "numbers": [],
                                   "times": _times(quote, language),
                                   "durations": [_format_duration(m, language)
                                                 for m in _carry_patterns()["duration"].finditer(quote)]}
    sides: set[str] = set()  # a country or a union of them, among the places
    for m in glossary.find(quote):
        if m.entity_id in skip or is_adjective(m.surface):
            continue  # "European cohesion policy" names no subject
        name = glossary.display_name(m.entity_id, language)
        kind = glossary.entities[m.entity_id].kind
        # A name found in the documents whose two capitalised words are no dictionary words
        # ("Lena Lindahl", not "Technical University") is a person's.
        person = kind == "person" or kind == "name" and bool(_carry_patterns()["two_capitals"].fullmatch(m.surface)) \
            and _unlike_words(m.surface)
        if name and person and not has_cjk(name):
            found["people"].append(name)  # a person's name in Latin letters reads in either language
        if name and written_in(name, language):
            found["names"].append(name)
            if person and has_cjk(name):
                found["people"].append(name)
            if glossary.entities[m.entity_id].kind not in _NOT_PLACES:
                found["places"].append(name)
                if is_side(glossary.entities[m.entity_id]):
                    sides.add(name)
        elif language == pivot() and (exonym := english_exonym(m.surface)):
            found["names"].append(exonym)  # a place the name table lacks in English: CLDR's name
            found["places"].append(exonym)
    if pack(language).script == LATIN:
        # A person the name table lacks, written only in Japanese: stated as written (never
        # romanised), so "Who explained …?" is answered by the name.
        for m in _carry_patterns()["person_ja"].finditer(quote):
            person = m.group(1) or m.group(2)
            if person not in found["people"]:
                found["people"].append(person)
    en, ja = _date_patterns()
    spans = []
    for m in en.finditer(quote):
        spans.append(m.span())
        found["dates"].append(_format_date(int(m.group(4)), _month_numbers()[m.group(3).casefold()],
                                           int(m.group(1)), int(m.group(2)) if m.group(2) else None, language))
    for m in ja.finditer(quote):
        spans.append(m.span())
        found["dates"].append(_format_date(int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None,
                                           int(m.group(4)) if m.group(4) else None, language,
                                           int(m.group(5)) if m.group(5) else None))
    if not found["dates"]:
        found["dates"] = YEAR.findall(quote)
    spans += [m.span() for language in languages() for m in cues(language)["ordinal"].finditer(quote)]
    for m in _NUMBER.finditer(quote):
        if any(a <= m.start() < b for a, b in spans) or YEAR.fullmatch(m.group(0)) or _in_name(quote, m.start()):
            continue
        word = m.group(0).casefold()
        if word.isalpha() and word not in _number_values():
            continue
        found["numbers"].append(_stated_number(quote, m, language))
    if not countries and any(p not in sides for p in found["places"]):
        # "Where was it held?": the city or venue answers; the country around it says no more
        # ("Norvia, Veldora, Harbour Hall" reads as a list of three places).
        found["places"] = [p for p in found["places"] if p not in sides]
    values = [v for kind in kinds for v in found.get(kind, [])]
    return list(dict.fromkeys(values))


# Between two times of one range ("9:00 to 9:20", 16:00〜18:20, 9時から10時), and a time zone
# written after a time or range ("CET").
_TIME_JOIN = re.compile(r"\s*(?:to|until|till|–|—|-|〜|~|～|から)\s*")
_ZONE_AFTER = re.compile(r"\s*([A-Z]{2,5})\b")


def _times(quote: str, language: str) -> list[str]:
    """The times a quote states, a range as one ("9:00 to 9:20 CET" in English, 9:00〜9:20 CET
    in Japanese), each with the zone written after it."""
    found = list(_TIME.finditer(quote))
    out, i = [], 0
    while i < len(found):
        first, last = found[i], found[i]
        if i + 1 < len(found) and _TIME_JOIN.fullmatch(quote[first.end():found[i + 1].start()]):
            last = found[i + 1]
            i += 1
        text = first.group(0) if last is first else \
            vocabulary(language)["duration_range"].format(a=first.group(0), b=last.group(0))
        zone = _ZONE_AFTER.match(quote, last.end())
        out.append(f"{text} {zone.group(1)}" if zone else text)
        i += 1
    return out


def asked_zone(q: Question) -> str:
    """The time zone a question asks its times in ("日本時間で", "Japan time"), by the language
    file's `time_zones`; "" when it names none."""
    text = q.text.casefold()
    return next((zone for zone, words in vocabulary(q.language).get("time_zones", {}).items()
                 if any(w.casefold() in text for w in words)), "")


def _format_duration(m: re.Match, language: str) -> str:
    """A duration as the asker's language writes it: 2年間 -> "2 years", "18 to 24 months" -> 18〜24か月."""
    v = vocabulary(language)
    number = lambda word: _as_stated(word.translate(WIDE_DIGITS))
    n = number(m.group("a")) if not m.group("b") else v["duration_range"].format(a=number(m.group("a")), b=number(m.group("b")))
    return v["duration_format"][_duration_units()[m.group("unit").casefold()]].format(n=n)


@lru_cache(maxsize=None)
def _duration_units() -> dict[str, str]:
    """Each language's words for a unit of time -> the unit (か月 -> month, years -> year)."""
    return {str(k).casefold(): v for language in languages() for k, v in vocabulary(language).get("duration_units", {}).items()}


def _as_stated(word: str) -> str:
    """A number as a first line states it: digits as written, a number word as its digits."""
    return str(_number_values().get(word.casefold(), word))


# Across languages a verb's stem meets its noun's ("introduc" of introduce in "introduct" of
# introduction, the gloss of 紹介; "explain" and "explan" of 説明's "explanation"): stems that
# begin alike for STEM_PREFIX letters or more, and for most of the shorter one, match.
STEM_PREFIX = 5
STEM_SHARE = 0.8


def _stem_overlap(asked: set[str], words: set[str]) -> set[str]:
    """The asked stems among `words`, or beginning alike with one of them (STEM_PREFIX letters
    or more, and STEM_SHARE of the shorter stem)."""
    def alike(a: str, w: str) -> bool:
        common = len(os.path.commonprefix([a, w]))
        return common >= STEM_PREFIX and common >= STEM_SHARE * min(len(a), len(w))

    return {a for a in asked if a in words or any(alike(a, w) for w in words)}


# A sentence listing this many pairs or more ("A and X, B and Y, C and Z") answers a where-question
# about one of them with that one's clause.
PAIRS_LISTED = 3
# A word in the names of this many entities or more is a generic part of names ("city", 都市).
NAME_WORD_ENTITIES = 3
_MYRIADS = {"万": 10_000, "億": 100_000_000}  # Japanese multipliers written after digits


def _stated_number(text: str, m: re.Match, language: str) -> str:
    """The number `m` of `text` as the asker's line states it, with the approximation the text
    writes around it ("60名余り" -> "over 60", "about 40" -> 約40; `approximate` and
    `answers.approx_format` in core/lang/<language>.yaml)."""
    number = _as_stated(m.group(0))
    after = text[m.end():m.end() + 6]
    if after[:1] in _MYRIADS and number.replace(",", "").isdigit():  # 150万: 1,500,000
        number = number + after[0] if written_in(after[0], language) \
            else f"{int(number.replace(',', '')) * _MYRIADS[after[0]]:,}"
        after = after[1:]
    before = text[max(0, m.start() - 16):m.start()].casefold().rstrip()
    for source in languages():
        for kind, marks in (vocabulary(source).get("approximate") or {}).items():
            if any(before.endswith(w) for w in marks.get("before", [])) or any(
                    re.match(r"[^\d\s、。,.]{0,2}?" + re.escape(w), after) for w in marks.get("after", [])):
                return wording(language)["approx_format"][kind].format(n=number)
    return number


@lru_cache(maxsize=None)
def _number_values() -> dict[str, int]:
    """Spelled-out numbers of the languages' vocabularies (`number_values`) and their values."""
    return {str(w).casefold(): int(n) for language in languages()
            for w, n in (vocabulary(language).get("number_values") or {}).items()}


_NUMBER = re.compile(r"(?<![\d.])\d[\d,]*(?![\d])|\b[A-Za-z]+\b")
# Digits glued to Latin letters ("IURC2の", "H2 mobility") are part of a name, not a count,
# unless a kanji or katakana word (a counter, a noun) follows them: "EU13都市".
_NAME_DIGITS = re.compile(r"(?<=[A-Za-zＡ-Ｚａ-ｚ])[0-9０-９]+(?![0-9０-９,.]*[\u4e00-\u9fffァ-ヴ])")


def _in_name(text: str, start: int) -> bool:
    """Whether the digits at `start` of `text` belong to a name ("IURC2")."""
    return bool(_NAME_DIGITS.match(text, start))


# --- what a sentence carries ---------------------------------------------------------------------

_DIGIT = re.compile(r"(?<![0-9０-９])[0-9０-９]")
_JA_DATE = re.compile(r"[0-9０-９]{1,4}\s*[年月日](?!間)|[0-9０-９]{1,2}/[0-9０-９]{1,2}")  # 2年間 is a duration
# A time of day ("9:00", "17時") answers "what time" as a date answers "when".
_TIME = re.compile(r"(?<![0-9])[0-9]{1,2}:[0-9]{2}(?![0-9])|[0-9０-９]{1,2}\s*時(?!間)")


@lru_cache(maxsize=None)
def _carry_patterns() -> dict:
    month = re.compile(r"\b(" + "|".join(sorted(_month_names(), key=len, reverse=True)) + r")\b")
    # Patterns of the Latin script from the pivot's vocabulary, of the Japanese script from the
    # reading language's (a person written in katakana, a title after a name).
    v_en, v_ja = vocabulary(pivot()), vocabulary(reading_language() or pivot())
    # Number words: the multipliers (`number_words`) and every spelled-out number (`number_values`).
    words = list(dict.fromkeys([*v_en.get("number_words", []), *(v_en.get("number_values") or {})]))
    numbers = re.compile(r"\b(" + "|".join(words) + r")\b", re.I)
    # "The Mayor" is not a name: a capitalised function word does not start one.
    not_name = r"(?!(?:" + "|".join(w.capitalize() for w in v_en.get("question_words", [])) + r")\b)"
    titles = "|".join(v_en.get("person_titles", []))
    titles_en = re.compile(rf"\b(?i:{titles})\b\.?\s+{not_name}[A-Z]|\b{not_name}[A-Z][\w'’-]+,?\s+(?i:{titles})\b")
    two_capitals = re.compile(rf"\b{not_name}[A-Z][a-zà-ÿ'’-]+\s+{not_name}[A-Z][a-zà-ÿ'’-]+")
    # A title ends its word: 代表 is one, 代表団 (a delegation) is not.
    titles_ja = re.compile("(" + "|".join(map(re.escape, v_ja.get("person_titles", []))) + ")(?![\u4e00-\u9fff])")
    # Day numbers written with a month: "13 to 19 November", "November 13".
    day = r"\d{1,2}(?:st|nd|rd|th)?"
    day_month = re.compile(rf"\b{day}(?:\s*(?:to|and|[-–])\s*{day})?\s+{month.pattern}|{month.pattern}\s+{day}\b")
    roles = [re.escape(str(w)) for language in languages() for w in vocabulary(language).get("role_words", [])]
    # A number (digits, a number word, "18 to 24") before a unit of time: a duration.
    units = [re.escape(u) for u in _duration_units()]
    amount = rf"(?:[0-9０-９]+|{'|'.join(words)})"
    duration = re.compile(rf"(?i:(?<![0-9A-Za-z])(?P<a>{amount})(?:\s*(?:to|-|–|〜|～)\s*(?P<b>{amount}))?\s*"
                          r"(?P<unit>" + "|".join(sorted(units, key=len, reverse=True)) + r")(?![a-z]))")
    role = re.compile(r"(?i:\b(?:" + "|".join(w for w in roles if w.isascii()) + r")\b|"
                      + "|".join(w for w in roles if not w.isascii()) + ")")
    # A person written in Japanese: a katakana name of two parts or more before a title, maybe
    # qualified (アンナ・ヴェルデ上級顧問, マルコ・ロッシ市長), or a kanji name of two to four
    # characters before an honorific (山田太郎氏; not 港町長, a town's mayor).
    titles = "|".join(map(re.escape, sorted({*v_ja.get("person_titles", []), *v_ja.get("role_words", [])},
                                            key=len, reverse=True)))
    person_ja = re.compile(rf"([ァ-ヴー]{{2,}}(?:・[ァ-ヴー]{{2,}})+)(?=[一-龥]{{0,3}}(?:{titles}))"
                           rf"|(?<![一-龥々])([一-龥々]{{2,4}})(?=(?:氏|さん|様)(?![一-龥]))")
    return {"person_ja": person_ja, "month": month, "numbers": numbers, "titles_en": titles_en, "titles_ja": titles_ja,
            "two_capitals": two_capitals, "day_month": day_month, "role": role,
            "duration": duration}


def _without_ordinals(text: str) -> str:
    """The text with its ordinals blanked out ("2nd batch", 第4回): they rank, they count nothing."""
    for language in languages():
        text = cues(language)["ordinal"].sub(" ", text)
    return text


def carries(kind: str, text: str, glossary: Glossary) -> bool:
    """Whether a sentence holds a value of this kind: date, number, person, place, email."""
    c = _carry_patterns()
    if kind == "date":
        # (a time of day says when on the day: "Session 2 ran from 16:00 to 18:20 JST")
        return bool(YEAR.search(text) or c["month"].search(text) or _JA_DATE.search(text) or _TIME.search(text))
    if kind == "time":
        return bool(_TIME.search(text))
    if kind == "duration":
        return bool(c["duration"].search(text))
    if kind == "number":
        # A count, not the digits of a date ("in June 2023", "13 to 19 November", 2022年11月).
        text = c["day_month"].sub(" ", _TIME.sub(" ", _JA_DATE.sub(" ", YEAR.sub(" ", _without_ordinals(text)))))
        return any(not _in_name(text, m.start()) for m in _DIGIT.finditer(text)) or bool(c["numbers"].search(text))
    if kind == "email":
        return "@" in text
    found = glossary.find(text)
    kinds = {glossary.entities[m.entity_id].kind for m in found}
    if kind == "person":
        # Two capitalised words inside a name the table knows as something else (a city,
        # "Grenoble-Alpes Métropole") are not a person.
        known = [(m.start, m.end) for m in found if glossary.entities[m.entity_id].kind in _NOT_PEOPLE]
        return "person" in kinds or bool(c["titles_ja"].search(text) or c["titles_en"].search(text)
                                         or c["person_ja"].search(text)) \
            or any(_unlike_words(m.group(0)) and not any(a < m.end() and m.start() < b for a, b in known)
                   for m in c["two_capitals"].finditer(text))
    if kind == "place":
        # (an organisation is where one goes or meets: "at the Delegation of …"; an adjective,
        # "Japanese prefectures", names no place)
        return bool({glossary.entities[m.entity_id].kind for m in found if not is_adjective(m.surface)}
                    & {"city", "region", "country", "name", "organisation"})
    return True




def _unlike_words(phrase: str) -> bool:
    """Two capitalised words read as a person's name only when one of them is no dictionary word
    ("Ada Kowalska", not "Innovation Cooperation")."""
    common = common_english()
    return not common or any(w.casefold() not in common for w in phrase.split())


def asked_values(q: Question) -> list[str]:
    """The kinds of value the question asks for: date, number, person, place."""
    return [INTENT_VALUES[i] for i in sorted(q.intents) if i in INTENT_VALUES]


def subject_line(q: Question, glossary: Glossary) -> str:
    """'Kamakura (Japan) and Umeå (Sweden):' / '鎌倉市とウメオ市:'."""
    if not q.entities:
        return wording(q.language)["from_the_documents"]
    names = []
    asked = {m.entity_id: m.surface for m in glossary.find(q.text)}
    for entity_id in q.entities:
        e = glossary.entities[entity_id]
        base = e.label(pivot())
        if q.language != pivot():
            # A discovered name as the asker wrote it (大阪市, not the 大阪府 it was grouped with);
            # a curated one as the curators wrote it.
            surface = asked.get(entity_id, "") if entity_id.startswith(DISCOVERED_PREFIX) else ""
            names.append(surface if surface and written_in(surface, q.language) and pack(q.language).script != LATIN
                         else (e.label(q.language) or q.spelled.get(entity_id) or base))
        elif not base:
            # A name the documents write only in another language, linked by its reading: as the
            # asker spelled it.
            names.append(q.spelled.get(entity_id) or next(iter(e.canonical), ""))
        else:
            country = glossary.entities.get(e.country)
            names.append(f"{base} ({country.label(pivot())})" if e.kind == "city" and country else base)
    line = _join_names(names, q.language)
    if not written_in(line, q.language):
        line += wording(q.language).get("about", "")  # a name in Latin letters only: the line still reads as Japanese
    return line + ":"


def facts_line(q: Question, facts: FactAnswer, glossary: Glossary, count: int | None = None) -> str:
    """'Pairs in the 3rd batch (2):' / '2019年に開始したペア: 2件': the asker's own noun, or a
    neutral one (core/lang/<language>.yaml, answers.row_noun). `count`: the entries listed, when
    rows saying the same (one table in two copies of a deck) are one entry."""
    d, n = facts.description, len(facts.rows) if count is None else count
    # A discovered place as the question wrote it with its suffix (大阪市, not the 大阪府 it is
    # grouped with); any other name as the name table writes it ("France" for "French").
    asked = {m.entity_id: m.surface for m in glossary.find(q.text)}
    names = [asked[e] if e in asked and e.startswith(DISCOVERED_PREFIX) and place_suffix(asked[e])
             and written_in(asked[e], q.language) else _label_name(e, q.language, glossary)
             for e in d.get("entities", [])]
    nouns = wording(q.language)["row_noun"]
    noun = d.get("noun") or (nouns["one"] if n == 1 else nouns["many"])
    f, marks = wording(q.language)["facts"], pack(q.language).marks
    if f.get("qualifiers_first"):
        # A language that writes what qualifies a noun before it: 「2019年に開始したペア: 2件」.
        parts = []
        if d.get("years"):
            parts.append(f["started"].format(years=marks["names"].join(d["years"])))
        if d.get("group"):
            parts.append(f["in_group"].format(group=d["group"]))
        if names:
            parts.append(f["with"].format(names=_join_names(names, q.language)))
        if d.get("topic"):
            parts.append(f["on"].format(topics=marks["names"].join(d["topic"])))
        return "".join(parts) + f["count"].format(noun=noun, n=n)
    singular = wording(q.language).get("singular") or {}
    if n == 1 and d.get("noun"):
        noun = singular.get(noun, noun)  # "pairs" -> "pair", never "citie"
    elif n > 1 and d.get("noun"):
        plural = {one: many for many, one in singular.items()}
        noun = plural.get(noun, noun)  # "Which pairing joined …?" of two: "Pairings …"
    parts = []
    if names:
        parts.append(f["with"].format(names=_join_names(names, q.language)))
    if d.get("topic"):
        parts.append(f["on"].format(topics=marks["list"].join(f.get("quote", "{}").format(t) for t in d["topic"])))
    if d.get("group"):
        parts.append(f["in_group"].format(group=d["group"]))
    if d.get("years"):
        # "5 pairs started in 2017:" (a count reads without the relative "that")
        parts.append(f["started_count" if q.wants_count else "started"].format(years=f["or"].join(d["years"])))
    if q.wants_count:
        return f"{n} {noun} " + " ".join(parts) + ":" if parts else f"{n} {noun}:"
    return f"{noun[:1].upper()}{noun[1:]} " + " ".join(parts) + f" ({n}):"


def _label_name(entity_id: str, language: str, glossary: Glossary) -> str:
    """An entity's name for a label in the asker's script. A discovered entity may group names
    that differ by an administrative suffix (大阪市 and 大阪府): its shortest Japanese name, which
    is true of each, stands for it."""
    e = glossary.entities[entity_id]
    if language != pivot() and entity_id.startswith(DISCOVERED_PREFIX):
        ja = sorted((n for n in e.names if written_in(n, language)), key=len)
        if len({place_suffix(n) for n in ja if place_suffix(n)}) > 1:  # 京都府 and 京都市 grouped
            return ja[0]
    return glossary.display_name(entity_id, language)


def context_prefix(q: Question, glossary: Glossary) -> str:
    """'Westmoor and Kasumigaoka: ' when the question took its subject from an earlier turn, so the
    reader sees what the answer is about; '' otherwise."""
    if not q.inherited:
        return ""
    if not q.entities:  # a name the name table lacks, pointed back to ("その…" after a programme)
        names = list(dict.fromkeys(q.other_names))
        return (_join_names(names, q.language) + pack(q.language).mark("colon")) if names else ""
    # Countries, and a side of the programme (a region such as the EU, "European …") beside a
    # place of its own, are context, not the subject the answer is about.
    sides = {"country", *(k for k, family in _KIND_FAMILIES.items() if family == _KIND_FAMILIES["country"])}
    subjects = [e for e in q.entities if glossary.entities[e].kind not in sides] or \
        [e for e in q.entities if glossary.entities[e].kind != "country"]
    names = [q.spelled.get(e) or _label_name(e, q.language, glossary) for e in subjects]
    names = [n for n in dict.fromkeys(names) if n]
    return (_join_names(names, q.language) + pack(q.language).mark("colon")) if names else ""


def _name_cell(value: str, glossary: Glossary) -> tuple[bool, set[str], list]:
    """Whether a table cell is a name (names of the table cover half of it, all of row-subject
    kinds, and what they leave is no role: "Project Director for International Business" is a
    role), the kinds found, and the mentions."""
    found = glossary.find(value)
    kinds = {glossary.entities[m.entity_id].kind for m in found}
    is_name = bool(found) and sum(m.end - m.start for m in found) * 2 >= len(value) and kinds <= _ROW_NAME_KINDS
    if is_name:
        left, at = [], 0
        for m in found:
            left.append(value[at:m.start])
            at = m.end
        left = " ".join(left + [value[at:]])
        # (names found in the documents of no known kind, "Project Manager", are no proof that
        # a cell saying a role word is a name: "Project Manager for International Relations")
        is_name = not _carry_patterns()["role"].search(left if kinds != {"name"} else value)
    return is_name, kinds, found


def row_subjects(row: Passage, glossary: Glossary) -> dict[str, str]:
    """The entities a table row is about (those of its name cells, countries left out), each
    with its spelling in the row."""
    out: dict[str, str] = {}
    for value in row.record.values.values():
        is_name, kinds, found = _name_cell(value.strip(), glossary)
        if is_name:
            for m in found:
                if glossary.entities[m.entity_id].kind != "country":
                    out.setdefault(m.entity_id, m.surface)
    return out


def row_parts(row: Passage, glossary: Glossary, language: str = "") -> tuple[str, str, str]:
    """A table row's names (cells that are a name of the name table, its countries after them),
    what its other cells say, and its group label. With a `language`, the names are written in
    that language's script where the name table has them (the other cells as written)."""
    record = row.record
    names, countries, rest = [], [], []
    for value in record.values.values():
        value = value.strip()
        is_name, kinds, mentions = _name_cell(value, glossary)
        if is_name and language:
            value = _join_names(list(dict.fromkeys(_label_name(m.entity_id, language, glossary) for m in mentions)),
                                language)
        (countries if is_name and kinds == {"country"} else names if is_name else rest).append(value)
    rest = [v for v in rest if v and v.casefold() not in _empty_cells()]
    head = " – ".join(dict.fromkeys(n for n in names if n))
    # A row without names is keyed by its first cell ("Wednesday 18 January: Workshop on …").
    said = f"{rest[0]}: " + "; ".join(rest[1:]) if not head and len(rest) > 1 else "; ".join(rest)
    if head and countries:
        head += " (" + ", ".join(dict.fromkeys(countries)) + ")"
    return head, said, record.group.strip()


def row_prose_parts(row: Passage, glossary: Glossary) -> tuple[str, list[str]]:
    """A table row one of whose cells is a sentence naming the row's subjects ("A's delegation
    visited B and saw …"): that sentence, and its other cells that are no names (a date) and
    its group. ("", []) when no cell says the row on its own."""
    subjects = set(row_subjects(row, glossary))
    cells = [v.strip() for v in row.record.values.values() if v and v.strip()]
    for cell in cells:
        if subjects and len(cell) >= _PROSE_CELL and subjects <= {m.entity_id for m in glossary.find(cell)}:
            rest = [c for c in cells if c != cell and not _name_cell(c, glossary)[0]
                    and c.casefold() not in _empty_cells()] + ([row.record.group.strip()] if row.record.group.strip() else [])
            return cell, rest
    return "", []


def row_prose(row: Passage, glossary: Glossary) -> str:
    """Such a row as a line: its sentence, the other cells after it in brackets; "" for none."""
    cell, rest = row_prose_parts(row, glossary)
    return cell + (" (" + "; ".join(rest) + ")" if rest else "") if cell else ""


def row_sentence(row: Passage, glossary: Glossary, language: str = "") -> str:
    """A table row as a short line, not `Key: value; Key: value`: a cell that says the row in a
    sentence; else the names its cells hold (in `language`'s script, when given), then what its
    other cells say, then its group."""
    if prose := row_prose(row, glossary):
        return prose
    head, said, group = row_parts(row, glossary, language)
    return (f"{head}: {said}" if head and said else head or said) + (f" ({group})" if group else "")


@lru_cache(maxsize=None)
def _empty_cells() -> frozenset[str]:
    """Cell values that say a cell is empty ("none", "-", なし): not content (vocabulary files)."""
    return frozenset(str(w).casefold() for language in languages()
                     for w in vocabulary(language).get("empty_cells", []))


# A cell this long that names the row's subjects is a sentence saying the row.
_PROSE_CELL = 20

# Kinds of names that make up a row's subject on its line (a topic or programme cell does not).
_ROW_NAME_KINDS = {*PLACE_KINDS, "country", "person", "organisation", "name"}


def abstain_text(q: Question, glossary: Glossary, unknown: list[str]) -> str:
    w = wording(q.language)
    if unknown:
        return w["not_found"].format(names=pack(q.language).mark("names").join(unknown))
    return w["no_answer"]


def _asked_subject(q: Question, glossary: Glossary) -> str:
    """The question's subject as a "not stated" answer names it: its names, or the names the
    name table lacks; "" when it has none."""
    w = wording(q.language)
    subject = subject_line(q, glossary).rstrip(":") if q.entities else \
        pack(q.language).mark("names").join(q.other_names)
    if w.get("about") and subject.endswith(w["about"]):
        subject = subject[: -len(w["about"])]
    return subject


def not_stated_text(q: Question, glossary: Glossary) -> str:
    """'The documents do not state the budget of Nagoya and Turin.' / 資料には…の予算の記載がありません。"""
    w = wording(q.language)
    subject = _asked_subject(q, glossary)
    of = w["of_subject"].format(subject=subject) if subject else ""
    return w["not_stated"].format(attribute=q.attribute_word, of_subject=of, subject_of=of)


# The values whose absence from every sentence considered means the documents do not state them.
UNSTATED_VALUES = ("person", "date", "number")


def value_not_stated_text(q: Question, value: str, glossary: Glossary) -> str:
    """'No passage about Osaka names a person that answers this.' / 資料の大阪市についての記述には、
    該当する人名の記載がありません。"""
    w = wording(q.language)
    subject = _asked_subject(q, glossary)
    about = w["about_subject"].format(subject=subject) if subject else ""
    return w["value_not_stated"][value].format(about_subject=about)


def _merge_adjacent(spans: list[Span]) -> list[Span]:
    """Neighbouring sentences become one quote, so every quote is one exact span."""
    merged: list[Span] = []
    for span in spans:
        last = merged[-1] if merged else None
        if last and not span.passage.text[last.end:span.start].strip():
            merged[-1] = Span(span.passage, last.start, span.end, max(last.score, span.score))
        else:
            merged.append(Span(span.passage, span.start, span.end, span.score))
    return merged


# The scoring weights: calibrated values from the answering profile (eval/profile.yaml, where
# each says what it does and on which splits it was chosen).
INTENT_BONUS = PROFILE.intent_bonus
COVERAGE_BONUS = PROFILE.coverage_bonus
ORDINAL_BONUS = PROFILE.ordinal_bonus
ATTRIBUTE_BONUS = PROFILE.attribute_bonus
CROSS_LANGUAGE_BONUS = PROFILE.cross_language_bonus
# A sentence in the asker's language leads over an other-language one scored up to this much
# higher: the cross-language offset that puts the two on one scale.
READABLE_MARGIN = CROSS_LANGUAGE_BONUS
WHOLE_MARGIN = PROFILE.whole_margin
ASKED_WORD_BONUS = PROFILE.asked_word_bonus
BOUND_BONUS = PROFILE.bound_bonus
OTHER_SUBJECT_PENALTY = PROFILE.other_subject_penalty
PHRASE_BONUS = PROFILE.phrase_bonus
ORDER_BONUS = PROFILE.order_bonus
LIST_NAME_BONUS = PROFILE.list_name_bonus
SAID_CAP = PROFILE.asked_word_cap
LEAD_POOL_MARGIN = PROFILE.lead_pool_margin

MAX_STATED = 6  # values stated on the first line from other-language quotes (a layout limit)
MAX_EVIDENCE = 3  # supporting quotes after the first line (a layout limit)
_LIST_MARK = re.compile(r"^\s*(?:[-–•・*]|\d{1,2}[.)])\s+")
_LEAD_IN_END = re.compile(r"[:：–—-]\s*$")
# Where a sentence divides into the clauses a value belongs to: commas, semicolons, a table
# row's cell separators.
_VALUE_CLAUSES = re.compile(r"[,;、，；。]|\s\|\s|\(|\)|（|）")


# Names that can hold an asked attribute (a city's mayor, a body's budget); a person's name or a
# discovered name of unknown kind next to it is not its holder.
# Kinds that are one sort of subject when telling a subject from another (the two sides).
_KIND_FAMILIES = {"country": "territory", "region": "territory"}
_HOLDER_KINDS = {*PLACE_KINDS, "country", "organisation", "programme"}
# Who can have done what a who-question asks besides a person: a body or a city (a name found in
# the documents may be either).
_AGENT_KINDS = {*PLACE_KINDS, "organisation", "name"}


def _holder(named: list, attribute: tuple[int, int], text: str):
    """The name an attribute word belongs to: "Mayor of Westmoor" (English, the name after "of"),
    else the nearest name before it (X市の市長, X's mayor); None when the sentence names none."""
    start, end = attribute
    after = [m for m in named if m.start >= end]
    if after and _OF.fullmatch(text[end:min(after, key=lambda m: m.start).start]):
        return min(after, key=lambda m: m.start)
    before = [m for m in named if m.end <= start]
    return max(before, key=lambda m: m.end) if before else None


_OF = re.compile(r"\s+of\s+(the\s+)?(city\s+of\s+)?", re.I)


def _name_order(asked: list[str], mentions: list) -> float:
    """How far a text names the question's subjects in the question's order: +1 when every pair
    of them it names stands in that order, -1 when every pair is reversed, 0 when it names fewer
    than two."""
    first: dict[str, int] = {}
    for m in sorted(mentions, key=lambda m: m.start):
        first.setdefault(m.entity_id, m.start)
    order = [e for e in dict.fromkeys(asked) if e in first]
    pairs = [(a, b) for i, a in enumerate(order) for b in order[i + 1:]]
    if not pairs:
        return 0.0
    return sum(1 if first[a] < first[b] else -1 for a, b in pairs) / len(pairs)


def _heading(passage: Passage) -> str:
    """The last heading of a passage's section path: what the passage is under."""
    return passage.section.split(SECTION_JOINER)[-1].strip()


def _folded(text: str) -> str:
    """Lower case where that keeps every character's place (positions found in the text hold)."""
    lower = text.lower()
    return lower if len(lower) == len(text) else text


def _said_around_names(question: str, names: list[tuple[int, int]], text: str) -> int:
    """How many characters around one of the question's names the text repeats as the question
    writes them ("川崎市の代表団がリエカ市を訪問" around 川崎市): the name's role in what is asked,
    beyond the name itself; the most over every name and every place the text writes it."""
    best = 0
    for start, end in names:
        name = question[start:end]
        at = text.find(name)
        while at >= 0:
            left = 0
            while start - left > 0 and at - left > 0 and question[start - left - 1] == text[at - left - 1]:
                left += 1
            right = 0
            while end + right < len(question) and at + len(name) + right < len(text) \
                    and question[end + right] == text[at + len(name) + right]:
                right += 1
            best = max(best, left + right)
            at = text.find(name, at + 1)
    return best


def _content(span: Span) -> str:
    """What a sentence says: a table row without its table's title (its group label, which may
    carry the row's start year, stays)."""
    if span.passage.kind != "table_row":
        return span.text
    group = _group_start(span.passage, span.start)
    return span.passage.text[group:span.end] if group >= 0 else span.text.split(" | ", 1)[-1]


def _group_start(row: Passage, after: int) -> int:
    """Where a table row's group label starts (from `after` on), or -1 when it has none."""
    group = row.record.group if row.record else ""
    return row.text.find(group, after) if group else -1


def _occurrences(text: str, word: str) -> list[int]:
    """Where a word stands in a text (each start)."""
    return [m.start() for m in re.finditer(re.escape(word), text)] if word else []


def _asks(q: Question, cue: str) -> bool:
    """The question says a cue of its language's vocabulary file: `country_asked` ("which
    countries", どの国), `territory_asked` (countries or regions, not only cities)."""
    return bool(re.search(vocabulary(q.language).get(cue, r"(?!)"), q.text, re.I))


def _holds_other_name(q: Question, spans: list[Span]) -> bool:
    """The best-scored sentence's passage holds a name of the question that the name table
    lacks (an acronym, an organisation): the question is anchored there like on a known name."""
    if not q.other_names or not spans:
        return False
    text = max(spans, key=lambda s: s.score).passage.text.casefold()
    return any(name.casefold() in text for name in q.other_names)


def _complete_lead_ins(keep: list[Span], own: list[Span]) -> list[Span]:
    """A quoted heading or lead-in ("Mutual learning", "The aims were:") comes with the sentence
    that completes it."""
    out = list(keep)
    for span in keep:
        section = _heading(span.passage)
        lead_in = _LEAD_IN_END.search(span.text) or (section and span.text.strip() == section)
        if lead_in:
            after = [s for s in own if s.start >= span.end and s not in out]
            if after:
                out.append(min(after, key=lambda s: s.start))
    return sorted(out, key=lambda s: s.start)


class Composer:
    """Chooses and quotes sentences. Thresholds come from settings calibrated on eval/."""

    def __init__(self, embeddings, glossary: Glossary, tokenize, min_sentence: float,
                 min_named_sentence: float, max_passages: int = 3, per_passage: int = 2):
        self.embeddings = embeddings
        self.glossary = glossary
        self._tokenize = tokenize
        self._tokens: dict[str, tuple[str, ...]] = {}  # text -> its tokens (see tokenize)
        self._name_tokens: dict[str, frozenset[str]] = {}
        self.min_sentence = min_sentence
        self.min_named_sentence = min_named_sentence
        self.max_passages = max_passages
        self.per_passage = per_passage
        self._cache: dict[str, np.ndarray] = {}
        self._cache_lock = threading.Lock()  # the UI answers on several threads at once
        self.cache_limit = 50_000  # sentence vectors kept: bounded memory in long-running servers
        self._generic: frozenset[str] | None = None  # generic name words, built on first use
        self._families: dict[str, frozenset[str]] | None = None  # word families, likewise

    def _vectors(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 1))
        with self._cache_lock:
            cached = {t: self._cache[t] for t in dict.fromkeys(texts) if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in cached]
        if missing:
            fresh = {t: np.asarray(v, dtype=np.float32)
                     for t, v in zip(missing, self.embeddings.embed_documents(missing))}
            cached.update(fresh)
            with self._cache_lock:
                if len(self._cache) + len(fresh) > self.cache_limit:
                    self._cache.clear()
                self._cache.update(fresh)
        # Read from this call's own vectors: another thread may clear the cache meanwhile.
        return np.stack([cached[t] for t in texts])

    def score_spans(self, q: Question, qvec: list[float], hits: list[Hit]) -> list[Span]:
        spans = [s for h in hits for s in sentences(h.passage)]
        if not spans:
            return []
        sims = self._vectors([s.text for s in spans]) @ np.asarray(qvec, dtype=np.float32)
        wanted = set(q.entities)
        # Words of the question other than its names: what is asked about them.
        q_tokens = set(self.tokenize(q.retrieval_text)) - self.name_tokens(q)
        # Across languages, words are shared through the Japanese -> English word bridge.
        q_english = bridged(q_tokens) if q.language == bridge_language() else q_tokens
        values = asked_values(q)
        others = [n.casefold() for n in q.other_names]
        # What the question's ordinals count ("meeting" in "the fourth meeting").
        counts_of = {t for _, after in counted(q.text) for t in self.tokenize(after)}
        for span, sim in zip(spans, sims):
            mentioned = {m.entity_id for m in self.glossary.find(span.text)}
            # The question's names the sentence names; names the name table lacks, found in the
            # documents, count when the sentence writes them.
            named = len(mentioned & wanted) + sum(n in span.text.casefold() for n in others)
            coverage = named / (len(wanted) + len(others)) if wanted or others else 0.0
            # (and its section's heading: "Venue: …" under "Fourth Meeting of EU Regions")
            span_tokens = set(self.tokenize(span.text + " " + _heading(span.passage)))
            overlap = len(q_tokens & span_tokens)
            other_language = span.passage.language not in (q.language, "mixed")
            if other_language:
                overlap += len(q_english & (span_tokens if q.language == bridge_language() else bridged(span_tokens)))
            span.score = float(sim) + COVERAGE_BONUS * coverage + 0.08 * min(overlap, 3)
            if other_language:
                span.score += CROSS_LANGUAGE_BONUS
            # The sentence carries what is asked: a date for when, a number for how many ...
            span.score += sum(INTENT_BONUS for v in values if carries(v, _content(span), self.glossary))
            if q.ordinals:
                # "the 4th meeting": a sentence (or its section) about another ordinal answers
                # another question; one counting another thing by the same number ("2nd batch"
                # for 第2回交流会議) answers neither way.
                own = counted(span.text) or counted(_heading(span.passage))
                if own:
                    same = [after for n, after in own if n in q.ordinals]
                    readable = not other_language
                    if not same:
                        span.score -= ORDINAL_BONUS
                    elif not counts_of or any(self._shared_words(q, counts_of, " ".join(self.tokenize(a)[:3]), readable)
                                              for a in same) or self._shared_words(
                            q, counts_of, span.passage.section + " " + span.passage.text, readable):
                        # (the thing counted said after the ordinal, or in the passage: "The first
                        # exchange meeting was … The second took place …")
                        span.score += ORDINAL_BONUS
            if q.years:
                # "in June 2023": a sentence dated another year is about something else, one dated
                # that year is about it. A table row's group label ("3rd batch 2019-") dates when
                # its subject began: the year of an event only for a when-question.
                said = _content(span) if q.wants_when or span.passage.kind != "table_row" or not span.passage.record \
                    else " ".join(span.passage.record.values.values())
                own_years = set(YEAR.findall(said))
                if own_years:
                    span.score += ORDINAL_BONUS if own_years & set(q.years) else -ORDINAL_BONUS
            if q.attribute and self.states_attribute(q, span):
                span.score += ATTRIBUTE_BONUS
            if self._about_another(q, span, mentioned):
                span.score -= OTHER_SUBJECT_PENALTY
        return spans

    def _family(self, entity_id: str) -> str:
        """What an entity is, for telling a subject from another of its sort: its kind, with
        countries and regions one sort (the EU and Japan are the two sides)."""
        kind = self.glossary.entities[entity_id].kind if entity_id in self.glossary.entities else ""
        return _KIND_FAMILIES.get(kind, kind)

    def _names_another(self, q: Question, named: set[str], context: set[str] = frozenset()) -> bool:
        """`named` holds another thing of a sort the question names (another programme, another
        city) and neither it nor `context` (a section's names) holds the question's own of that
        sort: what names them is about another subject ("IURC" when "IUC" is asked)."""
        asked: dict[str, set[str]] = {}
        for e in q.entities:
            asked.setdefault(self._family(e), set()).add(e)
        return any(self._family(e) in asked and e not in q.entities
                   and not (named | context) & asked[self._family(e)] for e in named)

    def _own_clauses(self, q: Question, text: str, pairs_only: bool = False) -> str:
        """The sentence without its clauses about other subjects of the sorts the question names.
        `pairs_only` (a where-question, whose answer is other names): only in a sentence listing
        pairs (PAIRS_LISTED clauses or more naming two subjects each: "A and X, B and Y, C and
        Z"), and only a clause naming two or more subjects, none of them the question's, is about
        another; a clause naming one is an item of the answer."""
        if not q.entities:
            return text
        named = lambda part: {m.entity_id for m in self.glossary.find(part)}
        subjects = lambda part: {e for e in named(part) if self.glossary.entities[e].kind != "country"}
        if pairs_only and sum(len(subjects(part)) >= 2 for part in clause_parts(text)) < PAIRS_LISTED:
            return text  # not a sentence listing pairs
        return own_clauses(text, lambda part: bool(named(part) & set(q.entities)),
                           lambda part: self._names_another(q, named(part))
                           and (not pairs_only or len(subjects(part)) >= 2))

    def _about_another(self, q: Question, span: Span, mentioned: set[str]) -> bool:
        """The sentence names another thing of a sort the question names, and none of the
        question's own of that sort, nor does its section."""
        return self._names_another(q, mentioned, {m.entity_id for m in self.glossary.find(span.passage.section)})

    def states_attribute(self, q: Question, span: Span) -> bool:
        """The sentence names the asked attribute (in either language), carries a value of its
        kind, and is about the question's subject (named in it or in its section)."""
        if not names_attribute(q.attribute, span.text):
            return False
        if q.attribute_value and not carries(q.attribute_value, span.text, self.glossary):
            return False
        where = span.text + " " + span.passage.section
        if q.entities:
            # Whose attribute: the name written nearest to it in the sentence ("A市の代表団は…市長が
            # 率い" states A's mayor, even in a section about B); a sentence
            # naming nobody is about its section's subject.
            named = [m for m in self.glossary.find(span.text) if m.entity_id in q.entities
                     or self.glossary.entities[m.entity_id].kind in _HOLDER_KINDS]
            holders = {h.entity_id for a in attribute_spans(q.attribute, span.text)
                       if (h := _holder(named, a, span.text)) is not None}
            if holders:
                return bool(holders & set(q.entities))
            about = {m.entity_id for m in self.glossary.find(where)}
            return bool(about & set(q.entities))
        if q.other_names:  # "the mayor of X", X in the documents but not in the name table
            return any(name.casefold() in where.casefold() for name in q.other_names)
        return True

    REMEMBERED = 20_000  # texts whose tokens `tokenize` keeps (a few MB), then it starts afresh

    def tokenize(self, text: str) -> tuple[str, ...]:
        """The lexical tokens of a text, each text segmented once for the texts met last (one
        answer reads the same sentences, headings and names several times, and the answers of
        one loaded index read the same passages)."""
        found = self._tokens.get(text)
        if found is None:
            if len(self._tokens) >= self.REMEMBERED:
                self._tokens.clear()
            found = self._tokens[text] = tuple(self._tokenize(text))
        return found

    def compose(self, q: Question, qvec: list[float], hits: list[Hit], extra: list[Hit] = (),
                nearby: list[Hit] = ()) -> Answer | None:
        """The extractive answer; an answer saying the asked attribute is not stated; or None when
        no sentence is good enough (abstain). `nearby`: the best passage's document's other
        passages, read when no sentence retrieved carries the value asked (a time, a date)."""
        top = [h for h in hits if h.coverage == hits[0].coverage][: self.max_passages + 2] if hits else []
        if q.attribute and hits:
            # "What is the budget of X?": passages about X are not evidence of its budget; only a
            # sentence stating it is, wherever it ranked (`extra`: the subject's passages that
            # name the attribute, from the retriever).
            pool = hits + [h for h in extra if all(h.passage.chunk_id != k.passage.chunk_id for k in hits)]
            stating = [h for h in pool if any(self.states_attribute(q, s) for s in sentences(h.passage))]
            if not stating:
                return Answer(not_stated_text(q, self.glossary), q.language, True, [], hits, kind="abstained")
            top = stating + [h for h in top if h not in stating]
        spans = self.score_spans(q, qvec, top)
        values = asked_values(q)
        if values and nearby and not any(self._carries_values(q, s, values) and self._about(q, s)
                                         for s in spans if s.passage.doc == nearby[0].passage.doc):
            # "Until what time did the seminar run?" and the seminar's table of speakers ranks
            # first: the sentence stating the hours stands elsewhere in the same document (the
            # best passage's; another document's date answers about something else).
            spans += [s for s in self.score_spans(q, qvec, list(nearby))
                      if self._carries_values(q, s, values) and self._about(q, s)]
        # A question anchored on a name the documents contain needs less textual evidence: a name
        # in the name table, or one it lacks that the quoted passage holds word for word.
        floor = self.min_named_sentence if q.entities or _holds_other_name(q, spans) else self.min_sentence
        if not spans or max(s.score for s in spans) < floor:
            return None
        by_passage: dict[str, list[Span]] = {}
        for s in spans:
            by_passage.setdefault(s.passage.chunk_id, []).append(s)
        best = {cid: max(ss, key=lambda s: s.score) for cid, ss in by_passage.items()}
        ranked = sorted(best.values(), key=lambda s: -s.score)
        # Readable first: a passage in the asker's language that answers about as well as the best
        # one (within the margin that admits a second passage) leads the answer.
        own_language = [s for s in ranked if s.passage.language == q.language
                        and s.score >= max(floor, ranked[0].score - 0.05)]
        if own_language and own_language[0] is not ranked[0]:
            ranked.remove(own_language[0])
            ranked.insert(0, own_language[0])
        chosen = [ranked[0].passage]
        # The lead, in the asker's language, already carries the date, number, place or person asked.
        answered = bool(values) and chosen[0].language in (q.language, "mixed") and all(
            carries(v, _content(ranked[0]), self.glossary) for v in values)
        for s in ranked[1:]:
            if len(chosen) >= self.max_passages:
                break
            if answered and s.passage.language not in (q.language, "mixed"):
                continue  # the lead says what was asked, readably: the other language can only repeat it
            if s.passage.language != chosen[0].language and q.entities and not answered and (
                    s.passage.kind == "table_row" or s.passage.language in (q.language, "mixed")):
                # Another language, naming the same subject: an answer in its own right (unless
                # the lead already answers): the asker's own language, or a table row, whose
                # cells the first line states in the asker's script. Prose the asker may not
                # read must answer about as well as the lead, like any second passage.
                good = s.score >= floor
            else:
                good = s.score >= max(floor, ranked[0].score - 0.05)
            if good:
                chosen.append(s.passage)
        kept: dict[str, list[Span]] = {}
        for passage in chosen:
            own = by_passage[passage.chunk_id]
            top_score = max(s.score for s in own)
            keep = sorted(own, key=lambda s: -s.score)[: self.per_passage]
            keep = sorted((s for s in keep if s.score >= max(floor, top_score - 0.1)),
                          key=lambda s: s.start)
            if values and not any(all(carries(v, _content(k), self.glossary) for v in values) for k in keep):
                # The passage's best sentence does not carry the date (number, place, person)
                # asked for: its best sentence that does is quoted too.
                carrying = [s for s in own if all(carries(v, _content(s), self.glossary) for v in values)]
                if carrying:
                    keep = sorted(keep + [max(carrying, key=lambda s: s.score)], key=lambda s: s.start)
            kept[passage.chunk_id] = _complete_lead_ins(keep, own)
        lead = self._lead_span(q, chosen, kept, values, spans, floor)
        slots = [v for v in values if v in UNSTATED_VALUES] if q.entities and not q.context else []
        if slots and not self._carries_values(q, lead, slots) and not self._counted_list(q, lead):
            # "Who leads X?" and no sentence considered names a person: the documents do not say;
            # a sentence about X that names no one answers another question. (Only for a question
            # naming its subject, whose passages rank first; not for a follow-up: what an earlier
            # turn retrieves is no proof that nothing states it.)
            return Answer(value_not_stated_text(q, slots[0], self.glossary), q.language, True, [], hits,
                          kind="abstained")
        if lead.passage not in chosen:
            # The sentence carrying what was asked stands in another of the subject's passages.
            chosen = [lead.passage] + chosen[: self.max_passages - 1]
            kept = {**kept, lead.passage.chunk_id: [lead]}
        return self._write(q, chosen, kept, lead, evidence=ranked[0].score)

    def _lead_span(self, q: Question, chosen: list[Passage], kept: dict[str, list[Span]],
                   values: list[str], spans: list[Span], floor: float) -> Span:
        """The sentence the first line answers from: one that carries every value asked (a date
        for when ...), readable by the asker if one is, else the best-scored one. A sentence
        carrying the value is looked for in every passage considered, not only the quoted ones."""
        candidates = [s for p in chosen for s in kept[p.chunk_id]]
        # The sentence after a quoted one often answers ("X and Y signed in 2005. Both share …").
        following = {}
        for s in spans:
            following.setdefault(s.passage.chunk_id, []).append(s)
        for c in list(candidates):
            after = [s for s in following.get(c.passage.chunk_id, []) if s.start >= c.end]
            if after:
                nxt = min(after, key=lambda s: s.start)
                if nxt not in candidates:
                    candidates.append(nxt)
        asked = self._asked_words(q)
        focus = self._focus_words(q)
        if focus:
            # The sentence saying the word asked for ("テーマは、…") answers, wherever it stands
            # in the passages considered.
            candidates += [s for p in chosen for s in following.get(p.chunk_id, []) if s not in candidates
                           and self._shared_words(q, focus, s.text, s.passage.language in (q.language, "mixed"))]
            if q.focus_is_verb and values in (["person"], ["place"]):
                # "Who co-organised X?", "Which city organised X?": the sentence saying that
                # verb, in any passage considered.
                candidates += [s for s in spans if s not in candidates and s.score >= floor and self._shared_words(
                    q, focus, s.text, s.passage.language in (q.language, "mixed"))]
        if focus:
            # A list under a heading saying every word asked ("今後の予定" for 今後の予定は何ですか):
            # the heading is what its items say; they answer, whatever their own scores.
            candidates += [s for s in spans if s not in candidates and self._list_under_asked_heading(q, s)]
        if q.shifted_day:
            # "What was held the day after X?": the sentence stating that day, wherever it stands.
            candidates += [s for s in spans if s not in candidates and s.score >= floor
                           and tuple(q.shifted_day) in days_in(s.text)]
        if values and not any(self._carries_values(q, s, values) for s in candidates):
            candidates += [s for s in spans if s.score >= floor and self._carries_values(q, s, values)]
        elif values:
            # Another passage's sentence carrying the value, scored nearly as well, may say more
            # of what is asked ("moderated the joint presentation"): it competes too.
            top = max(s.score for s in candidates)
            candidates += [s for s in spans if s not in candidates and s.score >= max(floor, top - LEAD_POOL_MARGIN)
                           and self._carries_values(q, s, values)]
        heading_of = lambda s: _heading(s.passage)
        if not values and asked:
            # A what-question: a sentence of another passage about the subject, scored nearly as
            # well, that says more of what is asked (with its section's heading: "What the two
            # sides want to learn") than any candidate competes too.
            says = lambda s: len(self._shared_words(q, asked, s.text + " " + heading_of(s),
                                                    s.passage.language in (q.language, "mixed")))
            # When no candidate says any of it, any sentence about the subject that does competes.
            top, most = max(s.score for s in candidates), max(says(s) for s in candidates)
            least = floor if most == 0 else max(floor, top - LEAD_POOL_MARGIN)
            candidates += [s for s in spans if s not in candidates and s.score >= least
                           and self._about(q, s) and says(s) > most]
        headings = {s.passage.chunk_id: heading_of(s) for s in candidates}
        asked_mentions = [m for m in self.glossary.find(q.text) if m.entity_id in q.entities]
        names = [(m.start, m.end) for m in asked_mentions]
        asked_order = [m.entity_id for m in sorted(asked_mentions, key=lambda m: m.start)]

        # A row of names alone answers "which city" or "who", not "what did they do".
        names_asked = bool({"place", "person"} & set(values)) or q.wants_list

        def listed(span: Span) -> int:
            """How many names of the asked kind, other than the question's, a sentence lists."""
            if span.passage.kind == "table_row":
                return 0
            return len(self._listed_names(q, span.text))

        # "Which cities took part in X?": when a sentence lists names of the asked kind, one that
        # names only the question's own (or a continent) carries no answer. (A table row keeps
        # carrying: its cells are what the table says of its names, and the table answers.)
        lists = any(listed(s) for s in candidates)
        # "How many EU cities …?": when a sentence counts the noun asked ("Twelve Norvian
        # towns", ノルヴィア12都市), one whose number counts something else ("2年間") carries no answer.
        # (only a sentence that otherwise carries the answer, about the subject, makes the others
        # give way: else the lead would be one stating no number at all)
        counts = {id(s): bool(self._counting(q, s.text)) for s in candidates} \
            if "how_many" in q.intents and focus else {}
        counting = any(counts[id(s)] and self._carries_values(q, s, values) and self._about(q, s)
                       for s in candidates if counts.get(id(s)))
        # the days the question names, unless it asks about another one relative to them
        asked_days = set(days_in(q.text)) if not q.shifted_day and "yes_no" not in q.intents else set()

        def rank(span: Span):
            carrying = (self._carries_values(q, span, values) or self._agent_did_it(q, span, focus, values)) \
                and self._about(q, span) and (not lists or span.passage.kind == "table_row" or listed(span) > 0) \
                and (not counting or span.passage.kind == "table_row" or counts.get(id(span), True)) \
                if values else True
            readable = span.passage.language in (q.language, "mixed")
            heading = span.text.strip() == headings[span.passage.chunk_id] or bool(_LEAD_IN_END.search(span.text)) \
                or (span.passage.kind == "table_row" and span.passage.record is not None and not names_asked
                    and not self._row_topics(span.passage))  # a row of names only: no topic
            # Readable first only among sentences that answer about as well (the margin that
            # admits a second passage): a far better sentence in the other language leads.
            # A readable sentence naming every subject of the question answers in its own right.
            named = set(span.passage.entities) | {m.entity_id for m in self.glossary.find(span.passage.section)}
            whole = readable and bool(q.entities) and set(q.entities) <= named
            # What is asked beyond the names ("目的", "hosted", "themes"), said in the sentence
            # (across languages through the word bridge).
            # A word its section's heading says counts for every sentence under it: a sentence
            # repeating the heading ("The third meeting took place …") says no more than the
            # one after it.
            # (in the asker's language, the question's own words: the katakana forms its English
            # words are also looked up by would count each word twice)
            said = len(self._shared_words(q, self._own_words(q, asked) if readable else asked,
                                          span.text + " " + span.passage.section, readable))
            # The asked value stands in the clause that says what is asked ("aims to be carbon
            # neutral by 2029"), not in another one of the sentence ("3rd batch 2019-").
            bound = bool(values) and carrying and self._value_bound(q, asked, span, values, readable)
            # The sentence says the word asked for ("Which fields …": "The fields … are …").
            # (a list under a heading saying all that is asked says it more surely than a sentence
            # sharing the word: "紹介される予定です" is not the plan asked for)
            # (of a focus of several words, "新規ペア", the sentence saying more of them says it;
            # counted in the asker's language only: the word bridge finds "Topics" for テーマ in
            # any table's header, which says no more than the sentence saying 協力)
            focused = len(focus) + 1 if self._list_under_asked_heading(q, span) else \
                min(len(self._shared_words(q, focus, span.text, readable)), len(focus) if readable else 1) \
                if focus else 0
            if not focused and q.shifted_day and tuple(q.shifted_day) in days_in(span.text):
                focused = 1
            # The sentence says the question's names in the question's own words ("AのBがCを
            # 訪問した" is not "CのBがAを訪問した"): the share of the question it repeats around them.
            # (its section's heading counts, in any case: "Fourth Exchange Meeting of EU Regions")
            phrase = max(_said_around_names(q.text, names, span.text),
                         _said_around_names(_folded(q.text), names, _folded(headings[span.passage.chunk_id]))) \
                / max(len(q.text), 1)
            # In the other language, where the question's words cannot be repeated: it names them
            # in the question's order (a row by the sentence its cell says).
            order = 0.0
            if not readable:
                said_as = row_prose(span.passage, self.glossary) if span.passage.kind == "table_row" \
                    and span.passage.record else ""
                order = _name_order(asked_order, self.glossary.find(said_as or span.text))
            # A what-question: a sentence saying something asked beyond the names ("present",
            # "in common") before one that only names the subjects (a row of names and dates).
            # "the second meeting": a sentence saying the second leads; one about another ("The
            # first … was held …") does not, however well it says the rest.
            own_ordinals = set(ordinals(span.text) or ordinals(headings[span.passage.chunk_id])) if q.ordinals else set()
            ordinal = (1 if own_ordinals & set(q.ordinals) else -1) if own_ordinals else 0
            # "… in November 2022": a sentence stating another year (and not the asked one) is
            # about another time, like an ordinal counting another meeting.
            years = YEAR.findall(span.text + " " + headings[span.passage.chunk_id]) if q.years else []
            # (a sentence not stating the year may well answer: "It was held the day before …")
            # (a yes/no question's year is what is asked about: "Was X launched in 2019?")
            dated = -1 if years and not any(y in years for y in q.years) and "yes_no" not in q.intents else 0
            if asked_days and dated == 0:
                # ... and likewise a day ("What is on 16 January?": not a page's 更新日:6月1日)
                days = days_in(span.text + " " + headings[span.passage.chunk_id])
                dated = -1 if days and not set(days) & asked_days else 0
            return (carrying and dated == 0, not heading, ordinal, dated, focused, bool(said) or bool(values),
                    span.score + (READABLE_MARGIN if readable else 0.0) + (WHOLE_MARGIN if whole else 0.0)
                    + ASKED_WORD_BONUS * min(said, SAID_CAP) + (BOUND_BONUS if bound else 0.0) + PHRASE_BONUS * phrase + ORDER_BONUS * order
                    + LIST_NAME_BONUS * min(listed(span), SAID_CAP))

        best = max(candidates, key=rank)
        if "how_many" in q.intents and focus and not self._counting(q, best.text):
            # "How many opening speakers …?" where no sentence counts them: the list under a
            # heading saying the word counted is counted (its items are the answer's breakdown).
            items = [s for s in spans if self._counted_list(q, s)]
            if items:
                return max(items, key=lambda s: s.score)
        if "topics" in q.intents and not values and not q.wants_list and q.entities \
                and best.passage.language not in (q.language, "mixed"):
            # "What do X and Y work on?" led by prose the asker may not read: a readable table row
            # about exactly the question's places, with topics, is the answer in the asker's
            # language (unless the question's year stands in no topic of the row, or the prose
            # says the word asked for and the row does not).
            places = {e for e in q.entities if self.glossary.entities[e].kind != "country"}
            rows = [s for s in candidates if s.passage.language in (q.language, "mixed") and s.passage.kind == "table_row"
                    and s.passage.record and places and places <= set(row_subjects(s.passage, self.glossary))
                    and (topics := self._row_topics(s.passage)) and all(y in topics for y in q.years)
                    and rank(s)[:5] >= rank(best)[:5]]
            if rows:
                return max(rows, key=rank)
        places = {e for e in q.entities if self.glossary.entities[e].kind != "country"}
        if "topics" in q.intents and not values and not q.wants_list and len(places) > 1 \
                and not self._says_topics(best):
            # "What did X and Y work on?" led by a sentence that names the pair but says nothing
            # of work, themes or cooperation ("Z, coordinator for X and Y, moderated …"): the
            # table row about exactly the pair, with its topics, answers, in either language.
            rows = [s for s in spans if s.passage.kind == "table_row" and s.passage.record
                    and places <= set(row_subjects(s.passage, self.glossary)) and self._row_topics(s.passage)
                    and all(y in self._row_topics(s.passage) for y in q.years)]
            if rows:
                headings.update({s.passage.chunk_id: heading_of(s) for s in rows})
                return max(rows, key=rank)
        return best

    def _says_topics(self, span: Span) -> bool:
        """The sentence says what its subjects work on: a table row with topics, or a sentence
        saying a topics cue of its language ("work on", 協力し, テーマ)."""
        if span.passage.kind == "table_row" and span.passage.record:
            return bool(self._row_topics(span.passage))
        language = span.passage.language if span.passage.language in languages() else pivot()
        cue = cues(language)["intents"].get("topics")
        return bool(cue and cue.search(span.text))

    def _write(self, q: Question, chosen: list[Passage], kept: dict[str, list[Span]], lead: Span,
               evidence: float) -> Answer:
        """First line: the answer (context named when inherited); then at most three supporting
        quotes, each with its citation, the other language's labelled."""
        readable = lead.passage.language in (q.language, "mixed")
        how = strategy(q.intents)
        counting = self._counted_list(q, lead)
        listed = self._list_block(lead) if readable and (q.wants_list or counting or self._list_under_asked_heading(q, lead)) \
            else []
        if len(listed) > 1:
            # "Who were the opening speakers?" led by one item of a list: the list answers, every
            # item of it on the first line, the list cited as one quote.
            lead = Span(lead.passage, listed[0].start, listed[-1].end, lead.score)
        citations = [Citation(1, lead.passage, lead.text, lead.score)]
        if len(listed) > 1:
            first = clause("; ".join(self._shown(item).rstrip(" .;") for item in listed),
                           lambda part: self._answers(how, q, part), FIRST_LINE_COLUMNS - 12)
            if counting:  # the count of the list's items, then the items
                first = wording(q.language)["list_count"].format(n=len(listed), items=first)
        elif readable and how.value in ("date", "number") and lead.passage.kind == "table_row" and lead.passage.record \
                and (value := self._row_value(q, lead.passage, how.value)):
            first = value  # "When did X and Y start?": the row's date, not its topics
        elif readable:
            # A what/topic question's sentence listing several subjects says only the asked one's
            # part (for "which"/"who" questions the other names may be the answer).
            shown = self._shown(lead)
            if lead.passage.kind != "table_row" and (how.value == "place" or not (how.value or q.wants_list)):
                shown = self._own_clauses(q, shown, pairs_only=how.value == "place")
            first = clause(shown, lambda part: self._answers(how, q, part), FIRST_LINE_COLUMNS - 12)
        else:
            first = self._stated(q, how, lead)
        if "yes_no" in q.intents and (verdict := self._verdict(q, lead)):
            first = wording(q.language)[verdict].format(line=first)
        first += " [1]"
        other = self._other_to_add(q, how, lead, chosen, kept) if readable else None
        label = source_label(q.language, other.passage.language) if other else ""
        width = FIRST_LINE_COLUMNS - columns(context_prefix(q, self.glossary)) - 6
        if other is not None:
            # "What do X and Y work on?": the row about exactly them in the other language
            # states topics the asker's sentence may not; its cells follow on the first line,
            # labelled, in the room the asker's sentence leaves. Only cells in Latin letters
            # (terms and names a Japanese reader of the programme reads too), never Japanese
            # cells after an English sentence.
            room = width - columns(first) - columns(label) - 4
            topics = self._row_topics(other.passage)
            if room >= FIRST_LINE_COLUMNS // 4 and (pack(q.language).script != LATIN or written_in(topics, q.language)):
                first += f" {label} {clause(topics, lambda part: self._answers(how, q, part), room)} [2]"
                citations.append(Citation(2, other.passage, other.text, other.score))
                kept = {**kept, other.passage.chunk_id: []}  # cited on the first line
        lines = [context_prefix(q, self.glossary) + first]
        # An other-language lead, or one the first line cut to a clause, is quoted whole below
        # (a list on the first line is its own quote).
        whole = " ".join(self._shown(lead).split()) not in first and len(listed) < 2
        quoted = -1 if whole else 0
        lead_states_asked = self._carries_asked(q, lead)
        asked = self._own_words(q, self._asked_words(q)) - self._name_words()
        for passage in [lead.passage] + [p for p in chosen if p is not lead.passage]:
            label = "" if passage.language in (q.language, "mixed") else source_label(q.language, passage.language)
            parts = []
            own = kept[passage.chunk_id]
            if passage is lead.passage:
                # The lead's own sentence is on the first line (readable) or quoted first, as [1].
                # (a list on the first line holds its items: none is quoted again)
                own = [s for s in own if not (lead.start <= s.start and s.end <= lead.end)]
                if whole:
                    parts.append(f"{self._shown(lead)} [1]")
                    quoted += 1
            if lead_states_asked:
                # The lead states what was asked: a quote that does not is about something else.
                own = [s for s in own if self._carries_asked(q, s)]
            if q.entities and passage is not lead.passage:
                # Beyond the lead's own passage, a quote names a subject of the question (in it
                # or its section): a sentence about other cities answers another question.
                own = [s for s in own if {m.entity_id for m in self.glossary.find(s.text + " " + passage.section)}
                       & set(q.entities)]
            if passage is not lead.passage and asked and (not q.entities or "topics" not in q.intents):
                # Beyond the lead's passage, a quote says something asked (a word of the question,
                # not a word names are made of; across languages through the word bridge; its
                # section's heading counts): one the embedder merely scored well, or one about
                # another side of the subject, answers nothing. (What subjects work on is asked
                # in words too vague to require: any sentence about their work answers.)
                readable_quote = passage.language in (q.language, "mixed")
                own = [s for s in own if self._shared_words(q, asked, s.text + " " + passage.section, readable_quote)]
            # A quote about another thing of a sort the question names (HPX2 when HPX is asked)
            # answers another question.
            own = [s for s in own if not self._about_another(q, s, {m.entity_id for m in self.glossary.find(s.text)})]
            for span in _merge_adjacent(own):
                if quoted >= MAX_EVIDENCE:
                    break
                if label and passage.kind == "table_row":
                    # A row in the other language quotes its group label and cells.
                    start = _group_start(passage, span.start)
                    start = start if start >= 0 else passage.text.find(" | ", span.start) + 3
                    span = Span(passage, start, span.end, span.score) if span.start < start < span.end else span
                citations.append(Citation(len(citations) + 1, passage, span.text, span.score))
                parts.append(f"{self._shown(span)} [{len(citations)}]")
                quoted += 1
            if parts:
                lines.append(" ".join(([label] if label else []) + parts))
        return Answer("\n".join(lines), q.language, False, citations, evidence=evidence)

    def _verdict(self, q: Question, lead: Span) -> str:
        """"confirmed" when a yes/no question's answering sentence says yes to it: the sentence
        (with its section's heading; a row, with its cells) names every subject of the question,
        states every year and ordinal asked, says at least half of the question's other words
        (across languages through the word bridge) and denies nothing. "denied" when it says all
        that of another year only ("Was X launched in 2019?": "launched in January 2021").
        Anything less, "": answered by the fact alone, never by a "yes" or a "no" the documents
        do not give."""
        passage = lead.passage
        heading = _heading(passage)
        named = {m.entity_id for m in self.glossary.find(lead.text + " " + passage.section)}
        if passage.kind == "table_row" and passage.record:
            named |= set(row_subjects(passage, self.glossary))
        if not set(q.entities) <= named:
            return ""
        if q.ordinals and not set(q.ordinals) <= set(ordinals(lead.text) or ordinals(heading)):
            return ""
        if any(cues(language)["negation"].search(lead.text) for language in {q.language, passage.language} - {"mixed"}):
            return ""
        # The question's places stand together: nothing between them names another place ("A and
        # X, B and Y" does not pair A with B).
        places = {e for e in q.entities if self.glossary.entities[e].kind not in _NOT_PLACES}
        mentions = [m for m in self.glossary.find(lead.text) if self.glossary.entities[m.entity_id].kind not in _NOT_PLACES
                    and (m.entity_id in places or not is_adjective(m.surface))]  # "European partner: Y"
        if len(places) > 1 and places <= {m.entity_id for m in mentions}:
            def others_between(first) -> bool:
                window, seen = [], set()
                for m in mentions[mentions.index(first):]:
                    window.append(m)
                    seen |= {m.entity_id} & places
                    if seen == places:
                        return any(m.entity_id not in places for m in window)
                return True
            if all(others_between(m) for m in mentions if m.entity_id in places):
                return ""
        # What is asked beyond the names, without the words names are made of ("city", 都市).
        asked = self._own_words(q, self._asked_words(q))
        asked = asked - self._name_words() or asked
        said = self._shared_words(q, asked, lead.text + " " + passage.section, passage.language in (q.language, "mixed"))
        if 2 * len(said) < len(asked):
            return ""
        if all(y in lead.text for y in q.years):
            return "confirmed"
        stated = YEAR.findall(lead.text)
        return "denied" if stated and not any(y in stated for y in q.years) else ""

    def _counted_list(self, q: Question, span: Span) -> bool:
        """A how-many question is answered by counting the list this item stands in: its heading
        says the word counted and another asked one ("Opening speakers"), evidence enough
        whatever the items' own scores."""
        if "how_many" not in q.intents or not q.focus or self._counting(q, span.text) \
                or len(self._list_block(span)) < 2:
            return False
        counted, words = self._own_words(q, self._focus_words(q)), self._own_words(q, self._asked_words(q))
        said = set(self.tokenize(_heading(span.passage)))
        return bool(counted) and counted <= said and len(words & said) >= min(2, len(words))

    def _list_under_asked_heading(self, q: Question, span: Span) -> bool:
        """The span is an item of a list whose heading says the word the question asks for and
        every other word it asks (names aside): "今後の予定" for 今後の予定は何ですか."""
        if not q.focus or len(self._list_block(span)) < 2:
            return False
        words = self._own_words(q, self._asked_words(q))
        said = set(self.tokenize(_heading(span.passage)))
        return bool(words) and self._own_words(q, self._focus_words(q)) <= said and words <= said

    @staticmethod
    def _own_words(q: Question, words: set[str]) -> set[str]:
        """The words the question says itself: not the katakana forms its English words are
        also looked up by (オープニング for "opening")."""
        return {w for w in words if not has_cjk(w) or w in q.text}

    def _name_words(self) -> frozenset[str]:
        """Tokens found in the names of NAME_WORD_ENTITIES entities or more: the generic words
        names are made of ("city", 都市, "region"), which say nothing asked about a subject."""
        if self._generic is None:
            holders: dict[str, set[str]] = {}
            for entity_id, entity in self.glossary.entities.items():
                for name in entity.names:
                    for token in self._tokenize(name):  # (once per composer: not this answer's memo)
                        holders.setdefault(token, set()).add(entity_id)
            self._generic = frozenset(t for t, ids in holders.items() if len(ids) >= NAME_WORD_ENTITIES)
        return self._generic

    def _list_block(self, span: Span) -> list[Span]:
        """The items of the list a list item stands in (consecutive items of its passage, nothing
        but line breaks between them); [] when the span is no list item or a table row."""
        if span.passage.kind == "table_row" or not _LIST_MARK.match(span.text):
            return []
        items = sorted(sentences(span.passage), key=lambda s: s.start)
        at = next((i for i, s in enumerate(items) if s.start == span.start), None)
        if at is None:
            return []
        joined = lambda a, b: not span.passage.text[a.end:b.start].strip()
        lo = hi = at
        while lo > 0 and _LIST_MARK.match(items[lo - 1].text) and joined(items[lo - 1], items[lo]):
            lo -= 1
        while hi + 1 < len(items) and _LIST_MARK.match(items[hi + 1].text) and joined(items[hi], items[hi + 1]):
            hi += 1
        return items[lo:hi + 1]

    def _listed_names(self, q: Question, text: str) -> set[str]:
        """The names of the kind a list question asks for ("Which cities …": places; "who were
        the speakers": people) a text names, other than the question's own; empty for any other
        question."""
        values = asked_values(q)
        if not q.wants_list:
            return set()
        territories = _asks(q, "territory_asked")
        # (a name found in the documents of no known kind is a place only when written as a
        # proper noun: "exchange meeting" is none)
        kinds = {m.entity_id: self.glossary.entities[m.entity_id].kind for m in self.glossary.find(text)
                 if m.entity_id not in q.entities and (self.glossary.entities[m.entity_id].kind != "name"
                                                       or not m.surface[:1].islower())}
        return {e for e, kind in kinds.items()
                if ("place" in values and kind not in _NOT_PLACES and (territories or _KIND_FAMILIES.get(kind) != "territory"))
                or ("person" in values and kind == "person")}

    def _after_subject(self, q: Question, span: Span) -> bool:
        """The sentence right before this one, in its passage, names a subject of the question
        (the one it continues: 「Xは…を始めた。日本からはA、Bが参加した。」)."""
        before = [s for s in sentences(span.passage) if s.end <= span.start]
        if not before:
            return False
        previous = max(before, key=lambda s: s.end)
        return any(m.entity_id in q.entities for m in self.glossary.find(previous.text))

    def _about(self, q: Question, span: Span) -> bool:
        """The sentence is about the question's subject: it names one, or its section does, or it
        stands in a passage naming one (a sentence saying 両市, "the pair"); True without names.
        For a list question the names of the kind asked for are the answer, not another subject,
        in a sentence continuing one that names the subject ("X began in 2015. From Japan, A, B
        and C took part")."""
        if not q.entities:
            return True
        said = {m.entity_id for m in self.glossary.find(span.text)}
        if q.wants_list and not said & set(q.entities) and self._after_subject(q, span):
            # (… and a country or region qualifying them, 「日本からは X、Y が参加した」, is none either)
            said = {e for e in said - self._listed_names(q, span.text)
                    if _KIND_FAMILIES.get(self.glossary.entities[e].kind) != "territory"}
        named = said | {m.entity_id for m in self.glossary.find(span.passage.section)}
        # (a section heading naming the partner too, "Cooperation with Y", does not make a
        # sentence of X's page about Y alone)
        return bool(named & set(q.entities)) or (not said - set(q.entities) and bool(set(span.passage.entities) & set(q.entities)))

    def name_tokens(self, q: Question) -> set[str]:
        """The tokens of every name of the question's entities (each entity's segmented once: the
        name table is this composer's for its life)."""
        out: set[str] = set()
        for e in q.entities:
            found = self._name_tokens.get(e)
            if found is None:
                found = self._name_tokens[e] = frozenset(
                    t for n in self.glossary.entities[e].names for t in self._tokenize(n))
            out |= found
        return out

    def _asked_words(self, q: Question) -> set[str]:
        """The question's own words other than its names (what is asked about them); a follow-up
        pointing back also asks the words of the turn it points to ("When did they visit?")."""
        return set(self.tokenize(q.retrieval_text if q.context else q.text)) - self.name_tokens(q)

    def _focus_words(self, q: Question) -> set[str]:
        """The tokens of the word the question asks for (its focus), names aside (unless the
        question writes the focus outside its names: 都市 in 「港湾都市連盟…ノルヴィアの都市はいくつ」)."""
        if not q.focus:
            return set()
        mentions = [(m.start, m.end) for m in self.glossary.find(q.text) if m.entity_id in q.entities]
        free = any(not any(a <= at < b for a, b in mentions) for at in _occurrences(q.text, q.focus))
        return set(self.tokenize(q.focus)) - (set() if free else self.name_tokens(q))

    def _shared_words(self, q: Question, asked: set[str], text: str, readable: bool) -> set[str]:
        """The asked words a text says: the same words, or across languages the words the
        Japanese -> English bridge gives."""
        tokens = set(self.tokenize(text))
        shared = asked & tokens
        families = self.word_families()
        # A word of the same family says it too ("start": "launched", 開始: 発足).
        shared |= {a for a in asked - shared if families.get(a, frozenset()) & tokens}
        if not readable:
            shared |= (bridged(asked) & tokens) if q.language == bridge_language() else _stem_overlap(asked, bridged(tokens))
        return shared

    def word_families(self) -> dict[str, frozenset[str]]:
        """token -> the other tokens of its word family (`word_families` in each language's
        vocabulary file: words that say the same event, "start" and "launch"), as the
        tokenizer writes them."""
        if self._families is None:
            out: dict[str, set[str]] = {}
            for language in languages():
                for family in vocabulary(language).get("word_families") or []:
                    tokens = {t for word in family for t in self.tokenize(str(word))}
                    for t in tokens:
                        out.setdefault(t, set()).update(tokens - {t})
            self._families = {t: frozenset(others) for t, others in out.items()}
        return self._families

    def _value_bound(self, q: Question, asked: set[str], span: Span, values: list[str], readable: bool) -> bool:
        """One clause (a table row: one cell) of the sentence carries the asked value and says
        an asked word beyond the question's names."""
        text = self._without_subjects(q, _content(span))
        parts = [c for c in _VALUE_CLAUSES.split(text) if c.strip()]
        return any(all(carries(v, part, self.glossary) for v in values)
                   and self._shared_words(q, asked, part, readable) for part in parts)

    def _agent_did_it(self, q: Question, span: Span, focus: set[str], values: list[str]) -> bool:
        """"Who co-organised X?" answered by a body: the sentence says the question's verb and
        names a place or an organisation other than the question's own ("Koriyama organised
        the event; Essen … co-organised it")."""
        if values != ["person"] or not focus:
            return False
        readable = span.passage.language in (q.language, "mixed")
        if not self._shared_words(q, focus, span.text, readable):
            return False
        return any(m.entity_id not in q.entities and self.glossary.entities[m.entity_id].kind in _AGENT_KINDS
                   for m in self.glossary.find(span.text))

    def _carries_values(self, q: Question, span: Span, values: list[str]) -> bool:
        """The sentence holds a value of each kind asked, other than the question's own names
        ("Where was the X workshop held?": X is not where)."""
        text = self._without_subjects(q, _content(span))
        if "place" in values and not _asks(q, "territory_asked"):
            # "Where was the second meeting held?": a side of the programme ("the visit of the EU
            # regions to Japan") is not where; a city, a venue or a body is.
            text = self._without_sides(text)
        return all(carries(v, text, self.glossary) for v in values)

    def _without_sides(self, text: str) -> str:
        """The text with countries and unions of them (the EU, Japan) blanked out."""
        return self._blanked(text, lambda entity_id: is_side(self.glossary.entities[entity_id]))

    def _without_subjects(self, q: Question, text: str) -> str:
        """The text with the question's own names blanked out."""
        return self._blanked(text, lambda entity_id: entity_id in q.entities)

    def _blanked(self, text: str, blank) -> str:
        """The text with the names for whose entity `blank` is true replaced by a space."""
        for m in sorted(self.glossary.find(text), key=lambda m: -m.start):
            if blank(m.entity_id):
                text = text[:m.start] + " " + text[m.end:]
        return text

    def _carries_asked(self, q: Question, span: Span) -> bool:
        """The sentence carries every value asked (a date for when ...) and states an asked
        attribute; False when the question asks for no value at all."""
        values = asked_values(q)
        if not values and not q.attribute:
            return False
        return self._carries_values(q, span, values) and (not q.attribute or self.states_attribute(q, span))

    def _row_value(self, q: Question, row: Passage, kind: str) -> str:
        """A table row as the asked value: its names, then the cells (or group label) holding a
        value of that kind other than the question's own names; "" when none does."""
        record = row.record
        cells = [v.strip() for v in [*record.values.values(), record.group] if v and v.strip()]
        found = []
        for value in cells:
            if carries(kind, self._without_subjects(q, value), self.glossary):
                found.append(value)
        if not found:
            return ""
        head, said, _ = row_parts(row, self.glossary)
        # The row's names, unless the first line names the inherited subject already.
        head = head if said and not q.inherited else ""
        return (head + ": " if head else "") + "; ".join(dict.fromkeys(found))

    def _other_to_add(self, q: Question, how: Strategy, lead: Span, chosen: list[Passage],
                      kept: dict[str, list[Span]]) -> Span | None:
        """For a what/topic question led by a sentence in the asker's language, what the other
        language adds about exactly the question's subjects: a quoted table row whose name cells
        hold every subject (its topics are short and mostly names and terms). None when there is
        none. (A row lead does not take an other-language sentence: a first line whose clause the
        asker may not read is no answer for them.)"""
        if how.value or not q.entities or lead.passage.kind == "table_row":
            return None
        places = {e for e in q.entities if self.glossary.entities[e].kind != "country"}
        focus = self._focus_words(q)
        for passage in chosen:
            if passage is lead.passage or passage.language in (q.language, "mixed"):
                continue
            if focus and passage.record and not self._shared_words(
                    q, focus, " ".join([*passage.record.values, passage.record.cell_text]), False):
                continue  # "the theme": a row whose cells and columns never say it says another thing
            # ... a row that answers on its own merit (the score at which a question naming
            # nothing is answered), not one that merely names the subjects.
            if passage.kind == "table_row" and passage.record and self._row_topics(passage) \
                    and places <= set(row_subjects(passage, self.glossary)) \
                    and max((s.score for s in kept[passage.chunk_id]), default=0.0) >= self.min_sentence:
                return Span(passage, body_start(passage), len(passage.text), lead.score)
        return None

    def counts_asked(self, q: Question, text: str) -> bool:
        """A number of the text counts the noun the question asks about."""
        return bool(self._counting(q, text))

    def _counts_other_noun(self, q: Question, text: str) -> bool:
        """Every number of the text is followed by a noun or counter (人, boroughs) and none by the
        noun asked: the text counts something else."""
        counted = [m for m in _NUMBER.finditer(text) if not m.group(0).isalpha() or m.group(0).casefold() in _number_values()]
        followed = [m for m in counted if re.match(r"\s*[^\W\d_]", text[m.end():m.end() + 3])]
        return bool(counted) and len(followed) == len(counted) and not self._counting(q, text)

    def _counting(self, q: Question, text: str) -> set[str]:
        """The numbers of a text followed by a word the question asks with ("6 EU regions",
        6地域 for "How many regions"), as stated_values writes them."""
        # the noun counted ("How many prefectures …"), else every word asked
        asked = self._focus_words(q) or self._asked_words(q)
        readable = written_in(text, q.language)
        out = set()
        for m in _NUMBER.finditer(text):
            word = m.group(0).casefold()
            if word.isalpha() and word not in _number_values():
                continue
            after = text[m.end():m.end() + 12].lstrip()
            words = set(self.tokenize(after)[:2])
            if has_cjk(after[:1]):
                words |= {after[:k] for k in (2, 3, 4)}  # a counter word the tokenizer splits (府県)
            shared = asked & words
            counters = {after[:k] for k in (1, 2, 3)} & counter_words()
            if counters:
                # a counter saying what it counts (5組: pairs) counts the asked noun (ペア)
                shared |= (bridged(asked) | asked) & bridged(counters)
            if not readable:  # across languages through the word bridge
                shared |= (bridged(asked) & words) if q.language == bridge_language() else (asked & bridged(words))
            if shared:
                out.add(_stated_number(text, m, q.language))
        return out

    def _noun_column(self, row: Passage, noun: str) -> str:
        """The one column of the row's table whose header says the noun a list question asks for
        ("regions": "EU region"), or ""."""
        if not noun:
            return ""
        words = set(self.tokenize(noun))
        words |= bridged(words)  # 地域 asked of a table headed in English ("EU region")
        columns = [c for c in row.record.columns if words & set(self.tokenize(c)) and c in row.record.values]
        return columns[0] if len(columns) == 1 else ""

    def _row_topics(self, row: Passage) -> str:
        """What a table row's cells say beyond its names (its topics), as one short text; "" for
        a row without names (its cells are not topics of a subject)."""
        head, said, _ = row_parts(row, self.glossary)
        return said if head else ""

    def _other_list_noun(self, q: Question) -> bool:
        """The question names a list noun besides countries ("the towns … with their countries")."""
        return any(noun.casefold() in q.text.casefold() and not self._counting_countries(noun)
                   for noun in vocabulary(q.language).get("list_nouns", []))

    def _counting_countries(self, noun: str) -> bool:
        """The list noun asked is countries ("countries", 国): the country question's own noun."""
        return any(re.search(vocabulary(language).get("country_asked", r"(?!)"), noun, re.I) for language in languages())

    def _row_countries(self, row: Passage, language: str) -> list[str]:
        """The countries a table row's name cells hold, in the asker's script where the name
        table has them."""
        found = []
        for value in row.record.values.values():
            is_name, kinds, mentions = _name_cell(value.strip(), self.glossary)
            found += [self.glossary.display_name(m.entity_id, language) for m in mentions
                      if is_name and self.glossary.entities[m.entity_id].kind == "country"]
        return list(dict.fromkeys(found))

    def _shown(self, span: Span) -> str:
        """A quote as the reader sees it: a table row as a short line, a sentence as written."""
        if span.passage.kind == "table_row" and span.passage.record:
            return row_sentence(span.passage, self.glossary)
        return _LIST_MARK.sub("", span.text)  # a list item's bullet is layout, not what it says

    def _answers(self, how: Strategy, q: Question, part: str) -> float:
        """How well a clause answers: it carries the asked value, and shares the question's words."""
        # The question's names say whose answer it is, not what answers: their words do not count.
        readable = written_in(part, q.language)
        words = self._shared_words(q, self._asked_words(q), part, readable)
        return (2.0 if how.value and carries(how.value, part, self.glossary) else 0.0) + 0.1 * len(words)

    def _stated(self, q: Question, how: Strategy, lead: Span) -> str:
        """The first line from a sentence in the other language: what it says that needs no
        translation (names, dates, numbers), in the asker's script, and where it comes from."""
        w = wording(q.language)
        # (the subject's own country says nothing new, unless the country is what is asked)
        countries_asked = _asks(q, "country_asked")
        skip = set(q.entities) | (set() if countries_asked else {self.glossary.entities[e].country for e in q.entities})
        # A row whose cell says it in a sentence is answered from like one.
        row = lead.passage.kind == "table_row" and lead.passage.record and not row_prose(lead.passage, self.glossary)
        quoted = self._shown(lead)
        if not how.value and not q.wants_list and not row:
            quoted = self._own_clauses(q, quoted)  # the part about the asked subject
        said = (lead.passage.record.group + " " + lead.passage.record.cell_text) if row else quoted
        # A clause naming another subject of the question's sort answers about that one.
        # ... and of those, the clause saying the asked verb or noun ("Who explained …": 説明した).
        focus = self._focus_words(q)
        keep = lambda part: self._answers(how, q, part) - (
            1.0 if self._names_another(q, {m.entity_id for m in self.glossary.find(part)}) else 0.0) + (
            0.5 if focus and self._shared_words(q, focus, part, False) else 0.0)
        values = []
        if (q.wants_list or not how.value) and not _asks(q, "territory_asked"):
            # "Which cities …?", "What is X?": not a side of the programme (the EU, Japan) unless
            # countries or regions are asked: naming one says nothing asked
            skip = skip | {e for e, x in self.glossary.entities.items() if _KIND_FAMILIES.get(x.kind) == "territory"}
        withheld = False  # a number counting something else than asked: not stated
        if not row and how.value in ("", "date", "number", "time", "duration", "person") and not q.wants_list:
            # From the clause that says what is asked: the date or number asked ("2029" for "When
            # does X aim to be carbon neutral?"), or for a what-question the names and dates of
            # that clause, not every date and name of the sentence; for "who", the people of the
            # clause saying the asked verb ("Who explained …": the one who 説明した, not the one
            # who greeted). (Places are names: which clause holds the asked one is not read from
            # the words around it.)
            # (A row said in a sentence: its date cell dates the whole sentence.)
            cell, dated = row_prose_parts(lead.passage, self.glossary) if lead.passage.record else ("", [])
            best = best_clause(cell or quoted, keep)
            values = stated_values(" ".join([best, *dated]), q.language, self.glossary,
                                   skip, how.states[:1] if how.value else how.states, countries=countries_asked)
            if how.value == "number" and values:
                # "How many regions …?" of "6地域の代表団が5府県を訪問": the number counting the
                # asked noun (what follows it says an asked word, across languages). A number
                # counting something else ("約150万人" for "How many visits …?") is no answer
                # to state: the clause is quoted as written instead.
                counting = self._counting(q, best)
                withheld = not counting and bool(q.focus) and self._counts_other_noun(q, best)
                values = [] if withheld else [v for v in values if v in counting] or values
        if not values and q.wants_list and not row and not withheld:
            # "Which cities …?": the places the sentence names (not the programme it names too)
            values = stated_values(said, q.language, self.glossary, skip, ("places",), countries=countries_asked)
        if not values and (row or how.value or q.wants_list) and not withheld:
            # (a slot question states only its own kind: no names for "when" when no date is said)
            values = stated_values(said, q.language, self.glossary, skip,
                                   how.states[:1] if how.value else how.states, countries=countries_asked)
        # the names the lead says of a kind, as the asker reads them (its own mentions only: the
        # values stated come from its text)
        written = lambda test: {self.glossary.display_name(m.entity_id, q.language)
                                for m in self.glossary.find(said + " " + quoted)
                                if test(self.glossary.entities[m.entity_id])}
        if how.value == "place" and values and countries_asked:
            # "Which country is X in?": the countries the sentence names, not its other places
            named = written(lambda x: x.kind == "country")
            values = [v for v in values if v in named] or values
        if how.value == "place" and values and not _asks(q, "territory_asked") and not row:
            # "Where was it held?" of "… closed the trip at Harbour Hall in Port Alder", whose
            # only names the table has are the sides (the EU, Japan): those are not where; the
            # clause as written says it.
            if all(v in written(lambda x: _KIND_FAMILIES.get(x.kind) == "territory") for v in values):
                values = []
        if how.value == "time" and (zone := asked_zone(q)):
            # "日本時間で何時に": the times written in that zone, when the sentence has them
            values = [v for v in values if v.endswith(" " + zone)] or values
        if not how.value:
            # the question's own year or date tells nothing new, nor does a bare number: the
            # quote after the label writes it in digits either language reads
            values = [v for v in values if v not in q.years and v not in q.text and not v.isdigit()]
        tag = source_label(q.language, lead.passage.language, "lead_other_language")
        marks = pack(q.language).marks
        sep = marks["list"]
        joined = sep.join(values[:MAX_STATED])
        if q.wants_list:
            # "Which cities …?": every name the sentence lists, as many as the line holds.
            joined = sep.join(values)
            while columns(joined) > FIRST_LINE_COLUMNS - 30 and len(values) > MAX_STATED:
                values = values[:-1]
                joined = sep.join(values) + marks["ellipsis"]
        # A Japanese line takes its full-width tag without a space; an English one with one.
        stated = (joined + marks["gap"] + tag) if values else ""
        if values and (how.value or q.wants_list):
            return stated  # the value asked (for "which X", the names), in the asker's script
        if row:
            # "What do X and Y work on?" answered by a row in the other language: the row as a
            # line, its names in the asker's script, its topics as written, and where it is from.
            label = source_label(q.language, lead.passage.language, "only_other_language").strip()
            return (label + " " if label else "") + clause(row_sentence(lead.passage, self.glossary, q.language), keep,
                                        FIRST_LINE_COLUMNS - 12 - columns(label))
        # A what/why question: the names and dates it states in the asker's script, where it
        # comes from, and the answering clause as written (nothing is translated).
        label = stated + ":" if stated else source_label(q.language, lead.passage.language, "only_other_language").strip()
        return (label + " " if label else "") + clause(quoted, keep, FIRST_LINE_COLUMNS - 12 - columns(label))

    def facts(self, q: Question, facts: FactAnswer) -> Answer:
        subjects = []  # per row: its names and its citation number
        filtered = set(facts.description.get("entities", []))
        countries_asked = _asks(q, "country_asked")
        for n, row in enumerate(facts.rows, start=1):
            # The row's subject: the names its name cells hold (not a country, nor a name inside
            # a topic cell: "Open Data promotion" is what the row is about, not who).
            # A name as the row writes it when that is the asker's script, else from the name table.
            # The names the rows were filtered by ("Regions with Kyoto") head the line already:
            # each entry is the row's names in its other cells, the answer (unless it has none);
            # the names beside the filter's in its cell (Kyoto, Oita) are other rows' filters.
            held = row_subjects(row, self.glossary)
            # "Which EU regions …": the names of the column the noun asked heads ("EU region"),
            # not the other name cells of the row (the prefectures it visited); unless that column
            # holds the names filtered by ("Which cities is X paired with?": X's column).
            column = self._noun_column(row, facts.description.get("noun") or "")
            if column and (in_column := {m.entity_id: m.surface for m in self.glossary.find(row.record.values[column])
                                         if m.entity_id in held}) and not set(in_column) & filtered:
                held = in_column
            cells = [{m.entity_id for m in self.glossary.find(v)} for v in row.record.values.values()]
            in_filter = set().union(*(ids for ids in cells if ids & filtered))
            shown = {e: v for e, v in held.items() if e not in in_filter} or held
            names = [surface if written_in(surface, q.language)
                     else _label_name(e, q.language, self.glossary)
                     for e, surface in shown.items()]
            names = list(dict.fromkeys(names)) or [next(iter(row.record.values.values()), "")]
            by_country = countries_asked and self._counting_countries(facts.description.get("noun") or "") \
                and not self._other_list_noun(q)
            countries = self._row_countries(row, q.language) if countries_asked else []
            if by_country and not countries:
                continue  # "Which country is X in?": a row naming no country does not say
            if countries:
                if by_country:
                    names = countries  # ... the country is the entry
                else:
                    names[-1] += pack(q.language).mark("paren").format(pack(q.language).mark("list").join(countries))
            if names[0]:
                # Each name in the asker's script where the name table has it; else as written.
                subjects.append((names, n))

        # The rows' names on the first line, in the asker's script: the list is read there; when
        # that is too wide to read at a glance, each row by fewer names.
        def line(most: int | None) -> str:
            # Rows with the same names (one pair in two tables) are one entry with both citations.
            cited: dict[str, list[int]] = {}
            for names, n in subjects:
                cited.setdefault(" – ".join(names[:most]), []).append(n)
            keys = [key + " " + "".join(f"[{n}]" for n in ns) for key, ns in cited.items()]
            return " ".join([facts_line(q, facts, self.glossary, entries)] + ([pack(q.language).mark("clause").join(keys)] if keys else []))

        entries = len({tuple(names) for names, _ in subjects}) or None  # each answer once
        noun = (facts.description.get("noun") or "").casefold()
        if entries == 1 and noun and noun not in vocabulary(q.language).get("row_units", []):
            entries = len(subjects[0][0])  # "Cities with X (2): A – B": one row, two cities
        first = line(None)
        for most in (2, 1):
            if columns(first) > FIRST_LINE_COLUMNS:
                first = line(most)
        lines, citations = [first], []
        for n, row in enumerate(facts.rows, start=1):
            # A listed row quotes its group label too (what it was filtered by); the table's
            # title is in the location.
            start = _group_start(row, body_start(row))
            quote = row.text[start:] if start >= 0 else sentences(row)[0].text
            citations.append(Citation(n, row, quote, 1.0))
            lines.append(f"- {row_sentence(row, self.glossary)} [{n}]")
        return Answer("\n".join(lines), q.language, False, citations, kind="facts", evidence=1.0)
