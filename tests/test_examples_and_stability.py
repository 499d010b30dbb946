"""Issue 24, item 6: every example question the chat offers answers on its first line, and
answers stay put when unrelated documents are added (real embedder, real Chroma)."""
from __future__ import annotations

import re

import pytest

from app.answering.lead import FIRST_LINE_COLUMNS, columns
from app.web.views import example_questions
from eval import build_corpus, runner
from tests.conftest import CORPUS, GLOSSARY, ROOT, check_citations

pytestmark = pytest.mark.slow


def test_every_example_question_answers_on_its_first_line(corpus_assistant):
    reference = runner.Reference.of(corpus_assistant)
    examples = example_questions(corpus_assistant)
    assert len(examples) >= 4 and {runner._fact_script(q) for q in examples} == {"en", "ja"}
    rows = corpus_assistant.facts.rows
    for question in examples:
        result = corpus_assistant.ask(question)
        check_citations(result)
        first = result["answer"].splitlines()[0]
        assert not result["abstained"], question
        # The first line answers: it ends with its citation, reads at a glance, is no label.
        assert re.search(r"\[\d+\]$", first) and columns(first) <= FIRST_LINE_COLUMNS, (question, first)
        assert not re.sub(r"\s*\[\d+\]$", "", first).endswith((":", "：")), (question, first)
        assert reference.garbled(result["answer"], question) == [], (question, result["answer"])
        year = re.search(r"(?:19|20)\d\d", question)
        if year:
            # A list question: every row that started that year is named on the first line.
            started = [r for r in rows if r.record.start_year == year.group(0)]
            assert started and all(
                any(corpus_assistant.glossary.display_name(e, result["language"]) in first
                    for e in corpus_assistant.facts.names[r.chunk_id]) for r in started), (question, first)
        else:
            # "What did A and B work on?": the first line is in the asker's script or says plainly
            # that its source is in the other language.
            label = {"en": "From a Japanese source:", "ja": "英語の資料より:"}[result["language"]]
            assert runner._answer_language(first) == result["language"] or first.startswith(label), first


UNRELATED = {
    "bakery_notes.md": "# Sourdough notes\n\nThe starter is fed every morning with rye flour and water. "
                       "Loaves rest overnight in the cold room before baking at 250 degrees.\n",
    "chess_club.txt": "Chess club minutes\n\nThe club met on Thursday. Twelve players took part in the "
                      "rapid tournament, which was won by the youngest member with seven points.\n",
    "printer_manual_ja.txt": "プリンターの使い方\n\n用紙は上部のトレイに入れてください。インクが少なくなると、"
                             "本体のランプが点滅します。交換用のカートリッジは事務室にあります。\n",
}


def test_answers_stay_when_unrelated_documents_are_added(tmp_path):
    """The unseen split, asked before and after three unrelated documents join the store: every
    answer that cites none of them is unchanged, word for word."""
    from app.answering.service import Assistant
    from core.embed import USEEmbeddings
    from core.glossary import load_glossary
    from ingest.pipeline import ingest
    from core.store import Store, StoreConfig

    docs = tmp_path / "eval-corpus"
    build_corpus.build(docs)
    unseen = docs / build_corpus.DOCS.name
    config = StoreConfig(str(tmp_path / "store"), "", 8000, "iurc")
    emb = USEEmbeddings()
    glossary = load_glossary(GLOSSARY)
    ingest([str(CORPUS), str(unseen)], Store(config, emb), glossary, progress=False)
    cases = runner.load_cases(ROOT / "eval/unseen.yaml")
    assistant = Assistant(config, emb)
    before = {c.id: assistant.ask(c.question, c.history) for c in cases}

    extra = tmp_path / "unrelated"
    extra.mkdir()
    for name, text in UNRELATED.items():
        (extra / name).write_text(text, encoding="utf-8")
    report = ingest([str(extra)], Store(config, emb), glossary, progress=False)
    assert (report.added, report.failed, report.deleted) == (3, 0, 0), report.summary()
    after_assistant = Assistant(config, emb)
    new_docs = {c for c in after_assistant.store.manifest_entries() if any(n in c for n in UNRELATED)}
    assert len(new_docs) == 3

    touched, changed = [], []
    for c in cases:
        after = after_assistant.ask(c.question, c.history)
        if any(cited["doc"] in new_docs for cited in after["citations"]) or \
                any(r["doc"] in new_docs for r in after.get("related", [])):
            touched.append(c.id)
            continue
        if (after["answer"], after["abstained"]) != (before[c.id]["answer"], before[c.id]["abstained"]):
            changed.append((c.id, before[c.id]["answer"][:120], after["answer"][:120]))
    assert not changed, changed
    assert len(touched) <= len(cases) // 10, touched  # the check is not vacuous: most are compared
