"""Build the evaluation corpus from checked-in text: `python -m eval.build_corpus`.

Reads eval/corpus_src/ and writes eval/corpus/iurc_unseen/ in the formats staff receive:
a slide deck as PPTX and as a landscape PDF export, a Japanese report PDF with a running
header and page-number footer, English and Japanese DOCX with tables, HTML pages with their
boilerplate, Markdown, and a cp932 text file with CRLF line ends. Beside the folder it writes
eval/corpus/furniture.json: the headings and page-furniture lines of every built document,
which the evaluation uses to tell a bare heading or a footer from an answer.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

SRC = Path(__file__).parent / "corpus_src"
OUT = Path(__file__).parent / "corpus"
DOCS = OUT / "iurc_unseen"
# Debian's fonts-ipafont-gothic (installed by `make test`); the first one found is used.
JAPANESE_FONTS = ("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
                  "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
                  "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")


class BuildError(RuntimeError):
    pass


@dataclass
class Block:
    kind: str  # "heading", "para", "bullet", "table", "notes"
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Source:
    settings: dict[str, str]
    pages: list[list[Block]]  # slides for a deck, page groups for a report

    @property
    def headings(self) -> list[str]:
        return [b.text for page in self.pages for b in page if b.kind == "heading"]


def parse(path: Path) -> Source:
    """The `.src` markup (see corpus_src/README.md) -> settings and pages of blocks."""
    settings: dict[str, str] = {}
    pages: list[list[Block]] = [[]]
    for raw in path.read_text("utf-8").splitlines():
        line = raw.strip()
        blocks = pages[-1]
        if line.startswith("%") and ":" in line and not any(pages):
            key, value = line[1:].split(":", 1)
            settings[key.strip()] = value.strip()
        elif line == "---":
            pages.append([])
        elif not line:
            continue
        elif line.startswith("# "):
            blocks.append(Block("heading", line[2:].strip()))
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if blocks and blocks[-1].kind == "table":
                blocks[-1].rows.append(cells)
            else:
                blocks.append(Block("table", rows=[cells]))
        elif line.startswith("notes:"):
            blocks.append(Block("notes", line[len("notes:"):].strip()))
        elif line.startswith("- "):
            blocks.append(Block("bullet", line[2:].strip()))
        else:
            blocks.append(Block("para", line))
    return Source(settings, [p for p in pages if p])


def japanese_font() -> str:
    for path in JAPANESE_FONTS:
        if Path(path).exists():
            return path
    raise BuildError("no Japanese TrueType font found (tried " + ", ".join(JAPANESE_FONTS)
                     + "); install fonts-ipafont-gothic (`make test` does)")


# --- PPTX -------------------------------------------------------------------------------------

def build_pptx(source: Source, path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    for number, page in enumerate(source.pages):
        layout = deck.slide_layouts[0 if number == 0 else 5]  # title slide, then title only
        slide = deck.slides.add_slide(layout)
        title = next(b.text for b in page if b.kind == "heading")
        slide.shapes.title.text = title
        body = [b for b in page if b.kind in ("para", "bullet")]
        top = Inches(1.6)
        if number == 0:
            slide.placeholders[1].text = "\n".join(b.text for b in body)
        elif body:
            box = slide.shapes.add_textbox(Inches(0.7), top, Inches(12), Inches(1.0 + 0.5 * len(body)))
            frame = box.text_frame
            frame.word_wrap = True
            for i, block in enumerate(body):
                para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
                para.text = ("• " if block.kind == "bullet" else "") + block.text
                para.font.size = Pt(20)
            top += Inches(1.0 + 0.6 * len(body))
        for table in (b for b in page if b.kind == "table"):
            shape = slide.shapes.add_table(len(table.rows), len(table.rows[0]), Inches(0.5), top,
                                           Inches(12.3), Inches(0.5 * len(table.rows)))
            for r, row in enumerate(table.rows):
                for c, cell in enumerate(row):
                    shape.table.cell(r, c).text = cell
                    shape.table.cell(r, c).text_frame.paragraphs[0].font.size = Pt(14)
        notes = [b.text for b in page if b.kind == "notes"]
        if notes:
            slide.notes_slide.notes_text_frame.text = "\n".join(notes)
    deck.save(path)


# --- PDF --------------------------------------------------------------------------------------

def _pdf(orientation: str, fmt, font: str):
    from fpdf import FPDF

    pdf = FPDF(orientation=orientation, unit="mm", format=fmt)
    pdf.add_font("jp", fname=font)
    pdf.add_font("jp", style="B", fname=font)  # table headings are bold; one weight serves
    pdf.set_auto_page_break(True, margin=18)
    return pdf


def build_slides_pdf(source: Source, path: Path, font: str) -> None:
    """The deck as PowerPoint's "export to PDF" gives it: one landscape page per slide, a large
    title, short lines, tables drawn as tables. Speaker notes are not exported."""
    pdf = _pdf("L", (142.9, 254.0), font)
    pdf.set_auto_page_break(False)
    for page in source.pages:
        pdf.add_page()
        pdf.set_font("jp", size=26)
        title = next(b.text for b in page if b.kind == "heading")
        pdf.set_xy(14, 12)
        pdf.multi_cell(226, 12, title)
        pdf.set_y(pdf.get_y() + 6)
        for block in page:
            if block.kind in ("para", "bullet"):
                pdf.set_font("jp", size=14)
                pdf.set_x(16)
                pdf.multi_cell(222, 7.5, ("• " if block.kind == "bullet" else "") + block.text)
                pdf.set_y(pdf.get_y() + 2)
            elif block.kind == "table":
                pdf.set_font("jp", size=11)
                with pdf.table(width=226, line_height=6.5, first_row_as_headings=True) as table:
                    for row in block.rows:
                        cells = table.row()
                        for cell in row:
                            cells.cell(cell)
    pdf.output(str(path))


def build_report_pdf(source: Source, path: Path, font: str) -> list[str]:
    """A portrait A4 report with a running header and a "- n / N -" footer on every page.
    Returns the furniture lines as they appear on the pages."""
    from fpdf import FPDF

    header, footer = source.settings["header"], source.settings["footer"]

    class Report(FPDF):
        def header(self):
            self.set_font("jp", size=8)
            self.set_y(8)
            self.cell(0, 5, header, align="R")
            self.ln(10)

        def footer(self):
            self.set_y(-14)
            self.set_font("jp", size=9)
            self.cell(0, 5, footer.format(page=self.page_no(), pages="{nb}"), align="C")

    pdf = Report(orientation="P", unit="mm", format="A4")
    pdf.add_font("jp", fname=font)
    pdf.alias_nb_pages("{nb}")
    pdf.set_auto_page_break(True, margin=20)
    for page in source.pages:
        pdf.add_page()
        for block in page:
            if block.kind == "heading":
                pdf.set_font("jp", size=15 if block is source.pages[0][0] else 12)
                pdf.ln(3)
                pdf.multi_cell(0, 8, block.text)
                pdf.ln(1)
            else:
                pdf.set_font("jp", size=10.5)
                pdf.multi_cell(0, 6.5, block.text)
                pdf.ln(2)
    pdf.output(str(path))
    pages = pdf.page_no()
    return [header] + [footer.format(page=n, pages=pages) for n in range(1, pages + 1)]


# --- DOCX -------------------------------------------------------------------------------------

def build_docx(source: Source, path: Path) -> None:
    import docx

    document = docx.Document()
    first = True
    for page in source.pages:
        for block in page:
            if block.kind == "heading":
                document.add_heading(block.text, level=0 if first else 1)
                first = False
            elif block.kind == "table":
                table = document.add_table(rows=0, cols=len(block.rows[0]))
                table.style = "Table Grid"
                for row in block.rows:
                    cells = table.add_row().cells
                    for cell, text in zip(cells, row):
                        cell.text = text
            elif block.kind == "bullet":
                document.add_paragraph(block.text, style="List Bullet")
            else:
                document.add_paragraph(block.text)
    document.core_properties.title = source.settings.get("title", "")
    document.save(path)


# --- the corpus -------------------------------------------------------------------------------

def _html_furniture(html: str) -> tuple[list[str], list[str]]:
    """Headings of the main content, and the visible text of every block outside it."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main") or soup.find(id="main")
    headings = [h.get_text(" ", strip=True) for h in (main or soup).find_all(re.compile("^h[1-6]$"))]
    furniture = []
    for tag in soup.find_all(["header", "nav", "footer", "aside"]) + \
            soup.find_all(class_=re.compile("cookie|pankuzu|side|contact|skip|update|meta")) + \
            soup.find_all(id=re.compile("cookie")):
        for piece in tag.stripped_strings:
            if piece not in furniture:
                furniture.append(piece)
    return headings, furniture


def _text_headings(text: str) -> list[str]:
    """Short lines standing alone as a paragraph's first line (titles of the articles)."""
    lines = text.splitlines()
    return [line.strip() for i, line in enumerate(lines)
            if line.strip() and (i == 0 or not lines[i - 1].strip()) and len(line.strip()) <= 40
            and i + 1 < len(lines) and lines[i + 1].strip()]


def build(out: Path = OUT) -> dict:
    docs = out / DOCS.name
    if docs.exists():
        shutil.rmtree(docs)
    docs.mkdir(parents=True)
    font = japanese_font()
    furniture: dict[str, dict[str, list[str]]] = {}

    def record(name: str, headings: list[str], lines: list[str] | None = None) -> None:
        furniture[f"{docs.name}/{name}"] = {"headings": headings, "furniture": lines or []}

    deck = parse(SRC / "iurc_briefing_2022.slides.src")
    build_pptx(deck, docs / "iurc_briefing_2022.pptx")
    record("iurc_briefing_2022.pptx", deck.headings)
    build_slides_pdf(deck, docs / "iurc_briefing_2022_export.pdf", font)
    record("iurc_briefing_2022_export.pdf", deck.headings)

    report = parse(SRC / "iurc_japan_report_ja.report.src")
    lines = build_report_pdf(report, docs / "iurc_japan_report_ja.pdf", font)
    record("iurc_japan_report_ja.pdf", report.headings, lines)

    for stem in ("r2r_exchange_minutes", "kawasaki_activity_record_ja"):
        source = parse(SRC / f"{stem}.docx.src")
        build_docx(source, docs / f"{stem}.docx")
        record(f"{stem}.docx", source.headings)

    for name in ("news_osaka_manchester.html", "nagoya_turin_city_page_ja.html"):
        html = (SRC / name).read_text("utf-8")
        (docs / name).write_text(html, "utf-8")
        record(name, *_html_furniture(html))

    markdown = (SRC / "cluster_hydrogen_kickoff.md").read_text("utf-8")
    (docs / "cluster_hydrogen_kickoff.md").write_text(markdown, "utf-8")
    record("cluster_hydrogen_kickoff.md",
           [line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("#")])

    # Articles separated by single blank lines, saved as a Japanese Windows PC would: cp932, CRLF.
    newsletter = (SRC / "iurc_newsletter_ja.cp932.src").read_text("utf-8")
    (docs / "iurc_newsletter_ja.txt").write_bytes(newsletter.replace("\n", "\r\n").encode("cp932"))
    record("iurc_newsletter_ja.txt", _text_headings(newsletter))

    meetings = (SRC / "iuc_exchange_meetings.txt.src").read_text("utf-8")
    (docs / "iuc_exchange_meetings.txt").write_text(meetings, "utf-8")
    record("iuc_exchange_meetings.txt", _text_headings(meetings))

    (out / "furniture.json").write_text(json.dumps(furniture, ensure_ascii=False, indent=1), "utf-8")
    return furniture


def main() -> int:
    try:
        built = build()
    except BuildError as exc:
        print(f"build_corpus: {exc}", file=sys.stderr)
        return 2
    print(f"built {len(built)} documents in {DOCS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
