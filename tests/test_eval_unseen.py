"""The unseen split: its generated documents, its cases, the run without the glossary."""
from __future__ import annotations

import csv
from collections import Counter

import pytest

from eval import build_corpus, runner
from eval.baseline import naive_text
from tests.conftest import GLOSSARY, ROOT

UNSEEN = ROOT / "eval/unseen.yaml"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval-corpus")
    furniture = build_corpus.build(out)
    return out / build_corpus.DOCS.name, furniture


def _squash(text: str) -> str:
    # Layout may break a line anywhere (PDF wraps, table cells): compare without white space.
    return "".join(runner._norm(text).split())


def test_every_format_staff_receive_is_built(built):
    docs, furniture = built
    names = sorted(p.name for p in docs.iterdir())
    assert len(names) >= 10 and {p.rsplit(".", 1)[1] for p in names} == {"pptx", "pdf", "docx", "html", "md", "txt"}
    assert set(furniture) == {f"iurc_unseen/{n}" for n in names}
    from pptx import Presentation

    deck = Presentation(str(docs / "iurc_briefing_2022.pptx"))
    assert len(deck.slides) == 7 and sum(s.has_notes_slide for s in deck.slides) >= 3
    assert any(shape.has_table for s in deck.slides for shape in s.shapes)
    from pypdf import PdfReader

    slides = PdfReader(str(docs / "iurc_briefing_2022_export.pdf"))
    assert len(slides.pages) == 7 and all(p.mediabox.width > p.mediabox.height for p in slides.pages)
    report = PdfReader(str(docs / "iurc_japan_report_ja.pdf"))
    pages = [p.extract_text() for p in report.pages]
    assert len(pages) == 3 and all("内部資料" in t and f"- {i} / 3 -" in t for i, t in enumerate(pages, 1))
    raw = (docs / "iurc_newsletter_ja.txt").read_bytes()
    assert b"\r\n" in raw and raw.decode("cp932").count("\r\n\r\n") >= 4
    for page in ("news_osaka_manchester.html", "nagoya_turin_city_page_ja.html"):
        html = (docs / page).read_text("utf-8")
        assert "<nav" in html and "<footer" in html


def test_at_least_twenty_names_are_missing_from_the_glossary(built):
    docs, _ = built
    text = "".join(naive_text(p).replace("\n", "") for p in docs.iterdir())
    with open(GLOSSARY, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    known = {form.strip().casefold() for row in rows for key in ("name_en", "name_ja", "aliases")
             for form in (row[key] or "").split("|") if form.strip()}
    names = ["Osaka", "大阪", "Kyoto", "京都", "Nagoya", "名古屋", "Kawasaki", "川崎", "Toyama", "富山",
             "Greater Manchester", "Prague", "プラハ", "Turin", "トリノ", "Zagreb", "ザグレブ", "Rijeka",
             "リエカ", "Lugo", "ルーゴ", "Aichi", "愛知", "Oita", "大分", "Hiroshima", "広島", "Catalonia",
             "カタルーニャ", "Emilia-Romagna", "Val d'Oise", "Basque Country", "Croatia", "Czechia",
             "Hidefumi Imura", "井村秀文", "Masato Shinagawa", "Normunds Popens", "MLIT", "北九州", "熊本"]
    present = [n for n in names if n in text and n.casefold() not in known
               and n.casefold() + "市" not in known]
    assert len(present) >= 20 and present == names


def test_the_unseen_set_is_valid_and_covers_every_kind_in_both_languages():
    cases = runner.load_cases(UNSEEN)
    assert len(cases) >= 80
    splits = Counter(c.split for c in cases)
    assert set(splits) == {"dev", "test"} and abs(splits["dev"] - splits["test"]) <= 2
    by_kind = {}
    for c in cases:
        by_kind.setdefault(c.kind, set()).add(c.language)
    # These four kinds are one language by definition: the question's, or its evidence's opposite.
    assert by_kind.pop("cross_en_ja") == {"en"} and by_kind.pop("cross_ja_en") == {"ja"}
    assert by_kind.pop("en") == {"en"} and by_kind.pop("ja") == {"ja"}
    assert all(langs == {"en", "ja"} for langs in by_kind.values()), by_kind
    assert {"when", "where", "who", "how_many", "which", "table", "unknown_name", "followup",
            "abstain_attribute", "abstain_other"} <= set(by_kind)
    abstain = [c for c in cases if c.abstain]
    assert len(abstain) >= 16 and sum(c.kind == "abstain_attribute" for c in abstain) >= len(abstain) / 2
    assert all(c.history for c in cases if c.kind == "followup")
    for split in ("dev", "test"):
        assert {c.kind for c in cases if c.split == split} == {c.kind for c in cases}


def test_every_expected_snippet_and_fact_is_in_its_document(built):
    docs, _ = built
    texts = {f"iurc_unseen/{p.name}": _squash(naive_text(p)) for p in docs.iterdir()}
    for case in runner.load_cases(UNSEEN) + runner.load_cases(ROOT / "eval/conversations.yaml"):
        for source in case.sources:
            assert any(_squash(source.snippet) in texts[d] for d in source.docs), (case.id, source)
        cited = "".join(texts[d] for s in case.sources for d in s.docs)
        for alternatives in case.facts:  # at least one form of each fact is in a source (JA or EN)
            assert any(_squash(a) in cited for a in alternatives) or len(alternatives) > 1, (case.id, alternatives)


def test_header_only_glossary_has_no_names(tmp_path):
    from core.glossary import load_glossary

    path = runner.header_only_glossary(GLOSSARY, tmp_path / "g.csv")
    assert path.read_text("utf-8").count("\n") == 1
    assert load_glossary(str(path)).find("Kamakura and Umeå") == []


def test_runs_file_names_five_runs_and_thresholds_cover_every_split():
    runs = {r.name: r for r in runner.load_runs(ROOT / "eval/runs.yaml")}
    assert set(runs) == {"seed", "unseen", "unseen_no_glossary", "seed_no_glossary", "conversations"}
    assert runs["unseen_no_glossary"].glossary == "" and runs["unseen"].glossary
    assert runs["seed_no_glossary"].glossary == "" and runs["seed"].glossary
    for name, splits in (("seed", ["all"]), ("unseen", ["dev", "test"]), ("unseen_no_glossary", ["dev", "test"]),
                         ("seed_no_glossary", ["all"]), ("conversations", ["dev", "test"])):
        for split in splits:
            limits = runner.load_thresholds(ROOT / "eval/thresholds.yaml", name, split)
            assert {"pass_rate", "fact_recall", "abstention_recall", "readable", "first_line",
                    "pass_rate_400", "garbled"} <= set(limits)
            assert limits["garbled"] == 0  # no garbled word in any answer of any run


def test_the_conversation_split():
    cases = runner.load_cases(ROOT / "eval/conversations.yaml")
    assert len(cases) >= 30 and all(c.history for c in cases)
    assert {c.split for c in cases} == {"dev", "test"}
    kinds = {c.kind for c in cases}
    assert kinds == {"followup_pronoun", "followup_ellipsis", "followup_cross", "topic_shift", "offtopic_after_topic"}
    assert all(c.abstain for c in cases if c.kind == "offtopic_after_topic")
    # follow-ups across languages: the earlier question in the other language
    assert all(runner._fact_script(c.history[-1]) != c.language for c in cases if c.kind == "followup_cross")


def test_the_gate_reports_a_split_without_thresholds(tmp_path):
    thresholds = tmp_path / "t.yaml"
    thresholds.write_text("runs:\n  r:\n    dev:\n      minimum: {pass_rate: 0.5}\n")
    case = runner.Case("c", "q", "en", "abstain", abstain=True, split="dev")
    other = runner.Case("d", "q", "en", "abstain", abstain=True, split="test")
    said = {"answer": "no", "abstained": False, "citations": [], "retrieved": [], "timings_ms": {"total": 1}}
    result = runner.RunResult(runner.Run("r", "s", [], ""), [runner.score(case, said), runner.score(other, said)], None)
    failures = runner.gate_results([result], thresholds)
    assert failures == ["r/dev: pass_rate = 0.0 < 0.5", f"r/test: no thresholds in {thresholds}"]


def test_the_gate_holds_a_run_close_to_its_reference_run(tmp_path):
    thresholds = tmp_path / "t.yaml"
    thresholds.write_text("alike:\n- {run: bare, like: full, within: 0.05}\n"
                          "runs:\n  full:\n    dev:\n      minimum: {pass_rate: 0}\n"
                          "  bare:\n    dev:\n      minimum: {pass_rate: 0}\n")
    case = runner.Case("c", "q", "en", "abstain", abstain=True, split="dev")
    right = {"answer": "no", "abstained": True, "citations": [], "retrieved": [], "timings_ms": {"total": 1}}
    wrong = dict(right, abstained=False)
    full = runner.RunResult(runner.Run("full", "s", [], ""), [runner.score(case, right)], None)
    bare = runner.RunResult(runner.Run("bare", "s", [], ""), [runner.score(case, wrong)], None)
    failures = runner.gate_results([full, bare], thresholds)
    assert any(f.startswith("bare/dev against full: pass_rate = 0.0000 is more than 0.05 below 1.0000")
               for f in failures)
    assert runner.gate_results([full, full], thresholds) == []


def test_naive_baseline_reads_pptx_with_its_own_loader(built):
    docs, _ = built
    text = naive_text(docs / "iurc_briefing_2022.pptx")
    assert "Kawasaki" in text and "Use this deck for the induction session" in text
