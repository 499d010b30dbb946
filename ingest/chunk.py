"""Chunk stage: section-aware, sentence-aware passages; one passage per table row."""
from __future__ import annotations

import hashlib

from langchain_text_splitters import RecursiveCharacterTextSplitter

from core.formats import BY_NAME
from core.text import detect_language
from core.models import Block, Chunk, StructuredDoc

# Paragraphs first, then sentence ends in both languages, then clauses, then words.
SEPARATORS = ["\n\n", "\n", "。", "！", "？", ". ", "! ", "? ", "、", ", ", " ", ""]


def chunk_id(doc: str, text: str) -> str:
    """Content hash of source and text: stable across processes and machines."""
    return hashlib.sha256(f"{doc}\n{text}".encode("utf-8")).hexdigest()


def _unit(fmt: str) -> str:
    """How a reader names the unit a format is cut into (its plug-in says: "slide", "sheet")."""
    return BY_NAME[fmt].unit if fmt in BY_NAME else "p."


def _location(section: str, page: int, first: int, last: int, unit: str = "p.") -> str:
    parts = []
    if page:
        parts.append(f"{unit} {page}")
    if section:
        parts.append(section)
    parts.append(f"line {first}" if first == last else f"lines {first}-{last}")
    return " · ".join(parts)


def row_text(block: Block) -> str:
    """A table row as a self-describing passage: title, group, then column: value pairs."""
    row = block.row
    head = row.table + (f" · {row.group}" if row.group else "")
    cells = "; ".join(f"{name}: {value}" for name, value in row.values.items())
    # One line: a quote of the row then always carries its table, group and year.
    return f"{head} | {cells}" if head else cells


def chunk(doc: StructuredDoc, chunk_size: int = 500) -> list[Chunk]:
    """Cut a structured document into passages; passages never cross sections or documents."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=0, separators=SEPARATORS,
        keep_separator="end", add_start_index=True, strip_whitespace=True,
    )
    name = doc.clean.source.doc
    clean_text = doc.clean.text
    chunks: list[Chunk] = []
    seen: set[str] = set()

    def add(text: str, block: Block, start: int, end: int, kind: str, record=None, body: str = ""):
        cid = chunk_id(name, text)
        if cid in seen:  # the same passage twice in one document is stored once
            return
        seen.add(cid)
        covered = [ln for ln in block.lines if ln.end > start and ln.start < end] or block.lines
        chunks.append(Chunk(
            chunk_id=cid, doc=name,
            location=_location(block.section, covered[0].page, covered[0].first_line, covered[-1].last_line,
                               _unit(doc.clean.source.format)),
            section=block.section, language=detect_language(body or text), kind=kind, text=text,
            char_start=start, char_end=end, line_start=covered[0].first_line,
            line_end=covered[-1].last_line, page=covered[0].page, record=record,
        ))

    for block in doc.blocks:
        if block.kind == "table_row":
            add(row_text(block), block, block.start, block.end, "table_row", block.row.as_record(),
                body=" ".join(block.row.values.values()))
        elif block.kind == "text":
            span = clean_text[block.start:block.end]
            for piece in splitter.create_documents([span]):
                start = block.start + piece.metadata["start_index"]
                body = piece.page_content
                # The heading travels with the passage: it names the pair or topic it is about.
                text = f"{block.section}\n{body}" if block.section else body
                add(text, block, start, start + len(body), "text", body=body)
    return chunks
