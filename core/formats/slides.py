"""PowerPoint (.pptx) with python-pptx: one page per slide, its title as a heading, text frames
in reading order, tables as pipe rows, speaker notes marked as notes."""
from __future__ import annotations

import io

from .base import Format, LoadError, pipe_row as _pipe_row


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


def _naive(data: bytes) -> str:
    from pptx import Presentation

    parts = []
    for slide in Presentation(io.BytesIO(data)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                parts += [cell.text for row in shape.table.rows for cell in row.cells]
        if slide.has_notes_slide:
            parts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(parts)


PPTX = Format("pptx", (".pptx",), "application/vnd.openxmlformats-officedocument.presentationml.presentation",
              "a PowerPoint (.pptx) file", lambda data: (pptx_to_text(data), "pptx"), _naive,
              unit="slide", zip_part="ppt/presentation.xml", layout="slide")
