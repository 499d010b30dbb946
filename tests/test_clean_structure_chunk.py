"""Clean, structure and chunk stages on the seed deck and on other layouts."""
from __future__ import annotations

import re

import pytest

from ingest.chunk import chunk, chunk_id, detect_language
from ingest.clean import clean
from core.glossary import Entity, Glossary
from core.models import SourceDoc
from ingest.structure import split_header, structure
from tests.conftest import CORPUS, DATA

DECK = CORPUS / "iurc_cities_and_topics_deck.txt"
CJK_SPLIT = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff][ \n]+[\u3040-\u30ff\u4e00-\u9fff]")


def source(text: str, doc: str = "t.txt") -> SourceDoc:
    return SourceDoc(path=doc, doc=doc, text=text, sha256="0", encoding="utf-8", format="txt")


@pytest.fixture
def deck_chunks(glossary):
    doc = source(DECK.read_text("utf-8"), "corpus/" + DECK.name)
    return chunk(structure(clean(doc, glossary), glossary))


def test_japanese_lines_rejoin_without_space(glossary):
    cleaned = clean(source("日本の幾つかの都\n市は、クラスター活動だけに参加\nします。\n"), glossary)
    assert cleaned.text == "日本の幾つかの都市は、クラスター活動だけに参加します。"


def test_latin_lines_rejoin_with_one_space_and_names_are_rejoined(glossary):
    text = "Toyota Grenoble-Alpes \n\nMetropole\n\nFrance Energy transition, \n\nsmart mobility\n"
    cleaned = clean(source(text), glossary)
    assert cleaned.text.splitlines() == [
        "Toyota Grenoble-Alpes Metropole", "France Energy transition, smart mobility"]


def test_crlf_and_lf_clean_identically(glossary):
    lf = clean(source((DATA / "crlf/lf.txt").read_text("utf-8")), glossary)
    crlf = clean(source((DATA / "crlf/crlf.txt").read_bytes().decode("utf-8")), glossary)
    assert crlf.text == lf.text
    assert "\r" not in crlf.text


def test_zero_width_and_punctuation_only_lines_are_dropped(glossary):
    cleaned = clean(source("Umea - Kamakura\n 、\n\nウメ\u200bアと鎌倉\n"), glossary)
    assert cleaned.text == "Umea - Kamakura\nウメアと鎌倉"


def test_deck_japanese_paragraphs_are_clean_sentences(deck_chunks):
    japanese = [c for c in deck_chunks if c.language == "ja"]
    assert len(japanese) == 8
    for c in japanese:
        body = c.text.split("\n", 1)[1] if c.section else c.text
        assert not CJK_SPLIT.search(body), body
        assert "都 市" not in c.text and "都\n市" not in c.text
    bodies = "".join(c.text for c in japanese)
    assert "日本の幾つかの都市は" in bodies
    assert "「カマコン」や、ウメアでこれを応用した「ウメコン」" in bodies
    assert "トゥルクは2029年までにカーボンニュートラルを達成することを目指しています" in bodies


def test_deck_table_rows_are_one_chunk_each_with_names_whole(deck_chunks):
    rows = [c for c in deck_chunks if c.kind == "table_row"]
    assert len(rows) == 10
    by_city = {c.record["values"]["Japanese City"]: c for c in rows}
    assert list(by_city) == ["Yokohama", "Koriyama", "Hirosaki", "Ichinomiya", "Ikoma", "Tokorozawa",
                             "Toyota", "Kamakura", "Kobe", "Nagano and Obuse"]
    assert by_city["Hirosaki"].record["values"]["EU City"] == "Donostia-San Sebastian"
    assert by_city["Toyota"].record["values"]["EU City"] == "Grenoble-Alpes Metropole"
    assert "EU City: Donostia-San Sebastian;" in by_city["Hirosaki"].text
    assert "EU City: Grenoble-Alpes Metropole;" in by_city["Toyota"].text
    assert by_city["Toyota"].record["values"]["Topics for knowledge sharing and cooperation"] == (
        "Energy transition and industrial innovation, deployment of hydrogen, SDGs promotion, "
        "smart mobility")
    years = {c: r.record["start_year"] for c, r in by_city.items()}
    assert years == {"Yokohama": "2017", "Koriyama": "2017", "Hirosaki": "2017", "Ichinomiya": "2017",
                     "Ikoma": "2017", "Tokorozawa": "2018", "Toyota": "2018", "Kamakura": "2018",
                     "Kobe": "2019", "Nagano and Obuse": "2019"}
    assert by_city["Kobe"].record["group"] == "3rd batch 2019-"
    assert by_city["Kobe"].text.startswith("IUC 2017-2020, Cities and Topics · 3rd batch 2019- | Japanese City: Kobe;")
    assert by_city["Nagano and Obuse"].record["entities"] == ["nagano", "obuse", "turku", "finland"]
    for c in rows:
        assert c.record["columns"] == ["Japanese City", "EU City", "Country",
                                       "Topics for knowledge sharing and cooperation"]


def test_deck_pair_sections_have_their_headings(deck_chunks):
    sections = [c.section for c in deck_chunks if c.language == "ja"]
    for heading in ["Essen - Koriyama", "Bratislava - Tokorozawa", "Grenoble-Alpes Metropole - Toyota",
                    "Umea - Kamakura", "Turku – Nagano & Obuse"]:
        assert heading in sections
        passage = next(c for c in deck_chunks if c.section == heading)
        assert passage.text.startswith(heading + "\n")
        assert passage.location.startswith(heading + " · lines ")


def test_offsets_point_into_the_cleaned_text(glossary):
    doc = source(DECK.read_text("utf-8"))
    cleaned = clean(doc, glossary)
    for c in chunk(structure(cleaned, glossary)):
        if c.kind == "text":
            body = c.text.split("\n", 1)[1] if c.section else c.text
            assert cleaned.text[c.char_start:c.char_end] == body


def test_chunk_ids_are_content_hashes(deck_chunks):
    for c in deck_chunks:
        assert c.chunk_id == chunk_id(c.doc, c.text)
    assert len({c.chunk_id for c in deck_chunks}) == len(deck_chunks)


def test_long_paragraphs_split_at_sentence_ends(glossary):
    sentences = [f"第{i}の文は、都市と地域の協力について説明しています。" for i in range(40)]
    cleaned = clean(source("# 長い段落\n" + "".join(sentences)), glossary)
    pieces = chunk(structure(cleaned, glossary), chunk_size=200)
    assert len(pieces) > 3
    for piece in pieces:
        assert piece.text.endswith("。")
        assert len(piece.text) <= 200 + len("長い段落\n")


def test_chunks_never_cross_documents_or_sections(glossary):
    a = chunk(structure(clean(source("# A\nFirst part.\n\n\n# B\nSecond part.\n", "a.txt"), glossary), glossary))
    assert [(c.section, c.text) for c in a] == [("A", "A\nFirst part."), ("B", "B\nSecond part.")]


def test_another_flattened_table_with_another_glossary():
    """A different deck: other names, other columns, continuation lines, group labels."""
    entities = [
        Entity("osaka", "city", "", {"en": "Osaka", "ja": "大阪"}, []),
        Entity("lyon", "city", "", {"en": "Lyon", "ja": "リヨン"}, []),
        Entity("porto", "city", "", {"en": "Porto", "ja": "ポルト"}, []),
        Entity("sakai", "city", "", {"en": "Sakai", "ja": "堺"}, []),
        Entity("lisbon", "city", "", {"en": "Lisbon Metropolitan Area", "ja": "リスボン"}, []),
        Entity("fr", "country", "", {"en": "France", "ja": "フランス"}, []),
        Entity("pt", "country", "", {"en": "Portugal", "ja": "ポルトガル"}, []),
    ]
    gloss = Glossary(entities)
    text = ("Regional pairs\n"
            "Japanese city Partner Country Theme of cooperation\n\n"
            "Phase A\n\n2022-\n\n"
            "Osaka Lyon France Smart ports and \n\nlogistics\n\n"
            "Sakai Lisbon Metropolitan \n\nArea\n\nPortugal Waste reduction, \n\nrecycling\n\n"
            "Phase B\n\n2024-\n\n"
            "Osaka Porto Portugal Wine tourism\n\n"
            "大阪とポルトは観光で協力しています。\n")
    doc = structure(clean(source(text), gloss), gloss)
    rows = doc.rows
    assert [r.values for r in rows] == [
        {"Japanese city": "Osaka", "Partner": "Lyon", "Country": "France",
         "Theme of cooperation": "Smart ports and logistics"},
        {"Japanese city": "Sakai", "Partner": "Lisbon Metropolitan Area", "Country": "Portugal",
         "Theme of cooperation": "Waste reduction, recycling"},
        {"Japanese city": "Osaka", "Partner": "Porto", "Country": "Portugal",
         "Theme of cooperation": "Wine tourism"},
    ]
    assert [(r.group, r.start_year) for r in rows] == [
        ("Phase A 2022-", "2022"), ("Phase A 2022-", "2022"), ("Phase B 2024-", "2024")]
    texts = [b for b in doc.blocks if b.kind == "text"]
    assert texts[-1].lines[-1].text == "大阪とポルトは観光で協力しています。"


def test_markdown_pipe_table_rows(glossary):
    text = "# Pairs\n\n| Japanese city | EU city | Since |\n|---|---|---|\n| Kobe | Marseille | 2019 |\n| Toyota | Grenoble-Alpes Metropole | 2018 |\n"
    doc = structure(clean(source(text, "p.md"), glossary), glossary)
    assert [r.values for r in doc.rows] == [
        {"Japanese city": "Kobe", "EU city": "Marseille", "Since": "2019"},
        {"Japanese city": "Toyota", "EU city": "Grenoble-Alpes Metropole", "Since": "2018"}]
    assert doc.rows[1].entities == ["toyota", "grenoble"]


def test_split_header_falls_back_to_numbered_columns():
    assert split_header("Japanese City EU City Country Topics for x", 4) == [
        "Japanese City", "EU City", "Country", "Topics for x"]
    assert split_header("Alpha Beta", 3) == ["column 1", "column 2", "column 3"]


@pytest.mark.parametrize("text, language", [
    ("鎌倉市とウメオ市は協力しました。", "ja"), ("Kamakura and Umeå cooperated.", "en"),
    ("GAMは、豊田市の市民参加によるSDG推進手法に興味を持っています。", "ja"),
    ("Kamakura 鎌倉 and Umeå cooperated on planning", "mixed"), ("2029", "en")])
def test_language_detection(text, language):
    assert detect_language(text) == language


def test_hard_wrapped_markdown_and_text_are_joined_into_whole_sentences():
    """Issue 24: a paragraph wrapped by an editor at a fixed width is one paragraph again, so no
    quote starts or ends mid-sentence (the next line's first word would not have fitted)."""
    from ingest.clean import clean
    from core.models import SourceDoc

    text = ("# Meeting note\n\n"
            "The fourth meeting of the partner cities was held in Tokyo on 17 May\n"
            "2019 at the embassy. It was opened by the ambassador and by the deputy\n"
            "Director-General of the City Bureau, who welcomed the delegations from\n"
            "Westmoor and Kasumigaoka. The pair then presented its action plan for\n"
            "Harbour Renewal, which the council adopted later that year in a vote.\n\n"
            "- A short bullet\n- Another bullet\n")
    for fmt in ("md", "txt"):
        lines = [line.text for line in clean(SourceDoc("x", "x", text, "", "utf-8", fmt)).lines]
        assert lines[1].startswith("The fourth meeting of the partner cities was held in Tokyo on 17 May 2019 at")
        assert "from Westmoor and Kasumigaoka. The pair" in lines[1] and "for Harbour Renewal," in lines[1]
        assert lines[2:] == ["- A short bullet", "- Another bullet"]
    # Short lines of a list or a poem are not a wrapped paragraph.
    short = "Agenda\nOpening Words\nCity Reports\nClosing\n"
    assert len(clean(SourceDoc("y", "y", short, "", "utf-8", "txt")).lines) == 4
