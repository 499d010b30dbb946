"""Lexical search for Japanese + English: a tokenizer that segments Japanese (sudachi, or
character bigrams as the dependency-free fallback) and a BM25 index (bm25s, sparse matrices:
a query touches only the postings of its own tokens, never a Python loop over passages)."""
from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import numpy as np

from ingest.glossary import fold, is_cjk

_LATIN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヵヶー]+")
STOPWORDS = frozenset("""a an the and or of to in on at by for with from as is are was were be been
being do does did what which who whom whose when where why how that this these those it its their
they them he she his her we our you your i me my about into than then there here not no yes can
could would should will shall may might must have has had any all some each other such also
tell show list give please much many""".split())
# Part-of-speech classes that carry no topic: particles, auxiliaries, symbols, blanks.
_SKIP_POS = ("助詞", "助動詞", "補助記号", "記号", "空白", "接頭辞", "接尾辞")


def stem(word: str) -> str:
    """A light English stemmer: enough to match plural and common derived forms."""
    for suffix, repl, keep in (("ies", "y", 2), ("ing", "", 4), ("ity", "", 4), ("ed", "", 4),
                               ("es", "", 4), ("s", "", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            return word[: len(word) - len(suffix)] + repl
    return word


def latin_tokens(text: str) -> list[str]:
    return [stem(w) for w in _LATIN.findall(fold(text)) if w not in STOPWORDS and len(w) > 1]


def bigram_tokens(text: str) -> list[str]:
    """Dependency-free fallback: Latin words plus overlapping pairs of Japanese characters."""
    tokens = latin_tokens(text)
    for run in _CJK_RUN.findall(unicodedata.normalize("NFKC", text)):
        tokens.extend(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    return tokens


_THREAD = threading.local()


@lru_cache(maxsize=1)
def _dictionary():
    from sudachipy import dictionary

    return dictionary.Dictionary(dict="core")


def _sudachi():
    """A tokenizer for this thread: sudachi refuses one tokenizer used by two threads."""
    from sudachipy import tokenizer

    if getattr(_THREAD, "tokenizer", None) is None:
        _THREAD.tokenizer = _dictionary().tokenizer()
    return _THREAD.tokenizer, tokenizer.Tokenizer.SplitMode.A


def sudachi_tokens(text: str) -> list[str]:
    """Japanese morphemes in normalised form; Latin words stemmed. Sudachi also normalises
    some English loanwords to katakana ("carbon neutral" -> カーボンニュートラル), which lets
    an English question meet a Japanese passage: both forms are kept."""
    tok, mode = _sudachi()
    out: list[str] = []
    text = unicodedata.normalize("NFKC", text)
    # Sudachi refuses inputs over ~49 KB; passages are far smaller, questions are capped.
    for morpheme in tok.tokenize(text[:40000], mode):
        pos = morpheme.part_of_speech()[0]
        if pos in _SKIP_POS:
            continue
        surface = morpheme.surface()
        if any(is_cjk(c) for c in surface):
            out.append(morpheme.normalized_form())
            continue
        words = latin_tokens(surface)
        out.extend(words)
        norm = morpheme.normalized_form()
        if words and any(is_cjk(c) for c in norm):
            out.append(norm)
    return out


def proper_nouns(text: str) -> list[tuple[int, str]]:
    """(offset, surface) of each proper noun sudachi finds (固有名詞), e.g. a city name."""
    tok, mode = _sudachi()
    return [(m.begin(), m.surface()) for m in tok.tokenize(text[:40000], mode)
            if m.part_of_speech()[1] == "固有名詞"]


def tokenizer_for(name: str):
    if name == "sudachi":
        return sudachi_tokens
    if name == "bigram":
        return bigram_tokens
    raise ValueError(f"unknown lexical tokenizer {name!r}; allowed: sudachi, bigram")


class LexicalIndex:
    """BM25 over passages. Tokens become integer ids as they are read, so building the index
    for 100k passages never holds 100k lists of strings."""

    def __init__(self, texts, tokenizer_name: str = "sudachi"):
        import bm25s
        from bm25s.tokenization import Tokenized

        self.tokenize = tokenizer_for(tokenizer_name)
        self.vocabulary: dict[str, int] = {}
        ids = []
        for text in texts:
            tokens = self.tokenize(text) or ["\x00empty"]
            ids.append(np.fromiter((self.vocabulary.setdefault(t, len(self.vocabulary)) for t in tokens),
                                   dtype=np.int32))
        self.size = len(ids)
        self._bm25 = bm25s.BM25()
        if ids:
            self._bm25.index(Tokenized(ids=ids, vocab=self.vocabulary), show_progress=False)

    def scores(self, tokens: list[str]) -> np.ndarray:
        known = [t for t in tokens if t in self.vocabulary]
        if not known or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return self._bm25.get_scores(known)
