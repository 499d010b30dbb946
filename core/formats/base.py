"""What every format plug-in shares: the `Format` record the registry holds, the load error,
text decoding, content sniffing by magic bytes, the ZIP limits of Office Open XML files, and
pipe rows (how every format writes a table for the structure stage)."""
from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass


class LoadError(Exception):
    """A file that cannot be indexed; the message is the reason, for stderr."""


@dataclass(frozen=True)
class Format:
    """One file format, as loading, staff upload, the original-file route, the location of a
    passage and the naive baseline know it."""
    name: str                              # stored with every document ("pdf")
    extensions: tuple[str, ...]            # file endings, lower case, with the dot
    media_type: str                        # how /original serves the file
    label: str                             # in messages: "a Word (.docx) file"
    parse: Callable[[bytes], tuple[str, str]]  # bytes -> (structured text, encoding or format name)
    naive: Callable[[bytes], str]          # the naive baseline's plain text (no structure)
    unit: str = "p."                       # what a reader calls one of its pages ("slide", "sheet")
    magic: bytes = b""                     # its first bytes (within the first KB), when binary
    zip_part: str = ""                     # the part an Office Open XML file of this kind holds
    limits: Callable[[bytes], None] | None = None  # pre-parse limits beyond a ZIP's
    hard_wrapped: bool = False             # plain text whose writer may break lines mid-sentence
    opens_at_page: bool = False            # a browser's viewer opens it at "#page=N"
    # The source preview: a page drawn as an image with the quoted words boxed ((data, page,
    # quote) -> (PNG bytes, how far down the page the quote is, 0-1, or None when not found)),
    # else its text lines, laid out as a "document" (every line, the cited ones marked) or a
    # "slide" (one page's lines on a card).
    draw_page: Callable[[bytes, int, str], tuple[bytes, float | None]] | None = None
    layout: str = "document"

    @property
    def noun(self) -> str:
        """The label without its article: "unreadable Word (.docx) file"."""
        first, _, rest = self.label.partition(" ")
        return rest if first in ("a", "an") and rest else self.label


# cp932, not shift_jis: shift_jis cannot decode ① or 髙 and maps ～ wrongly.
# Never latin-1: it decodes anything and would store mojibake.
TEXT_ENCODINGS = ("utf-8-sig", "cp932", "euc-jp")
_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0b\x0e-\x1f\x7f]")


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


# What a file's first bytes say it is, for the message when its name claims another format.
_MAGIC = ((b"%PDF-", "a PDF"), (b"PK\x03\x04", "a ZIP archive"), (b"\x7fELF", "an executable (ELF)"),
          (b"MZ", "an executable (Windows)"), (b"\xca\xfe\xba\xbe", "an executable (Mach-O or Java)"),
          (b"\xcf\xfa\xed\xfe", "an executable (Mach-O)"), (b"#!", "a script"),
          (b"\x1f\x8b", "a gzip archive"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
          (b"\xd0\xcf\x11\xe0", "an old Office file (.doc/.ppt/.xls)"), (b"Rar!", "a RAR archive"),
          (b"7z\xbc\xaf", "a 7-Zip archive"))


def content_kind(data: bytes) -> str:
    """What the first bytes say the file is ("an executable (ELF)"), or "" when they say nothing."""
    head = data[:8].lstrip(b"\xef\xbb\xbf")
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), "")


def check_zip(data: bytes, label: str) -> None:
    """`label`: the format's noun, for the message ("Word (.docx) file")."""
    """The sizes a ZIP declares bind: Python's zipfile (which python-docx, python-pptx and
    openpyxl read through) stops at the declared size and fails on more."""
    import zipfile

    from .. import settings

    max_unpacked, max_ratio = settings.get("max_unpacked_bytes"), settings.get("max_compression_ratio")
    max_entries = settings.get("max_zip_entries")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise LoadError(f"unreadable {label}: {exc}") from None
    if len(entries) > max_entries:
        raise LoadError(f"holds {len(entries)} files > limit {max_entries} (IURC_MAX_ZIP_ENTRIES)")
    unpacked = sum(e.file_size for e in entries)
    if unpacked > max_unpacked:
        raise LoadError(f"unpacks to {unpacked} bytes > limit {max_unpacked} (IURC_MAX_UNPACKED_BYTES)")
    if unpacked > 1_000_000 and unpacked / max(len(data), 1) > max_ratio:
        raise LoadError(f"compressed {unpacked // max(len(data), 1)}:1 > limit {max_ratio}:1 "
                        "(IURC_MAX_COMPRESSION_RATIO): a ZIP bomb?")


def pipe_row(cells: list[str]) -> str:
    """A table row as the structure stage reads it: "| a | b |", whitespace folded."""
    return "| " + " | ".join(" ".join(str(c).split()).replace("|", "/") for c in cells) + " |"
