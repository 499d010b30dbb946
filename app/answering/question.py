"""Question analysis: language, names, what is asked (intents, an attribute, ordinals), follow-ups.
The cue words are data: core/lang/<language>.yaml."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from functools import lru_cache

from core.text import detect_language, remove_invisible
from core.glossary import Glossary, is_cjk
from core.languages import LATIN, by_markers, languages, pack, packs, pivot, script_language, vocabulary
from core.names import calendar_words

YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
WIDE_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")  # full-width digits -> ASCII


@lru_cache(maxsize=None)
def cues(language: str) -> dict:
    """The question vocabulary of one language (core/lang/<language>.yaml), compiled."""
    v = vocabulary(language)
    nouns = "|".join(re.escape(n) for n in v.get("list_nouns", []))
    intents = {name: re.compile(pattern.replace("{nouns}", nouns), re.I)
               for name, pattern in (v.get("intents") or {}).items()}
    attributes = {key: (tuple(sorted(a["words"], key=len, reverse=True)), a.get("value", ""))
                  for key, a in (v.get("attributes") or {}).items()}
    return {"intents": intents, "attributes": attributes,
            "elliptic": re.compile(v.get("elliptic", "$^"), re.I),
            "interrogative": re.compile(v.get("interrogatives", "$^"), re.I),
            "negation": re.compile(v.get("negation", "$^"), re.I),
            "focus": re.compile(v.get("focus", "$^"), re.I),
            "pronoun": re.compile(v.get("follow_up_pronouns", "$^"), re.I),
            "stopwords": {str(w).lower() for w in v.get("stopwords", [])},
            "all_rows": re.compile(v.get("all_rows", "$^"), re.I),
            "action": re.compile(v.get("action_question", "$^"), re.I),
            "ordinal": re.compile(v.get("ordinal_pattern", "$^"), re.I),
            "ordinal_words": {w.lower(): n for w, n in (v.get("ordinal_words") or {}).items()},
            "number_words": {str(w).lower() for w in [*v.get("number_words", []), *(v.get("number_values") or {})]},
            "ordinal_digits": v.get("ordinal_digits") or {},
            "question_words": {w.lower() for w in v.get("question_words", [])},
            "place_words": {w.lower() for w in v.get("place_words", [])},
            "relative_days": {str(w).casefold(): int(n) for w, n in (v.get("relative_days") or {}).items()},
            "time_zone": re.compile("|".join(re.escape(w) for words in (v.get("time_zones") or {}).values()
                                             for w in sorted(words, key=len, reverse=True)) or "$^", re.I)}


ORDINAL_NOUN_CHARS = 24  # what follows an ordinal, read for the thing it counts ("4th meeting")


def ordinals(text: str) -> list[int]:
    """Ordinal numbers a text names, in both languages: "4th", "fourth", 第4回, 三回目."""
    return [n for n, _ in counted(text)]


def counted(text: str) -> list[tuple[int, str]]:
    """Each ordinal a text names with the text right after it, where the thing it counts is
    said ("fourth exchange meeting", 第4回交流会議 -> (4, "exchange meeting"), (4, "交流会議"))."""
    found = []
    for language in languages():
        c = cues(language)
        for m in c["ordinal"].finditer(text):
            raw = next(g for g in m.groups() if g and (g[0].isdigit() or g[0] in c["ordinal_digits"]))
            raw = raw.translate(WIDE_DIGITS)
            n = int(raw) if raw.isdigit() else _kanji_number(raw, c["ordinal_digits"])
            found.append((m.start(), n, text[m.end():m.end() + ORDINAL_NOUN_CHARS]))
        if c["ordinal_words"]:
            words = "|".join(c["ordinal_words"])
            found += [(m.start(), c["ordinal_words"][m.group(1).lower()], text[m.end():m.end() + ORDINAL_NOUN_CHARS])
                      for m in re.finditer(rf"\b({words})\b", text, re.I)]
    return [(n, after) for _, n, after in sorted(found, key=lambda f: f[0]) if n]


def _kanji_number(text: str, digits: dict) -> int:
    if text in digits:
        return digits[text]
    if len(text) == 2 and text[0] == "十":
        return 10 + digits.get(text[1], 0)
    if len(text) == 2 and text[1] == "十":
        return 10 * digits.get(text[0], 0)
    return 0


@lru_cache(maxsize=None)
def attribute_words(key: str) -> tuple[str, ...]:
    """An attribute's words in every language (the same key in each vocabulary file)."""
    words = []
    for language in languages():
        words += cues(language)["attributes"].get(key, ((), ""))[0]
    return tuple(w.casefold() for w in words)


def _word_pattern(word: str) -> str:
    """A casefolded word as a pattern: a whole word for Latin script, anywhere for Japanese."""
    return rf"(?<![a-z]){re.escape(word)}(?![a-z])" if word.isascii() else re.escape(word)


def _says(folded: str, word: str) -> bool:
    """Whether a casefolded text holds a casefolded word (`_word_pattern`)."""
    return bool(re.search(_word_pattern(word), folded))


def names_attribute(key: str, text: str) -> bool:
    folded = text.casefold()
    return any(_says(folded, w) for w in attribute_words(key))


def attribute_spans(key: str, text: str) -> list[tuple[int, int]]:
    """Where a text names the attribute: (start, end) of each of its words, either language."""
    folded = text.casefold()
    out = []
    for word in attribute_words(key):
        out += [m.span() for m in re.finditer(_word_pattern(word), folded)]
    return out


def asked_attribute(text: str) -> tuple[str, str, str]:
    """(key, word as asked, kind of value) of an attribute the question asks for, or empties."""
    folded = text.casefold()
    for language in languages():
        for key, (words, value) in cues(language)["attributes"].items():
            for word in words:
                if _says(folded, word.casefold()):
                    return key, word, value
    return "", "", ""


# The kind of value each intent asks for (app/answering/answer.py scores sentences carrying it).
INTENT_VALUES = {"when": "date", "time": "time", "duration": "duration", "how_many": "number", "who": "person",
                 "where": "place"}


@dataclass(frozen=True)
class Question:
    """An analysed question, immutable: `analyze` makes it from the text (and earlier turns),
    `app/answering/link.py` returns a copy with the names linked against the store's name table;
    search and answer read the same linked question."""
    text: str
    language: str  # a language code (core/languages.py): the answer is written in it
    entities: tuple[str, ...]  # glossary entity ids, in order of mention
    inherited: bool = False  # entities came from an earlier turn
    context: str = ""  # why earlier turns were used: "ellipsis", "pronoun", "bare" (no subject of its own)
    retrieval_text: str = ""  # text used for search (may include the previous turn)
    years: tuple[str, ...] = ()
    ordinals: tuple[int, ...] = ()  # "4th meeting", 第2陣: 4, 2
    # "the day after 30 October", 10月30日の翌日: the (month, day) asked about; () for none.
    shifted_day: tuple[int, ...] = ()
    intents: frozenset[str] = frozenset()  # when, where, who, how_many, list, yes_no
    attribute: str = ""  # an asked attribute (budget, mayor ...): its key in the vocabulary
    attribute_word: str = ""  # ... and the word the question used for it
    attribute_value: str = ""  # ... and the kind of value that answers it (number, person, date)
    other_names: tuple[str, ...] = ()  # names the name table lacks (set by linking)
    # The word the question asks for ("which fields", "テーマは何"): a sentence saying it answers.
    focus: str = ""
    focus_is_verb: bool = False  # the focus is what the asked agent did ("Who organised …")
    # entity id -> the question's own spelling of a name linked by its reading (set by linking;
    # read-only)
    spelled: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def wants_when(self) -> bool:
        return "when" in self.intents

    @property
    def wants_count(self) -> bool:
        return "how_many" in self.intents

    @property
    def wants_list(self) -> bool:
        return "list" in self.intents


class QuestionError(ValueError):
    """A question that cannot be asked; the message is for the user."""


def question_language(text: str) -> str:
    """The language to answer in: a language of another script than Latin when the question is
    written in it (a Latin name or two inside is still that language's question), else the
    Latin-script language whose marker words it uses (core/languages.py)."""
    marked = script_language(text)
    if pack(marked).script != LATIN and detect_language(text) in (marked, "mixed"):
        return marked
    latin = [p for p in packs().values() if p.script == LATIN]
    return by_markers(text, latin).code if latin else pivot()


def check_encodable(text: str) -> None:
    """Text that can be written as UTF-8: no lone surrogate (\\ud800 sent in JSON), which no
    tokenizer, embedder or JSON writer can take."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise QuestionError("The question holds an invalid character (an unpaired surrogate). / "
                            "質問に不正な文字（対になっていないサロゲート）が含まれています。") from None


def check_history(history, max_chars: int) -> list[str]:
    """Earlier questions as sent by a client: a list of strings, bounded in count and length."""
    from core import settings

    if history is None:
        return []
    if not isinstance(history, (list, tuple)) or not all(isinstance(h, str) for h in history):
        raise QuestionError("The history must be a list of earlier questions (strings). / 履歴は質問文字列のリストで指定してください。")
    limit = settings.get("max_history_entries")
    if len(history) > limit:
        raise QuestionError(f"The history has {len(history)} entries; the limit is {limit} (send the most "
                            f"recent ones). / 履歴が多すぎます（{len(history)}件、上限{limit}件）。")
    if any(len(h) > max_chars for h in history):
        raise QuestionError(f"A history entry is longer than {max_chars} characters. / 履歴の質問が長すぎます。")
    return [remove_invisible(h) for h in history]


def analyze(text: str, glossary: Glossary, history: list[str] | None = None,
            max_chars: int = 1000) -> Question:
    """Validate and analyse a question; `history` holds earlier questions, oldest first (at most
    IURC_MAX_HISTORY_ENTRIES, each within the question limit)."""
    if text is not None and not isinstance(text, str):
        raise QuestionError(f"The question must be text, not {type(text).__name__}. / 質問は文字列で指定してください。")
    if text is None or not text.strip():
        raise QuestionError("The question is empty. / 質問が空です。")
    if len(text) > max_chars:
        raise QuestionError(f"The question is too long ({len(text)} characters; the limit is "
                            f"{max_chars}). / 質問が長すぎます（{len(text)}文字、上限{max_chars}文字）。")
    history = check_history(history, max_chars)
    for part in [text, *history]:
        check_encodable(part)
    # The same invisible characters documents lose at cleaning ("Kama\u200bkura" is Kamakura).
    text = unicodedata.normalize("NFC", remove_invisible(text))
    if not any(c.isalnum() for c in text):
        raise QuestionError("The question has no words, only punctuation. / 質問に語句がありません。")
    text = " ".join(text.split())
    language = question_language(text)
    c = cues(language)
    attribute, attribute_word, attribute_value = asked_attribute(text)
    intents = {name for name, pattern in c["intents"].items() if pattern.search(text)}
    if c["interrogative"].search(text):
        intents.discard("yes_no")  # 何を見ましたか asks what, not whether
    # "What time … Japan time?", 日本時間で何時: the zone says which times, not whom it is about.
    entities = _entities_of(c["time_zone"].sub(" ", text) if "time" in intents else text, glossary)
    if attribute and c["action"].search(text) and attribute_value not in {INTENT_VALUES.get(i) for i in intents}:
        # "What did the mayor of X talk about?": the mayor is whom it is about, not what is asked
        # ("When does the deadline end?" still asks for the deadline's date).
        attribute = attribute_word = attribute_value = ""
    q = Question(text=text, language=language, entities=tuple(entities), retrieval_text=text,
                 years=tuple(YEAR.findall(text)), ordinals=tuple(ordinals(text)),
                 intents=frozenset(intents | ({"all_rows"} if c["all_rows"].search(text) else set())),
                 attribute=attribute, attribute_word=attribute_word, attribute_value=attribute_value,
                 focus=(focus := _focus(text, c, glossary))[0], focus_is_verb=focus[1],
                 shifted_day=shifted_day(text, c))
    previous = [h for h in (history or []) if h and h.strip()]
    return _use_context(q, previous, glossary, c) if previous else q


@lru_cache(maxsize=1)
def english_months() -> dict[str, int]:
    """English month names and abbreviations (CLDR, through babel), casefolded, and numbers."""
    from babel import Locale

    en = Locale.parse(pack(pivot()).locale)
    return {name.casefold(): number for ctx in ("format", "stand-alone") for width in ("wide", "abbreviated")
            for number, name in en.months[ctx][width].items()}


def english_month(number: int) -> str:
    """A month's English name ("January" for 1): the first, wide form of `english_months`."""
    return next(name for name, n in english_months().items() if n == number).capitalize()


@lru_cache(maxsize=1)
def _english_days() -> re.Pattern:
    """A day written with an English month: "30 October", "30th Oct", "October 30"."""
    months = "|".join(sorted(map(re.escape, english_months()), key=len, reverse=True))
    return re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({months})\b|\b({months})\s+(\d{{1,2}})\b", re.I)


def days_in(text: str) -> list[tuple[int, int]]:
    """The (month, day) pairs a text writes: 10月30日, "30 October", "October 30"."""
    found = [(int(m), int(d)) for m, d in re.findall(r"(?<![0-9])([0-9]{1,2})月([0-9]{1,2})日", text.translate(WIDE_DIGITS))]
    for m in _english_days().finditer(text):
        day, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        found.append((english_months()[month.casefold()], int(day)))
    return [(month, day) for month, day in found if 1 <= month <= 12 and 1 <= day <= 31]


def shifted_day(text: str, c: dict) -> tuple[int, ...]:
    """The day a question asks about relative to the date it names ("the day after 30 October",
    10月30日の翌日 -> (10, 31)), by the language file's `relative_days`; () when it names none."""
    import datetime

    offset = next((n for word, n in c["relative_days"].items() if word in text.casefold()), None)
    days = days_in(text)
    year = YEAR.search(text)
    if offset is None or not days:
        return ()
    try:
        day = datetime.date(int(year.group(0)) if year else 2001, *days[0]) + datetime.timedelta(days=offset)
    except ValueError:
        return ()
    return (day.month, day.day)


def _focus(text: str, c: dict, glossary: Glossary) -> tuple[str, bool]:
    """The word the question asks for, by the language's `focus` pattern, unless it is a stop
    word, a question word ("What is …") or a name, and whether it is a verb (the pattern's groups named
    verb…); ("", False) when there is none."""
    names = [(m.start, m.end) for m in glossary.find(text)]
    for m in c["focus"].finditer(text):
        group, word = next(((g, v) for g, v in m.groupdict().items() if v), ("", ""))  # the first that matched
        start = text.find(word, m.start())
        if word.lower() in c["number_words"] or word.lower() in c["ordinal_words"]:
            # "the three themes", "the second meeting": the noun after the number is asked for
            following = re.match(r"\s+([^\W\d_][\w-]{2,})", text[start + len(word):])
            if not following:
                continue
            word, start = following.group(1), start + len(word) + following.start(1)
        # "Which cities …": a kind of place is the asked value, not a word to find said.
        singular = re.sub(r"ies$", "y", word.lower()) if word.lower().endswith("ies") else word.lower().removesuffix("s")
        if group == "focus" and singular in c["place_words"]:
            continue
        if word.lower() not in c["stopwords"] and word.lower() not in c["question_words"] \
                and not any(s <= start < e for s, e in names):
            return word, group.startswith("verb")
    return "", False


def _entities_of(text: str, glossary: Glossary) -> list[str]:
    return list(dict.fromkeys(m.entity_id for m in glossary.find(text)))


def _use_context(q: Question, previous: list[str], glossary: Glossary, c: dict) -> Question:
    """Earlier turns only when the question needs them: a pronoun pointing back ("When did they
    sign it?", それはいつ), an ellipsis ("And of Y?", では…は？), or no subject and hardly a word of
    its own ("What about the budget?"). A question with its own subject starts fresh, so a new
    topic, or an off-topic question, is answered (or refused) for itself. Returns the question
    with what it takes from them."""
    last = previous[-1]
    earlier = next((found for h in reversed(previous) if (found := _entities_of(h, glossary))), [])
    refers = bool(c["elliptic"].search(q.text) or c["pronoun"].search(q.text))
    if refers and not q.ordinals and not q.years:
        # "Who opened it?" after "… the second meeting …": the ordinal and the year the earlier
        # question named still say which one.
        q = replace(q, ordinals=tuple(ordinals(last)), years=tuple(YEAR.findall(last)))
    # Countries are context ("Spanish cities"), not a subject of their own.
    own = [e for e in q.entities if glossary.entities[e].kind != "country"]
    # A question that is only a name ("Oita?", 大分県は?) asks what the last one asked, of it.
    only_a_name = bool(own) and not _content_words(_strip_entities(q.text, glossary), c)
    if c["elliptic"].search(q.text) or only_a_name:
        if own:
            # "And the other city?": the last question's intent, with the new subject.
            q = replace(q, retrieval_text=f"{q.text} {_strip_entities(last, glossary)}", context="ellipsis")
            return _keep_intent(q, last, glossary)
        q = replace(q, entities=tuple(dict.fromkeys(earlier + list(q.entities))), inherited=bool(earlier),
                    retrieval_text=f"{q.text} {last}", context="ellipsis")
        return _keep_intent(q, last, glossary)
    pointing_back = bool(c["pronoun"].search(q.text))
    bare = not q.entities and not capitalised_names(q.text, glossary) and len(_content_words(q.text, c)) <= 2
    if not (pointing_back or bare):
        return q  # a question with its own subject (or none it points back to): fresh
    if own:
        return q  # "When did X open its port?": the pronoun points at the question's own subject
    added = [e for e in earlier if e not in q.entities]
    return replace(q, entities=tuple(dict.fromkeys(list(q.entities) + earlier)), inherited=bool(added),
                   retrieval_text=f"{q.text} {last}", context="pronoun" if pointing_back else "bare")


def _content_words(text: str, c: dict) -> list[str]:
    """The words of a question that say what it is about: Latin words other than stop and
    question words; in Japanese, runs of kanji or katakana other than those (a rough count that
    needs no tokenizer: 来年の計画は? has two)."""
    latin = [w for w in re.findall(r"[A-Za-z]+", text.lower()) if w not in c["stopwords"] and w not in c["question_words"]]
    runs = [r for r in re.findall(r"[\u4e00-\u9fff\u30a1-\u30fa\u30fc]+", text)
            if r not in c["stopwords"] and r not in c["question_words"]]
    return latin + runs


def _keep_intent(q: Question, last: str, glossary: Glossary) -> Question:
    """An ellipsis asks what the last question asked ("Who is the mayor of X?" - "And of Y?"),
    unless it asks something itself ("And what did they see?": a what-question)."""
    c = cues(q.language)
    if q.intents or q.attribute or c["interrogative"].search(c["elliptic"].sub("", q.text, count=1)):
        return q
    before = analyze(last, glossary)
    return replace(q, intents=q.intents | before.intents, attribute=before.attribute,
                   attribute_word=before.attribute_word, attribute_value=before.attribute_value)


def _strip_entities(text: str, glossary: Glossary) -> str:
    out, pos = [], 0
    for m in glossary.find(text):
        out.append(text[pos:m.start])
        pos = m.end
    out.append(text[pos:])
    return "".join(out)


def name_runs(text: str, words: set[str]) -> list[str]:
    """Runs of consecutive words of `text` that are all in `words` ("Mayor Marko Filipovic" with
    words {Marko, Filipovic} -> "Marko Filipovic"): a name of several words is matched whole."""
    runs, current, end = [], [], -1
    for m in re.finditer(r"[\w'-]+", text):
        if m.group(0) in words and (not current or text[end:m.start()] in (" ", "-")):
            current.append(m.group(0))
        else:
            if current:
                runs.append(" ".join(current))
            current = [m.group(0)] if m.group(0) in words else []
        end = m.end()
    if current:
        runs.append(" ".join(current))
    return runs


# What joins the parts of a foreign name written in katakana: パトリシア・フロール, ラ＝ヴェルド.
_NAME_JOINERS = "・･=＝"
_FOREIGN_NAME = re.compile(rf"[\u30a1-\u30fa\u30fc]+(?:[{_NAME_JOINERS}][\u30a1-\u30fa\u30fc]+)+")


def ja_name_runs(text: str, found: list[tuple[int, str]]) -> list[tuple[str, list[str]]]:
    """Proper nouns of a Japanese question that follow each other directly or across a middle
    dot (アンナ / ・ / ベルトラン): each run of two or more, whole, with its parts. A foreign name
    is written as one run of katakana (パトリシア・フロール, ヴァル・ドワーズ) of which the
    tokenizer may call only one part a proper noun: the whole run is the name."""
    found = sorted(found)
    runs: dict[tuple[int, int], list[str]] = {}
    for m in _FOREIGN_NAME.finditer(text):
        parts = [name for start, name in found if m.start() <= start < m.end()]
        if parts and parts != [m.group(0)]:
            runs[m.span()] = parts
    current: list[tuple[int, str]] = []
    joined: list[list[tuple[int, str]]] = []
    for start, name in found:
        if current and text[current[-1][0] + len(current[-1][1]):start] in ("", *_NAME_JOINERS):
            current.append((start, name))
        else:
            joined.append(current)
            current = [(start, name)]
    joined.append(current)
    for run in joined:
        if len(run) > 1:
            span = (run[0][0], run[-1][0] + len(run[-1][1]))
            if not any(s <= span[0] and span[1] <= e for s, e in runs):
                runs[span] = [name for _, name in run]
    return [(text[s:e], parts) for (s, e), parts in sorted(runs.items())]


def compound_terms(text: str, glossary: Glossary) -> list[str]:
    """Long compound words of a Japanese question (a run of kanji and katakana at least the
    language's `term_min_chars` long: a programme's or a body's name the name table lacks,
    日欧地域間イノベーション協力) that are not a name of the table."""
    limit = max((int(vocabulary(code).get("term_min_chars", 0) or 0) for code in languages()), default=0)
    if not limit:
        return []
    known = [(m.start, m.end) for m in glossary.find(text)]
    return [m.group(0) for m in re.finditer(r"[\u4e00-\u9fff々\u30a1-\u30fa\u30fc・]+", text)
            if len(m.group(0)) >= limit and not any(s <= m.start() and m.end() <= e for s, e in known)]


def capitalised_names(text: str, glossary: Glossary) -> list[str]:
    """Words that look like proper names in an English question and are not glossary names (in a
    Japanese question: its capitalised Latin words, GMCA, Applica, wherever they stand)."""
    known = {(m.start, m.end) for m in glossary.find(text)}
    c = cues(pivot())
    # "Osaka Prefecture": the name is Osaka; "in June", "on Monday": calendar words (CLDR).
    skip = c["question_words"] | c["place_words"] | calendar_words()
    names = []
    for m in re.finditer(r"(?<![\w'])([A-Z][\w'-]+)", text):
        if any(s <= m.start() < e for s, e in known):
            continue
        word = re.match(r"[A-Za-z\u00c0-\u024f0-9'-]+", m.group(1)).group(0)  # Latin letters only
        if word.lower() in skip or (m.start() == 0 and pack(question_language(text)).script == LATIN):
            continue
        names.append(word)
    return names
