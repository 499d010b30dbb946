"""Question analysis: language, glossary entities, cues (when / how many / list), follow-ups."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.chunk import detect_language
from ingest.glossary import Glossary, is_cjk

YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_WHEN = re.compile(r"\b(when|what year|which year|since when|how long)\b|いつ|何年|何月|時期", re.I)
_COUNT = re.compile(r"\bhow many\b|\bnumber of\b|いくつ|何組|何都市|何ペア|何件|何か所|数は", re.I)
_LIST = re.compile(r"\b(which|list|what)\b.*\b(pairs?|cities|towns|regions|partners|members|countries)\b"
                   r"|\ball (the )?(pairs|cities)\b|どの(?!よう)|どれ|一覧|すべて|全て|どこ", re.I)
_ELLIPTIC = re.compile(r"^\s*(and|what about|how about|also)\b|^\s*(では|じゃあ|それでは|また)|"
                       r"^(それ|その|彼ら|両者)", re.I)
_ORDINAL = re.compile(r"\b(1st|2nd|3rd|[4-9]th|first|second|third)\s+batch\b|第\s*([0-9１-９一二三])\s*(陣|弾|グループ)", re.I)
# Capitalised words that are question scaffolding, not names.
_NOT_NAMES = {"what", "which", "who", "whom", "when", "where", "why", "how", "is", "are", "do",
              "does", "did", "can", "could", "tell", "list", "show", "give", "the", "a", "and",
              "in", "of", "eu", "japan", "i", "please", "was", "were", "has", "have"}


@dataclass
class Question:
    text: str
    language: str  # "ja" or "en" (other languages are answered in English)
    entities: list[str]  # glossary entity ids, in order of mention
    inherited: bool = False  # entities came from an earlier turn
    retrieval_text: str = ""  # text used for search (may include the previous turn)
    years: list[str] = field(default_factory=list)
    batch: str = ""  # "1st", "2nd", ... when the question names a batch
    wants_when: bool = False
    wants_count: bool = False
    wants_list: bool = False
    unknown_names: list[str] = field(default_factory=list)  # filled by the retriever


class QuestionError(ValueError):
    """A question that cannot be asked; the message is for the user."""


def question_language(text: str) -> str:
    letters = [c for c in text if c.isalpha()]
    if any(is_cjk(c) for c in letters) and detect_language(text) != "en":
        return "ja"
    return "en"


def _batch(text: str) -> str:
    m = _ORDINAL.search(text)
    if not m:
        return ""
    word = (m.group(1) or m.group(2) or "").lower()
    table = {"first": "1st", "second": "2nd", "third": "3rd", "一": "1st", "二": "2nd", "三": "3rd",
             "1": "1st", "2": "2nd", "3": "3rd", "１": "1st", "２": "2nd", "３": "3rd"}
    return table.get(word, word)


def analyze(text: str, glossary: Glossary, history: list[str] | None = None,
            max_chars: int = 1000) -> Question:
    """Validate and analyse a question; `history` holds earlier questions, oldest first."""
    if text is None or not text.strip():
        raise QuestionError("The question is empty. / 質問が空です。")
    if len(text) > max_chars:
        raise QuestionError(f"The question is too long ({len(text)} characters; the limit is "
                            f"{max_chars}). / 質問が長すぎます（{len(text)}文字、上限{max_chars}文字）。")
    if not any(c.isalnum() for c in text):
        raise QuestionError("The question has no words, only punctuation. / 質問に語句がありません。")
    text = " ".join(text.split())
    entities = list(dict.fromkeys(m.entity_id for m in glossary.find(text)))
    q = Question(text=text, language=question_language(text), entities=entities,
                 retrieval_text=text, years=YEAR.findall(text), batch=_batch(text),
                 wants_when=bool(_WHEN.search(text)), wants_count=bool(_COUNT.search(text)),
                 wants_list=bool(_LIST.search(text)))
    previous = [h for h in (history or []) if h and h.strip()]
    if previous:
        last = previous[-1]
        if not entities:
            # "When did they start?" / "それはいつですか": the subject is the last named one.
            for earlier in reversed(previous):
                found = list(dict.fromkeys(m.entity_id for m in glossary.find(earlier)))
                if found:
                    q.entities, q.inherited = found, True
                    break
            q.retrieval_text = f"{text} {last}"
        elif _ELLIPTIC.search(text) or len(text.split()) <= 3 and q.language == "en":
            # "And Toyota?": keep the last question's intent, with the new subject.
            q.retrieval_text = f"{text} {_strip_entities(last, glossary)}"
    return q


def _strip_entities(text: str, glossary: Glossary) -> str:
    out, pos = [], 0
    for m in glossary.find(text):
        out.append(text[pos:m.start])
        pos = m.end
    out.append(text[pos:])
    return "".join(out)


def capitalised_names(text: str, glossary: Glossary) -> list[str]:
    """Words that look like proper names in an English question and are not glossary names."""
    known = {(m.start, m.end) for m in glossary.find(text)}
    names = []
    for m in re.finditer(r"(?<![\w'])([A-Z][\w'-]+)", text):
        if any(s <= m.start() < e for s, e in known):
            continue
        word = m.group(1)
        if word.lower() in _NOT_NAMES or m.start() == 0:
            continue
        names.append(word)
    return names
