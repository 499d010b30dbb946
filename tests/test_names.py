"""Names the glossary does not list: discovery in both scripts, linking, the name table."""
from __future__ import annotations

from core import names
from core.glossary import parse_glossary

HEADER = "entity_id,kind,country,name_en,name_ja,aliases\n"
EN_DOC = ("The City of Osaka sent a delegation to Greater Manchester in January.\n"
          "Officials from Zagreb and Rijeka visited the port. Professor Hidefumi Imura opened the meeting.\n"
          "The partners in Poland and Portugal joined later.\n")
JA_DOC = ("大阪市の代表団がグレーターマンチェスター都市圏を訪れた。ザグレブ市とリエカ市の担当者も参加した。"
          "井村秀文氏が開会の挨拶をした。北九州市も関心を示した。「世界都市(World Cities)」の経験が紹介された。")


def table(curated: str = HEADER, threshold: float = 0.7):
    found = {"en.txt": names.discover(EN_DOC), "ja.txt": names.discover(JA_DOC)}
    return names.build_table(parse_glossary(curated, "test"), found, threshold)


def discover_en(text):
    return names.discover_capitalised(text, "en")


def entity_of(glossary, text):
    found = glossary.find(text)
    return found[0].entity_id if found else None


def test_japanese_names_keep_their_suffix_as_a_variant_and_their_reading():
    found = names.discover_japanese(JA_DOC, "ja")
    assert found["大阪市"]["kind"] == "city" and found["大阪市"]["reading"].startswith("オオサカ")
    assert "大阪" in found and "井村秀文" in found and found["井村秀文"]["kind"] == "person"


def test_english_names_are_runs_of_capitals_not_sentence_openers():
    found = names.discover_capitalised(EN_DOC, "en")
    assert {"Osaka", "Greater Manchester", "Zagreb", "Rijeka", "Hidefumi Imura"} <= set(found)
    assert "The" not in found and "Professor" not in found
    # a capital seen only opening a sentence is kept aside (the table drops it): an ordinary word
    assert found["Officials"]["inside"] == 0 and found["Zagreb"]["inside"] == 1


def test_forms_are_linked_across_scripts_with_evidence():
    glossary, report = table()
    for en, ja in [("Osaka", "大阪市"), ("Zagreb", "ザグレブ"), ("Rijeka", "リエカ市"),
                   ("Greater Manchester", "グレーターマンチェスター都市圏"), ("Hidefumi Imura", "井村秀文"),
                   ("World Cities", "世界都市")]:
        assert entity_of(glossary, en) is not None and entity_of(glossary, en) == entity_of(glossary, ja), (en, ja)
    links = {r["name_en"]: r["link"] for r in report.names if r["link"]}
    assert links["World Cities"]["evidence"].startswith("written side by side")
    assert links["Osaka"]["confidence"] >= 0.9


def test_countries_and_their_adjectives_come_from_cldr():
    glossary, _ = table()
    assert entity_of(glossary, "Polish") == entity_of(glossary, "Poland") == entity_of(glossary, "ポーランド")
    assert entity_of(glossary, "Portuguese") == entity_of(glossary, "ポルトガル")


def test_a_kanji_name_nobody_spelled_in_english_gets_its_reading():
    glossary, _ = table()
    assert entity_of(glossary, "Kitakyushu") == entity_of(glossary, "北九州市") is not None


def test_curated_rows_win_and_gain_the_discovered_forms():
    curated = HEADER + "osaka,city,,Osaka,大阪,\n"
    glossary, report = table(curated)
    assert entity_of(glossary, "大阪市") == "osaka"
    assert "大阪市" in glossary.entities["osaka"].aliases
    assert not any(e.startswith(names.DISCOVERED_PREFIX) and "osaka" in e for e in glossary.entities)


def test_a_weak_link_is_only_a_suggestion():
    glossary, report = table(threshold=0.99)  # (Zagreb is linked by CLDR's city names: certain)
    assert entity_of(glossary, "Rijeka") != entity_of(glossary, "リエカ")
    assert any(s.en == "Rijeka" for s in report.suggestions)
    assert "Rijeka" in names.suggest_rows(report)


def test_phonetic_keys():
    assert names.phonetic_key("Oosaka") == names.phonetic_key("Osaka")
    assert names.phonetic_key("Ruugo") == names.phonetic_key("Lugo")
    assert names.skeleton(names.phonetic_key("Zagurebu")) == names.skeleton(names.phonetic_key("Zagreb"))
    assert names.link_score("Prague", "プラハ")[0] == 0.0  # an exonym no spelling rule reaches


def test_an_acronym_spelled_out_in_a_document_is_one_name_with_its_long_form():
    doc = ("The Northern Harbour Towns Alliance (NHTA) met in May. The NHTA plans a ferry study. "
           "Two members of the Northern Harbour Towns Alliance hosted it.\n")
    assert names.acronyms_in(doc) == [["Northern Harbour Towns Alliance", "NHTA"]]
    glossary, _ = names.build_table(parse_glossary(HEADER, "test"), {"a.txt": names.discover(doc)}, 0.7)
    assert entity_of(glossary, "NHTA") == entity_of(glossary, "the Northern Harbour Towns Alliance")


def test_cldr_city_names_link_exonyms_phonetics_cannot():
    found = {"en.txt": names.discover("Delegates from Prague and Bratislava arrived.\n"),
             "ja.txt": names.discover("プラハ市とブラチスラバの代表団が到着した。")}
    glossary, report = names.build_table(parse_glossary(HEADER, "test"), found, 0.7)
    assert entity_of(glossary, "Prague") == entity_of(glossary, "プラハ市")
    assert entity_of(glossary, "Bratislava") == entity_of(glossary, "ブラチスラバ")
    link = next(r["link"] for r in report.names if r["name_en"] == "Prague")
    assert "CLDR" in link["evidence"]


def test_rows_sharing_a_form_are_merged_transitively():
    rows = [names._row("country", {"ja": "日本"}, [], ["a"], None),
            names._row("name", {"en": "Japan"}, [], ["b"], None),
            names._row("country", {"en": "Japan", "ja": "日本"}, ["Japanese"], ["CLDR"], None)]
    merged = names._merge_rows(rows)
    assert len(merged) == 1
    assert (merged[0]["name_en"], merged[0]["name_ja"], merged[0]["kind"]) == ("Japan", "日本", "country")


def test_a_japanese_name_is_found_by_its_reading():
    assert names.reading_key("生駒市") == names.reading_key("生駒") == names.phonetic_key("Ikoma")
    assert names.reading_key("アンコーナ") == names.phonetic_key("Ancona")


def test_cldr_gives_the_english_name_of_a_japanese_exonym():
    assert names.english_exonym("プラハ") == names.english_exonym("プラハ市") == "Prague"
    assert names.english_exonym("スペイン") == "Spain" and names.english_exonym("横浜") == ""


def test_a_name_opening_a_sentence_is_a_name_when_its_words_are_not_ordinary_words():
    """'Terence Walden of …' opens a sentence and goes on with it; 'The Mayor of …' and a
    flattened table row do not make names. Made-up text."""
    found = discover_en("Terence Walden of Acme gave a talk on ports.\n"
                              "The Mayor of Bexford thanked the mayor of the other city.\n"
                              "Marcia Holt, coordinator for the pair, closed the session.\n")
    assert found["Terence Walden"]["inside"] == 1 and found["Marcia Holt"]["inside"] == 1
    assert "The Mayor" not in found or found["The Mayor"]["inside"] == 0


def test_names_sound_alike_word_by_word_in_either_pronunciation():
    """A katakana reading and an English spelling compared per word, each word by its spelling
    and by its English pronunciation in katakana (e2k): made-up names the plain key misses."""
    for en, ja in [("Terence Walden", "テレンス・ウォールデン"), ("Beatrice Flor", "ベアトリス・フロール"),
                   ("Oskar Lindqvist", "オスカル・リンドクヴィスト")]:
        score, evidence = names.link_score(en, names.ja_reading(ja))
        assert score >= 0.7 and "word by word" in evidence, (en, ja, score)
    for en, ja in [("Terence Walden", "マーシャ・ホルト"), ("Beatrice Flor", "ベルナール・フルール"),
                   ("Terence Walden", "テレンス")]:  # another person; another number of words
        assert names.link_score(en, names.ja_reading(ja))[0] < 0.7, (en, ja)
    assert names.ja_reading("ラ＝ヴェルド") == names.ja_reading("ラ・ヴェルド") != ""


def test_a_phrase_around_a_country_or_a_defined_short_form_is_no_name_of_its_own():
    """"Polish Harbour Towns" (a CLDR adjective) and "NHTA Members" (a short form the document
    defines) are phrases about a name, as a curated table would have it; "Northmoor Quay" is a
    name. Made-up names."""
    doc = ("The Northern Harbour Towns Alliance (NHTA) met in May with the Polish Harbour Towns and "
           "the NHTA Members from Northmoor Quay. The Polish Harbour Towns and the NHTA Members "
           "came back later to Northmoor Quay.\n")
    glossary, _ = names.build_table(parse_glossary(HEADER, "test"), {"a.txt": names.discover(doc)}, 0.7)
    surfaces = {m.surface for m in glossary.find(doc)}
    assert "Northmoor Quay" in surfaces
    assert "Polish Harbour Towns" not in surfaces and "NHTA Members" not in surfaces


def test_discovery_keeps_unknown_katakana_words_and_drops_common_english_nouns():
    """A katakana word sudachi's dictionary lacks is a name (made up: ヴェスタームーア); a
    capitalised English word it knows as a common noun ("Workshop") is not, and neither is a
    number opening a sentence; a country's adjective stays a name."""
    assert "ヴェスタームーア" in names.discover_japanese("代表団はヴェスタームーアの港を訪れた。", "ja")
    assert "セミナー" not in names.discover_japanese("代表団はセミナーに参加した。", "ja")
    found = discover_en("Workshop on ferries. Thirteen Polish towns met Ostrava Harbour staff there.\n"
                              "Day two: Workshop with Ostrava Harbour.\n")
    assert "Workshop" not in found and "Thirteen Polish" not in found
    assert "Polish" in found and "Ostrava Harbour" in found


def test_a_hyphenated_title_is_no_name_but_a_hyphenated_place_is():
    found = discover_en("Ada Kowalska, Deputy Director-General for Ports, met the Ostrel-Vale Metropole "
                        "delegation under the Region-to-Region scheme.")
    assert "Director-General" not in found and "Region-to-Region" not in found
    assert "Ostrel-Vale Metropole" in found and "Ada Kowalska" in found


def test_a_country_links_only_to_its_own_name_in_the_other_script():
    # "Slovenia" sounds nearly like スロバキア; CLDR says which country each name is, so a
    # question about スロベニア finds Slovenia and never Slovakia.
    found = {"en.txt": names.discover("The regions of Slovenia and Croatia met the delegates.\n"),
             "ja.txt": names.discover("スロバキアの首都ブラチスラバの代表団が参加した。")}
    glossary, _ = names.build_table(parse_glossary(HEADER, "test"), found, 0.5)
    assert entity_of(glossary, "スロベニア") == entity_of(glossary, "Slovenia") != entity_of(glossary, "スロバキア")
    assert entity_of(glossary, "Slovakia") == entity_of(glossary, "スロバキア")


def test_a_country_name_inside_a_longer_name_is_not_the_country():
    # "Palau Robert" is a building in Barcelona; "Japan Foundation" a body; a list or a sentence
    # end keeps the countries.
    assert names.countries_in("The meeting closed at Palau Robert in Barcelona.") == []
    assert names.countries_in("Offices of the Japan Foundation opened.") == []
    assert names.countries_in("Spain France and Italy joined. Delegates from Japan. The rest") == ["ES", "FR", "IT", "JP"]



def test_a_name_holding_a_unions_name_is_found_written_with_the_unions_other_forms():
    """Documents write 駐日NU代表部 as well as 駐日ノルヴィア連合代表部, and "Delegation of the NU"
    as well as "… of the Norvian Union": the same body. Adjectives are no form of the union."""
    from core.glossary import parse_glossary

    g = parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n"
                       "nu,region,,Norvian Union,ノルヴィア連合,NU|Norvian\n"
                       "nudel,organisation,,Delegation of the Norvian Union,駐日ノルヴィア連合代表部,\n", "test")
    for text, surface in (("駐日NU代表部の職員", "駐日NU代表部"), ("at the Delegation of the NU today", "Delegation of the NU")):
        found = [(m.entity_id, m.surface) for m in g.find(text)]
        assert ("nudel", surface) in found, found
    assert all(m.entity_id != "nudel" for m in g.find("the Delegation of the Norvian today"))


def test_name_matches_are_remembered_as_copies_within_a_bound(glossary, monkeypatch):
    """`find` remembers the texts it met last (an answer reads the same sentences several times):
    the same mentions again, in a list of the caller's own, and never more than REMEMBERED texts."""
    text = "Kobe and Marseille met in Kobe."
    first = glossary.find(text)
    again = glossary.find(text)
    assert again == first and again is not first and [m.entity_id for m in first].count(first[0].entity_id) == 2
    monkeypatch.setattr(glossary, "REMEMBERED", 2)
    glossary._found.clear()
    for n in range(5):
        assert glossary.find(f"{n} {text}")[0].start == len(f"{n} ")
        assert len(glossary._found) <= 2


def test_the_matcher_finds_what_a_longest_first_alternation_finds_with_offsets_into_the_source():
    """`find` scans with the name table's forms as a prefix tree and folds by a character table:
    it must find what the plain longest-first alternation of the forms finds in the text folded
    character by character (nested forms, word boundaries, both scripts), and point at the
    source's own characters where folding changes a character's length (ligatures, combining
    accents, full-width letters)."""
    import random
    import re

    from core.glossary import fold

    rows = ["grenoble,city,FR,Grenoble,グルノーブル,Grenoble-Alpes|Grenoble-Alpes Metropole",
            "gre,city,FR,Gre,,", "umea,city,SE,Umeå,ウメオ,Umea", "eu,region,,European Union,欧州連合,EU|欧州",
            "fin,organisation,,Finance Office,,ﬁnance bureau"]
    g = parse_glossary(HEADER + "\n".join(rows) + "\n", "test")
    forms = sorted({a for a, _ in g.alias_pairs()}, key=lambda a: (-len(a), a))
    latin = [re.escape(a) for a in forms if not re.search("[\u3040-\u9fff]", a)]
    cjk = [re.escape(a) for a in forms if re.search("[\u3040-\u9fff]", a)]
    plain = re.compile(r"(?<![a-z0-9-])(?:" + "|".join(latin) + r")(?![a-z0-9-])|(?:" + "|".join(cjk) + ")")
    pieces = ["Grenoble", "Grenoble-Alpes", "Grenoble-Alpes Metropole", "Gre", "Grenobles", "Umeå", "Ume\u0301a",
              "ＥＵ", "EU", "欧州連合", "欧州", "グルノーブル", "ﬁnance bureau", "finance bureau", "e\u0301", "㍻",
              " ", " ", "-", "の", "x", "\n"]
    rng = random.Random(7)
    for _ in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        # the reference: fold each character alone, keep each folded character's source index
        folded, index = "", []
        for i, ch in enumerate(text):
            folded += fold(ch)
            index += [i] * len(fold(ch))
        expected = [(index[m.start()], index[m.end() - 1] + 1, m.group(0)) for m in plain.finditer(folded)]
        found = g.find(text, remember=False)
        assert [(m.start, m.end) for m in found] == [(a, b) for a, b, _ in expected], text
        assert [fold(m.surface) for m in found] == [form for _, _, form in expected], text


def test_forms_nested_a_thousand_deep_are_still_matched():
    """Each form the start of the next, a thousand deep (no name table holds that, a hostile
    document might): too deep for a prefix-tree pattern, so the forms are listed plainly."""
    from core.glossary import Entity, Glossary

    g = Glossary([Entity("deep", "organisation", "", {"en": "A"}, ["a" * n for n in range(2, 1001)])])
    found = g.find("x " + "A" * 700 + " y", remember=False)
    assert [(m.entity_id, m.start, m.end) for m in found] == [("deep", 2, 702)]
