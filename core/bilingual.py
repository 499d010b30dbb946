"""A Japanese -> English word bridge for matching across languages without translation.

The table (core/lang/ja_en_glosses.tsv.gz) gives each Japanese word JMdict lists (written in
kanji, or only in kana: テーマ) the English words of its first senses (視察 -> inspection,
observation; 代表団 -> delegation). A sentence in one language and a question
in the other share such words when they say the same thing: the composer counts them like words
the two share in one language.

Data: JMdict (the Electronic Dictionary Research and Development Group, CC BY-SA 4.0,
https://www.edrdg.org/edrdg/licence.html), read from the jamdict-data package's SQLite build.
The table is derived data under the same licence. Regenerate it with
    python -m core.bilingual /path/to/jamdict.db
"""
from __future__ import annotations

import gzip
import re
import sys
from functools import lru_cache
from pathlib import Path

from .glossary import has_cjk
from .lexical import latin_tokens

TABLE = Path(__file__).parent / "lang" / "ja_en_glosses.tsv.gz"
SENSES = 2  # the first senses of a word: later ones are rarer uses
_PARENTHESES = re.compile(r"\([^)]*\)")


def bridge_language() -> str:
    """The language whose words the bridge gives pivot-language words for (the pack naming a
    `bridge` file), or ""."""
    from .languages import packs

    return next((p.code for p in packs().values() if p.bridge), "")


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    from .languages import pack

    language = bridge_language()
    path = TABLE.parent / pack(language).bridge if language else None
    if path is None or not path.is_file():
        return {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        text = f.read()  # read whole and split: half the time of reading line by line
    table = dict(line.split("\t", 1) for line in text.split("\n") if "\t" in line)
    # Counters (60名, 5府県): the dictionary gives their counting sense late or not at all.
    from .languages import vocabulary

    for word, english in (vocabulary(language).get("counter_words") or {}).items():
        table[word] = " ".join(english) + " " + table.get(word, "")
    return table


@lru_cache(maxsize=1)
def counter_words() -> frozenset[str]:
    """Counter words (名, 府県) of the bridged language's vocabulary: one character is enough."""
    from .languages import vocabulary

    language = bridge_language()
    return frozenset(vocabulary(language).get("counter_words") or {}) if language else frozenset()


# The glosses of a store's own words, computed at ingest and stored with its read index
# (core/index.py): a serving process looks its documents' words up here without loading the
# table, which only a question's word that no document uses still needs.
_STORED: dict[str, frozenset[str]] = {}


def table_id() -> str:
    """Which bridge table glosses were made with (stored glosses from another are not used)."""
    language = bridge_language()
    from .languages import pack

    path = TABLE.parent / pack(language).bridge if language else None
    if path is None or not path.is_file():
        return ""
    return _file_id(str(path), path.stat().st_size)


@lru_cache(maxsize=4)
def _file_id(path: str, size: int) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def use_stored(glosses: dict[str, frozenset[str]]) -> None:
    """Glosses a store holds for its words (each word of its vocabulary in the bridged language,
    an empty set for one the table lacks): looked up before the table."""
    _STORED.update(glosses)


def english_words(word: str) -> frozenset[str]:
    """The English words (as the lexical tokenizer stems them) a Japanese word's first senses
    give; empty for a word the table lacks, a Latin word, or one character (but a counter)."""
    found = _STORED.get(word)
    return found if found is not None else _english_words(word)


@lru_cache(maxsize=100_000)
def _english_words(word: str) -> frozenset[str]:
    if not has_cjk(word) or (len(word) < 2 and word not in counter_words()):
        return frozenset()
    return frozenset(latin_tokens(_table().get(word, "")))


@lru_cache(maxsize=1)
def common_english() -> frozenset[str]:
    """Every English word the table's glosses use (casefolded): the words of the dictionary,
    against which a capitalised word that is none of them is likely a name."""
    return frozenset(" ".join(_table().values()).split())


def bridged(tokens: set[str]) -> set[str]:
    """The English words of a set of Japanese tokens."""
    out: set[str] = set()
    for token in tokens:
        out |= english_words(token)
    return out


def build(db_path: str, out: Path = TABLE) -> int:
    """Write the table from a jamdict SQLite database; returns the number of headwords."""
    import sqlite3

    db = sqlite3.connect(db_path)
    words: dict[str, list[str]] = {}
    # Words written in kanji, and words written only in kana (テーマ, ああ); not the kana readings
    # of kanji words, which text rarely spells out and which would collide with other words.
    for form, only_kana in (("Kanji", ""), ("Kana", "AND NOT EXISTS (SELECT 1 FROM Kanji k WHERE k.idseq = f.idseq)")):
        rows = db.execute(
            f"SELECT DISTINCT f.text, f.idseq, s.ID, g.text FROM {form} f "
            f"JOIN Sense s ON s.idseq = f.idseq JOIN SenseGloss g ON g.sid = s.ID "
            f"WHERE g.lang = 'eng' {only_kana} ORDER BY f.text, s.ID")
        senses: dict[str, list[int]] = {}
        for text, _, sense, gloss in rows:
            seen = senses.setdefault(text, [])
            if sense not in seen:
                seen.append(sense)
            if len(seen) > SENSES:
                continue
            english = _PARENTHESES.sub(" ", gloss).casefold().split()
            words.setdefault(text, [])
            words[text] += [w.strip(".,;:!?\"'") for w in english if w.strip(".,;:!?\"'")]
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as f:
        for text in sorted(words):
            f.write(text + "\t" + " ".join(dict.fromkeys(words[text])) + "\n")
    return len(words)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m core.bilingual /path/to/jamdict.db")
    print(f"{build(sys.argv[1])} headwords -> {TABLE}")
