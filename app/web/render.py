"""What the chat UI shows of an answer, in the reader's words: the UI's own text in English or
Japanese (from `ui_text` in core/lang/<language>.yaml), the answer as inert Markdown with
footnote links, the sources panel (one card per cited passage, the quotes marked, a link to the
original), and the conversation as Markdown for export and copy."""
from __future__ import annotations

import html
import re
import urllib.parse
from functools import lru_cache
from pathlib import Path

from core.formats import BY_NAME, FORMATS, SUPPORTED
from core.languages import languages, pivot, vocabulary

from app.answering.service import original_key

# Every language a pack is installed for has UI text (a pack's missing words are the pivot's).
UI_LANGUAGES = languages()
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|>~])")
_MARKER = re.compile(r" ?\[(\d+)\]")
_HOST = re.compile(r"(?i)\b(?:[a-z0-9-]+\\?\.)+[a-z]{2,}\b")


# --- the UI's own words ---------------------------------------------------------------------------

def ui_language(code: str | None) -> str:
    """A UI language from a saved choice or a browser's language (ja-JP -> ja); the pivot
    language's when no pack is installed for it."""
    code = (code or "").split("-")[0].split("_")[0].lower()
    return code if code in languages() else pivot()


@lru_cache(maxsize=None)
def _words(language: str) -> dict:
    return vocabulary(language)["ui_text"]


def ui_text(key: str, language: str = "", **values):
    """One piece of UI text in `language` (a string, or the list / mapping stored under `key`),
    with `{name}` placeholders filled from `values`."""
    text = _words(ui_language(language))[key]
    return text.format(**values) if values else text


@lru_cache(maxsize=None)
def _load_errors(language: str) -> tuple[tuple[re.Pattern, str], ...]:
    return tuple((re.compile(pattern), template) for pattern, template in vocabulary(language).get("load_errors") or [])


def said_in(message: str, language: str = "") -> str:
    """Why a file was refused, in the reader's words: the loaders say it in the pivot language, and
    a pack's `load_errors` turn each kind of message into its own (its parts through
    `load_error_words`); a message no entry matches is shown as it is."""
    language = ui_language(language)
    words = vocabulary(language).get("load_error_words") or {}
    for pattern, template in _load_errors(language):
        found = pattern.fullmatch(message or "")
        if found:
            return template.format(**{k: words.get(v, v) if v else "" for k, v in found.groupdict().items()})
    return message


# --- text from documents, made inert ----------------------------------------------------------------

def inert_markdown(text: str) -> str:
    """Text from documents shown as plain text: no HTML, no images, no links."""
    text = html.escape(text, quote=False)
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    # Bare URLs, host names ("www.example.org", "example.org") and e-mail addresses would be
    # auto-linked; a zero-width space after the scheme, before a host's dots and after "@" keeps
    # them text.
    text = re.sub(r"(?i)\b(https?|ftp|file|javascript|data|mailto):", lambda m: m.group(1) + "\u200b:", text)
    text = _HOST.sub(lambda m: m.group(0).replace(".", "\u200b."), text)
    return text.replace("@", "@\u200b")


def answer_markdown(result: dict, message: int = 0) -> str:
    """The answer for the chat: document text inert, each [n] a footnote link to its source in
    the section of answer `message` (its position in the chat)."""
    lines = []
    for line in result["answer"].split("\n"):
        parts, pos = [], 0
        for m in _MARKER.finditer(line):
            parts.append(inert_markdown(line[pos:m.start()]))
            n = m.group(1)
            parts.append(f" [\\[{n}\\]](#src-{message}-{n})")
            pos = m.end()
        parts.append(inert_markdown(line[pos:]))
        lines.append("".join(parts))
    if result.get("abstained"):
        lines.insert(0, f"**{ui_text('no_answer', result.get('language', ''))}**")
    return "  \n".join(lines)


def conversation_markdown(results: list, language: str = "") -> str:
    """The conversation as Markdown, for export and for "copy": each question, its answer as
    plain text and its numbered sources (file, location, the quoted span)."""
    lines = [ui_text("export_title", language), ""]
    for result in (r for r in results or [] if r):
        lines += [f"## {result['question']}", "", result["answer"], ""]
        for c in result.get("citations", []):
            lines.append(f"[{c['n']}] {c['doc']} · {c['location']}: “{c['quote']}”  ")
        if result.get("abstained"):
            for r in result.get("related", []):
                lines.append(f"{ui_text('related', language)}: {r['doc']} · {r['location']}  ")
        lines.append("")
    return "\n".join(lines)


# --- the sources panel ----------------------------------------------------------------------------

@lru_cache(maxsize=None)
def language_name(code: str, in_language: str | None = None) -> str:
    """A language's name (CLDR, through babel): in its own language by default ("日本語"), or in
    `in_language`; an unknown code as it is."""
    from babel import Locale

    try:
        return Locale(in_language or code).languages.get(code, code)
    except Exception:  # noqa: BLE001 - babel refuses unknown codes
        return code


def language_tag(code: str) -> str:
    """' · 日本語' / ' · English': a source's language in its own name; a source in both shows
    both. Scores are left out: they rank, they do not mean anything to a reader."""
    codes = sorted(languages(), reverse=True) if code == "mixed" else [code] if code else []
    return (" · " + " / ".join(html.escape(language_name(c)) for c in codes)) if codes else ""


def empty_sources(language: str = "") -> str:
    return _panel("", ui_text("sources_empty", language))


def _panel(items: str, empty: str) -> str:
    return '<div class="sources">' + (items or f"<p>{html.escape(empty)}</p>") + "</div>"


def conversation_sources(results: list, active: int, language: str = "") -> str:
    """The sources panel for a conversation: one section per answer (`results` is aligned with
    the chat's messages, None where a message is not an answer), the `active` one shown. Each
    section speaks its answer's language."""
    sections = [f'<section class="answer-sources{"" if message == active else " inactive"}" '
                f'data-msg="{message}" id="answer-{message}">'
                f'<p class="asked">{html.escape(result.get("question", ""))}</p>'
                f'{_source_items(result, message)}</section>'
                for message, result in enumerate(results) if result]
    return _panel("".join(sections), ui_text("sources_empty", language))


def sources_html(result: dict, message: int = 0) -> str:
    """The sources panel of one answer."""
    return _panel(_source_items(result, message), ui_text("no_sources", result.get("language", "")))


def _source_items(result: dict, message: int) -> str:
    """Each cited passage with the quoted span marked; for an abstention, the answer and the
    related passages."""
    language = result.get("language", "")
    if result.get("abstained"):
        items = [f'<p class="abstained">{html.escape(result["answer"])}</p>']
        for i, r in enumerate(result.get("related", []), start=1):
            items.append(
                f'<details id="rel-{message}-{i}"><summary>{html.escape(ui_text("related", language))}: '
                f'{html.escape(r["doc"])} · {html.escape(place_words(r["location"], language))}'
                f'{language_tag(r.get("language", ""))}</summary>'
                f'<p class="source-links">{preview_link(r["doc"], r["location"], "", language)}</p>'
                f'<div class="passage">{html.escape(r["text"])}</div></details>')
        return "".join(items)
    # One card per passage: quotes from the same passage (or the same text in the same place)
    # share it, every footnote number pointing at it and every quote marked.
    cards: dict[tuple, list[dict]] = {}
    for c in result["citations"]:
        cards.setdefault((c["doc"], c["location"], c["text"]), []).append(c)
    items = []
    for (doc, location, text), cited in cards.items():
        numbers = "".join(f"[{c['n']}]" for c in cited)
        also = "".join(f'<span id="src-{message}-{c["n"]}" class="also"></span>' for c in cited[1:])
        items.append(
            f'<details id="src-{message}-{cited[0]["n"]}" open><summary>{numbers} {html.escape(doc)} · '
            f'{html.escape(place_words(location, language))}{language_tag(cited[0].get("language", ""))}</summary>'
            f'{also}<p class="source-links">{preview_link(doc, location, cited[0]["quote"], language)} · '
            f'{original_link(doc, location, language)}</p>'
            f'<div class="passage">{_marked(text, [c["quote"] for c in cited])}</div></details>')
    return "".join(items)


def _marked(text: str, quotes: list[str]) -> str:
    """The passage, escaped, with each quote found in it marked (overlaps merged)."""
    spans = sorted((at, at + len(q)) for q in quotes if q and (at := text.find(q)) >= 0)
    out, pos = [], 0
    for start, end in spans:
        start = max(start, pos)
        if end <= start:
            continue
        out += [html.escape(text[pos:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        pos = end
    return "".join(out) + html.escape(text[pos:])


ORIGINAL_ROUTE = "/original"
PREVIEW_ROUTE = "/preview"
MAX_QUOTE = 600
# A location's page part, in any format's unit ("p. 3", "slide 2", "sheet 1"): (unit, number);
# and its lines ("line 4", "lines 3-5"): (first, last).
PAGE = re.compile(r"^(%s) (\d+)" % "|".join(sorted({re.escape(f.unit) for f in FORMATS})))
LINES = re.compile(r"\blines? (\d+)(?:-(\d+))?\s*$")


def _where(location: str, language: str) -> str:
    """What a source link opens, in the reader's words: the cited page, else the file."""
    page = PAGE.match(location)
    return place_words(page.group(0), language) if page else ui_text("the_file", language)


def original_link(doc: str, location: str, language: str = "") -> str:
    """A link that opens the cited file, at the page when its format's viewer can ("p. 3" ->
    #page=3 for a PDF)."""
    page = PAGE.match(location)
    where = _where(location, language)
    fmt = BY_NAME.get(SUPPORTED.get(Path(doc).suffix.lower(), ""))
    anchor = f"#page={page.group(2)}" if page and fmt is not None and fmt.opens_at_page else ""
    return (f'<a class="original" href="{ORIGINAL_ROUTE}/{original_key(doc)}{anchor}" target="_blank" '
            f'rel="noopener noreferrer">{html.escape(ui_text("open_original", language, where=where))}</a>')


def preview_link(doc: str, location: str, quote: str, language: str = "") -> str:
    """A link to the cited place shown inside the app (app/web/preview.py; the chat opens it in a
    dialog, whose close button is named in the reader's language)."""
    where = _where(location, language)
    href = html.escape(preview_href(original_key(doc), location, quote, language), quote=True)
    return (f'<a class="preview" href="{href}" target="_blank" rel="noopener" '
            f'data-close="{html.escape(ui_text("close", language), quote=True)}">'
            f'{html.escape(ui_text("preview", language, where=where))}</a>')


def preview_href(key: str, location: str, quote: str, language: str) -> str:
    """The preview of a cited place (app/web/preview.py), scrolled to it."""
    query = urllib.parse.urlencode({"at": location, "q": quote[:MAX_QUOTE], "lang": language})
    return f"{PREVIEW_ROUTE}/{key}?{query}#cited"


def place_words(location: str, language: str = "") -> str:
    """A location in the reader's words: its page part in its unit ("slide 2" -> スライド2) and its
    lines ("lines 3-5" -> 3〜5行目); the section between them is the document's own text."""
    units = ui_text("units", language)
    page = PAGE.match(location)
    if page:
        unit = page.group(1)
        location = units.get(unit, "{unit} {n}").format(unit=unit, n=page.group(2)) + location[page.end():]
    lines = LINES.search(location)
    if lines:
        said = (ui_text("line_one", language, n=lines.group(1)) if not lines.group(2)
                else ui_text("lines_span", language, first=lines.group(1), last=lines.group(2)))
        location = location[:lines.start()] + said
    return location
