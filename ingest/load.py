"""Load stage: a file on disk -> SourceDoc (decoded structured text), or LoadError with a
one-line reason. What each format is and how it is parsed lives in its plug-in (core/formats/);
this module reads the file, checks it and calls the plug-in."""
from __future__ import annotations

import hashlib
from pathlib import Path

from core.formats import BY_NAME, SUPPORTED, LoadError, check_size, decode_text, for_name, read_file
from core.formats import check_content as _check_content
from core.formats import check_limits as _check_limits
from core.formats.base import TEXT_ENCODINGS
from core.models import SourceDoc

__all__ = ["SUPPORTED", "TEXT_ENCODINGS", "LoadError", "check_content", "check_limits", "check_size",
           "decode_text", "load", "read_file"]


def check_content(fmt: str, data: bytes) -> None:
    """The bytes are of format `fmt` (a name in SUPPORTED's values), else LoadError."""
    _check_content(BY_NAME[fmt], data)


def check_limits(fmt: str, data: bytes) -> None:
    """The file is within the unpacking limits of format `fmt`, else LoadError."""
    _check_limits(BY_NAME[fmt], data)


def load(path: str | Path, doc: str, max_bytes: int, data: bytes | None = None) -> SourceDoc:
    """Read one file (or decode `data` already read from it). `doc` is the stable name it is
    stored under."""
    path = Path(path)
    fmt = for_name(path.name)
    if data is None:
        data = read_file(path, max_bytes)
    sha = hashlib.sha256(data).hexdigest()
    _check_content(fmt, data)
    _check_limits(fmt, data)
    text, encoding = fmt.parse(data)
    if not text.strip():
        raise LoadError("empty: no text")
    return SourceDoc(path=str(path), doc=doc, text=text, sha256=sha, encoding=encoding, format=fmt.name)
