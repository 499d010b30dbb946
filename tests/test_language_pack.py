"""Language packs (core/languages.py): a third language is one pack file plus one glossary column,
and nothing outside the packs names a language. The toy pack is tests/data/lang/fr.yaml; the
documents, names and glossary below are made up."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fakes import FakeEmbeddings

ROOT = Path(__file__).resolve().parent.parent
TOY_PACKS = ROOT / "tests" / "data" / "lang"

GLOSSARY = """entity_id,kind,country,name_en,name_ja,name_fr,aliases
norvia,city,,Norvia,ノルヴィア,Norvie,
kasumi,city,,Kasumi,霞ヶ丘,Kasumi,
"""
FRENCH = """# Partenariat Norvie – Kasumi

La ville de Norvie et Kasumi travaillent sur la gestion des déchets et les transports publics depuis 2021.

La première réunion des deux villes a eu lieu à Norvie le 12 mars 2022, avec quarante participants.
"""
ENGLISH = """# Harbour seminar

The harbour seminar in Westmoor discussed ferry timetables with the port staff in May 2023.
"""


@pytest.fixture
def toy(monkeypatch, tmp_path):
    """A store holding a French and an English document, with the toy pack installed."""
    from app.answering.service import Assistant
    from core.glossary import parse_glossary
    from core.store import StoreConfig, open_store
    from ingest.pipeline import ingest

    monkeypatch.setenv("IURC_LANGUAGE_PACKS", str(TOY_PACKS))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "partenariat.md").write_text(FRENCH, "utf-8")
    (docs / "seminar.md").write_text(ENGLISH, "utf-8")
    config = StoreConfig.from_url(f"memory://{tmp_path}/toy")
    emb = FakeEmbeddings()
    store = open_store(config, emb)
    report = ingest([str(docs)], store, parse_glossary(GLOSSARY, "toy glossary"), progress=False)
    assert report.failed == 0 and report.added > 0
    return store, Assistant(config, emb, min_sentence=0.05)


def test_a_third_language_is_one_pack_file_and_one_glossary_column(toy):
    from core.glossary import columns
    from core.languages import languages, pack

    store, assistant = toy
    assert languages() == ("en", "fr", "ja") and pack("fr").name == "French"
    assert "name_fr" in columns()
    # ingest: the French document is stored as French, the English one as English
    languages_of = {e.doc.rsplit("/", 1)[-1]: e.language for e in store.manifest_entries().values()}
    assert languages_of["partenariat.md"] == "fr" and languages_of["seminar.md"] == "en"
    # the glossary's French column names the entity: the French spelling is found in text
    norvie = [m.entity_id for m in assistant.glossary.find("La ville de Norvie")]
    assert norvie == ["norvia"]


def test_search_and_answers_work_in_the_third_language(toy):
    _, assistant = toy
    question = "Sur quoi travaillent Norvie et Kasumi ?"
    hits = assistant.search(question)
    assert hits and hits[0].passage.doc.endswith("partenariat.md")
    result = assistant.ask(question)
    assert result["language"] == "fr" and not result["abstained"]
    first = result["answer"].splitlines()[0]
    assert "gestion des déchets" in first, result["answer"]
    assert result["citations"][0]["doc"].endswith("partenariat.md")
    # a when-question: the first line states the date, from the French sentence
    when = assistant.ask("Quand a eu lieu la première réunion à Norvie ?")
    assert when["language"] == "fr" and "12 mars 2022" in when["answer"].splitlines()[0], when["answer"]


def test_the_third_language_abstains_in_its_own_words(toy):
    _, assistant = toy
    result = assistant.ask("Sur quoi travaillent Zorbelande et Kasumi ?")
    assert result["abstained"] and result["language"] == "fr"
    assert result["answer"].startswith("Les documents ne disent rien de Zorbelande"), result["answer"]


def test_an_english_question_finds_the_entity_by_its_pivot_name(toy):
    """The same entity named in the pivot language reaches the French passage (the name table
    joins the glossary's columns)."""
    _, assistant = toy
    result = assistant.ask("What do Norvia and Kasumi work on?")
    assert result["language"] == "en" and not result["abstained"]
    assert any(c["doc"].endswith("partenariat.md") for c in result["citations"])


def test_without_the_pack_the_french_column_is_not_a_language(monkeypatch):
    from core.glossary import columns
    from core.languages import detect, languages

    monkeypatch.delenv("IURC_LANGUAGE_PACKS", raising=False)
    assert languages() == ("en", "ja") and "name_fr" not in columns()
    assert detect(FRENCH) == "en"  # with no French pack, Latin text is the pivot's


# Literals that name a language, in code: "en", 'ja', ("en", "ja") …
_LANGUAGE_LITERAL = re.compile(r"""(?<![\w-])["'](ja|en)["']""")


def test_no_language_is_named_outside_the_packs():
    """app/, core/ and ingest/ branch on pack properties, never on a language's code: the only
    place a language is named is its pack file (core/lang/<code>.yaml)."""
    offenders = []
    for folder in ("app", "core", "ingest"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
                if _LANGUAGE_LITERAL.search(line.split("#", 1)[0]):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_language_check_finds_a_branch(tmp_path):
    """The check above can fail: a branch on a language code is found."""
    line = 'if q.language == "ja":'
    assert _LANGUAGE_LITERAL.search(line)
    assert not _LANGUAGE_LITERAL.search('s = "jam"')
