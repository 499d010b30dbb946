"""Plain text and Markdown: decoded (UTF-8, cp932, EUC-JP), kept as written; the cleaning stage
joins lines their writer wrapped (`hard_wrapped`)."""
from __future__ import annotations

from .base import Format, decode_text


def _naive(data: bytes) -> str:
    return decode_text(data)[0]


TEXT = Format("txt", (".txt", ".text"), "text/plain; charset=utf-8", "a text file", decode_text, _naive,
              unit="p.", hard_wrapped=True)
MARKDOWN = Format("md", (".md", ".markdown"), "text/plain; charset=utf-8", "a Markdown file", decode_text, _naive,
                  unit="p.", hard_wrapped=True)
