"""Format plug-ins: one module per file format, each declaring a `Format` (endings, media type,
content sniffing, limits, the unit a reader calls its pages, its structured-text parser and the
naive baseline's text). Loading, staff upload, the original-file route, passage locations and
the naive baseline all read this registry. A new format is one module here plus one line below.
"""
from __future__ import annotations

import io
from pathlib import Path

from .base import Format, LoadError, check_zip, content_kind, decode_text, pipe_row
from .pdf import PDF
from .sheets import XLSX
from .slides import PPTX
from .text import MARKDOWN, TEXT
from .webpage import HTML
from .word import DOCX

FORMATS: tuple[Format, ...] = (TEXT, MARKDOWN, PDF, DOCX, HTML, PPTX, XLSX)
BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}
# File ending -> format name.
SUPPORTED: dict[str, str] = {ext: f.name for f in FORMATS for ext in f.extensions}

__all__ = ["BY_NAME", "FORMATS", "SUPPORTED", "Format", "LoadError", "check_content", "check_limits",
           "check_size", "content_kind", "decode_text", "for_name", "pipe_row", "read_file"]


def for_name(name: str) -> Format:
    """The format of a file name, or LoadError naming the endings we read."""
    found = SUPPORTED.get(Path(name).suffix.lower())
    if found is None:
        raise LoadError(f"unsupported file type {Path(name).suffix or '(none)'}; supported: "
                        + " ".join(sorted(SUPPORTED)))
    return BY_NAME[found]


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


def check_content(fmt: Format, data: bytes) -> None:
    """The file is what its name says, judged by its bytes, not its name: a binary format starts
    with its magic bytes (within the first KB, as readers allow), an Office Open XML file is a ZIP
    holding its main part, and a text format is not a binary format renamed."""
    import zipfile

    kind = content_kind(data)
    if fmt.magic:
        if fmt.magic not in data[:1024]:
            raise LoadError(f"not {fmt.label}: the content is {kind or 'something else'}")
    elif fmt.zip_part:
        if kind != "a ZIP archive":
            raise LoadError(f"not {fmt.label}: the content is {kind or 'not a ZIP archive'}")
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise LoadError(f"unreadable {fmt.noun}: {exc}") from None
        if fmt.zip_part not in names:
            other = next((f for f in FORMATS if f.zip_part and f.zip_part in names), None)
            raise LoadError(f"not {fmt.label}: the archive has no {fmt.zip_part}"
                            + (f" (it is {other.label})" if other else ""))
    elif kind in ("a PDF", "a ZIP archive") or (kind and b"\x00" in data[:4096]):
        # (Two letters such as "MZ" may also start a real text; binary formats hold NUL bytes.)
        raise LoadError(f"not text: the content is {kind}")


def check_limits(fmt: Format, data: bytes) -> None:
    """Refuse, before parsing, a file whose parser would need far more memory or time than its
    size suggests: a ZIP bomb (any Office Open XML file), or the format's own limits (a PDF's
    page tree and inflating streams)."""
    if fmt.zip_part:
        check_zip(data, fmt.noun)
    if fmt.limits is not None:
        fmt.limits(data)
