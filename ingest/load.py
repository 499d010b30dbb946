"""Load stage: a file on disk -> SourceDoc (decoded text), or LoadError with a one-line reason."""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from .models import SourceDoc

SUPPORTED = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".pdf": "pdf",
             ".docx": "docx", ".html": "html", ".htm": "html"}
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


def read_file(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, or LoadError when it is too large or unreadable."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LoadError(f"too large: {size} bytes > limit {max_bytes} (IURC_MAX_FILE_BYTES)")
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
    if fmt in ("txt", "md"):
        text, encoding = decode_text(data)
    elif fmt == "html":
        raw, encoding = decode_text(data)
        text = html_to_text(raw)
    elif fmt == "pdf":
        text, encoding = pdf_to_text(data), "pdf"
    else:
        text, encoding = docx_to_text(data), "docx"
    if not text.strip():
        raise LoadError("empty: no text")
    return SourceDoc(path=str(path), doc=doc, text=text, sha256=sha, encoding=encoding, format=fmt)


def pdf_to_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise LoadError("encrypted PDF")
        return "\f".join((page.extract_text() or "") for page in reader.pages)
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"unreadable PDF: {exc}") from None


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
            if style.startswith("heading") or style == "title":
                parts.append("# " + text)
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
    """Visible text of an HTML page: headings as '# ', tables as pipe rows, hidden text dropped."""
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
