"""The source preview: the cited place of a stored original, shown inside the app.

GET /preview/<key>?at=<location>&q=<quote>&lang=<UI language> returns a small page of our own:
- a format that draws its pages (PDF: its plug-in's `draw_page`) shows the cited page as an image
  with the quoted words boxed;
- a "slide" layout (PPTX) shows the cited slide's text on a card, the quote marked;
- any other document (DOCX, HTML, Markdown, text, a sheet) shows its text, line by line as the
  pipeline numbered it (`core.text.as_read`), the cited lines marked and the quote highlighted,
  scrolled there (the link ends in "#cited").
Beside it, a link to download the original. A document removed from the index, or whose file
changed since it was indexed, is said so in words, in the reader's language.

The page holds document text, always escaped, under a policy that runs nothing and loads nothing
but its own inline image; the chat opens it in a dialog (app/web/page.py)."""
from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fastapi import HTTPException, Request  # (Gradio's web framework; module level so routes resolve)
from fastapi.responses import HTMLResponse

from core.formats import BY_NAME, LoadError
from core.text import as_read

from app.web.guard import session_user
from app.web.render import LINES, MAX_QUOTE, ORIGINAL_ROUTE, PAGE, PREVIEW_ROUTE, place_words, ui_language, ui_text

HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "SAMEORIGIN",
           "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                                      "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"}


@dataclass(frozen=True)
class Cited:
    """Where a passage is: its page (slide, sheet; 0 when the format has none) and its lines."""
    page: int
    first: int
    last: int


@dataclass(frozen=True)
class Line:
    number: int
    page: int
    text: str


def cited_place(location: str, unit: str) -> Cited:
    """"slide 5 · Timeline · lines 9-11" -> Cited(5, 9, 11), in the format's own unit."""
    page = PAGE.match(location or "")
    lines = LINES.search(location or "")
    first = int(lines.group(1)) if lines else 0
    last = int(lines.group(2) or first) if lines else 0
    return Cited(int(page.group(2)) if page and page.group(1) == unit else 0, first, max(first, last))


@lru_cache(maxsize=16)
def _lines(path: str, size: int, mtime_ns: int, fmt: str) -> tuple[Line, ...]:
    """The document's lines as the pipeline numbered them (kept for a few documents: a reader
    often opens several places of one file)."""
    data = Path(path).read_bytes()
    text = as_read(BY_NAME[fmt].parse(data)[0])
    out, page = [], 1
    for number, line in enumerate(text.split("\n"), start=1):
        page += line.count("\f")
        out.append(Line(number, page, line.replace("\f", "")))
    return tuple(out)


def document_lines(path: Path, fmt: str) -> tuple[Line, ...]:
    stat = path.stat()
    return _lines(str(path), stat.st_size, stat.st_mtime_ns, fmt)


def quote_pattern(quote: str) -> re.Pattern | None:
    """The quote's characters with any spacing (line ends included) between them: a passage joins
    wrapped lines, so its quote may cross a line end the file has."""
    letters = [c for c in (quote or "") if not c.isspace()][:MAX_QUOTE]
    return re.compile(r"\s*".join(re.escape(c) for c in letters), re.I) if letters else None


def marked_lines(lines: list[Line], quote: str) -> dict[int, str]:
    """Each line's HTML: escaped, with the part of the quote it holds marked. A table row's quote
    ("column: value; column: value", as the pipeline wrote the row) is not in the file as such:
    then each of its values is marked where the lines hold it."""
    joined, starts, pos = [], [], 0
    for line in lines:
        starts.append(pos)
        joined.append(line.text)
        pos += len(line.text) + 1
    text = "\n".join(joined)
    spans = _spans(text, quote)
    out = {}
    for line, start in zip(lines, starts):
        end = start + len(line.text)
        parts, at = [], 0
        for a, b in spans:
            a, b = max(a, start) - start, min(b, end) - start
            if a >= b or a < at:
                continue
            parts += [html.escape(line.text[at:a]), "<mark>", html.escape(line.text[a:b]), "</mark>"]
            at = b
        out[line.number] = "".join(parts) + html.escape(line.text[at:])
    return out


def _spans(text: str, quote: str) -> list[tuple[int, int]]:
    pattern = quote_pattern(quote)
    found = pattern.search(text) if pattern else None
    if found:
        return [found.span()]
    values = [piece.split(": ", 1)[-1] for piece in re.split(r";\s+", quote or "") if ": " in piece]
    spans = []
    for value in values:
        pattern = quote_pattern(value) if len(value.strip()) > 1 else None
        hit = pattern.search(text) if pattern else None
        if hit:
            spans.append(hit.span())
    return sorted(spans)


_HEADING = re.compile(r"^(#{1,6}) ")
_ROW_EDGE = re.compile(r"^\|\s?|\s?\|$")


def as_shown(line_html: str) -> tuple[str, bool]:
    """A line as a reader expects it: the structure marks the pipeline wrote for itself left out
    (a heading's "# ", a table row's pipes: its cells are set apart instead); and whether it is
    a heading."""
    heading = _HEADING.match(line_html)
    if heading:
        return line_html[heading.end():], True
    if line_html.startswith("|") and line_html.rstrip().endswith("|"):
        cells = _ROW_EDGE.sub("", line_html.strip())
        return cells.replace(" | ", '<span class="cell-gap">│</span>'), False
    return line_html, False


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans JP", sans-serif; margin: 0; color: #1f2328;
       background: #fff; }
header { position: sticky; top: 0; background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 8px 12px;
         display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: baseline; }
header .where { font-weight: 600; overflow-wrap: anywhere; font-size: 1em; margin: 0; }
h1.gone { font-size: 1.05em; font-weight: 400; }
a { color: #0b5394; }
main { padding: 12px; }
img.page { max-width: 100%; height: auto; border: 1px solid #d0d7de; display: block; }
.drawn { position: relative; display: inline-block; max-width: 100%; }
.drawn .anchor { position: absolute; left: 0; width: 1px; height: 1px; }
li.h, p.h { font-weight: 700; color: inherit; }
.cell-gap { color: #8c959f; padding: 0 0.4em; }
ol.lines { font-size: 0.95em; line-height: 1.5; padding-left: 3.2em; margin: 0; }
ol.lines li { white-space: pre-wrap; overflow-wrap: anywhere; color: #57606a; }
ol.lines li.cited { color: #1f2328; background: #fff8c5; }
.slide { aspect-ratio: 16 / 9; max-width: 860px; border: 1px solid #d0d7de; border-radius: 8px; padding: 24px 32px;
         box-shadow: 0 1px 4px rgba(0,0,0,.12); overflow: auto; box-sizing: border-box; }
.slide p { margin: 0 0 8px; white-space: pre-wrap; overflow-wrap: anywhere; }
.slide p.title { font-size: 1.4em; font-weight: 700; }
.slide p.cited { background: #fff8c5; }
mark { background: #ffd400; color: #1f2328; padding: 0 1px; }
.note { color: #57606a; }
.gone { padding: 24px; }
:target { scroll-margin-top: 30vh; }
@media (prefers-color-scheme: dark) {
  body { background: #0d1117; color: #e6edf3; }
  header { background: #161b22; border-color: #30363d; }
  a { color: #79c0ff; }
  ol.lines li { color: #9198a1; }
  ol.lines li.cited, .slide p.cited { color: #e6edf3; background: #3d3000; }
  mark { background: #d29922; color: #0d1117; }
  .slide { border-color: #30363d; }
  .note { color: #9198a1; }
}
"""


def _page(language: str, title: str, body: str) -> str:
    return (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>{body}</body></html>")


def gone_page(language: str) -> str:
    said = ui_text("preview_gone", language)
    return _page(language, said, f'<main><h1 class="gone" role="alert">{html.escape(said)}</h1></main>')


def preview_page(path: Path, fmt_name: str, doc: str, location: str, quote: str, key: str, language: str) -> str:
    """The cited place of one document (see the module's docstring)."""
    fmt = BY_NAME[fmt_name]
    cited = cited_place(location, fmt.unit)
    where = f"{doc} · {place_words(location, language)}" if location else doc
    header = (f'<header><h1 class="where">{html.escape(where)}</h1>'
              f'<a class="download" href="{ORIGINAL_ROUTE}/{key}" download>'
              f'{html.escape(ui_text("download_original", language))}</a></header>')
    if fmt.draw_page is not None and cited.page:
        png, top = fmt.draw_page(path.read_bytes(), cited.page, quote)
        note = "" if top is not None or not quote else \
            f'<p class="note">{html.escape(ui_text("preview_not_drawn", language))}</p>'
        image = base64.b64encode(png).decode("ascii")
        alt = html.escape(ui_text("preview_page_alt", language, where=where), quote=True)
        # The link's "#cited" scrolls to where the quote is boxed on the page.
        anchor = f'<span id="cited" class="anchor" style="top: {100 * (top or 0):.1f}%"></span>'
        return _page(language, where, f'{header}<main>{note}<div class="drawn">{anchor}'
                                      f'<img class="page" src="data:image/png;base64,{image}" alt="{alt}"></div></main>')
    lines = list(document_lines(path, fmt_name))
    if fmt.layout == "slide" and cited.page:
        lines = [line for line in lines if line.page == cited.page and line.text.strip()]
    shown = [line for line in lines if cited.first <= line.number <= cited.last] or lines
    marked = marked_lines(shown, quote)
    rows = []
    first_cited = True
    for i, line in enumerate(lines):
        is_cited = line.number in marked and cited.first <= line.number <= cited.last
        anchor = ' id="cited"' if is_cited and first_cited else ""
        first_cited = first_cited and not is_cited
        text, heading = as_shown(marked.get(line.number, html.escape(line.text)))
        kinds = " ".join(k for k, on in (("title", fmt.layout == "slide" and i == 0), ("h", heading),
                                         ("cited", is_cited)) if on)
        if fmt.layout == "slide":
            rows.append(f'<p class="{kinds}"{anchor}>{text or "&nbsp;"}</p>')
        else:
            rows.append(f'<li value="{line.number}" class="{kinds}"{anchor}>{text or " "}</li>')
    body = (f'<div class="slide">{"".join(rows)}</div>' if fmt.layout == "slide"
            else f'<ol class="lines">{"".join(rows)}</ol>')
    return _page(language, where, f"{header}<main>{body}</main>")


def add_preview_route(app, assistant) -> None:
    """GET /preview/<key>: behind the same login as the chat, only for documents in the index."""
    @app.get(PREVIEW_ROUTE + "/{key}", response_class=HTMLResponse)
    def preview(key: str, request: Request, at: str = "", q: str = "", lang: str = ""):
        if app.auth is not None and session_user(app, request.cookies) is None:
            raise HTTPException(status_code=401, detail="log in first")
        language = ui_language(lang)
        found = assistant.original(key)
        doc = assistant.document_of(key) if found else None
        if found is None or doc is None:
            return HTMLResponse(gone_page(language), status_code=404, headers=HEADERS)
        path, fmt = found
        try:
            page = preview_page(path, fmt, doc, at[:300], q[:MAX_QUOTE], key, language)
        except (LoadError, OSError, ValueError):
            return HTMLResponse(gone_page(language), status_code=404, headers=HEADERS)
        return HTMLResponse(page, headers=HEADERS)
