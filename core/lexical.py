"""Lexical search for Japanese + English: a tokenizer that segments Japanese (sudachi, or
character bigrams as the dependency-free fallback) and a BM25 index (bm25s, sparse matrices:
a query touches only the postings of its own tokens, never a Python loop over passages)."""
from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import numpy as np

from .glossary import fold, has_cjk
from .languages import LATIN, packs, vocabulary

_LATIN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_KATAKANA_WORD = re.compile(r"[\u30a1-\u30faー]{2,}")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヵヶー]+")
# Words that carry no topic, per language (core/lang/<language>.yaml, `stopwords`), read when
# this module is first imported: the Latin-script languages' words as written, the others' in
# sudachi's normalised form (いつ, 誰, 何, 為る).
STOPWORDS = frozenset(str(w) for p in packs().values() if p.script == LATIN for w in vocabulary(p.code).get("stopwords", []))
JA_STOPWORDS = frozenset(str(w) for p in packs().values() if p.script != LATIN
                         for w in vocabulary(p.code).get("stopwords", []))
# Part-of-speech classes that carry no topic: particles, auxiliaries, symbols, blanks.
_SKIP_POS = ("助詞", "助動詞", "補助記号", "記号", "空白", "接頭辞", "接尾辞")


@lru_cache(maxsize=1)
def _english_stemmer():
    # PyStemmer: the Snowball (Porter2) English stemmer in C (MIT/BSD); "themes" -> theme,
    # "cooperation" and "cooperate" -> cooper, "organisers" -> organis.
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """An English word's Snowball stem (the word folded to lower case first)."""
    return _english_stemmer().stemWord(word)


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
        if morpheme.part_of_speech()[0] not in _SKIP_POS:
            out.extend(_morpheme_tokens(morpheme.surface(), morpheme.normalized_form()))
    return out


@lru_cache(maxsize=200_000)
def _morpheme_tokens(surface: str, norm: str) -> tuple[str, ...]:
    """One morpheme's tokens (the same words recur: computed once per spelling)."""
    if has_cjk(surface):
        return () if norm in JA_STOPWORDS else (norm,)
    words = latin_tokens(surface)
    if words and has_cjk(norm):
        return (*words, norm)
    return tuple(words)


def proper_nouns(text: str) -> list[tuple[int, str]]:
    """(offset, surface) of each proper noun sudachi finds (固有名詞), e.g. a city name, and of
    each katakana word its dictionary lacks: a foreign name it cannot tag (ヴェスタームーア)."""
    tok, mode = _sudachi()
    return [(m.begin(), m.surface()) for m in tok.tokenize(text[:40000], mode)
            if m.part_of_speech()[1] == "固有名詞" or (m.is_oov() and _KATAKANA_WORD.fullmatch(m.surface()))]


def tokenizer_for(name: str):
    if name == "sudachi":
        return sudachi_tokens
    if name == "bigram":
        return bigram_tokens
    raise ValueError(f"unknown lexical tokenizer {name!r}; allowed: sudachi, bigram")


class LexicalIndex:
    """BM25 over passages (bm25s' sparse score matrix). Built from token ids at ingest, stored
    with the collection as arrays (`arrays`) and restored by serving processes (`from_arrays`)
    without segmenting any text."""

    def __init__(self, texts=(), tokenizer_name: str = "sudachi"):
        self.tokenizer_name = tokenizer_name
        self.tokenize = tokenizer_for(tokenizer_name)
        vocabulary: dict[str, int] = {}
        ids = [token_ids(self.tokenize(text), vocabulary) for text in texts]
        self._index(ids, vocabulary)

    def _index(self, ids: list[np.ndarray], vocabulary: dict[str, int]) -> None:
        import bm25s
        from bm25s.tokenization import Tokenized

        self.vocabulary = vocabulary
        self.size = len(ids)
        self._scores: dict = {}
        if ids:
            bm25 = bm25s.BM25()
            bm25.index(Tokenized(ids=ids, vocab=vocabulary), show_progress=False)
            self._scores = bm25.scores  # token id -> (passages, BM25 weights), sparse by token

    @classmethod
    def from_token_ids(cls, ids: list[np.ndarray], vocabulary: dict[str, int],
                       tokenizer_name: str) -> "LexicalIndex":
        index = cls.__new__(cls)
        index.tokenizer_name = tokenizer_name
        index.tokenize = tokenizer_for(tokenizer_name)
        index._index(ids, vocabulary)
        return index

    def arrays(self) -> dict[str, np.ndarray]:
        """The score matrix, for storing (empty when no passage is indexed)."""
        if not self.size:
            return {}
        scores = self._scores
        return {"bm25_data": scores["data"], "bm25_indices": scores["indices"],
                "bm25_indptr": scores["indptr"]}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], vocabulary: dict[str, int], size: int,
                    tokenizer_name: str) -> "LexicalIndex":
        """Restored from stored arrays: scoring reads them directly, so a serving process never
        imports bm25s (nor scipy, which it pulls in), only ingest does."""
        index = cls.__new__(cls)
        index.tokenizer_name = tokenizer_name
        index.tokenize = tokenizer_for(tokenizer_name)
        index.vocabulary = vocabulary
        index.size = size
        index._scores = {"data": arrays["bm25_data"], "indices": arrays["bm25_indices"],
                         "indptr": arrays["bm25_indptr"], "num_docs": size} if size else {}
        return index

    def matched_share(self, tokens: list[str], at: np.ndarray | None = None) -> np.ndarray:
        """Per passage, the share of the query's weight that it contains: each distinct query
        token weighs its BM25 idf, and a token in no passage weighs the most (a question word
        the documents write in the other language is still part of what is asked). `at`: only
        these passages' shares, in their order (the same values, without a pass over them all:
        a token's passages are stored in order, so each is looked up)."""
        share = np.zeros(self.size if at is None else len(at), dtype=np.float32)
        distinct = sorted(set(tokens))
        if not distinct or not self.size or not len(share):
            return share
        scores = self._scores
        indptr, indices = scores["indptr"], scores["indices"]
        spans = [(indptr[self.vocabulary[t]], indptr[self.vocabulary[t] + 1]) if t in self.vocabulary else (0, 0)
                 for t in distinct]
        idf = np.array([np.log(1 + (self.size - (b - a) + 0.5) / ((b - a) + 0.5)) for a, b in spans])
        for (a, b), weight in zip(spans, idf / idf.sum()):
            if at is None:
                share[indices[a:b]] += weight
            elif b > a:
                holding = indices[a:b]
                found = np.minimum(np.searchsorted(holding, at), b - a - 1)
                share[holding[found] == at] += weight
        return share

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 (lucene) score of every passage for the query tokens: each known token's stored
        weights added, in query order, repeated tokens counted again (as bm25s' get_scores
        does, with the same float32 additions in the same order)."""
        out = np.zeros(self.size, dtype=np.float32)
        if not self.size:
            return out
        data, indptr, indices = self._scores["data"], self._scores["indptr"], self._scores["indices"]
        # (a vocabulary id past the matrix's last column is a token no passage holds: weight 0)
        known = [i for i in (self.vocabulary[t] for t in tokens if t in self.vocabulary) if i < len(indptr) - 1]
        for token_id in known:
            start, end = indptr[token_id], indptr[token_id + 1]
            np.add.at(out, indices[start:end], data[start:end])
        return out


EMPTY_TOKEN = "\x00empty"  # a passage with no token still takes its place in the index


def token_ids(tokens: list[str], vocabulary: dict[str, int]) -> np.ndarray:
    """A passage's tokens as ids, growing the vocabulary with new ones."""
    return np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for t in (tokens or [EMPTY_TOKEN])),
                       dtype=np.int32)
