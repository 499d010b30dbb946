"""Language packs: everything the assistant knows about one language, in one file per language.

A pack is `core/lang/<code>.yaml` (or a file of the same form in the folder IURC_LANGUAGE_PACKS
names): its `pack` section says how the language is written and read, and the rest of the file
is its vocabulary (name cues, stop words, question cues, dates and numbers, the answer's wording,
the UI's words). Code outside this module never names a language: it asks the pack of a
question's or a passage's language, or loops over `languages()`.

The `pack` section:

    pack:
      name: English            # the language's name in English (logs, `iurc` output)
      script: latin            # how it is written: latin or cjk
      pivot: true              # the one language names and the word bridge meet in
      locale: en               # CLDR locale (babel): month names, dates, territory names
      markers: [the, and, …]   # common words that tell it from another language of its script
      name_discovery: capitalised   # capitalised (runs of capitalised words), japanese, or none
      bridge: ja_en_glosses.tsv.gz  # a word bridge into the pivot language (optional)
      readings: cutlet         # names' readings romanised to link them to the pivot's (optional)
      join: {two: " and ", last: " and ", between: ", "}   # how a list of names is joined
      marks: {colon: ": ", list: ", ", names: ", ", clause: "; ", ellipsis: " …",
              paren: " ({})", gap: " "}
      dates: {month: "MMMM y", day: "d MMMM y", month_span: "{first} to {last} {year}",
              day_span: "{first}–{last} {month} {year}"}

A pack may leave out words of the answer or the UI (`answers`, `ui_text`, `ui_examples`): the
pivot language's are used for those, so a small pack still answers. Cue words it leaves out
are simply not cues in that language."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

LANG_DIR = Path(__file__).parent / "lang"

# The characters of each writing system a pack may declare. Latin is the one unmarked script:
# a text is Latin when it holds no character of a marked one.
# (Only the scripts tested so far: another is added here with its character ranges, and the
# glossary matcher and tokenizer are to be checked for it.)
SCRIPTS = {
    "cjk": "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\u31f0-\u31ff々〆ヵヶー",
}
LATIN = "latin"
# The sections of a pack whose missing entries are the pivot's (the wording, not the cues).
WORDING_SECTIONS = ("answers", "ui_text", "ui_examples")


@dataclass(frozen=True)
class LanguagePack:
    code: str
    name: str
    script: str
    pivot: bool
    locale: str
    markers: frozenset[str]
    name_discovery: str
    bridge: str
    readings: str
    join: dict
    marks: dict
    dates: dict
    vocabulary: dict = field(repr=False, compare=False)

    # --- writing -------------------------------------------------------------------------------
    def writes(self, text: str) -> bool:
        """Whether a text is written in this language's script: for a marked script, any of its
        characters; for Latin, none of any marked script a pack uses."""
        if self.script == LATIN:
            marked = _marked()
            return marked is None or marked.search(text) is None
        return _script(self.script).search(text) is not None

    def join_names(self, names: list[str]) -> str:
        if len(names) <= 2:
            return self.join["two"].join(names)
        return self.join["between"].join(names[:-1]) + self.join["last"] + names[-1]

    def mark(self, key: str) -> str:
        """A punctuation mark as this language writes it (`marks`: colon, list, names, clause,
        ellipsis, paren, gap)."""
        return self.marks[key]

    # --- dates ---------------------------------------------------------------------------------
    def format_date(self, year: int, month: int, day: int | None = None, last: int | None = None,
                    last_month: int | None = None) -> str:
        """A date, a month, or a span of days or months, as this language writes it (CLDR
        patterns through babel; the span templates are the pack's)."""
        import datetime

        from babel.dates import format_date

        def pattern(date: datetime.date, key: str) -> str:
            return format_date(date, self.dates[key], locale=self.locale)

        if day is None and last_month:
            first = format_date(datetime.date(year, month, 1), "MMMM", locale=self.locale)
            final = format_date(datetime.date(year, last_month, 1), "MMMM", locale=self.locale)
            return self.dates["month_span"].format(first=first, last=final, year=year, month=month,
                                                   last_month=last_month)
        if day is None:
            return pattern(datetime.date(year, month, 1), "month")
        if last:
            name = format_date(datetime.date(year, month, 1), "MMMM", locale=self.locale)
            return self.dates["day_span"].format(first=day, last=last, month=name, year=year,
                                                 date=pattern(datetime.date(year, month, day), "day"))
        return pattern(datetime.date(year, month, day), "day")


def pack_dirs() -> list[Path]:
    # (read from the environment on each call: core/settings.py, which lists the setting as
    # `language_packs`, imports the answering profile, which must not wait for the packs)
    return list(_dirs(os.environ.get("IURC_LANGUAGE_PACKS", "")))


def load_yaml(text: str):
    """YAML through libyaml's C parser when PyYAML was built with it (ten times faster: every
    process reads the packs and the profile at start), the pure-Python one otherwise."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@lru_cache(maxsize=8)
def _dirs(extra: str) -> tuple[Path, ...]:
    return (LANG_DIR, *(Path(p) for p in extra.split(os.pathsep) if p))


@lru_cache(maxsize=None)
def _packs(dirs: tuple[str, ...]) -> dict[str, LanguagePack]:
    found: dict[str, LanguagePack] = {}
    for folder in map(Path, dirs):
        for path in sorted(folder.glob("*.yaml")):
            data = load_yaml(path.read_text("utf-8")) or {}
            spec = data.get("pack")
            if not isinstance(spec, dict):
                continue
            code = path.stem
            if code in found:
                continue  # the first folder's pack of a language wins
            script = spec.get("script", LATIN)
            if script != LATIN and script not in SCRIPTS:
                raise ValueError(f"{path}: unknown script {script!r}; known: {LATIN}, {', '.join(SCRIPTS)}")
            found[code] = LanguagePack(
                code=code, name=spec.get("name", code), script=script, pivot=bool(spec.get("pivot")),
                locale=spec.get("locale", code), markers=frozenset(str(w).casefold() for w in spec.get("markers", [])),
                name_discovery=spec.get("name_discovery", "none"), bridge=spec.get("bridge", ""),
                readings=spec.get("readings", ""), join=spec["join"], marks=spec["marks"], dates=spec["dates"],
                vocabulary=data)
    pivots = [p.code for p in found.values() if p.pivot]
    if len(pivots) != 1:
        raise ValueError(f"language packs need exactly one pivot language; found {pivots or 'none'}")
    # The pivot first, then the others in the order of their codes.
    return {code: found[code] for code in sorted(found, key=lambda c: (not found[c].pivot, c))}


def packs() -> dict[str, LanguagePack]:
    return _packs(tuple(map(str, _dirs(os.environ.get("IURC_LANGUAGE_PACKS", "")))))


def languages() -> tuple[str, ...]:
    """Every language a pack is installed for, the pivot first."""
    return tuple(packs())


def pack(code: str) -> LanguagePack:
    """The pack of a language; the pivot's for an unknown code or "mixed"."""
    return packs().get(code) or packs()[pivot()]


def pivot() -> str:
    return _pivot(tuple(map(str, _dirs(os.environ.get("IURC_LANGUAGE_PACKS", "")))))


@lru_cache(maxsize=8)
def _pivot(dirs: tuple[str, ...]) -> str:
    return next(p.code for p in _packs(dirs).values() if p.pivot)


def vocabulary(language: str) -> dict:
    """A language's vocabulary: its pack file, with the pivot's value for any key it leaves out."""
    return _vocabulary(tuple(map(str, pack_dirs())), language)


@lru_cache(maxsize=None)
def _vocabulary(dirs: tuple[str, ...], language: str) -> dict:
    all_packs = _packs(dirs)
    own = all_packs[language].vocabulary if language in all_packs else {}
    base = next(p for p in all_packs.values() if p.pivot).vocabulary
    if own is base:
        return own
    merged = dict(own)
    for section in WORDING_SECTIONS:
        merged[section] = {**(base.get(section) or {}), **(own.get(section) or {})}
    return merged


@lru_cache(maxsize=None)
def _script(name: str) -> re.Pattern:
    return re.compile(f"[{SCRIPTS[name]}]")


def _marked() -> re.Pattern | None:
    """One pattern for every marked script an installed pack uses (None when all are Latin)."""
    return _marked_pattern(tuple(map(str, _dirs(os.environ.get("IURC_LANGUAGE_PACKS", "")))))


@lru_cache(maxsize=8)
def _marked_pattern(dirs: tuple[str, ...]) -> re.Pattern | None:
    scripts = sorted({p.script for p in _packs(dirs).values() if p.script != LATIN})
    return re.compile("[" + "".join(SCRIPTS[s] for s in scripts) + "]") if scripts else None


def written_in(text: str, language: str) -> bool:
    """Whether a text is written in the script of a language (a name in Latin letters is
    written in every Latin-script language)."""
    return pack(language).writes(text)


def script_language(text: str) -> str:
    """The language of the first marked script a text holds, or the pivot."""
    for p in packs().values():
        if p.script != LATIN and p.writes(text):
            return p.code
    return pivot()


def by_markers(text: str, candidates: list[LanguagePack]) -> LanguagePack:
    """Of languages sharing a script, the one whose marker words the text uses most (the pivot,
    or the first, on a tie)."""
    if len(candidates) == 1:
        return candidates[0]
    words = re.findall(r"[^\W\d_]+", text.casefold())
    best = max(candidates, key=lambda p: (sum(w in p.markers for w in words), p.pivot))
    return best


def detect(text: str) -> str:
    """The language a text is written in: the share of a marked script's letters (one such
    character weighs as a short Latin word, 3) decides between scripts, ≥ 0.7 that script's
    language and ≤ 0.1 a Latin one ("mixed" between); among languages of one script, their
    marker words decide."""
    letters = [c for c in text if c.isalpha()]
    latin = [p for p in packs().values() if p.script == LATIN]
    if not letters:
        return pivot()
    for p in packs().values():
        if p.script == LATIN:
            continue
        n = sum(1 for c in letters if _script(p.script).match(c))
        if not n:
            continue
        share = 3 * n / (3 * n + len(letters) - n)
        if share >= 0.7:
            return p.code
        if share > 0.1:
            return "mixed"
    return by_markers(text, latin).code if latin else pivot()
