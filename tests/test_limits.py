"""Ingest limits before parsing (issue "Hardening, round two"): ZIP bombs, PDFs with a huge page
tree or an inflating stream, parser errors, symbolic links out of the folder, file names that
could forge output lines. Every file here is made by the test."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from ingest.pipeline import ingest
from tests.conftest import ROOT

GOOD = "# Note\n\nKobe and Marseille met about port functions.\n"


def _office(kind: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A real DOCX or PPTX (python-docx / python-pptx) with extra entries added."""
    buffer = io.BytesIO()
    if kind == "docx":
        import docx

        document = docx.Document()
        document.add_paragraph("Kobe and Marseille met about port functions.")
        document.save(buffer)
    else:
        from pptx import Presentation

        deck = Presentation()
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = "Kobe and Marseille"
        deck.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = extra.pop(item.filename) if extra and item.filename in extra else src.read(item.filename)
            dst.writestr(item.filename, data)
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


def _bomb(kind: str, size: int = 1 << 30) -> bytes:
    """An Office file with one entry that inflates to `size` bytes (1 GiB): written stream-wise,
    so the test never holds it."""
    out = io.BytesIO(_office(kind))
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/bomb.xml" if kind == "docx" else "ppt/bomb.xml", "w", force_zip64=True) as entry:
            block = b"\0" * (16 << 20)
            for _ in range(size // len(block)):
                entry.write(block)
    return out.getvalue()


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF from numbered object bodies (1 is the catalog), with a correct xref table."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _pdf_many_pages(n: int) -> bytes:
    """n pages, each showing a line of text (one shared content stream)."""
    kids = b" ".join(b"%d 0 R" % (i + 5) for i in range(n))
    text = b"BT /F1 12 Tf 72 720 Td (Kobe and Marseille met about port functions.) Tj ET"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 3 0 R >> >> >>"
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
                 b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
                 b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream", *[page] * n])


def _pdf_inflating(size: int = 1 << 30) -> bytes:
    packer, packed = zlib.compressobj(9), bytearray()
    block = b" " * (16 << 20)
    for _ in range(size // len(block)):
        packed += packer.compress(block)
    packed += packer.flush()
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + bytes(packed) + b"\nendstream"
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                 b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Contents 4 0 R >>", stream])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "a_bomb.docx").write_bytes(_bomb("docx"))
    (folder / "b_bomb.pptx").write_bytes(_bomb("pptx"))
    (folder / "c_pages.pdf").write_bytes(_pdf_many_pages(5000))
    (folder / "d_inflating.pdf").write_bytes(_pdf_inflating())
    # A DOCX whose document part is not XML: lxml's own error, not ours.
    (folder / "e_broken.docx").write_bytes(_office("docx", {"word/document.xml": b"<w:document><oops"}))
    (folder / "z_good.md").write_text(GOOD, "utf-8")
    return folder


@pytest.mark.parametrize("name", ["a_bomb.docx", "b_bomb.pptx", "c_pages.pdf", "d_inflating.pdf"])
def test_bombs_are_refused_before_parsing_fast_and_small(hostile, name):
    probe = f"""
import json, sys, time
from ingest.load import LoadError, load
started = time.perf_counter()
try:
    load({str(hostile / name)!r}, "x", 50_000_000)
    reason = None
except LoadError as exc:
    reason = str(exc)
# VmHWM: this process's own peak (ru_maxrss can carry the parent's peak across exec)
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({{"reason": reason, "seconds": time.perf_counter() - started, "peak_mb": peak / 1024}}))
"""
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["reason"] and "\n" not in out["reason"], run.stderr
    assert out["seconds"] < 10 and out["peak_mb"] < 300, out


def test_bad_files_fail_one_line_each_and_the_rest_is_ingested(hostile, fake_store, glossary):
    report = ingest([str(hostile)], fake_store, glossary, progress=False, warn=lambda m: None)
    assert report.failed == 5 and len(report.problems) == 5
    assert all("\n" not in p for p in report.problems)
    assert any("XMLSyntaxError" in p for p in report.problems)
    assert [f["doc"] for f in report.files if f["status"] == "new"] == [f"{hostile.name}/z_good.md"]
    assert any("port functions" in r["text"] for r in fake_store.all_chunks())


def test_a_link_out_of_the_folder_is_not_followed(tmp_path, fake_store, glossary):
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:secret line\n", "utf-8")
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "good.md").write_text(GOOD, "utf-8")
    (folder / "link.txt").symlink_to(secret)
    (folder / "linked_dir").symlink_to(secret.parent, target_is_directory=True)
    (folder / "sub" / "inside.md").symlink_to(folder / "good.md")  # inside: fine
    report = ingest([str(folder)], fake_store, glossary, progress=False, warn=lambda m: None)
    assert not any("root:x" in r["text"] for r in fake_store.all_chunks())
    assert any("outside the folder" in p for p in report.problems)
    assert {f["doc"] for f in report.files if f["status"] == "new"} >= {"corpus/good.md"}


def test_file_names_are_printed_escaped(tmp_path, fake_store, glossary):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "evil\nINFO forged line.exe").write_text("x", "utf-8")
    report = ingest([str(folder)], fake_store, glossary, progress=False, warn=lambda m: None)
    assert report.failed == 1 and "\n" not in report.problems[0] and "\\n" in report.problems[0]
