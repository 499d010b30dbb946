"""Text rules both sides apply, to documents and to questions alike: which language a text is
in, invisible characters removed, markup made inert or stripped, and how a section's heading
path is joined."""
from __future__ import annotations

import re

from .languages import detect

# A section's heading path: "Report › 2. Partners".
SECTION_JOINER = " › "

_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
# Markup that must never reach an answer: tags, comments, images, links, and URLs (kept as
# their host name, which says where something is without being a link).
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>\n]{0,500}>")
_MD_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*[A-Za-z][\w+.-]*:[^)\n]*\)")
_URL = re.compile(r"\b(?:https?|ftp)://([^\s/?#)<>\"'\]]+)[^\s)<>\"'\]]*", re.I)


def detect_language(text: str) -> str:
    """A language code, or "mixed" (core/languages.detect: the packs' scripts and marker words)."""
    return detect(text)


def as_read(text: str) -> str:
    """A document's extracted text as the pipeline reads it: one kind of line end, a page break
    always at a line's start, invisible characters gone, NFC, markup made inert. A passage's
    "line N" is line N of this text (split on "\n"), its page the count of "\f" before it, plus one;
    the source preview reads the same lines."""
    import unicodedata

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"(?<!\n)\f", "\n\f", text)  # a page break always ends the line: no glued words
    return neutralise_markup(remove_invisible(unicodedata.normalize("NFC", text)))


def neutralise_markup(text: str) -> str:
    """Documents are data: drop HTML, keep image alt text and link text, turn URLs into hosts."""
    text = _HTML_COMMENT.sub("", text)
    text = _MD_IMAGE.sub(lambda m: m.group(1), text)
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    text = _URL.sub(lambda m: m.group(1), text)
    return _HTML_TAG.sub("", text)


def strip_markup(text: str) -> str:
    """Plain text with no markup left, however it was written: entities are decoded first (a tag
    built from &lt; … &gt;, or encoded twice), then the ammonia sanitiser (nh3) removes every tag
    and comment and the content of scripts and styles."""
    import html

    import nh3

    if "<" not in text and "&" not in text:
        return text
    for _ in range(3):  # "&amp;lt;" is "<" after two decodings
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    if "<" not in text:
        return text
    return html.unescape(nh3.clean(text, tags=set(), attributes={}, strip_comments=True))


def remove_invisible(text: str) -> str:
    """Zero-width and direction-override characters: documents and questions alike."""
    return _INVISIBLE.sub("", text)
