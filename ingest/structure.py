"""Structure stage: sections (headings, slide/page starts) and table rows recovered as records.

Two kinds of table are recognised:
- Markdown pipe tables ("| a | b |"), which the Word and HTML loaders also produce;
- tables flattened by slide/PDF extraction: a header line, optional group labels
  ("1st batch", "2017-"), then rows that begin with two or more glossary names (cities,
  countries) followed by free text; lines in between continue the current row.
"""
from __future__ import annotations

import re

from core.text import SECTION_JOINER

from .clean import HEADING_CUE, MAX_CUED_HEADING_CHARS, is_standalone_title
from core.glossary import Glossary, is_cjk
from core.models import Block, CleanDoc, CleanLine, StructuredDoc, TableRow

_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_CONNECTOR = re.compile(r"\s*(?:and|&|・|,|/|＆)\s*", re.I)
MAX_HEADING_CHARS = 80


def _cjk_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(is_cjk(c) for c in letters) / len(letters) if letters else 0.0


def _looks_like_heading(line: CleanLine, index: int, lines: list[CleanLine]) -> bool:
    text = line.text
    if text.startswith("#"):
        return True
    following = lines[index + 1] if index + 1 < len(lines) else None
    if following is None or text.startswith("|"):
        return False
    if HEADING_CUE.match(text) and len(text) <= MAX_CUED_HEADING_CHARS and text[-1] not in "。.、,:;" \
            and not HEADING_CUE.match(following.text) and len(following.text) > 2 * len(text):
        # "2. 背景", "第3章 …", "■ お知らせ", "【概要】" above a paragraph; not an item of a list
        # (the next line is another item) nor a legend entry (the next line is as short)
        return True
    if is_standalone_title(line, following):
        return True
    if len(text) > MAX_HEADING_CHARS or text[-1] in ".。!?！？,、:;" or text.startswith("|"):
        return False
    if not any(c.isalpha() for c in text):
        return False
    starts_block = index == 0 or line.indented or line.blank_before >= 2 or (
        index > 0 and lines[index - 1].page != line.page)
    if not starts_block:
        return False
    # A heading introduces something longer than itself.
    following = lines[index + 1] if index + 1 < len(lines) else None
    return following is not None and len(following.text) > len(text) or text.startswith("#")


def row_cells(text: str, glossary: Glossary) -> tuple[list[str], list[str], str]:
    """Leading cells made of glossary names, their entity ids, and the rest of the row."""
    cells, entities, pos = [], [], 0
    while True:
        while pos < len(text) and text[pos] == " ":
            pos += 1
        mention = glossary.match_at(text, pos)
        if mention is None:
            break
        cell_start, pos = pos, mention.end
        entities.append(mention.entity_id)
        # "Nagano and Obuse", "Nagano & Obuse": one cell naming two places.
        while True:
            joiner = _CONNECTOR.match(text, pos)
            nxt = glossary.match_at(text, joiner.end()) if joiner and joiner.end() > pos else None
            if nxt is None:
                break
            entities.append(nxt.entity_id)
            pos = nxt.end
        cells.append(text[cell_start:pos])
    return cells, entities, text[pos:].strip()


def _is_row_start(line: CleanLine, glossary: Glossary) -> bool:
    cells, _, _ = row_cells(line.text, glossary)
    return len(cells) >= 2


def split_header(header: str, n_columns: int) -> list[str]:
    """Split a flattened header line into n column names.

    Names start at capitalised words; a capitalised word that recurs ("City" in
    "Japanese City EU City") is a shared head noun and belongs to the name before it.
    """
    words = header.split()
    segments: list[list[str]] = []
    for word in words:
        if word[:1].isupper() or word[:1].isdigit() or not segments:
            segments.append([word])
        else:
            segments[-1].append(word)
    counts: dict[str, int] = {}
    for seg in segments:
        if len(seg) == 1:
            counts[seg[0]] = counts.get(seg[0], 0) + 1
    merged: list[list[str]] = []
    for seg in segments:
        if merged and len(seg) == 1 and counts.get(seg[0], 0) > 1:
            merged[-1] = merged[-1] + seg
        else:
            merged.append(seg)
    names = [" ".join(seg) for seg in merged]
    if len(names) == n_columns:
        return names
    return [f"column {i + 1}" for i in range(n_columns)]


def _group_label(line: CleanLine) -> bool:
    words = line.text.split()
    return len(words) <= 4 and len(line.text) <= 30 and _cjk_share(line.text) < 0.5


def _heading_level(text: str) -> int:
    """Markdown-style level of a heading line ("## x" is 2); headings found by cues are 1."""
    return len(text) - len(text.lstrip("#")) or 1


def structure(clean: CleanDoc, glossary: Glossary) -> StructuredDoc:
    lines = clean.lines
    doc = StructuredDoc(clean=clean)
    section = ""
    # The path of open headings: a passage is labelled with every heading above it
    # ("Report title › 3. Participants"), so the document's subject travels with each passage.
    path: list[tuple[int, str]] = []
    i = 0
    pending: list[CleanLine] = []  # text lines of the current run

    def flush_text():
        if pending:
            doc.blocks.append(Block("text", section, list(pending)))
            pending.clear()

    while i < len(lines):
        line = lines[i]
        if line.text.startswith("|"):
            flush_text()
            i = _pipe_table(lines, i, section, glossary, doc)
            continue
        if _is_row_start(line, glossary) and i + 1 < len(lines):
            end = _flat_table(lines, i, section, glossary, doc, pending)
            if end is not None:
                i = end
                continue
        if _looks_like_heading(line, i, lines):
            flush_text()
            level = _heading_level(line.text)
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, line.text.lstrip("#").strip()))
            section = SECTION_JOINER.join(text for _, text in path)
            doc.blocks.append(Block("heading", section, [line]))
            i += 1
            continue
        pending.append(line)
        i += 1
    flush_text()
    return doc


def _flat_table(lines, first_row: int, section: str, glossary: Glossary, doc: StructuredDoc,
                pending: list[CleanLine]) -> int | None:
    """Recover a flattened table whose first row is lines[first_row]; None if it is not one."""
    # Group labels and the header sit just above the first row, after the pending text.
    labels: list[CleanLine] = []
    j = len(pending) - 1
    while j >= 0 and _group_label(pending[j]) and not _is_row_start(pending[j], glossary):
        labels.insert(0, pending[j])
        j -= 1
    header_line = pending[j] if j >= 0 else None
    # Collect rows: a row is a row-start line plus the lines continuing it.
    rows: list[tuple[str, list[CleanLine], list[CleanLine]]] = []  # (group, label lines, row lines)
    group_lines = labels
    k = first_row
    while k < len(lines):
        line = lines[k]
        if _is_row_start(line, glossary):
            rows.append((" ".join(g.text for g in group_lines), list(group_lines), [line]))
            k += 1
            continue
        if not rows or line.blank_before >= 2 or line.indented or _cjk_share(line.text) >= 0.5 \
                or line.text.startswith(("#", "|")):
            break
        if _group_label(line) and k + 1 < len(lines) and (
                _is_row_start(lines[k + 1], glossary) or _group_label(lines[k + 1])):
            # A new group starts ("2nd batch", "2018-"): labels until the next row.
            labels_here = []
            while k < len(lines) and _group_label(lines[k]) and not _is_row_start(lines[k], glossary):
                labels_here.append(lines[k])
                k += 1
            group_lines = labels_here
            continue
        rows[-1][2].append(line)
        k += 1
    if len(rows) < 2:
        return None
    # Commit: the header and labels leave the pending text run.
    keep = j if header_line is not None and not _cjk_share(header_line.text) >= 0.5 else j + 1
    header_text = header_line.text if header_line is not None and keep == j else ""
    del pending[max(keep, 0):]
    if pending:
        doc.blocks.append(Block("text", section, list(pending)))
        pending.clear()
    parsed = []
    for group, _, row_lines in rows:
        text = " ".join(r.text for r in row_lines)
        cells, entities, rest = row_cells(text, glossary)
        parsed.append((group, row_lines, cells + ([rest] if rest else []), entities))
    n_columns = max(len(p[2]) for p in parsed)
    columns = split_header(header_text, n_columns) if header_text else [
        f"column {i + 1}" for i in range(n_columns)]
    title = section
    for group, row_lines, values, entities in parsed:
        year = _YEAR.search(group)
        row = TableRow(
            table=title + (f" ({header_text})" if columns[0] == "column 1" and header_text else ""),
            columns=columns,
            values={columns[c]: v for c, v in enumerate(values)},
            group=group,
            start_year=year.group(0) if year else "",
            entities=list(dict.fromkeys(entities)),
        )
        doc.blocks.append(Block("table_row", section, row_lines, row))
    return k


def _split_pipe(text: str) -> list[str]:
    return [c.strip() for c in text.strip().strip("|").split("|")]


def _pipe_table(lines, i: int, section: str, glossary: Glossary, doc: StructuredDoc) -> int:
    """A Markdown table: header row, optional --- row, data rows."""
    block = []
    while i < len(lines) and lines[i].text.startswith("|"):
        block.append(lines[i])
        i += 1
    header = _split_pipe(block[0].text)
    body = [b for b in block[1:] if not re.fullmatch(r"[\s|:\-]+", b.text)]
    if not body:
        doc.blocks.append(Block("text", section, block))
        return i
    for line in body:
        cells = _split_pipe(line.text)
        values = {header[c] if c < len(header) and header[c] else f"column {c + 1}": v
                  for c, v in enumerate(cells) if v}
        entities = [m.entity_id for m in glossary.find(" | ".join(cells))]
        doc.blocks.append(Block("table_row", section, [line], TableRow(
            table=section, columns=[h or f"column {c + 1}" for c, h in enumerate(header)],
            values=values, group="", start_year="",
            entities=list(dict.fromkeys(entities)))))
    return i
