"""Load stage: a file on disk -> SourceDoc (decoded text), or LoadError with a one-line reason."""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from .models import SourceDoc

SUPPORTED = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".pdf": "pdf",
             ".docx": "docx", ".html": "html", ".htm": "html", ".pptx": "pptx"}
# cp932, not shift_jis: shift_jis cannot decode ① or 髙 and maps ～ wrongly.
# Never latin-1: it decodes anything and would store mojibake.
TEXT_ENCODINGS = ("utf-8-sig", "cp932", "euc-jp")
_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0b\x0e-\x1f\x7f]")


class LoadError(Exception):
    """A file that cannot be indexed; the message is the reason, for stderr."""


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes with the first encoding that fits; raise LoadError if none does."""
    if b"\x00" in data:
        raise LoadError("contains NUL bytes (binary file?)")
    # No text encoding we accept puts control bytes inside characters, so many of them = binary.
    head = data[:8192]
    if len(_CONTROL_BYTES.findall(head)) > max(2, len(head) // 100):
        raise LoadError("binary content (control bytes), not text")
    for encoding in TEXT_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, encoding
    raise LoadError("undecodable: not UTF-8, cp932 or EUC-JP")


def check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise LoadError(f"too large: {size} bytes > limit {max_bytes} (IURC_MAX_FILE_BYTES)")


def read_file(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, or LoadError when it is too large or unreadable."""
    try:
        check_size(path.stat().st_size, max_bytes)
        return path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}") from None


def load(path: str | Path, doc: str, max_bytes: int, data: bytes | None = None) -> SourceDoc:
    """Read one file (or decode `data` already read from it). `doc` is the stable name it is
    stored under."""
    path = Path(path)
    fmt = SUPPORTED.get(path.suffix.lower())
    if fmt is None:
        raise LoadError(f"unsupported file type {path.suffix or '(none)'}; supported: "
                        + " ".join(sorted(SUPPORTED)))
    if data is None:
        data = read_file(path, max_bytes)
    sha = hashlib.sha256(data).hexdigest()
    check_content(fmt, data)
    check_limits(fmt, data)
    if fmt in ("txt", "md"):
        text, encoding = decode_text(data)
    elif fmt == "html":
        raw, encoding = decode_text(data)
        text = html_to_text(raw)
    elif fmt == "pdf":
        text, encoding = pdf_to_text(data), "pdf"
    elif fmt == "pptx":
        text, encoding = pptx_to_text(data), "pptx"
    else:
        text, encoding = docx_to_text(data), "docx"
    if not text.strip():
        raise LoadError("empty: no text")
    return SourceDoc(path=str(path), doc=doc, text=text, sha256=sha, encoding=encoding, format=fmt)


# --- type by content, and limits, checked before any parser sees the bytes ---------------------

# What a file's first bytes say it is, for the message when its name claims another format.
_MAGIC = ((b"%PDF-", "a PDF"), (b"PK\x03\x04", "a ZIP archive"), (b"\x7fELF", "an executable (ELF)"),
          (b"MZ", "an executable (Windows)"), (b"\xca\xfe\xba\xbe", "an executable (Mach-O or Java)"),
          (b"\xcf\xfa\xed\xfe", "an executable (Mach-O)"), (b"#!", "a script"),
          (b"\x1f\x8b", "a gzip archive"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
          (b"\xd0\xcf\x11\xe0", "an old Office file (.doc/.ppt/.xls)"), (b"Rar!", "a RAR archive"),
          (b"7z\xbc\xaf", "a 7-Zip archive"))
# The part every Word / PowerPoint file has, by the Office Open XML standard.
_MAIN_PART = {"docx": "word/document.xml", "pptx": "ppt/presentation.xml"}
_LABEL = {"pdf": "a PDF", "docx": "a Word (.docx) file", "pptx": "a PowerPoint (.pptx) file"}


def content_kind(data: bytes) -> str:
    """What the first bytes say the file is ("an executable (ELF)"), or "" when they say nothing."""
    head = data[:8].lstrip(b"\xef\xbb\xbf")
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), "")


def check_content(fmt: str, data: bytes) -> None:
    """The file is what its name says, judged by its bytes, not its name: a PDF starts with
    %PDF- (within the first KB, as readers allow), a DOCX/PPTX is a ZIP holding its main part,
    and a text or HTML file is not a binary format renamed."""
    import zipfile

    kind = content_kind(data)
    if fmt == "pdf":
        if b"%PDF-" not in data[:1024]:
            raise LoadError(f"not a PDF: the content is {kind or 'something else'}")
    elif fmt in _MAIN_PART:
        if kind != "a ZIP archive":
            raise LoadError(f"not {_LABEL[fmt]}: the content is {kind or 'not a ZIP archive'}")
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise LoadError(f"unreadable {_LABEL[fmt]}: {exc}") from None
        if _MAIN_PART[fmt] not in names:
            other = next((f for f, part in _MAIN_PART.items() if part in names), "")
            raise LoadError(f"not {_LABEL[fmt]}: the archive has no {_MAIN_PART[fmt]}"
                            + (f" (it is {_LABEL[other]})" if other else ""))
    elif kind in ("a PDF", "a ZIP archive") or (kind and b"\x00" in data[:4096]):
        # (Two letters such as "MZ" may also start a real text; binary formats hold NUL bytes.)
        raise LoadError(f"not text: the content is {kind}")


def check_limits(fmt: str, data: bytes) -> None:
    """Refuse, before parsing, a file whose parser would need far more memory or time than its
    size suggests: a ZIP bomb (DOCX, PPTX), a PDF with a huge page tree or an inflating stream."""
    from . import settings

    if fmt in ("docx", "pptx"):
        _check_zip(data, "Word" if fmt == "docx" else "PowerPoint", settings.get("max_unpacked_bytes"),
                   settings.get("max_compression_ratio"), settings.get("max_zip_entries"))
    elif fmt == "pdf":
        _check_pdf(data, settings.get("max_unpacked_bytes"), settings.get("max_pdf_pages"))


def _check_zip(data: bytes, label: str, max_unpacked: int, max_ratio: float, max_entries: int) -> None:
    """The sizes a ZIP declares bind: Python's zipfile (which python-docx and python-pptx read
    through) stops at the declared size and fails on more."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise LoadError(f"unreadable {label} file: {exc}") from None
    if len(entries) > max_entries:
        raise LoadError(f"holds {len(entries)} files > limit {max_entries} (IURC_MAX_ZIP_ENTRIES)")
    unpacked = sum(e.file_size for e in entries)
    if unpacked > max_unpacked:
        raise LoadError(f"unpacks to {unpacked} bytes > limit {max_unpacked} (IURC_MAX_UNPACKED_BYTES)")
    if unpacked > 1_000_000 and unpacked / max(len(data), 1) > max_ratio:
        raise LoadError(f"compressed {unpacked // max(len(data), 1)}:1 > limit {max_ratio}:1 "
                        "(IURC_MAX_COMPRESSION_RATIO): a ZIP bomb?")


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


def pptx_to_text(data: bytes) -> str:
    """One page per slide (form feeds): its title as "# ", text frames in reading order, tables
    as pipe rows with the header row first, speaker notes as a paragraph marked as notes."""
    import zipfile

    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    try:
        deck = Presentation(io.BytesIO(data))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise LoadError(f"unreadable PowerPoint file: {exc}") from None
    slides = []
    for number, slide in enumerate(deck.slides, start=1):
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None and \
            title_shape.has_text_frame else ""
        parts = [f"# {title or f'Slide {number}'}"]
        title_id = title_shape.shape_id if title_shape is not None else None
        shapes = sorted((s for s in slide.shapes if s.shape_id != title_id),
                        key=lambda s: ((s.top or 0), (s.left or 0)))
        for shape in shapes:
            if getattr(shape, "has_table", False) and shape.has_table:
                parts.append("\n".join(_pipe_row([cell.text for cell in row.cells]) for row in shape.table.rows))
            elif shape.has_text_frame:
                paragraphs = [" ".join(p.text.split()) for p in shape.text_frame.paragraphs]
                text = "\n".join(p for p in paragraphs if p)
                if text:
                    parts.append(text)
        if slide.has_notes_slide:
            notes = " ".join(slide.notes_slide.notes_text_frame.text.split())
            if notes:
                parts.append(f"Speaker notes: {notes}")
        slides.append("\n\n".join(parts))
    return "\n\f".join(slides)


def docx_to_text(data: bytes) -> str:
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(f"unreadable Word file: {exc}") from None
    parts = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = docx.text.paragraph.Paragraph(child, document)
            text = para.text.strip()
            if not text:
                continue
            style = (para.style.name or "").lower() if para.style is not None else ""
            if style == "title":
                parts.append("# " + text)
            elif style.startswith("heading"):
                level = int(style.split()[-1]) if style.split()[-1].isdigit() else 1
                parts.append("#" * (level + 1) + " " + text)
            else:
                parts.append(text)
        elif tag == "tbl":
            table = docx.table.Table(child, document)
            parts.append("\n".join(_pipe_row([c.text for c in row.cells]) for row in table.rows))
    return "\n\n".join(parts)


def _pipe_row(cells: list[str]) -> str:
    return "| " + " | ".join(" ".join(c.split()).replace("|", "/") for c in cells) + " |"


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
