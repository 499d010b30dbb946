"""Clean stage: rejoin lines broken by text extraction, keep line and page numbers.

Rules (general, not tied to one document):
- Japanese: a line ending inside a sentence continues on the next line with no space.
- Latin: a line that ends mid-sentence (comma, connector word, or the next line starts in
  lower case) continues on the next line with one space.
- A name split over two lines ("Grenoble-Alpes" / "Metropole") is rejoined when the two
  halves form a glossary name.
- Single blank lines between such fragments are extraction artifacts and are dropped; two or
  more blank lines, an indented line (a new slide's text) or a page break end a block.
- Invisible characters (zero-width, direction overrides) are removed; HTML, images, links and
  URLs are neutralised, so no answer can carry markup or a link out of the app.
"""
from __future__ import annotations

import re
import unicodedata

from core.formats import BY_NAME
from core.glossary import CJK_CHAR, Glossary, fold, is_cjk
from core.text import as_read, neutralise_markup, remove_invisible, strip_markup  # noqa: F401 (re-exported)
from core.models import CleanDoc, CleanLine, SourceDoc

_JA_SENTENCE_END = "。！？!?」』）)"
_LATIN_END = ".!?:;。"
_BULLET = re.compile(r"^\s*(?:[・●■◆▪•\-*+]|\d+[.)]|[①-⑳])\s*")
# A line that opens like a heading: numbered ("2.", "2.1", "第2章"), or marked (■ ● ◆ 【…】).
HEADING_CUE = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?\s+\S|\d+(?:\.\d+)+\S|第[0-9０-９一二三四五六七八九十百]+[章節部条項]"
                         r"|[■□●○◆◇▼▶]\s*\S|【[^】]{1,40}】)")
MAX_CUED_HEADING_CHARS = 40
_CONNECTORS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or",
               "the", "to", "with", "such", "about", "between", "into"}


def _is_punctuation_only(text: str) -> bool:
    return bool(text) and all(unicodedata.category(c)[0] in "PSZ" for c in text) and not any(
        c in "●■◆▪•" for c in text)


def _join_mode(prev: CleanLine, nxt: CleanLine, glossary: Glossary | None, wrap: int = 0,
               last_width: int = 0) -> str | None:
    """How `nxt` continues `prev`: "" (no space), " " (one space), or None (a new line).
    `wrap`: the column a hard-wrapped text file is wrapped at (0: not wrapped); `last_width`:
    the length of the last source line joined into `prev`."""
    if nxt.blank_before >= 2 or nxt.indented or nxt.page != prev.page:
        return None
    a, b = prev.text, nxt.text
    if not a or not b or b.startswith("#") or a.startswith("#") or b.startswith("|") or _BULLET.match(b):
        return None
    if HEADING_CUE.match(a) and len(a) <= MAX_CUED_HEADING_CHARS and a[-1] not in "。.、,":
        return None  # "2. プロジェクトの背景" stays apart from the sentence after it
    last, first = a[-1], b[0]
    if nxt.blank_before == 0 and _cjk_share(a) >= 0.3:
        # A Japanese paragraph wrapped by layout at a digit or a Latin word ("2023" / "年").
        if (is_cjk(first) or is_cjk(last)) and last not in "。！？":
            return ""
        if last.isalnum() and first.isalnum():
            return " "
    if is_cjk(last) or last in "、，「『（」』）・":
        # A Japanese sentence broken mid-word or mid-clause.
        return "" if nxt.blank_before == 0 or not first.isascii() else None
    if last in "。！？" and is_cjk(first) and nxt.blank_before == 0:
        # Next sentence of the same paragraph (the chunker splits sentences later).
        return ""
    if last in _LATIN_END or last in _JA_SENTENCE_END:
        return None
    if glossary is not None and _splits_a_name(a, b, glossary):
        return " "
    if _HYPHENATED_NAME_END.search(a) and _LONE_CAPITALISED.match(b):
        # "Grenoble-Alpes" / "Metropole": a hyphenated name wrapped by the layout of a slide or
        # table cell continues with the one capitalised word on the next line.
        return " "
    last_word = a.split()[-1].casefold() if a.split() else ""
    if first.islower() or last == "," or last_word in _CONNECTORS:
        return " "
    if wrap and nxt.blank_before == 0 and not nxt.indented and last_width + 1 + len(b.split()[0]) > wrap:
        # A text wrapped at a fixed width: the next line's first word would not have fitted on
        # this one, so the writer's editor broke the sentence here ("… held in Tokyo on 17 May" /
        # "2019 at …").
        return " "
    return None


def wrap_width(lines: list[CleanLine]) -> int:
    """The column a hard-wrapped text (Markdown, plain text) is wrapped at, or 0: Latin lines
    of prose that end without a sentence end reach nearly the same length, at least four of
    them. The width is their longest length."""
    ends = [len(line.text) for line in lines
            if _cjk_share(line.text) < 0.3 and len(line.text) >= 40 and line.text[-1] not in _LATIN_END
            and not line.text.startswith(("#", "|")) and not _BULLET.match(line.text)]
    if len(ends) < 4:
        return 0
    width = max(ends)
    near = [n for n in ends if n >= width - 15]
    return width if len(near) >= 4 and len(near) * 2 >= len(ends) else 0


_HYPHENATED_NAME_END = re.compile(r"(?:^|\s)[A-Z][^\W\d_]+-[A-Z][^\W\d_]*$")
_LONE_CAPITALISED = re.compile(r"^[A-Z][^\W\d_]{1,24}$")


def _cjk_share(text: str) -> float:
    letters = sum(map(str.isalpha, text))
    return len(CJK_CHAR.findall(text)) / letters if letters else 0.0


def is_standalone_title(line: CleanLine, following: CleanLine | None) -> bool:
    """A short line set off by a blank line above and run straight into a longer paragraph: a
    heading (one blank line is enough), e.g. the title of a short article in a newsletter."""
    text = line.text
    return (following is not None and line.blank_before >= 1 and following.blank_before == 0
            and len(text) <= MAX_CUED_HEADING_CHARS and text[-1] not in ".。!?！？,、:;"
            and len(following.text) > 2 * len(text) and any(c.isalpha() for c in text)
            and not text.startswith("|"))


def _splits_a_name(a: str, b: str, glossary: Glossary) -> bool:
    fa, fb = fold(a), fold(b)
    for alias in glossary.multiword_aliases():
        for i, ch in enumerate(alias):
            if ch != " ":
                continue
            left, right = alias[:i], alias[i + 1:]
            if fa.endswith(left) and fb.startswith(right):
                before = fa[-len(left) - 1] if len(fa) > len(left) else " "
                after = fb[len(right)] if len(fb) > len(right) else " "
                if not before.isalnum() and not after.isalnum():
                    return True
    return False


def clean(source: SourceDoc, glossary: Glossary | None = None) -> CleanDoc:
    """Rejoin broken lines; the result's text is what chunk offsets point into."""
    text = as_read(source.text)
    raw_lines: list[CleanLine] = []
    blank, page = 0, 1
    has_pages = "\f" in text
    for number, line in enumerate(text.split("\n"), start=1):
        page += line.count("\f")
        line = line.replace("\f", "")
        stripped = " ".join(line.split())
        if not stripped or _is_punctuation_only(stripped):
            blank += 1 if not stripped else 0
            continue
        raw_lines.append(CleanLine(stripped, number, number, page if has_pages else 0, blank,
                                   indented=line[:1].isspace()))
        blank = 0

    titles = {id(line) for line, following in zip(raw_lines, raw_lines[1:] + [None])
              if is_standalone_title(line, following)}
    # Markdown and text files may be wrapped by the writer's editor at a fixed width.
    hard_wrapped = source.format in BY_NAME and BY_NAME[source.format].hard_wrapped
    wrap = wrap_width(raw_lines) if hard_wrapped else 0
    lines: list[CleanLine] = []
    title_open = False  # lines[-1] is a standalone title that nothing has joined yet
    last_width = 0  # length of the last source line joined into lines[-1]
    for line in raw_lines:
        if lines and id(line) not in titles and not title_open:
            mode = _join_mode(lines[-1], line, glossary, wrap, last_width)
            if mode is not None:
                prev = lines[-1]
                prev.text = prev.text + mode + line.text
                prev.last_line = line.last_line
                last_width = len(line.text)
                continue
        lines.append(line)
        last_width = len(line.text)
        title_open = id(line) in titles

    for line in lines:
        # Markup split over lines ("<img" / "onerror=…>") is whole again once lines are joined.
        line.text = " ".join(strip_markup(line.text).split())
    lines = [line for line in lines if line.text]
    parts, offset = [], 0
    for i, line in enumerate(lines):
        sep = "" if i == 0 else ("\n\n" if line.blank_before >= 2 or line.indented else "\n")
        offset += len(sep)
        line.start, line.end = offset, offset + len(line.text)
        parts.append(sep + line.text)
        offset = line.end
    return CleanDoc(source=source, lines=lines, text="".join(parts))
