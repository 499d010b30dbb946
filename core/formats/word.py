"""Word (.docx) with python-docx: paragraphs in order, the Title and Heading styles as headings,
tables as pipe rows."""
from __future__ import annotations

import io

from .base import Format, LoadError, pipe_row as _pipe_row


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


def _naive(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


DOCX = Format("docx", (".docx",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "a Word (.docx) file", lambda data: (docx_to_text(data), "docx"), _naive,
              unit="p.", zip_part="word/document.xml")
