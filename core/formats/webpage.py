"""Web pages: the main content (trafilatura) as Markdown, hidden elements removed first, served
back as plain text (a stored page never runs in the app's origin)."""
from __future__ import annotations

import re

from .base import Format, decode_text, pipe_row as _pipe_row

_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def html_to_text(html: str) -> str:
    """The main content of an HTML page (trafilatura: no cookie banner, navigation,
    breadcrumbs, sidebar or footer) as Markdown: headings '# ', lists, tables as pipe rows.
    Hidden elements are removed before extraction; a page trafilatura finds no main content in
    falls back to all visible text."""
    import trafilatura

    visible = _visible_html(html)
    main = trafilatura.extract(str(visible), output_format="markdown", include_tables=True,
                               include_formatting=True, include_links=False, include_images=False,
                               include_comments=False, favor_recall=True)
    structured = main and any(line.startswith(("#", "|")) for line in main.splitlines())
    if main and main.strip() and (structured or not visible.find(["h1", "h2", "h3", "h4", "h5", "h6", "table"])):
        return main.replace("**", "")  # emphasis marks are not content
    # No main content found, or only trafilatura's plain fallback (a small page): every visible
    # block, with its headings and tables.
    return _visible_text(visible)


def _visible_html(html: str):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "template", "noscript", "head", "iframe", "object", "svg"]):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed:
            continue
        attrs = tag.attrs or {}
        if "hidden" in attrs or attrs.get("aria-hidden") == "true" or _HIDDEN_STYLE.search(attrs.get("style", "")):
            tag.decompose()
    return soup


def _visible_text(soup) -> str:
    """All visible text: headings as '# ', tables as pipe rows."""
    parts: list[str] = []
    for table in soup.find_all("table"):
        rows = [_pipe_row([c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])])
                for tr in table.find_all("tr")]
        table.replace_with(soup.new_string("\n\n" + "\n".join(rows) + "\n\n"))
    for level in range(1, 7):
        for h in soup.find_all(f"h{level}"):
            h.replace_with(soup.new_string("\n\n# " + h.get_text(" ", strip=True) + "\n\n"))
    for br in soup.find_all("br"):
        br.replace_with(soup.new_string("\n"))
    for block in soup.find_all(["p", "div", "li", "section", "article", "blockquote", "pre", "tr"]):
        block.insert_before(soup.new_string("\n\n"))
        block.insert_after(soup.new_string("\n\n"))
    text = soup.get_text()
    for line in text.split("\n"):
        parts.append(" ".join(line.split()))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(parts)).strip()


def _parse(data: bytes) -> tuple[str, str]:
    raw, encoding = decode_text(data)
    return html_to_text(raw), encoding


def _naive(data: bytes) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(decode_text(data)[0], "html.parser").get_text("\n")


HTML = Format("html", (".html", ".htm"), "text/plain; charset=utf-8", "an HTML page", _parse, _naive)
