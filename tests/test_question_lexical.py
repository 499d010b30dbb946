"""Question analysis and the lexical index."""
from __future__ import annotations

import pytest

from ingest.lexical import LexicalIndex, bigram_tokens, sudachi_tokens
from app.question import QuestionError, analyze, capitalised_names


@pytest.mark.parametrize("text, language", [
    ("What did Kamakura and Umeå work on?", "en"), ("所沢とブラティスラバの共通の関心は何ですか", "ja"),
    ("GAMとトヨタは何を協力していますか", "ja"), ("Was haben Kamakura und Umeå gemacht?", "en")])
def test_language(glossary, text, language):
    assert analyze(text, glossary).language == language


@pytest.mark.parametrize("spelling", ["Umeå", "Umea", "UMEA", "ウメオ", "ウメア"])
def test_every_spelling_finds_the_entity(glossary, spelling):
    assert analyze(f"What did {spelling} do?", glossary).entities == ["umea"]


def test_names_in_both_languages(glossary):
    q = analyze("GAMとトヨタ、そしてDonostia-San Sebastianは?", glossary)
    assert q.entities == ["grenoble", "toyota", "donostia"]


def test_follow_up_without_names_inherits_the_previous_subject(glossary):
    q = analyze("それはいつですか", glossary, history=["トヨタとグルノーブルの協力テーマは?"])
    assert q.entities == ["toyota", "grenoble"] and q.inherited and q.wants_when
    assert "トヨタとグルノーブル" in q.retrieval_text


def test_elliptic_follow_up_keeps_the_intent_with_the_new_subject(glossary):
    q = analyze("And Toyota?", glossary, history=["What did Kamakura and Umeå work on?"])
    assert q.entities == ["toyota"] and not q.inherited
    assert "work on" in q.retrieval_text and "Kamakura" not in q.retrieval_text


@pytest.mark.parametrize("text, message", [
    ("", "The question is empty."), ("   \n", "The question is empty."),
    ("?!。…", "The question has no words, only punctuation."),
    ("x" * 10_000, "The question is too long (10000 characters; the limit is 1000)."),
])
def test_bad_questions(glossary, text, message):
    with pytest.raises(QuestionError) as info:
        analyze(text, glossary)
    assert str(info.value).startswith(message)


def test_cues(glossary):
    q = analyze("How many pairs started in the 2nd batch in 2018?", glossary)
    assert (q.wants_count, q.years, q.ordinals) == (True, ["2018"], [2])
    assert analyze("2019年に始まったペアはどれですか", glossary).wants_list


def test_capitalised_names_skip_glossary_names_and_scaffolding(glossary):
    assert capitalised_names("Who is the mayor of Paris and Kamakura?", glossary) == ["Paris"]
    assert capitalised_names("What did Umeå do?", glossary) == []


def test_sudachi_segments_japanese_and_bridges_loanwords():
    assert sudachi_tokens("トヨタとグルノーブルの協力テーマは?") == ["トヨタ", "グルノーブル", "協力", "テーマ"]
    tokens = sudachi_tokens("When does Turku aim to be carbon neutral?")
    assert "carbon" in tokens and "カーボンニュートラル" in tokens


def test_bigram_fallback():
    assert bigram_tokens("協力テーマ cities") == ["city", "協力", "力テ", "テー", "ーマ"]


@pytest.mark.parametrize("tokenizer", ["sudachi", "bigram"])
def test_lexical_index_finds_japanese_passages(tokenizer):
    index = LexicalIndex(["水素ラボのネットワーク化", "若者の交流を促進", "port functions and cruising"], tokenizer)
    scores = index.scores(index.tokenize("水素の協力"))
    assert scores.argmax() == 0 and scores[1] == 0
    assert index.scores(index.tokenize("cruising ports")).argmax() == 2
    assert not index.scores(["never-seen"]).any()


def test_fusion_is_reciprocal_rank_with_names_first_and_copies_collapsed():
    from app.retrieve import RRF_K, Hit, Passage, coverage_of, rank_hits, reciprocal_rank_fusion

    fused = reciprocal_rank_fusion([[3, 1], [1, 2]], {1, 2, 3, 4})
    assert fused[1] == 1 / (RRF_K + 1) + 1 / RRF_K and fused[3] == 1 / RRF_K and fused[4] == 0.0
    assert coverage_of(frozenset({"a", "b"}), ["a", "c"]) == 0.5 and coverage_of(frozenset(), []) == 0.0

    def hit(cid, text, coverage, score):
        return Hit(Passage(cid, "d", "", "", "en", "text", text, None), 0.0, 0.0, coverage, score)

    ranked = rank_hits([hit("x", "Alpha beta.", 0.0, 0.9), hit("y", "Gamma delta.", 1.0, 0.1),
                        hit("z", "Alpha  beta.", 0.0, 0.5), hit("w", "Epsilon.", 0.0, 0.3)], k=3)
    assert [h.passage.chunk_id for h in ranked] == ["y", "x", "w"]  # names first; z is x again


def test_a_katakana_name_is_taken_whole_when_the_tokenizer_tags_one_part():
    """Sudachi may call only one part of a foreign name a proper noun: the name is the whole
    katakana run across its middle dots or double hyphens. Made-up names."""
    from app.question import ja_name_runs

    assert ja_name_runs("ヴァル・ドワーズはどこですか", [(0, "ヴァル")]) == [("ヴァル・ドワーズ", ["ヴァル"])]
    assert ja_name_runs("ラ＝ヴェルド＝ノールの人口", [(0, "ラ"), (6, "ノール")]) == \
        [("ラ＝ヴェルド＝ノール", ["ラ", "ノール"])]
    assert ja_name_runs("パリの市長", [(0, "パリ")]) == []  # one word, nothing to join


def test_latin_names_in_a_japanese_question_are_names(glossary):
    from app.question import capitalised_names

    assert capitalised_names("ACMEとは何ですか", glossary) == ["ACME"]
    assert capitalised_names("Bexford Portの役割は", glossary) == ["Bexford", "Port"]
    assert capitalised_names("Who is Terence Walden?", glossary) == ["Terence", "Walden"]
