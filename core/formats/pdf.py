"""PDF: page-aware text with pdfplumber (running headers and footers dropped, headings by type
size, layout tables as pipe rows), after a pre-check of the page count and what the compressed
streams inflate to, read with pdfminer's own object reader."""
from __future__ import annotations

import io
import re

from .base import Format, LoadError, pipe_row as _pipe_row


def check_limits(data: bytes) -> None:
    from .. import settings

    _check_pdf(data, settings.get("max_unpacked_bytes"), settings.get("max_pdf_pages"))


# Filters that shrink or keep the size (decoded before a Flate filter behind them is measured);
# any other filter before Flate is left to the parsing sandbox's memory limit.
_PDF_TEXT_FILTERS = {"ASCIIHexDecode": "asciihexdecode", "AHx": "asciihexdecode",
                     "ASCII85Decode": "ascii85decode", "A85": "ascii85decode"}
_PDF_FLATE = {"FlateDecode", "Fl"}


def _pdf_name(value) -> str:
    """A PDF name as pdfminer decoded it ("#xx" escapes already read), as text."""
    name = getattr(value, "name", value)
    return name.decode("latin-1") if isinstance(name, bytes) else str(name)


def _flate_input(stream) -> bytes | None:
    """The bytes a stream's Flate filter would inflate (decrypted, text encodings before it
    undone), or None when it has no Flate filter the check can reach."""
    from pdfminer import ascii85

    data = stream.rawdata
    if data is None:
        return None
    if stream.decipher and stream.objid is not None:
        data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
    for name, _ in ((_pdf_name(f), p) for f, p in stream.get_filters()):
        if name in _PDF_FLATE:
            return data
        if name not in _PDF_TEXT_FILTERS:
            return None
        data = getattr(ascii85, _PDF_TEXT_FILTERS[name])(data)
    return None


def _inflated_size(data: bytes, budget: int) -> int:
    """How many bytes `data` inflates to, counted piecewise (never more than a few MB held),
    stopping once past `budget`; a stream that stops being valid Flate counts what came before."""
    import zlib

    inflater, total, pos = zlib.decompressobj(), 0, 0
    try:
        while pos < len(data) and total <= budget and not inflater.eof:
            out = inflater.decompress(data[pos:pos + 65536], 4_000_000)
            pos += 65536
            while out:
                total += len(out)
                if total > budget or not inflater.unconsumed_tail:
                    break
                out = inflater.decompress(inflater.unconsumed_tail, 4_000_000)
    except zlib.error:
        pass  # the parser judges a broken stream
    return total


def _check_pdf(data: bytes, max_unpacked: int, max_pages: int) -> None:
    """Read the file with the parser's own object reader (pdfminer, which pdfplumber parses
    with), without decoding any content: every stream object's Flate data is inflated piecewise
    and the total bounded, then (only then, since reading them decodes their streams) the objects
    inside object streams are read too, and every dictionary whose type is a page is counted,
    whatever its spelling ("/Pa#67e", "/type /page"), reachable from the page tree or not. A file
    the object reader cannot open is left to the parser, which fails on it the same way."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import PDFStream

    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
        placed = [(objid, xref.get_pos(objid)[0]) for xref in document.xrefs for objid in xref.get_objids()]
    except Exception:  # noqa: BLE001 - any failure to open is the parser's to report
        return
    direct = [objid for objid, stream in placed if stream is None]
    packed = [objid for objid, stream in placed if stream is not None]
    pages, total = 0, 0
    for objids, streams_checked in ((direct, False), (packed, True)):
        for objid in dict.fromkeys(objids):
            try:
                obj = document.getobj(objid)
            except Exception:  # noqa: BLE001 - an unreadable object is the parser's to judge
                continue
            if isinstance(obj, PDFStream) and not streams_checked:
                flate = _flate_input(obj)
                if flate is not None:
                    total += _inflated_size(flate, max_unpacked - total)
                    if total > max_unpacked:
                        raise LoadError(f"its compressed streams inflate to more than {max_unpacked} bytes "
                                        "(IURC_MAX_UNPACKED_BYTES)")
                obj = obj.attrs
            if isinstance(obj, dict):
                kind = obj.get("Type", obj.get("type"))
                if kind is not None and _pdf_name(kind).lower() == "page":
                    pages += 1
                    if pages > max_pages:
                        raise LoadError(f"has more than {max_pages} pages (IURC_MAX_PDF_PAGES)")


# A line in the top or bottom margin (this share of the page height) that recurs on other pages,
# digits aside, is a running header or footer.
_MARGIN_SHARE = 0.12
_PAGE_NUMBER = re.compile(r"^[\s\-–—]*(?:p\.?|page|ページ)?\s*\d+\s*(?:(?:/|of)\s*\d+)?[\s\-–—]*$", re.I)
# A line this much larger than the body text is a heading (a slide title, a numbered section).
_HEADING_SIZE_RATIO = 1.12


def pdf_to_text(data: bytes) -> str:
    """Page-aware PDF text with pdfplumber: pages separated by form feeds, running headers,
    footers and page numbers removed, headings (larger type) marked "# ", layout tables as
    pipe rows (header row first), a blank line where the vertical gap shows a new paragraph."""
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [_pdf_page_items(page) for page in pdf.pages]
    except (PdfminerException, PDFSyntaxError, ValueError, KeyError, TypeError, OSError) as exc:
        if "encrypt" in str(exc).lower() or "password" in str(exc).lower():
            raise LoadError("encrypted PDF") from None
        raise LoadError(f"unreadable PDF: {exc}") from None
    furniture = _running_lines(pages)
    sizes: dict[float, int] = {}
    for items in pages:
        for item in items:
            if item["kind"] == "line":
                sizes[item["size"]] = sizes.get(item["size"], 0) + len(item["text"])
    body = max(sizes, key=sizes.get) if sizes else 0
    # Larger type, higher level: the largest heading size is "#", the next "##", and so on.
    heading_sizes = sorted({size for size in sizes if body and size >= body * _HEADING_SIZE_RATIO}, reverse=True)
    out = []
    for items in pages:
        lines, previous = [], None
        # The right edge of the page's body text: a body line reaching it, with no sentence end,
        # was wrapped by the layout and goes on in the next line.
        right = max((i["x1"] for i in items if i["kind"] == "line" and i["size"] == body and not i["margin"]),
                    default=0)
        for item in items:
            if item["kind"] == "table":
                lines += [""] + [_pipe_row(row) for row in item["rows"]] + [""]
                previous = None
                continue
            if item["margin"] and (_furniture_key(item["text"]) in furniture or _PAGE_NUMBER.match(item["text"])):
                continue
            heading = body and item["size"] >= body * _HEADING_SIZE_RATIO and len(item["text"]) <= 120
            if heading and previous is not None and previous["heading"] and previous["size"] == item["size"]:
                lines[-1] += (" " if item["text"][:1].isascii() else "") + item["text"]  # a wrapped title
            elif not heading and _wrapped(previous, item, right):
                lines[-1] += (" " if item["text"][:1].isascii() and lines[-1][-1:].isascii() else "") + item["text"]
            else:
                gap = previous is not None and item["top"] - previous["bottom"] > 0.9 * item["size"]
                if heading or gap:
                    lines.append("")
                level = heading_sizes.index(item["size"]) + 1 if heading else 0
                lines.append(("#" * level + " " if heading else "") + item["text"])
            previous = {**item, "heading": heading}
        out.append("\n".join(lines))
    return "\n\f".join(out)


def _wrapped(previous: dict | None, item: dict, right: float) -> bool:
    """`item` continues `previous` on the next line: both body lines of one size, no paragraph
    gap, the same left edge, and `previous` runs to the right edge with no sentence end."""
    return (previous is not None and not previous["heading"] and previous["size"] == item["size"]
            and item["top"] - previous["bottom"] <= 0.9 * item["size"]
            and abs(item["x0"] - previous["x0"]) <= item["size"]
            and previous["x1"] >= right - 3 * item["size"]
            and previous["text"][-1] not in _SENTENCE_END and not _BULLET_START.match(item["text"]))


_SENTENCE_END = ".!?:;。！？」』"
_BULLET_START = re.compile(r"^\s*(?:[・●■◆▪•\-*+–]|\d+[.)]\s|[①-⑳])")


def _pdf_page_items(page) -> list[dict]:
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]
    margin = page.height * _MARGIN_SHARE

    def inside(line) -> bool:
        return any(x0 - 1 <= line["x0"] and line["x1"] <= x1 + 1 and top - 1 <= line["top"]
                   and line["bottom"] <= bottom + 1 for x0, top, x1, bottom in boxes)

    items = [{"kind": "table", "top": t.bbox[1], "rows": [[" ".join((c or "").split()) for c in row]
                                                         for row in t.extract()]} for t in tables]
    for line in page.extract_text_lines(return_chars=True):
        text = " ".join(line["text"].split())
        if not text or inside(line):
            continue
        items.append({"kind": "line", "top": line["top"], "bottom": line["bottom"], "text": text,
                      "x0": line["x0"], "x1": line["x1"],
                      "size": round(max(c["size"] for c in line["chars"]), 1),
                      "margin": line["top"] < margin or line["bottom"] > page.height - margin})
    return sorted(items, key=lambda item: item["top"])


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split()))


def _running_lines(pages: list[list[dict]]) -> set[str]:
    """Margin lines that recur (digits aside) on more than one page."""
    seen: dict[str, int] = {}
    for items in pages:
        for key in {_furniture_key(i["text"]) for i in items if i["kind"] == "line" and i["margin"]}:
            seen[key] = seen.get(key, 0) + 1
    return {key for key, count in seen.items() if count >= 2}



def _naive(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def draw_page(data: bytes, page: int, quote: str) -> tuple[bytes, float | None]:
    """Page `page` (from 1) as a PNG, the words of `quote` boxed where pdfplumber finds them on it
    (any spacing and line breaks between its characters, so a quote wrapped over lines or written
    without spaces is still found); and how far down the page the first box is (0-1), or None
    when the quote is not found."""
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        if not 1 <= page <= len(pdf.pages):
            raise LoadError(f"no page {page}")
        sheet = pdf.pages[page - 1]
        found = []
        letters = [c for c in (quote or "") if not c.isspace()][:400]
        if letters:
            pattern = r"\s*".join(re.escape(c) for c in letters)
            found = sheet.search(pattern, regex=True, case=False, return_chars=False)
        image = sheet.to_image(resolution=_PREVIEW_DPI)
        for match in found:
            image.draw_rect((match["x0"] - 1, match["top"] - 1, match["x1"] + 1, match["bottom"] + 1),
                            fill=(255, 214, 0, 90), stroke=(191, 120, 0), stroke_width=2)
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue(), (found[0]["top"] / float(sheet.height)) if found else None


_PREVIEW_DPI = 110

PDF = Format("pdf", (".pdf",), "application/pdf", "a PDF", lambda data: (pdf_to_text(data), "pdf"), _naive,
             unit="p.", magic=b"%PDF-", limits=check_limits, opens_at_page=True, draw_page=draw_page)
