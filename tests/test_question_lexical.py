"""Question analysis and the lexical index."""
from __future__ import annotations

import pytest

from core.lexical import LexicalIndex, bigram_tokens, stem, sudachi_tokens
from app.answering.question import QuestionError, analyze, capitalised_names


@pytest.mark.parametrize("text, language", [
    ("What did Kamakura and Umeå work on?", "en"), ("所沢とブラティスラバの共通の関心は何ですか", "ja"),
    ("GAMとトヨタは何を協力していますか", "ja"), ("Was haben Kamakura und Umeå gemacht?", "en")])
def test_language(glossary, text, language):
    assert analyze(text, glossary).language == language


@pytest.mark.parametrize("spelling", ["Umeå", "Umea", "UMEA", "ウメオ", "ウメア"])
def test_every_spelling_finds_the_entity(glossary, spelling):
    assert analyze(f"What did {spelling} do?", glossary).entities == ("umea",)


def test_names_in_both_languages(glossary):
    q = analyze("GAMとトヨタ、そしてDonostia-San Sebastianは?", glossary)
    assert q.entities == ("grenoble", "toyota", "donostia")


def test_follow_up_without_names_inherits_the_previous_subject(glossary):
    q = analyze("それはいつですか", glossary, history=["トヨタとグルノーブルの協力テーマは?"])
    assert q.entities == ("toyota", "grenoble") and q.inherited and q.wants_when
    assert "トヨタとグルノーブル" in q.retrieval_text


def test_elliptic_follow_up_keeps_the_intent_with_the_new_subject(glossary):
    q = analyze("And Toyota?", glossary, history=["What did Kamakura and Umeå work on?"])
    assert q.entities == ("toyota",) and not q.inherited
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
    assert (q.wants_count, q.years, q.ordinals) == (True, ("2018",), (2,))
    assert analyze("2019年に始まったペアはどれですか", glossary).wants_list


def test_capitalised_names_skip_glossary_names_and_scaffolding(glossary):
    assert capitalised_names("Who is the mayor of Paris and Kamakura?", glossary) == ["Paris"]
    assert capitalised_names("What did Umeå do?", glossary) == []


def test_sudachi_segments_japanese_and_bridges_loanwords():
    assert sudachi_tokens("トヨタとグルノーブルの協力テーマは?") == ["トヨタ", "グルノーブル", "協力", "テーマ"]
    tokens = sudachi_tokens("When does Turku aim to be carbon neutral?")
    assert "carbon" in tokens and "カーボンニュートラル" in tokens


def test_bigram_fallback():
    assert bigram_tokens("協力テーマ cities") == [stem("cities"), "協力", "力テ", "テー", "ーマ"]
    assert stem("cities") == stem("city") and stem("themes") == stem("theme") != stem("them")


@pytest.mark.parametrize("tokenizer", ["sudachi", "bigram"])
def test_lexical_index_finds_japanese_passages(tokenizer):
    index = LexicalIndex(["水素ラボのネットワーク化", "若者の交流を促進", "port functions and cruising"], tokenizer)
    scores = index.scores(index.tokenize("水素の協力"))
    assert scores.argmax() == 0 and scores[1] == 0
    assert index.scores(index.tokenize("cruising ports")).argmax() == 2
    assert not index.scores(["never-seen"]).any()


def test_fusion_is_reciprocal_rank_with_names_first_and_copies_collapsed():
    from app.answering.retrieve import RRF_K, Hit, Passage, coverage_of, rank_hits, reciprocal_rank_fusion

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
    from app.answering.question import ja_name_runs

    assert ja_name_runs("ヴァル・ドワーズはどこですか", [(0, "ヴァル")]) == [("ヴァル・ドワーズ", ["ヴァル"])]
    assert ja_name_runs("ラ＝ヴェルド＝ノールの人口", [(0, "ラ"), (6, "ノール")]) == \
        [("ラ＝ヴェルド＝ノール", ["ラ", "ノール"])]
    assert ja_name_runs("パリの市長", [(0, "パリ")]) == []  # one word, nothing to join


def test_latin_names_in_a_japanese_question_are_names(glossary):
    from app.answering.question import capitalised_names

    assert capitalised_names("ACMEとは何ですか", glossary) == ["ACME"]
    assert capitalised_names("Bexford Portの役割は", glossary) == ["Bexford", "Port"]
    assert capitalised_names("Who is Terence Walden?", glossary) == ["Terence", "Walden"]


class _RankedStore:
    """A store whose dense search returns a fixed ranking (the test says what the embedder
    would find), best first, with made-up similarities."""

    def __init__(self, ranking: list[str]):
        self.ranking = ranking

    def query(self, vector, k):
        return {cid: 0.9 - 0.01 * n for n, cid in enumerate(self.ranking[:k])}


def _retriever(texts: dict[str, tuple[str, str]], dense: list[str]):
    """A retriever over made-up passages {chunk_id: (language, text)}; `dense`: the dense ranking."""
    from app.answering.retrieve import Retriever
    from core.glossary import parse_glossary
    from core.index import ReadIndex
    from core.models import Passage

    passages = [Passage(cid, "d", "", "", lang, "text", text, None) for cid, (lang, text) in texts.items()]
    lexical = LexicalIndex([p.text for p in passages], "sudachi")
    index = ReadIndex("g", "sudachi", "", passages, [], lexical)
    return Retriever(_RankedStore(dense), parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n", "t"),
                     index, candidates=3)


def test_a_passage_sharing_only_a_common_word_is_no_lexical_evidence():
    """A Japanese question whose answer is in English: the English passage the embedder ranks
    first is not pushed out by Japanese passages that share one common word with the question
    ("参加"), as it was when every such passage voted in the fusion. Made-up text."""
    from app.answering.question import analyze
    from core.glossary import parse_glossary

    texts = {"en": ("en", "Members were asked to post their comments on the harbour plan."),
             **{f"ja{i}": ("ja", f"第{i}区の住民が祭りに参加した。") for i in range(1, 5)},
             "ja-good": ("ja", "参加者はコメントを送るよう求められた。")}
    r = _retriever(texts, ["en", "ja1", "ja-good", "ja2"])
    q = analyze("参加者は何を送るよう求められましたか", parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n", "t"), [], 500)
    ranked = [h.passage.chunk_id for h in r.search(q, [0.0], 3)]
    assert ranked[0] == "ja-good"  # strong on both channels
    assert "en" in ranked[:2]  # before the passages that share only 参加
    share = r.matched_share(r.query_tokens(q))
    assert share[list(texts).index("ja1")] < 0.25 <= share[list(texts).index("ja-good")]


def test_an_english_passage_is_measured_against_the_latin_words_of_a_japanese_question():
    from app.answering.question import analyze
    from core.glossary import parse_glossary

    texts = {"en": ("en", "Row: Westmoor; started 2016"), "ja": ("ja", "港の祭りは毎年開かれる。")}
    r = _retriever(texts, ["ja", "en"])
    q = analyze("2016年に始まったのはどれですか", parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n", "t"), [], 500)
    share = r.matched_share(r.query_tokens(q))
    assert share[0] == 1.0  # "2016" is the question's whole Latin part


def test_an_ordinal_finds_its_passage_in_either_language():
    """第3回 and "third": the passage about the asked ordinal joins the ranking although neither
    the lexical channel nor the embedder tells it from the others. Made-up text."""
    from app.answering.question import analyze
    from core.glossary import parse_glossary

    texts = {"first": ("en", "The first harbour forum was held in Westmoor."),
             "second": ("en", "The second harbour forum was held in Eastmoor."),
             "third": ("en", "The third harbour forum was held in Northmoor."),
             "ja": ("ja", "港のフォーラムは毎年開かれる。")}
    r = _retriever(texts, ["ja", "first", "second", "third"])
    q = analyze("第3回フォーラムはどこで開かれましたか", parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n", "t"), [], 500)
    assert q.ordinals == (3,)
    assert "third" in [h.passage.chunk_id for h in r.search(q, [0.0], 2)]  # not "first", ranked above it


def test_question_words_carry_no_topic_in_either_language():
    """誰, いつ, どこ, 何 are the counterparts of "who", "when", "where", "what": stop words in
    both languages (core/lang/<language>.yaml), so they match no passage."""
    assert sudachi_tokens("誰がいつどこで何をしましたか") == []
    assert sudachi_tokens("Who did what, and when?") == []
    assert sudachi_tokens("港の祭りはいつですか") == ["港", "祭"]  # sudachi's normalised form


def test_a_katakana_word_the_dictionary_lacks_is_a_name():
    """A foreign name sudachi does not know (made up here) is a name of the question; a
    katakana loanword it knows is not."""
    from core.lexical import proper_nouns

    assert proper_nouns("キックオフでヴェスタームーアとの協力を話した") == [(6, "ヴェスタームーア")]


def test_the_first_passages_keep_a_place_for_the_other_language():
    """Five English passages first for an English question: the dense search's best Japanese
    passage naming the subject as well takes the fifth place; nothing moves when one of the
    first five is Japanese already, or when no Japanese passage names the subject."""
    from app.answering.retrieve import OTHER_LANGUAGE_SLOT, Hit, Passage, with_other_language

    def hit(cid, lang, coverage, dense, fused):
        return Hit(Passage(cid, "d", "", "", lang, "text", f"text {cid}", None), dense, 0.0, coverage, fused)

    english = [hit(f"e{i}", "en", 1.0, 0.5, 1.0 - i / 10) for i in range(6)]
    japanese = [hit("j1", "ja", 1.0, 0.4, 0.01), hit("j2", "ja", 1.0, 0.6, 0.005), hit("j3", "ja", 0.0, 0.9, 0.2)]
    ranked = with_other_language(english, english + japanese, "en", 6)
    assert OTHER_LANGUAGE_SLOT == 5 and [h.passage.chunk_id for h in ranked] == ["e0", "e1", "e2", "e3", "j2", "e4"]
    assert with_other_language(english[:4] + [japanese[0]], english + japanese, "en", 6)[4].passage.chunk_id == "j1"
    assert with_other_language(english, english + [japanese[2]], "en", 6) == english


def test_restored_lexical_scores_equal_bm25s_and_need_no_bm25s(tmp_path):
    """A serving process scores from the stored arrays itself: bit-identical to bm25s' own
    get_scores (same float32 additions, same order), without importing bm25s or scipy."""
    import subprocess
    import sys

    import bm25s
    import numpy as np

    from core.lexical import LexicalIndex
    from tests.conftest import ROOT

    texts = ["Kobe and Marseille port functions", "Toyota Grenoble hydrogen", "Kobe port Kobe ferry",
             "鎌倉市とウメオ市の協力", "port of Marseille"]
    built = LexicalIndex(texts, "bigram")
    restored = LexicalIndex.from_arrays(built.arrays(), built.vocabulary, built.size, "bigram")
    reference = bm25s.BM25()
    reference.scores = {**{k[5:]: v for k, v in built.arrays().items()}, "num_docs": built.size}
    reference.vocab_dict, reference.nonoccurrence_array = built.vocabulary, None
    reference.unique_token_ids_set = set(built.vocabulary.values())
    for query in (["kobe"], ["kobe", "port", "kobe"], ["marseille", "hydrogen"], ["鎌倉", "協力"]):
        tokens = [t for q in query for t in restored.tokenize(q)]
        assert np.array_equal(restored.scores(tokens), reference.get_scores(tokens)), query
    probe = ("import sys, numpy as np; from core.lexical import LexicalIndex\n"
             "arrays = {'bm25_data': np.array([1.0, 2.0], dtype=np.float32), "
             "'bm25_indices': np.array([0, 1], dtype=np.int32), 'bm25_indptr': np.array([0, 1, 2])}\n"
             "index = LexicalIndex.from_arrays(arrays, {'a': 0, 'b': 1}, 2, 'bigram')\n"
             "assert list(index.scores(['b', 'a'])) == [1.0, 2.0]\n"
             "print(sorted(m for m in ('bm25s', 'scipy') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stdout + run.stderr


def test_the_bilingual_table_finds_the_passage_written_only_in_the_other_language():
    """An English question whose answer only a Japanese passage holds: its words carried across
    the bilingual table (recruited -> 募集, cities -> 都市) find that passage, and it takes a
    place among the first passages although neither the lexical channel nor the (here
    misleading) dense ranking finds it. A passage holding the carried word of one question word
    only is no match. Made-up text."""
    from app.answering.question import analyze
    from core.glossary import parse_glossary

    texts = {**{f"en{i}": ("en", f"The harbour forum number {i} met in Westmoor.") for i in range(1, 6)},
             "ja-one": ("ja", "港の都市では祭りが毎年開かれる。"),
             "ja-good": ("ja", "2020年5月から参加を希望する都市を募集した。")}
    r = _retriever(texts, ["en1", "en2", "en3", "en4", "en5", "ja-one"])
    r.candidates = 6
    q = analyze("When were cities recruited for the harbour forum?",
                parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n", "t"), [], 500)
    tokens = r.query_tokens(q)
    assert [r.passages[i].chunk_id for i in r.bridged_ranking(q, tokens)] == ["ja-good"]
    ranked = [h.passage.chunk_id for h in r.search(q, [0.0], 6)]
    assert ranked.index("ja-good") < 5


def test_the_bridged_passage_takes_the_last_head_place_only_when_missing():
    from app.answering.retrieve import OTHER_LANGUAGE_SLOT, Hit, Passage, with_bridged

    def hit(cid, lang, coverage):
        return Hit(Passage(cid, "d", "", "", lang, "text", f"text {cid}", None), 0.5, 0.0, coverage, 0.1)

    english = [hit(f"e{i}", "en", 1.0) for i in range(6)]
    good, unnamed = hit("j", "ja", 1.0), hit("j0", "ja", 0.0)
    assert [h.passage.chunk_id for h in with_bridged(english, good, 6)] == ["e0", "e1", "e2", "e3", "j", "e4"][:6]
    assert OTHER_LANGUAGE_SLOT == 5
    assert with_bridged(english[:3] + [good] + english[3:5], good, 6)[3] is good  # already there: unchanged
    assert with_bridged(english, unnamed, 6) == english  # names less of the question than the head
    assert with_bridged(english, None, 6) == english


def test_a_japanese_date_meets_the_english_month():
    """1月18日 in a Japanese question reaches "Wednesday 18 January" of an English table: the
    month is searched as English writes it too. Made-up text."""
    from app.answering.question import analyze
    from core.glossary import parse_glossary

    texts = {"en": ("en", "Wednesday 18 January: Workshop on harbour plans"),
             "ja": ("ja", "港の祭りは毎年開かれる。")}
    r = _retriever(texts, ["ja", "en"])
    q = analyze("1月18日には何が行われましたか", parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n", "t"), [], 500)
    tokens = r.query_tokens(q)
    assert "januari" in tokens  # the stem of January
    assert r.lexical.scores(tokens)[0] > 0


def test_a_katakana_compound_meets_the_english_words_it_is_made_of():
    """キックオフ in a Japanese question reaches an English passage writing "kick-off" (which
    the index holds as kick/キック and off/オフ): the word is searched by its parts too."""
    from app.answering.question import analyze
    from core.glossary import parse_glossary

    texts = {"en": ("en", "The kick-off of the harbour forum ran from 9:00 to 9:20."),
             "ja": ("ja", "キックオフ会合には港の関係者が参加した。")}
    r = _retriever(texts, ["ja", "en"])
    q = analyze("キックオフは何時に始まりましたか", parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n", "t"), [], 500)
    tokens = r.query_tokens(q)
    assert {"キックオフ", "キック", "オフ"} <= set(tokens)
    assert r.lexical.scores(tokens)[0] > 0  # the English passage now scores
    assert r.katakana_parts("ハーバー") == []  # not made of the index's words


def test_the_bridged_pick_needs_a_clear_lead():
    """Two Japanese passages the carried words match about as well: no pick (a near tie is
    settled by nothing the question says, and must not flip when unrelated documents join the
    store); the same text stored twice is no rival. Made-up text."""
    from app.answering.question import analyze
    from core.glossary import parse_glossary

    empty = parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n", "t")
    q = analyze("When were cities recruited?", empty, [], 500)
    tie = {"en": ("en", "The harbour forum met in Westmoor."),
           "ja1": ("ja", "港の都市を募集した。"), "ja2": ("ja", "川の都市を募集した。")}
    assert _retriever(tie, ["en"]).bridged_best(q) is None
    copies = {"en": ("en", "The harbour forum met in Westmoor."),
              "ja1": ("ja", "港の都市を募集した。"), "ja2": ("ja", "港の都市を募集した。")}
    assert _retriever(copies, ["en"]).bridged_best(q) == 1


def test_the_matched_share_of_some_passages_is_theirs_in_the_share_of_all():
    """Searching reads the matched share of its lexical candidates only: the same values, bit for
    bit, as the share over every passage, in either language's measure."""
    import numpy as np

    from app.answering.question import analyze
    from core.glossary import parse_glossary

    texts = {"en": ("en", "Row: Westmoor; started 2016 with a port festival"),
             "ja1": ("ja", "港の祭りは2016年に始まった。"), "ja2": ("ja", "参加者は港で写真を送った。"),
             "en2": ("en", "Participants sent photos of the port in 2016."), "ja3": ("ja", "毎年の祭り。")}
    r = _retriever(texts, list(texts))
    q = analyze("2016年に始まった港の祭りは", parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n", "t"), [], 500)
    tokens = r.query_tokens(q)
    every = r.matched_share(tokens)
    assert len(set(every.tolist())) > 1 and 0 < every.min() < 1  # shares that differ: a real check
    for at in ([0, 1, 2, 3, 4], [4, 1], [3], []):
        some = r.matched_share(tokens, np.array(at, dtype=np.int64))
        assert some.dtype == every.dtype and some.tolist() == every[at].tolist()
