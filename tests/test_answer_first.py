"""Answer first (issue 24): the first line answers what was asked, shaped per intent, in the
asker's language; evidence after it; conversations use earlier turns only when the question
needs them. Names and sentences are invented for the test (not from the corpus)."""
from __future__ import annotations

import pytest

from app.answering.lead import FIRST_LINE_COLUMNS, STRATEGIES, clause, columns, strategy
from app.answering.question import analyze
from tests.test_intents import GLOSSARY, ask, passage


def first_line(answer) -> str:
    return answer.text.split("\n")[0]


@pytest.mark.parametrize("question, passages, expected", [
    # when: the sentence with the date leads, not the one about the subject in general
    ("When did Veldora join the network?",
     [passage("Veldora is a port city in Norvia with a long trading history."),
      passage("Veldora joined the network on 3 March 2021 after a council vote.", n=1)],
     "3 March 2021"),
    ("ヴェルドラ市はいつネットワークに参加しましたか",
     [passage("ヴェルドラ市はノルヴィアの港湾都市である。", language="ja"),
      passage("ヴェルドラ市は2021年3月3日にネットワークに参加した。", language="ja", n=1)],
     "2021年3月3日"),
    # where: the place
    ("Where was the Veldora workshop held?",
     [passage("The Veldora workshop discussed harbour logistics and tourism."),
      passage("The Veldora workshop was held in Kasumigaoka city hall.", n=1)],
     "Kasumigaoka"),
    ("ヴェルドラ市のワークショップはどこで開かれましたか",
     [passage("ヴェルドラ市のワークショップでは港湾物流が議論された。", language="ja"),
      passage("ヴェルドラ市のワークショップは霞ヶ丘市の市役所で開かれた。", language="ja", n=1)],
     "霞ヶ丘市"),
    # who: the person, with the role as written
    ("Who opened the Veldora forum?",
     [passage("The Veldora forum gathered forty delegates from two countries."),
      passage("The Veldora forum was opened by Mayor Anna Brisk.", n=1)],
     "Anna Brisk"),
    # how many: the number
    ("How many delegates attended the Veldora forum?",
     [passage("The Veldora forum was held in spring."),
      passage("The Veldora forum was attended by 42 delegates.", n=1)],
     "42"),
    ("ヴェルドラ市のフォーラムには何名が参加しましたか",
     [passage("ヴェルドラ市のフォーラムは春に開かれた。", language="ja"),
      passage("ヴェルドラ市のフォーラムには42名が参加した。", language="ja", n=1)],
     "42名"),
    # what: the answering clause
    ("What does Veldora share with Kasumigaoka?",
     [passage("Veldora and Kasumigaoka share an interest in flood-resistant harbours.")],
     "flood-resistant harbours"),
])
def test_the_first_line_carries_what_is_asked(question, passages, expected):
    q, answer = ask(question, passages)
    line = first_line(answer)
    assert expected in line, answer.text
    assert line.endswith("[1]") and answer.citations[0].quote in passages[int(passages[-1].chunk_id[1:])].text \
        or expected in answer.citations[0].quote
    assert columns(line) <= FIRST_LINE_COLUMNS


def test_no_subject_label_before_the_answer():
    q, answer = ask("When did Veldora join the network?",
                    [passage("Veldora joined the network on 3 March 2021.")])
    assert first_line(answer).startswith("Veldora joined the network on 3 March 2021.")


def test_other_language_evidence_states_dates_in_the_askers_script():
    q, answer = ask("ヴェルドラ市はいつネットワークに参加しましたか",
                    [passage("Veldora joined the network on 3 March 2021.")])
    line = first_line(answer)
    assert "2021年3月3日" in line and "英語の資料より" in line
    assert "Veldora joined the network on 3 March 2021." in answer.text.split("\n")[1]


def test_other_language_what_answer_says_where_it_comes_from():
    q, answer = ask("What does Veldora share with Kasumigaoka?",
                    [passage("ヴェルドラ市と霞ヶ丘市は洪水に強い港づくりに関心を共有している。", language="ja")])
    line = first_line(answer)
    assert line.startswith("From a Japanese source:") and "洪水に強い港づくり" in line


def test_a_long_sentence_is_cut_to_the_clause_that_answers():
    sentence = ("Veldora, a harbour city of Norvia known for its fish market and its old lighthouse, "
                "which was restored in the last decade with help from several regional funds, "
                "and which now hosts a museum, a café and a small library for visiting school classes, "
                "joined the network on 3 March 2021, after a long debate in the council.")
    line = clause(sentence, lambda part: 2.0 if "2021" in part else 0.0, 120)
    assert "3 March 2021" in line and columns(line) <= 120 and line.startswith("…")


def test_columns_count_wide_characters_twice():
    assert columns("abc") == 3 and columns("鎌倉") == 4


def test_one_strategy_per_intent():
    assert strategy({"when"}) is STRATEGIES["when"] and strategy({"who", "when"}) is STRATEGIES["who"]
    assert strategy(set()).value == "" and STRATEGIES["how_many"].value == "number"


# --- conversations ---------------------------------------------------------------------------------

def test_a_pronoun_takes_the_last_subject_and_the_first_line_names_it():
    history = ["What does Veldora share with Kasumigaoka?"]
    q = analyze("When did they start?", GLOSSARY, history)
    assert q.inherited and q.context == "pronoun" and set(q.entities) == {"veldora", "kasumi"}
    q, answer = ask("When did they start?",
                    [passage("Veldora and Kasumigaoka started their exchange in May 2020.")], history)
    assert first_line(answer).startswith("Veldora and Kasumigaoka: ")


def test_a_question_with_its_own_subject_starts_fresh():
    q = analyze("When did Kasumigaoka open its port?", GLOSSARY, ["What is Veldora known for?"])
    assert not q.inherited and q.entities == ("kasumi",) and q.retrieval_text == q.text


def test_a_self_contained_question_without_names_starts_fresh():
    q = analyze("Who won the chess tournament in Lisbon last year?", GLOSSARY, ["What is Veldora known for?"])
    assert not q.inherited and q.entities == ()


def test_an_ellipsis_keeps_the_intent_with_the_new_subject():
    q = analyze("And of Kasumigaoka?", GLOSSARY, ["Who is the mayor of Veldora?"])
    assert q.entities == ("kasumi",) and q.attribute == "mayor" and "who" in q.intents


def test_japanese_follow_ups():
    history = ["ヴェルドラ市と霞ヶ丘市の共通点は何ですか"]
    q = analyze("それはいつ始まりましたか", GLOSSARY, history)
    assert q.inherited and set(q.entities) == {"veldora", "kasumi"}
    q = analyze("霞ヶ丘市の港はいつ開かれましたか", GLOSSARY, history)
    assert not q.inherited and q.entities == ("kasumi",)


def test_which_place_questions_are_lists_in_both_languages():
    # 「…地域はどこですか」 asks for the places (a list), like "Which region …?" / "Which country …?"
    assert "list" in analyze("霞ヶ丘市が訪問した地域はどこですか", GLOSSARY).intents
    assert "list" not in analyze("会合はどこで開かれましたか", GLOSSARY).intents
    assert "where" in analyze("Which country is Veldora in?", GLOSSARY).intents


def test_a_pronoun_keeps_the_earlier_ordinal_and_year():
    q = analyze("Who opened it?", GLOSSARY, ["Where was the second Veldora meeting held in 2019?"])
    assert q.ordinals == (2,) and q.years == ("2019",)
    own = analyze("Who opened the third one?", GLOSSARY, ["Where was the second Veldora meeting held?"])
    assert own.ordinals == (3,)


def test_a_list_asking_for_countries_names_each_rows_country():
    from app.answering.facts import Facts
    from tests.test_intents import composer, row

    rows = [row(1, "Veldora", "Norvia", "Water reuse"), row(2, "Kasumigaoka", "Japan", "Night buses"),
            row(3, "Ostrel", "Norvia", "Street lighting"), row(4, "Pellam", "Japan", "Bicycle lanes")]
    for question, country in (("List the towns of Veldora with their countries", "Veldora (Norvia)"),
                              ("ヴェルドラ市のパートナーはどの国にありますか", "ヴェルドラ市（ノルヴィア）")):
        q = analyze(question, GLOSSARY)
        answer = composer().facts(q, Facts(rows, GLOSSARY).match(q))
        assert country in first_line(answer), answer.text
    # Not asked for: the row's names alone.
    q = analyze("Which towns work on water?", GLOSSARY)
    answer = composer().facts(q, Facts(rows, GLOSSARY).match(q))
    assert "Norvia" not in first_line(answer), answer.text


def test_two_capitalised_dictionary_words_are_not_a_person():
    from app.answering.answer import carries

    assert carries("person", "The session was chaired by Ada Kowalska.", GLOSSARY)
    assert not carries("person", "The Innovation Cooperation ends in November.", GLOSSARY)


def test_the_asked_value_is_bound_to_the_clause_that_says_what_is_asked():
    # "When does X aim to be carbon neutral?": a year in the clause saying "carbon neutral"
    # answers; a year in another clause (a membership, a batch) dates something else.
    from app.answering.answer import Span, asked_values
    from tests.test_intents import composer

    q = analyze("When does Veldora aim to be carbon neutral?", GLOSSARY)
    c = composer()
    asked = c._asked_words(q)

    def bound(text):
        p = passage(text)
        return c._value_bound(q, asked, Span(p, 0, len(p.text)), asked_values(q), True)

    assert bound("Veldora aims to be carbon neutral by 2031, ahead of its region.")
    assert bound("Veldora, a harbour town, will be carbon neutral in 2031.")
    assert not bound("Veldora aims to be carbon neutral; it joined the network in 2019.")
    assert not bound("Veldora (member since 2019) works on carbon neutral ferries.")


def test_a_what_answer_adds_the_other_languages_row_about_the_same_pair():
    # The Japanese sentence names two topics; the English table row about the same pair names a
    # third. The first line gives the Japanese clause, then the row's topics, labelled.
    from app.answering.answer import Answer
    from core.models import TableRow
    from tests.test_intents import passage

    values = {"Japanese town": "Kasumigaoka", "Partner": "Veldora", "Topics": "Harbour logistics, tidal energy"}
    record = TableRow(table="Pairs", columns=list(values), values=values, group="", start_year="",
                      entities=["kasumi", "veldora"])
    row = passage("Pairs | " + "; ".join(f"{k}: {v}" for k, v in values.items()), kind="table_row", n=1,
                  record=record)
    sentence = passage("霞ヶ丘市とヴェルドラ市は、港湾物流と観光で協力している。", language="ja")
    q, answer = ask("霞ヶ丘市とヴェルドラ市の協力テーマは?", [sentence, row], tokenizer="sudachi")
    assert isinstance(answer, Answer)
    line = first_line(answer)
    assert "港湾物流" in line and "tidal energy" in line and "英語の資料より" in line, answer.text
    assert "[1]" in line and "[2]" in line and columns(line) <= FIRST_LINE_COLUMNS
    # Each citation's quote stands in its passage.
    assert all(c.quote in c.passage.text for c in answer.citations)


def test_the_analysed_question_is_immutable_and_search_and_answer_share_it(corpus_assistant_fake):
    """`analyze` and linking return new questions (nothing writes onto one on its way), and the
    LangChain retriever's `search` retrieves from the same linked question as `answer`."""
    import dataclasses

    q = analyze("When did Kasumigaoka open its port?", GLOSSARY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.entities = ("veldora",)
    for question in ("What did Kamakura and Umeå work on?", "トヨタとグルノーブルの協力テーマは?",
                     "Which pairs started in 2018?", "鎌倉市とウメオ市は何に取り組みましたか"):
        searched = [(h.passage.doc, h.passage.location) for h in corpus_assistant_fake.search(question)]
        answered = corpus_assistant_fake.answer(question, with_retrieved=True)
        assert searched and searched == [(r.doc, r.location) for r in answered.retrieved], question


@pytest.mark.parametrize("question, focus", [
    ("Which fields is the new cluster about?", "fields"),
    ("What kind of tourism does Veldora promote?", "tourism"),
    ("What is the theme of the Veldora forum?", "theme"),
    ("What did Veldora work on?", ""),  # no word is asked for: the answering clause is
    ("ヴェルドラ市の協力のテーマは何ですか", "テーマ"),
    ("ヴェルドラ市はどの分野で協力していますか", "分野"),
    ("ヴェルドラ市は何をしましたか", ""),
    ("What about trees?", "trees"),  # an ellipsis asks for its noun
    ("What are the three themes of the forum?", "themes"),  # the noun after a number
    ("今後の予定は?", "予定"),
    ("ヴェルドラ市の代表団は何を視察しましたか", "視察"),  # the verb: 代表団 is who did it
])
def test_the_word_a_question_asks_for(question, focus):
    assert analyze(question, GLOSSARY).focus == focus


@pytest.mark.parametrize("question, passages, expected", [
    # the sentence saying the asked word leads, though another names the subject more closely
    ("Which fields is the Veldora forum about?",
     [passage("The Veldora forum was opened in Veldora on 3 May by the Veldora council. "
              "The fields planned for the forum are ports and tourism.")],
     "ports and tourism"),
    ("ヴェルドラ市のフォーラムのテーマは何ですか",
     [passage("ヴェルドラ市のフォーラムがヴェルドラ市で開かれた。参加者は40名であった。"
              "テーマは、港湾と観光の2つである。", language="ja")],
     "港湾と観光"),
])
def test_the_sentence_saying_the_asked_word_leads(question, passages, expected):
    q, answer = ask(question, passages)
    assert expected in first_line(answer), answer.text


def test_an_ellipsis_is_answered_by_the_sentence_saying_its_word():
    q, answer = ask("What about trees?", [passage(
        "Veldora and Kasumigaoka share an interest in green infrastructure for cities. "
        "They also compare how trees are counted and cared for in parks.")],
                    history=["What do Veldora and Kasumigaoka share?"])
    assert "trees" in first_line(answer), answer.text


def test_a_sentence_about_another_subject_of_the_same_kind_does_not_lead():
    # "Kasumigaoka" is a city like Veldora: a sentence naming only it answers about Kasumigaoka.
    q, answer = ask("What did Veldora present at the forum?",
                    [passage("The forum took place in Kasumigaoka on 3 May 2021. "
                             "Veldora presented its harbour renewal plan.")])
    assert "harbour renewal" in first_line(answer), answer.text


def test_a_listing_sentence_says_only_the_asked_subjects_part():
    from app.answering.lead import own_clauses

    sentence = "Two cities presented: Veldora on harbours, Kasumigaoka on tourism and parks."
    own = lambda part: "Veldora" in part
    other = lambda part: "Kasumigaoka" in part
    assert own_clauses(sentence, own, other) == "Two cities presented: Veldora on harbours…"
    # nothing about another subject, or nothing about the asked one: the sentence as written
    assert own_clauses(sentence, own, lambda part: False) == sentence
    assert own_clauses(sentence, lambda part: False, other) == sentence
    q, answer = ask("What did Veldora present?", [passage(sentence)])
    assert "Kasumigaoka" not in first_line(answer) and "harbours" in first_line(answer), answer.text


def test_a_long_compound_the_documents_hold_is_a_name_of_the_question():
    from app.answering.question import compound_terms

    assert compound_terms("ヴェルドラ港湾再生協力事業のテーマは何ですか", GLOSSARY) == ["ヴェルドラ港湾再生協力事業"]
    assert compound_terms("ヴェルドラ市のテーマは何ですか", GLOSSARY) == []  # a name of the table, short words


def test_who_visited_whom_is_read_from_the_words_around_the_names():
    # Both sentences name both cities and carry a date; the one saying the names in the
    # question's own words (A's delegation visited B) answers, not the visit the other way.
    q, answer = ask("ヴェルドラ市の代表団が霞ヶ丘市を訪問したのはいつですか",
                    [passage("霞ヶ丘市の代表団がヴェルドラ市を訪問したのは2023年1月30日である。", language="ja"),
                     passage("ヴェルドラ市の代表団が霞ヶ丘市を訪問したのは2022年11月23日である。", language="ja", n=1)])
    assert "2022年11月23日" in first_line(answer) and "2023年1月30日" not in first_line(answer), answer.text


def test_a_when_answer_from_the_other_language_states_the_date_of_the_clause_asked_about():
    q, answer = ask("When does Veldora aim to be carbon neutral?", [passage(
        "ヴェルドラ市は2030年までにカーボンニュートラルを目指しているが、霞ヶ丘市は2019年に大洪水に見舞われた。",
        language="ja")])
    line = first_line(answer)
    assert "2030" in line and "2019" not in line, answer.text


def test_best_clause_keeps_clauses_nothing_tells_apart():
    from app.answering.lead import best_clause

    assert best_clause("A in spring, B in autumn.", lambda part: 1.0 if "B" in part else 0.0) == "B in autumn."
    assert best_clause("A in spring, B in autumn.", lambda part: 0.0) == "A in spring, B in autumn."


def test_a_rows_start_year_is_not_an_event_of_that_year():
    # "What happened in 2019?": the row dated 2019 by its group label ("batch 2019-") began
    # then; the sentence saying what happened in 2019 answers, though in the other language.
    from core.models import TableRow

    values = {"City": "Veldora", "Partner": "Kasumigaoka", "Topics": "Harbour renewal"}
    record = TableRow("Pairs", list(values), values, "batch 2019-", "2019", ["veldora", "kasumi"])
    row = passage("batch 2019- | City: Veldora; Partner: Kasumigaoka; Topics: Harbour renewal",
                  kind="table_row", record=record)
    prose = passage("ヴェルドラ市は2019年に大洪水に見舞われた。", language="ja", n=1)
    q, answer = ask("What happened in Veldora in 2019?", [row, prose])
    assert "大洪水" in first_line(answer), answer.text
    # the year asked counts for the sentence dated that year, not for the row that began then
    from dataclasses import replace

    from app.answering.retrieve import Hit
    from tests.fakes import FakeEmbeddings
    from tests.test_intents import composer

    hits = [Hit(p, 0.5, 1.0, 1.0, 1.0) for p in (row, prose)]
    vector = FakeEmbeddings().embed_query(q.retrieval_text)
    with_year = {s.passage.chunk_id: s.score for s in composer().score_spans(q, vector, hits)}
    without = {s.passage.chunk_id: s.score for s in composer().score_spans(replace(q, years=()), vector, hits)}
    assert with_year["p1"] > without["p1"] and with_year["p0"] == without["p0"]


def test_a_readable_row_about_the_subjects_answers_what_they_work_on():
    from core.models import TableRow

    values = {"City": "Veldora", "Partner": "Kasumigaoka", "Topics": "Harbour renewal, tourism"}
    record = TableRow("Pairs", list(values), values, "", "", ["veldora", "kasumi"])
    row = passage("City: Veldora; Partner: Kasumigaoka; Topics: Harbour renewal, tourism", kind="table_row",
                  record=record, n=1)
    prose = passage("ヴェルドラ市と霞ヶ丘市は港湾の再生について話し合った。", language="ja")
    q, answer = ask("What does Veldora work on with Kasumigaoka?", [prose, row])
    assert "Harbour renewal" in first_line(answer), answer.text


def test_an_inherited_label_names_a_grouped_place_by_the_name_true_of_each():
    # A discovered entity grouping a city and its prefecture (霞ヶ丘市, 霞ヶ丘県) is labelled by
    # the shortest Japanese name, not by whichever suffix came first.
    from app.answering.answer import _label_name
    from core.glossary import Entity, Glossary

    glossary = Glossary([Entity("found:kasumi", "city", "", {"en": "Kasumi", "ja": "霞ヶ丘県"}, ["霞ヶ丘市", "霞ヶ丘"])])
    assert _label_name("found:kasumi", "ja", glossary) == "霞ヶ丘"
    assert _label_name("found:kasumi", "en", glossary) == "Kasumi"
    # one suffix only (no city and prefecture grouped): the name as the table writes it
    single = Glossary([Entity("found:veldo", "city", "", {"en": "Veldo", "ja": "ヴェルド県"}, ["ヴェルド"])])
    assert _label_name("found:veldo", "ja", single) == "ヴェルド県"


def test_an_other_language_row_answers_a_what_question_with_its_names_in_the_askers_script():
    from core.models import TableRow

    values = {"City": "Veldora", "Partner": "Kasumigaoka", "Topics": "Harbour renewal, tourism"}
    record = TableRow("Pairs", list(values), values, "batch 2019-", "2019", ["veldora", "kasumi"])
    row = passage("batch 2019- | City: Veldora; Partner: Kasumigaoka; Topics: Harbour renewal, tourism",
                  kind="table_row", record=record)
    q, answer = ask("ヴェルドラ市と霞ヶ丘市は何に取り組んでいますか", [row])
    line = first_line(answer)
    assert "ヴェルドラ市" in line and "霞ヶ丘市" in line and "Harbour renewal" in line, answer.text
    assert not line.startswith("2019"), answer.text  # no bare year as the line's label


def test_a_number_from_the_other_language_is_the_one_said_of_the_asked_subject():
    q, answer = ask("How many Norvian cities take part in the network?",
                    [passage("このネットワークには、ノルヴィア5都市、日本10都市が参加する。", language="ja")])
    line = first_line(answer)
    assert line.startswith("5 ") and "10" not in line, answer.text


def test_a_name_the_table_lacks_counts_beside_the_names_it_has():
    # "Veldora-2" is in no name table but a passage holds it word for word: with Norvia (a name
    # of the table), a sentence naming both covers the question; one naming Norvia only half.
    from app.answering.retrieve import Hit
    from dataclasses import replace

    q = replace(analyze("When did Veldora-2 start in Norvia?", GLOSSARY), other_names=("Veldora-2",))
    both = passage("Veldora-2 started in Norvia on 3 May 2024.")
    half = passage("Study visits to Norvia: autumn 2022.", n=1)
    hits = [Hit(p, 0.5, 1.0, 1.0, 1.0) for p in (half, both)]
    from tests.fakes import FakeEmbeddings
    from tests.test_intents import composer

    vector = FakeEmbeddings().embed_query(q.retrieval_text)
    scored = {s.passage.chunk_id: s.score for s in composer().score_spans(q, vector, hits)}
    unnamed = {s.passage.chunk_id: s.score for s in composer().score_spans(replace(q, other_names=()), vector, hits)}
    # naming the table-less name covers more of the question than naming only Norvia
    assert scored["p0"] - unnamed["p0"] > scored["p1"] - unnamed["p1"]


def test_a_who_answer_from_the_other_language_states_people_only():
    # The sentence names a country and a person the name table has only in Japanese: the first
    # line states no country as if it were who, it says where the answer comes from and quotes it.
    q, answer = ask("Who opened the Veldora forum?", [passage(
        "ヴェルドラ市のフォーラムでは、日本のアンナ・ブリスク氏が挨拶した。", language="ja")])
    line = first_line(answer)
    assert not line.startswith("Japan") and "アンナ・ブリスク" in line, answer.text


@pytest.mark.parametrize("question, sentence, language, said", [
    ("Who leads the Veldora delegation?", "The Veldora delegation visits Kasumigaoka in spring.", "en",
     "No passage about Veldora"),
    ("ヴェルドラ市の代表団を率いたのは誰ですか", "ヴェルドラ市の代表団は霞ヶ丘市の港を視察した。", "ja", "該当する人名"),
    ("How many delegates came from Veldora?", "Delegates from Veldora toured the harbour.", "en", "gives a number"),
])
def test_a_slot_question_no_sentence_answers_says_so(question, sentence, language, said):
    # A who / how-many question whose passages name no person / give no number: the documents
    # do not say, and a sentence about the subject that does not is no answer.
    q, answer = ask(question, [passage(sentence, language=language)])
    assert answer.abstained and said in answer.text and not answer.citations, answer.text


def test_a_list_question_led_by_one_item_gets_the_whole_list():
    q, answer = ask("Who were the opening speakers of the Veldora forum?", [passage(
        "- Anna Brisk, Mayor of Veldora\n- Olaf Tern, Mayor of Kasumigaoka\n- Mira Vell, President of Norvia",
        section="Opening speakers of the Veldora forum")])
    line = first_line(answer)
    assert "Anna Brisk" in line and "Olaf Tern" in line and "Mira Vell" in line, answer.text
    assert answer.citations[0].quote.startswith("- Anna Brisk") and answer.citations[0].quote.endswith("Norvia")
    # the list's items are on the first line: none is quoted again below it
    assert "Olaf Tern" not in "\n".join(answer.text.split("\n")[1:]), answer.text


def test_a_how_many_question_no_sentence_counts_is_answered_by_counting_the_list_under_its_heading():
    items = "- Anna Brisk, Mayor of Veldora\n- Olaf Tern, Mayor of Kasumigaoka\n- Mira Vell, President of Norvia"
    q, answer = ask("How many opening speakers did the Veldora forum have?", [
        passage("Speakers came from the two host cities and four universities.", section="Panel", n=1),
        passage(items, section="Opening speakers")])
    line = first_line(answer)
    assert line.startswith("3: Anna Brisk") and "Mira Vell" in line, answer.text
    # a list under a heading that does not say the counted word is not counted
    q, answer = ask("How many opening speakers did the Veldora forum have?", [passage(items, section="Guests")])
    assert not first_line(answer).startswith("3:"), answer.text


def test_an_inherited_label_leaves_out_the_side_beside_a_place():
    # "Which European city …" made the region EU a subject of the turn; the label of the
    # follow-up names the place, the side is context like a country.
    from app.answering.answer import context_prefix
    from core.glossary import parse_glossary

    glossary = parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n"
                              "eu,region,,European Union,欧州連合,European\n"
                              "veldora,city,,Veldora,ヴェルドラ市,\n", "test glossary")
    q = analyze("Since when have the two cities been twinned?", glossary,
                ["Which European city is Veldora paired with?"])
    assert q.inherited and context_prefix(q, glossary) == "Veldora: "
    q = analyze("When did it start?", glossary, ["What did the European Union decide?"])
    assert context_prefix(q, glossary) == "European Union: "  # the side alone is the subject


def _visit_row(n: int, when: str, where: str, what: str):
    from core.models import TableRow

    values = {"日程": when, "訪問先": where, "主な内容": what}
    record = TableRow("相互訪問", list(values), values, "", "", [])
    text = "相互訪問 | " + "; ".join(f"{k}: {v}" for k, v in values.items())
    return passage(text, language="ja", n=n, kind="table_row", record=record)


def test_a_row_whose_cell_says_it_in_a_sentence_reads_as_that_sentence():
    from app.answering.answer import row_sentence

    row = _visit_row(0, "2022年11月23日〜25日", "ヴェルドラ市", "霞ヶ丘市の代表団がヴェルドラ市を訪問し、港湾の再生計画の説明を受けた")
    assert row_sentence(row, GLOSSARY) == \
        "霞ヶ丘市の代表団がヴェルドラ市を訪問し、港湾の再生計画の説明を受けた (2022年11月23日〜25日)"
    q, answer = ask("霞ヶ丘市の代表団はヴェルドラ市で何の説明を受けましたか", [row])
    assert first_line(answer).startswith("霞ヶ丘市の代表団がヴェルドラ市を訪問し"), answer.text
    assert "訪問先:" not in answer.text and "; " not in first_line(answer), answer.text


def test_who_visited_whom_across_languages_is_read_from_the_order_of_the_names(monkeypatch):
    # In the other language the question's words cannot be repeated: the row naming the two
    # cities in the question's order (A's delegation visited B) answers, not the visit back.
    # (Every sentence is equally similar to the question here: only what is said tells them apart.)
    import numpy as np

    from app.answering.answer import Composer

    monkeypatch.setattr(Composer, "_vectors", lambda self, texts: np.ones((len(texts), 64), dtype=np.float32) / 8)
    rows = [_visit_row(0, "2023年1月30日〜", "霞ヶ丘市", "ヴェルドラ市の代表団が霞ヶ丘市を訪問し、公園を視察した"),
            _visit_row(1, "2022年11月23日〜25日", "ヴェルドラ市", "霞ヶ丘市の代表団がヴェルドラ市を訪問し、港湾を視察した")]
    q, answer = ask("When did the Kasumigaoka delegation visit Veldora?", rows)
    line = first_line(answer)
    assert "November 2022" in line and "2023" not in line, answer.text


def test_a_what_answer_is_looked_for_under_the_heading_saying_what_is_asked(monkeypatch):
    # The passage about the visit is the more similar one (0.07 better: not close enough to be
    # quoted beside it), but the sentence under the heading saying what is asked ("... want to
    # learn") answers.
    import numpy as np

    from app.answering.answer import Composer
    from tests.test_intents import Hit, analyze, composer

    def vectors(self, texts):  # similarity to the question: 0.6 for the visit, 0.53 for the rest
        return np.array([[0.6 if "delegation" in t else 0.53] + [0.0] * 63 for t in texts], dtype=np.float32)

    monkeypatch.setattr(Composer, "_vectors", vectors)
    q = analyze("What does Veldora want to learn from Kasumigaoka?", GLOSSARY)
    passages = [passage("A delegation from Veldora is in Kasumigaoka from 15 to 19 January.", section="Visit"),
                passage("Veldora is looking at how Kasumigaoka runs its harbour.", section="What the two sides want to learn", n=1)]
    hits = [Hit(p, 0.5, 1.0, 1.0, 1.0 - i / 100) for i, p in enumerate(passages)]
    answer = composer().compose(q, [1.0] + [0.0] * 63, hits)
    assert first_line(answer).startswith("Veldora is looking at how Kasumigaoka runs its harbour."), answer.text


def test_a_row_added_from_the_other_language_says_the_word_asked_for():
    # "What is the theme?": a row of the pair whose cells and columns never say a theme ("twinned
    # since 2005") is not added to the first line; one with a Themes column is.
    from core.models import TableRow

    def row(column: str, value: str, n: int):
        values = {"City": "Veldora", "Partner": "Kasumigaoka", column: value}
        return passage("Pairs | " + "; ".join(f"{k}: {v}" for k, v in values.items()), n=n, kind="table_row",
                       record=TableRow("Pairs", list(values), values, "", "", ["veldora", "kasumi"]))

    prose = passage("ヴェルドラ市と霞ヶ丘市の協力のテーマは、港湾の再生です。", language="ja")
    for column, value, added in (("Link", "twinned since 2005", False), ("Themes", "harbour renewal", True)):
        # Japanese words (テーマ) reach English ones through the word bridge: the real tokenizer.
        q, answer = ask("ヴェルドラ市と霞ヶ丘市の協力のテーマは何ですか", [prose, row(column, value, 1)],
                        tokenizer="sudachi")
        assert (value in first_line(answer)) == added, answer.text


def test_a_person_found_in_the_documents_is_stated_as_who_in_either_language():
    # Names found in the documents have no kind of their own: two capitalised words that are no
    # dictionary words are a person's name, and a Latin name reads in a Japanese answer too.
    from app.answering.answer import stated_values
    from core.glossary import parse_glossary

    glossary = parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n"
                              "found:ilse-marrow,name,,Ilse Marrow,,\n"
                              "found:technical-university,name,,Technical University,,\n", "test")
    sentence = "Ilse Marrow of the Technical University moderated the session."
    assert stated_values(sentence, "ja", glossary, set(), ("people",)) == ["Ilse Marrow"]
    assert stated_values(sentence, "en", glossary, set(), ("people",)) == ["Ilse Marrow"]


def test_a_list_question_is_led_by_the_sentence_listing_the_names(monkeypatch):
    # Both sentences carry a place; the one introducing the programme shares more of the
    # question's words, but the one listing the places that took part answers "which cities".
    import numpy as np

    import app.answering.answer as answer_module
    from app.answering.answer import Composer

    monkeypatch.setattr(Composer, "_vectors", lambda self, texts: np.ones((len(texts), 64), dtype=np.float32) / 8)
    text = passage("ノルヴィアは2015年に港湾都市プログラムを始めた。2016年には、ヴェルドラ市と霞ヶ丘市の2都市が参加した。", language="ja")
    question = "港湾都市プログラムに参加した都市はどこですか"
    q, answer = ask(question, [text])
    assert first_line(answer).startswith("2016年には、ヴェルドラ市と霞ヶ丘市の2都市が参加した。"), answer.text
    # Without counting the names listed it still leads: the sentence naming no place but the
    # question's own (and a country) carries no answer once another lists places.
    monkeypatch.setattr(answer_module, "LIST_NAME_BONUS", 0.0)
    q, answer = ask(question, [text])
    assert first_line(answer).startswith("2016年には"), answer.text


def test_an_other_language_list_states_every_name_the_line_holds():
    # Nine towns listed in Japanese: an English "which" answer names all nine (more than the six
    # values a what-answer states), as many as the first line holds.
    from app.answering.answer import MAX_STATED, Composer
    from app.answering.question import analyze
    from app.answering.retrieve import Hit, Passage
    from core.glossary import parse_glossary
    from core.lexical import LexicalIndex
    from tests.fakes import FakeEmbeddings

    towns = [("Arun", "アルン"), ("Berin", "ベリン"), ("Kadora", "カドラ"), ("Delmo", "デルモ"), ("Eska", "エスカ"),
             ("Forna", "フォルナ"), ("Galen", "ガレン"), ("Holta", "ホルタ"), ("Irona", "イロナ")]
    glossary = parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n" + "".join(
        f"{en.lower()},city,,{en},{ja}市,\n" for en, ja in towns), "test")
    text = "、".join(f"{ja}市" for _, ja in towns) + "が参加した。"
    p = Passage("p0", "doc.md", "line 1", "", "ja", "text", text, None, frozenset(m.entity_id for m in glossary.find(text)))
    q = analyze("Which cities took part?", glossary)
    composer = Composer(FakeEmbeddings(), glossary, LexicalIndex([""], "bigram").tokenize, min_sentence=-1.0,
                        min_named_sentence=-1.0)
    answer = composer.compose(q, FakeEmbeddings().embed_query(q.retrieval_text), [Hit(p, 0.5, 1.0, 0.0, 1.0)])
    line = first_line(answer)
    assert len(towns) > MAX_STATED and all(en in line for en, _ in towns), answer.text
    assert columns(line) <= FIRST_LINE_COLUMNS


def test_an_other_language_row_said_in_a_sentence_states_its_date():
    # The row's date cell dates its whole sentence: the English first line states it.
    row = _visit_row(0, "2022年11月23日〜25日", "ヴェルドラ市", "霞ヶ丘市の代表団がヴェルドラ市を訪問し、港湾の再生計画の説明を受けた")
    q, answer = ask("What did the Kasumigaoka delegation learn about in Veldora?", [row])
    line = first_line(answer)
    assert line.startswith("23–25 November 2022 (from a Japanese source): 霞ヶ丘市の代表団が"), answer.text


def test_the_asked_ordinal_leads_even_when_its_noun_is_left_out():
    # "The second took place …" says the second meeting without the word "meeting"; the
    # sentence about the first says more of the question's words, but answers about another one.
    q, answer = ask("第2回交流会議はいつ開かれましたか", [passage(
        "The first exchange meeting was held online on 13 July 2021. The second took place in Veldora on 18 November 2021.")],
        tokenizer="sudachi")
    line = first_line(answer)
    assert "2021年11月18日" in line and "7月13日" not in line, answer.text


def test_an_ordinal_counting_another_thing_is_no_evidence():
    # "2nd batch" counts batches, not meetings: the row gains nothing from the number.
    from app.answering.question import counted

    assert counted("The fourth exchange meeting") == [(4, " exchange meeting")]
    assert counted("第2回交流会議はいつ")[0] == (2, "交流会議はいつ")
    q, answer = ask("第2回交流会議はいつ開かれましたか", [
        passage("Cities and Topics · 2nd batch 2018 | Japanese city: Kasumigaoka; EU city: Veldora"),
        passage("The meetings of Kasumigaoka and Veldora began in Veldora on 18 November 2021.", n=1)],
        tokenizer="sudachi")
    assert "2021年11月18日" in first_line(answer), answer.text


def test_an_adjective_names_no_subject_on_the_first_line():
    # "Polish cohesion policy": a country's adjective (CLDR's) is not a name to state for the asker.
    from app.answering.answer import stated_values
    from core.glossary import parse_glossary

    glossary = parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n"
                              "poland,country,,Poland,ポーランド,Polish\nkasumi,city,,Kasumigaoka,霞ヶ丘市,\n", "test")
    assert stated_values("Kasumigaoka said that Polish policy favours harbours.", "ja", glossary, set()) == ["霞ヶ丘市"]
    assert stated_values("Kasumigaoka met Poland.", "ja", glossary, set()) == ["霞ヶ丘市", "ポーランド"]


def test_a_count_from_the_other_language_is_the_number_of_the_noun_asked():
    # 6地域 and 5府県 in one clause: "How many prefectures" is answered 5 (the counter after the
    # number says the asked noun through the word bridge; the tokenizer splits 府県 in two).
    from app.answering.question import analyze

    assert analyze("How many prefectures did Veldora visit?", GLOSSARY).focus == "prefectures"
    assert analyze("How many EU regions took part?", GLOSSARY).focus == "regions"
    q, answer = ask("How many prefectures did the Veldora delegation visit?",
                    [passage("ヴェルドラ市の6地域の代表団が霞ヶ丘市の5府県を訪問した。", language="ja")], tokenizer="sudachi")
    assert first_line(answer).startswith("5 (from a Japanese source)"), answer.text


def test_the_sides_of_the_programme_are_no_answer_to_which_cities(monkeypatch):
    # Naming Norvia and Japan (countries) is not listing cities: the sentence naming the cities
    # that take part leads; asked for countries, the countries are the answer.
    import numpy as np

    from app.answering.answer import Composer

    monkeypatch.setattr(Composer, "_vectors", lambda self, texts: np.ones((len(texts), 64), dtype=np.float32) / 8)
    text = passage("ノルヴィアと日本が協力する港湾事業が進められている。ヴェルドラ市と霞ヶ丘市が参加している。", language="ja")
    q, answer = ask("港湾事業に参加している都市はどこですか", [text])
    assert first_line(answer).startswith("ヴェルドラ市と霞ヶ丘市が参加している。"), answer.text
    q, answer = ask("港湾事業に協力している国はどこですか", [text])
    assert first_line(answer).startswith("ノルヴィアと日本が"), answer.text


def test_who_did_it_is_answered_by_the_body_that_did_it():
    # "Who co-organised …?" asks for whoever did it: the sentence saying that verb with the
    # cities that did it answers, though it names no person; a sentence naming people who did
    # something else does not.
    from app.answering.question import analyze

    assert analyze("Who co-organised the harbour fair?", GLOSSARY).focus == "co-organised"
    assert analyze("Who is the Mayor of Veldora?", GLOSSARY).focus == ""
    assert analyze("見本市を共催したのは誰ですか", GLOSSARY).focus == "共催"  # 〜をしたのは: the verb asked
    q, answer = ask("Who co-organised the harbour fair?", [
        passage("Ms Ilse Marrow welcomed the guests of the harbour fair.", n=0),
        passage("Veldora and Kasumigaoka co-organised the fair.", section="Organisers", n=1)])
    assert first_line(answer).startswith("Veldora and Kasumigaoka co-organised the fair."), answer.text


def test_an_ellipsis_lists_what_the_turn_before_listed():
    # "And Kasumigaoka?" after "Which towns are paired with Veldora?": the line says towns, not
    # "entries".
    from app.answering.facts import asked_noun
    from app.answering.question import analyze

    q = analyze("And Kasumigaoka?", GLOSSARY, ["Which towns are paired with Veldora?"])
    assert asked_noun(q) == "towns"


def test_a_question_that_is_only_a_name_asks_what_the_last_one_asked():
    from app.answering.question import analyze

    for question, last in (("霞ヶ丘市は?", "ヴェルドラ市が訪問した都市はどこですか"),
                           ("Kasumigaoka?", "Which cities did Veldora visit?")):
        q = analyze(question, GLOSSARY, [last])
        assert q.context == "ellipsis" and "list" in q.intents and q.entities == ("kasumi",), (question, q)
    # a name with a word of its own is a question of its own
    assert analyze("霞ヶ丘市の予算は?", GLOSSARY, ["ヴェルドラ市が訪問した都市はどこですか"]).context == ""


def test_a_row_held_twice_counts_once():
    """The same table in two copies of a deck (a slide and its PDF export): one entry with both
    citations, and the count says one, not two."""
    from app.answering.facts import Facts
    from tests.test_intents import composer, row

    rows = [row(1, "Veldora", "Norvia", "Water reuse"), row(2, "Veldora", "Norvia", "Water reuse"),
            row(3, "Ostrel", "Norvia", "Street lighting")]
    q = analyze("Which towns are in Norvia?", GLOSSARY)
    line = first_line(composer().facts(q, Facts(rows, GLOSSARY).match(q)))
    assert "(2)" in line and "Veldora [1][2]" in line and "(3)" not in line, line


def test_a_one_row_answer_to_which_towns_counts_its_towns():
    """"Which towns are paired with Kasumigaoka?" answered by one row naming two towns: the
    count is the towns (2), while a pair stays one pair."""
    from app.answering.facts import Facts
    from core.glossary import parse_glossary
    from app.answering.answer import Composer
    from core.lexical import LexicalIndex
    from core.models import TableRow
    from tests.fakes import FakeEmbeddings

    glossary = parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n"
                              "veldora,city,norvia,Veldora,ヴェルドラ市,\nostrel,city,norvia,Ostrel,オストレル市,\n"
                              "kasumi,city,japan,Kasumigaoka,霞ヶ丘市,\n"
                              "norvia,country,,Norvia,ノルヴィア,\njapan,country,,Japan,日本,\n", "test glossary")
    values = {"Japanese town": "Kasumigaoka", "Partner town": "Veldora", "Second partner": "Ostrel",
              "Topic": "Harbours"}
    text = "Pairs | " + "; ".join(f"{k}: {v}" for k, v in values.items())
    rows = [passage(text, n=1, kind="table_row", record=TableRow(
        "Pairs", list(values), values, "", "", [m.entity_id for m in glossary.find(text)]))]
    facts = Facts(rows, glossary)
    composer = lambda g: Composer(FakeEmbeddings(), g, LexicalIndex([""], "bigram").tokenize,
                                  min_sentence=-1.0, min_named_sentence=-1.0)
    q = analyze("Which towns are paired with Kasumigaoka?", glossary)
    line = first_line(composer(glossary).facts(q, facts.match(q)))
    assert "(2)" in line and "Veldora" in line and "Ostrel" in line, line
    q = analyze("Which pairs include Kasumigaoka?", glossary)
    line = first_line(composer(glossary).facts(q, facts.match(q)))
    assert "(1)" in line, line


@pytest.mark.parametrize("question, sentence, own, other", [
    ("オストレル市のパートナー都市はどこですか",
     "新規ペアは、霞ヶ丘市とヴェルドラ市(ノルヴィア)、桜台市とオストレル市(ノルヴィア)、緑町とペラム市(ノルヴィア)の3組である。",
     "桜台市とオストレル市", "霞ヶ丘市"),
    ("Where is Ostrel's partner?",
     "The new pairs are Kasumigaoka and Veldora, Sakuradai and Ostrel, Midorimachi and Pellam.",
     "Sakuradai and Ostrel", "Kasumigaoka"),
])
def test_a_where_answer_from_a_sentence_listing_pairs_is_the_asked_pairs_clause(question, sentence, own, other):
    """A sentence listing three pairs answers "where is X's partner" with X's pair only; the
    other pairs' clauses are left out (an ellipsis marks where)."""
    from app.answering.answer import Composer
    from app.answering.retrieve import Hit
    from core.glossary import parse_glossary
    from core.lexical import LexicalIndex
    from tests.fakes import FakeEmbeddings

    rows = [("kasumi", "Kasumigaoka", "霞ヶ丘市"), ("veldora", "Veldora", "ヴェルドラ市"),
            ("sakura", "Sakuradai", "桜台市"), ("ostrel", "Ostrel", "オストレル市"),
            ("midori", "Midorimachi", "緑町"), ("pellam", "Pellam", "ペラム市")]
    glossary = parse_glossary("entity_id,kind,country,name_en,name_ja,aliases\n"
                              + "".join(f"{e},city,,{en},{ja},\n" for e, en, ja in rows)
                              + "norvia,country,,Norvia,ノルヴィア,\n", "test glossary")
    p = passage(sentence, language="ja" if "市" in sentence else "en")
    q = analyze(question, glossary)
    composer = Composer(FakeEmbeddings(), glossary, LexicalIndex([""], "sudachi").tokenize,
                        min_sentence=-1.0, min_named_sentence=-1.0)
    answer = composer.compose(q, FakeEmbeddings().embed_query(q.text), [Hit(p, 0.5, 1.0, 1.0, 1.0)])
    line = first_line(answer)
    assert own in line and other not in line and "…" in line, answer.text


def test_a_row_without_names_is_keyed_by_its_first_cell():
    from app.answering.answer import row_sentence
    from core.models import TableRow

    values = {"Day": "Wednesday 18 January", "Activity": "Workshop on harbour plans"}
    row = passage("Programme | Day: Wednesday 18 January; Activity: Workshop on harbour plans", kind="table_row",
                  record=TableRow("Programme", list(values), values, "", "", []))
    assert row_sentence(row, GLOSSARY) == "Wednesday 18 January: Workshop on harbour plans"



@pytest.mark.parametrize("question, passages, says_yes", [
    # the sentence says what is asked of the names asked: yes, then the fact
    ("Is Veldora paired with Kasumigaoka?",
     [passage("Veldora is paired with Kasumigaoka for harbour planning.")], "Yes: "),
    ("ヴェルドラ市は霞ヶ丘市とペアを組んでいますか",
     [passage("ヴェルドラ市は霞ヶ丘市とペアを組んでいる。", language="ja")], "はい。"),
    # another place stands between the two asked: they are not said to be paired
    ("Is Veldora paired with Kasumigaoka?",
     [passage("The pairs are Veldora and Norvia, and Kasumigaoka and Japan.")], ""),
    # the sentence denies it
    ("Is Veldora paired with Kasumigaoka?",
     [passage("Veldora is not paired with Kasumigaoka.")], ""),
    # the sentence says it of another year only: no, then the fact
    ("Did Veldora join the network in 2019?",
     [passage("Veldora joined the network in 2021.")], "No: "),
    ("ヴェルドラ市は2019年にネットワークに参加しましたか",
     [passage("ヴェルドラ市は2021年にネットワークに参加した。", language="ja")], "いいえ。"),
    # the sentence says nothing of what is asked beyond the names
    ("Does Veldora host the Kasumigaoka festival?",
     [passage("Veldora and Kasumigaoka exchanged students.")], ""),
])
def test_a_yes_no_question_is_answered_yes_or_no_only_when_the_sentence_says_so(question, passages, says_yes):
    q, answer = ask(question, passages)
    line = first_line(answer)
    assert "yes_no" in q.intents
    if says_yes:
        assert line.startswith(says_yes) and passages[0].text.rstrip("。.") in line, answer.text
    else:
        # the fact alone: no "yes" the documents do not give (and no "no" either)
        assert not line.startswith(("Yes", "No", "はい", "いいえ")), answer.text
        assert answer.citations and answer.citations[0].passage is passages[0]


def test_a_what_question_is_answered_by_the_list_under_the_heading_saying_what_is_asked():
    q, answer = ask("ヴェルドラ市の今後の予定は何ですか", [
        passage("ヴェルドラ市は来年、新しい港を紹介する予定です。", section="概要", language="ja", n=1),
        passage("- 港湾のウェビナー\n- 相互の視察訪問", section="今後の予定", language="ja")], tokenizer="sudachi")
    line = first_line(answer)
    assert line.startswith("港湾のウェビナー") and "相互の視察訪問" in line, answer.text


def test_a_quote_for_a_question_naming_no_subject_says_something_asked():
    from app.answering.answer import Span
    from tests.test_intents import composer

    lead_passage = passage("The harbour festival was organised by the port office.", section="Festival")
    unrelated = passage("The museum keeps old maps of the coast.", section="Museum", n=1)
    related = passage("The festival drew crowds to the harbour every summer.", section="Summer", n=2)
    q = analyze("Who organised the harbour festival?", GLOSSARY)
    span = lambda p: Span(p, 0, len(p.text), 0.5)
    chosen = [lead_passage, unrelated, related]
    answer = composer()._write(q, chosen, {p.chunk_id: [span(p)] for p in chosen}, span(lead_passage), 0.5)
    assert "old maps" not in answer.text and "drew crowds" in answer.text, answer.text


def lead_of(question: str, scored: list, glossary=GLOSSARY):
    """The sentence `_lead_span` picks among whole passages (after their section line), each
    given the score the embedder would: (passage, score) pairs."""
    from app.answering.answer import Span, asked_values
    from tests.test_intents import composer

    q = analyze(question, glossary)
    spans = [Span(p, len(p.section) + 1 if p.section else 0, len(p.text), score) for p, score in scored]
    return composer(glossary=glossary)._lead_span(q, [p for p, _ in scored], {s.passage.chunk_id: [s] for s in spans},
                               asked_values(q), spans, -1.0)


def test_a_which_places_question_is_led_by_a_sentence_listing_places_not_one_naming_only_its_own():
    # The first sentence scores far better (the embedder likes it) but names no place beyond the
    # question's own and a country; the second lists a town that took part.
    general = passage("Towns of Norvia took part in the Veldora harbour fair.", n=0)
    listing = passage("Kasumigaoka took part in the Veldora fair.", n=1)
    lead = lead_of("Which towns took part in the Veldora harbour fair?", [(general, 0.9), (listing, 0.5)])
    assert lead.passage is listing


def test_a_name_of_no_known_kind_written_in_lower_case_is_not_a_place_a_list_lists():
    from core.glossary import parse_glossary
    from tests.test_intents import HEADER_ROWS

    glossary = parse_glossary(HEADER_ROWS + "veldora,city,norvia,Veldora,ヴェルドラ市,\nkasumi,city,norvia,Kasumigaoka,霞ヶ丘市,\n"
                              "norvia,country,,Norvia,ノルヴィア,\nforum,name,,harbour forum,,\n", "test")
    general = passage("The last harbour forum of Norvia ends in 2025.", n=0)
    listing = passage("Veldora and Kasumigaoka of Norvia take part.", n=1)
    lead = lead_of("Which towns of Norvia take part in the cooperation?", [(general, 0.9), (listing, 0.5)], glossary)
    assert lead.passage is listing


def test_a_list_question_is_led_by_the_sentence_listing_the_names_after_the_one_naming_its_subject():
    # 「ノルヴィアからはヴェルドラ市と霞ヶ丘市が参加した」 continues a sentence naming the league: the
    # cities it lists are the answer, and the country qualifying them is no other subject. A
    # sentence listing cities after one that does not name the league is about something else.
    from app.answering.answer import Span, asked_values
    from core.glossary import parse_glossary
    from core.models import Passage
    from tests.test_intents import HEADER_ROWS, composer

    glossary = parse_glossary(HEADER_ROWS + "veldora,city,norvia,Veldora,ヴェルドラ市,\nkasumi,city,norvia,Kasumigaoka,霞ヶ丘市,\n"
                              "quarn,city,norvia,Quarn,クアルン市,\nnorvia,country,,Norvia,ノルヴィア,\n"
                              "league,programme,,Harbour League,ハーバー連盟,\n", "test")
    general = Passage("p0", "doc.md", "lines 0", "", "ja", "text", "ハーバー連盟は港湾都市の事業である。", None, frozenset({"league"}))
    text = "ハーバー連盟は2015年に始まった。ノルヴィアからはヴェルドラ市と霞ヶ丘市が参加した。その後、クアルン市も加わった。"
    listing = Passage("p1", "doc.md", "lines 1", "", "ja", "text", text, None,
                      frozenset({"league", "norvia", "veldora", "kasumi", "quarn"}))
    q = analyze("ハーバー連盟に参加した都市を教えてください", glossary)
    first, cities, later = (Span(listing, text.index(part), text.index("。", text.index(part)) + 1, score)
                            for part, score in (("ハーバー連盟は2015年", 0.6), ("ノルヴィアからは", 0.5), ("その後", 0.55)))
    spans = [Span(general, 0, len(general.text), 0.9), first, cities, later]
    lead = composer(glossary=glossary)._lead_span(q, [general, listing], {"p0": [spans[0]], "p1": [first, cities, later]},
                               asked_values(q), spans, -1.0)
    assert lead is cities


def test_a_value_no_retrieved_passage_holds_is_read_from_the_best_passages_document():
    # The seminar's speakers match the question best; the hours stand in another section of the
    # same document, which the retriever hands over as `nearby`.
    from app.answering.retrieve import Hit
    from tests.fakes import FakeEmbeddings
    from tests.test_intents import composer

    speakers = passage("Speakers at the Veldora seminar came from two harbour agencies.", n=0)
    hours = passage("The Veldora fair opened at 9:00 and the seminar ran until 11:30.", n=1)
    q = analyze("Until what time did the Veldora seminar run?", GLOSSARY)
    vector = FakeEmbeddings().embed_query(q.retrieval_text)
    hits = [Hit(speakers, 0.5, 1.0, 1.0, 1.0)]
    alone = composer().compose(q, vector, hits)
    assert alone is None or "11:30" not in first_line(alone)
    answer = composer().compose(q, vector, hits, nearby=[Hit(hours, 0.0, 0.0, 1.0, 0.0)])
    assert "11:30" in first_line(answer), answer.text


def test_an_other_language_what_answer_is_not_labelled_with_a_side_of_the_programme():
    q, answer = ask("What is the HPX2 programme?", [passage("後継のHPX2プログラムの日本での発足式が開かれた。", language="ja")])
    line = first_line(answer)
    assert not line.startswith("Japan") and line.startswith("From a Japanese source:"), answer.text


def test_a_sentence_stating_another_year_than_the_one_asked_does_not_answer():
    other = passage("The Veldora fair was held in Kasumigaoka in 2019.", n=0)
    asked = passage("In 2021 the Veldora fair took place in Norvia.", n=1)
    lead = lead_of("Where was the Veldora fair held in 2021?", [(other, 0.9), (asked, 0.5)])
    assert lead.passage is asked


def test_a_word_of_the_same_family_says_what_is_asked():
    byline = passage("Notes for the Veldora network team, spring 2022", n=0)
    launch = passage("The Veldora network was launched in January 2021.", n=1)
    lead = lead_of("When did the Veldora network start?", [(byline, 0.83), (launch, 0.78)])
    assert lead.passage is launch  # "launched" says "start" (the scores are such that this word decides)


def test_a_sentence_stating_another_day_than_the_one_asked_does_not_answer():
    page = passage("更新日:2022年6月1日", language="ja", n=0)
    day = passage("Monday 16 January: harbour tour of Veldora", n=1)
    lead = lead_of("1月16日には何がありますか", [(page, 0.9), (day, 0.5)])
    assert lead.passage is day


def test_a_heading_repeating_the_questions_phrase_around_its_names_says_which_subject_is_meant():
    # Two "second fairs": the heading of one repeats the question's words around the name,
    # in another case ("Second Harbour Fair of Veldora Towns"): the scores are such that this decides.
    other = passage("The second Veldora fair was held in Kasumigaoka.", section="The second fair", n=0)
    # (the venue names its city, as real minutes do: a country's name alone is no venue)
    meant = passage("Venue: Norvia hall, Kasumigaoka, in a hybrid format.", section="Second Harbour Fair of Veldora Towns", n=1)
    lead = lead_of("Where was the second harbour fair of Veldora towns held?", [(other, 0.57), (meant, 0.55)])
    assert lead.passage is meant, lead.text


def test_a_table_in_the_other_language_answers_unless_the_askers_sentence_names_the_subject(tmp_path):
    # The rows name 霞ヶ丘 (Kasumigaoka); the Japanese sentence speaks of "two regions" and the
    # town's country only: it is no answer to which regions the town visited, the rows are.
    from tests.test_answer import _assistant_over

    text = ("# Harbour fair regions\n\n| Region | Country | Towns visiting in 2023 |\n|---|---|---|\n"
            "| Alder Coast | Norvia | Veldora, Kasumigaoka |\n| Birch Bay | Norvia | Veldora |\n\n"
            "## 訪問の記録\n\n霞ヶ丘市とヴェルドラ市は港町である。ノルヴィアの2地域の代表団が日本の町を訪問し、港を視察した。\n")
    assistant = _assistant_over(tmp_path, GLOSSARY, "fair.md", text)
    answer = assistant.answer("霞ヶ丘市が訪問した地域はどこですか").answer
    assert "Alder Coast" in answer.split("\n")[0] and "Birch Bay" not in answer.split("\n")[0], answer


def test_the_column_a_japanese_list_noun_names_is_found_in_an_english_table():
    # 「フランスの地域はいくつ」 over rows headed "EU region; Country; Prefectures visiting": the
    # line lists the regions (through the word bridge 地域 -> region), not the prefectures.
    from core.models import TableRow
    from tests.test_intents import composer

    values = {"EU region": "Veldora Coast", "Country": "Norvia", "Prefectures visiting": "Kasumigaoka"}
    record = TableRow(table="Regions", columns=list(values), values=values, group="", start_year="", entities=[])
    row = passage("Regions | " + "; ".join(f"{k}: {v}" for k, v in values.items()), kind="table_row", record=record)
    assert composer("sudachi")._noun_column(row, "地域") == "EU region"
    assert composer("sudachi")._noun_column(row, "regions") == "EU region"


def test_where_is_answered_by_the_city_not_by_the_country_around_it():
    # Both sentences name a country; only the second names where (a city). Stated across
    # languages, the city stands alone, not "Norvia, Veldora".
    from app.answering.answer import stated_values

    sides = passage("The Norvian delegation travelled from Norvia to Japan for the fair.", n=0)
    venue = passage("The fair was held in Veldora.", n=1)
    assert lead_of("Where was the fair held?", [(sides, 0.9), (venue, 0.5)]).passage is venue
    assert stated_values("フェアはノルヴィアのヴェルドラ市で開かれた。", "en", GLOSSARY, set(), ("places",)) == ["Veldora"]


def test_a_japanese_where_over_an_english_sentence_naming_only_sides_quotes_the_clause():
    # The venue is no name of the name table: the first line quotes the clause that says it
    # rather than naming Norvia and Japan as where the fair was held.
    q, answer = ask("フェアはどこで開かれましたか",
                    [passage("The Norvia–Japan fair closed at Harbour Hall in Port Alder.", n=0)])
    line = first_line(answer)
    assert "Harbour Hall" in line, answer.text


@pytest.mark.parametrize("text, counts", [
    ("Kamakura – Umea: 2nd batch 2018-", False),  # an ordinal ranks, it counts nothing
    ("交流は今回が2度目となる。", False),
    ("第4回会議が開かれた。", False),
    ("The 4th meeting drew 60 delegates.", True),
])
def test_an_ordinal_is_no_count(text, counts):
    from app.answering.answer import carries, stated_values

    assert carries("number", text, GLOSSARY) is counts
    assert not any(v.startswith(("2", "4")) for v in stated_values(text, "en", GLOSSARY, set(), ("numbers",)))


def test_a_japanese_question_about_an_english_table_is_not_refused_for_words_said_in_english(tmp_path):
    # 役職 (role) and 登壇者 (speaker) occur in no document; the table says "Speaker" and "Role".
    # The question is about the table, not about something the documents never mention.
    from tests.test_answer import _assistant_over

    text = ("# Harbour seminar\n\n| Speaker | Organisation | Role |\n|---|---|---|\n"
            "| Ada Kowalska | Veldora City | Head of Port Planning |\n| Ben Ortiz | Kasumigaoka City | Director |\n")
    assistant = _assistant_over(tmp_path, GLOSSARY, "seminar.md", text)
    answer = assistant.answer("ヴェルドラ市の登壇者の役職は何ですか").answer
    assert "Head of Port Planning" in answer.split("\n")[0], answer


def test_which_country_is_answered_by_the_country_in_either_direction():
    # Across languages the country stays when it is what is asked; from a table, a country
    # question lists each row's country, not its towns, and a row naming none says nothing.
    from app.answering.answer import stated_values
    from app.answering.facts import Facts
    from tests.test_intents import composer, row

    assert stated_values("Kasumigaoka hosted the fair in Norvia.", "ja", GLOSSARY, set(), ("places",),
                         countries=True) == ["霞ヶ丘市", "ノルヴィア"]
    assert stated_values("Kasumigaoka hosted the fair in Norvia.", "ja", GLOSSARY, set(), ("places",)) == ["霞ヶ丘市"]
    rows = [row(1, "Veldora", "Norvia", "Water reuse"), row(2, "Veldora", "", "Harbour logistics")]
    q = analyze("ヴェルドラ市はどの国にありますか", GLOSSARY)
    line = first_line(composer().facts(q, Facts(rows, GLOSSARY).match(q)))
    assert "ノルヴィア" in line and "1件" in line, line


def test_a_pair_question_is_not_answered_by_a_sentence_naming_the_pair_for_another_reason():
    # "Ada Kowalska, coordinator for Veldora and Kasumigaoka, moderated …" names the pair and
    # scores best, but says nothing of what they work on; the pair's table row does.
    from core.models import TableRow

    values = {"Town": "Veldora", "Partner": "Kasumigaoka", "Topics": "Flood-resistant harbours"}
    record = TableRow(table="Partner towns", columns=list(values), values=values, group="", start_year="",
                      entities=["veldora", "kasumi"])
    row = passage("Partner towns | Town: Veldora; Partner: Kasumigaoka; Topics: Flood-resistant harbours",
                  kind="table_row", n=1, record=record)
    person = passage("Ada Kowalska, coordinator for Veldora and Kasumigaoka, moderated the session.", n=0)
    lead = lead_of("What did Veldora and Kasumigaoka work on?", [(person, 0.9), (row, 0.4)])
    assert lead.passage is row
    # a sentence that says what they work on keeps the lead
    said = passage("Veldora and Kasumigaoka work on harbour safety.", n=2)
    assert lead_of("What did Veldora and Kasumigaoka work on?", [(said, 0.9), (row, 0.4)]).passage is said


def test_how_many_is_led_by_the_sentence_whose_number_counts_the_noun_asked():
    # "2年間" (two years) is a number too, but counts no towns; "Norvia12都市" does.
    years = passage("この事業でヴェルドラ市は、ノルヴィアの都市と2年間協力している。", language="ja", n=0)
    towns = passage("この事業には、ノルヴィア12都市が参加している。", language="ja", n=1)
    lead = lead_of("この事業に参加しているノルヴィアの都市はいくつですか", [(years, 0.9), (towns, 0.5)])
    assert lead.passage is towns


def test_a_common_compound_found_in_the_documents_is_no_subject_a_passage_must_name():
    from app.answering.link import common_compound
    from core.glossary import parse_glossary
    from tests.test_intents import HEADER_ROWS

    glossary = parse_glossary(HEADER_ROWS + "found:toshi,name,,,都市間協力,\nfound:kamacon,name,,,カマコン,\n"
                              "found:league,name,,Harbour League,港湾連盟,\n", "test")
    assert common_compound("found:toshi", glossary)  # 都市 + 協力: common words only
    assert not common_compound("found:kamacon", glossary)  # a coined name
    assert not common_compound("found:league", glossary)  # linked to an English name


def test_the_focus_written_outside_the_names_is_asked_even_when_a_name_holds_the_same_word():
    from core.glossary import parse_glossary
    from tests.test_intents import HEADER_ROWS, composer

    glossary = parse_glossary(HEADER_ROWS + "league,programme,,Harbour City League,港湾都市連盟,\n", "test")
    focus_of = lambda question: composer("sudachi", glossary)._focus_words(analyze(question, glossary))
    assert "都市" in focus_of("港湾都市連盟に参加した都市はいくつですか")
    assert "都市" not in focus_of("港湾都市連盟はいくつですか")


def test_a_counter_counts_the_noun_it_means_and_a_focus_of_two_words_prefers_the_sentence_saying_both():
    # 「新規ペアはいくつ」: "新規ペアは…の5組である" (組 counts pairs) says both words of the focus;
    # "残るのは5ペアです" says only ペア, though the embedder scores it higher.
    remaining = passage("第二期にペアとして残るのは5ペアです。", language="ja", n=0)
    new = passage("新規ペアは、ヴェルドラ市と霞ヶ丘市など5組である。", language="ja", n=1)
    lead = lead_of("新規ペアはいくつですか", [(remaining, 0.6), (new, 0.5)])
    assert lead.passage is new


def test_a_role_cell_holding_found_names_of_no_known_kind_is_still_a_role():
    # "Project Manager" and "Harbour Relations" were found in the documents as names of no
    # known kind: the cell says a role all the same (one speaker, not three names).
    from app.answering.answer import _name_cell
    from core.glossary import parse_glossary
    from tests.test_intents import HEADER_ROWS

    glossary = parse_glossary(HEADER_ROWS + "found:pm,name,,Project Manager,,\nfound:hr,name,,Harbour Relations,,\n"
                              "veldora,city,norvia,Veldora,ヴェルドラ市,\nnorvia,country,,Norvia,ノルヴィア,\n", "test")
    assert not _name_cell("Project Manager for Harbour Relations", glossary)[0]
    assert _name_cell("Veldora", glossary)[0]


def test_a_japanese_list_noun_picks_its_table_through_the_bridge_as_a_whole_word():
    # 登壇者 is "speaker" as a whole word (its first part 登壇 is "rostrum"): the speakers'
    # table is the one asked about, not a table of pairs that also names Veldora.
    from app.answering.facts import Facts
    from core.models import TableRow

    def table_row(n, table, values):
        record = TableRow(table=table, columns=list(values), values=values, group="", start_year="", entities=[])
        record.entities = list(dict.fromkeys(m.entity_id for m in GLOSSARY.find(record.cell_text)))
        return passage(f"{table} | " + "; ".join(f"{k}: {v}" for k, v in values.items()), kind="table_row", n=n,
                       record=record)

    rows = [table_row(1, "Seminar", {"Speaker": "Ada Kowalska", "Organisation": "Veldora"}),
            table_row(2, "Pairs", {"Town": "Veldora", "Partner": "Kasumigaoka"})]
    got = Facts(rows, GLOSSARY).match(analyze("ヴェルドラ市の登壇者は誰ですか", GLOSSARY))
    assert got is not None and [r.chunk_id for r in got.rows] == ["p1"]


def test_a_number_counting_something_else_is_not_stated_as_the_count_asked():
    # Asked about visits, the only sentence counts people: its number is no answer to state;
    # the sentence is quoted as written. Asked about people, the number is stated.
    q, answer = ask("How many visits did Veldora receive?",
                    [passage("ヴェルドラ市の人口は約10万人である。", language="ja")], tokenizer="sudachi")
    assert not first_line(answer).startswith("about"), answer.text
    assert "10万人" in first_line(answer), answer.text
    q, answer = ask("How many people live in Veldora?",
                    [passage("ヴェルドラ市の人口は約10万人である。", language="ja")], tokenizer="sudachi")
    assert first_line(answer).startswith("about 100,000"), answer.text


def test_a_count_is_answered_by_a_sentence_of_the_askers_language_only_when_it_counts_the_noun_asked(tmp_path):
    # 「霞ヶ丘市などノルヴィアの5都市が参加している」 names the town and gives a number, but counts
    # towns, not the regions it visited: the English table's rows answer, counted.
    from tests.test_answer import _assistant_over

    text = ("# Harbour fair regions\n\n| Region | Country | Towns visiting in 2023 |\n|---|---|---|\n"
            "| Alder Coast | Norvia | Veldora, Kasumigaoka |\n| Birch Bay | Norvia | Kasumigaoka |\n"
            "| Cedar Point | Norvia | Veldora |\n\n"
            "## 参加都市\n\nこの事業には、霞ヶ丘市などノルヴィアの5都市が参加している。\n")
    assistant = _assistant_over(tmp_path, GLOSSARY, "fair.md", text)
    line = assistant.answer("霞ヶ丘市はいくつの地域を訪問しましたか").answer.split("\n")[0]
    assert "2件" in line and "Alder Coast" in line, line


def test_a_value_is_looked_for_in_the_best_passages_document_even_when_another_document_has_one():
    # The seminar's speakers (document A) match best; a date stands in document B about another
    # event; the seminar's own date is in document A's other section, handed over as `nearby`.
    from app.answering.retrieve import Hit
    from core.models import Passage
    from tests.fakes import FakeEmbeddings
    from tests.test_intents import composer

    def doc_passage(doc, n, text):
        return Passage(f"p{n}", doc, f"lines {n}", "", "en", "text", text, None, frozenset())

    speakers = doc_passage("a.md", 0, "Speakers at the harbour seminar came from two agencies.")
    other = doc_passage("b.md", 1, "The harbour fair of another league opened on 2 May 2020.")
    dated = doc_passage("a.md", 2, "The harbour seminar was held on 14 March 2022.")
    q = analyze("When was the harbour seminar held?", GLOSSARY)
    vector = FakeEmbeddings().embed_query(q.retrieval_text)
    hits = [Hit(speakers, 0.5, 1.0, 0.0, 1.0), Hit(other, 0.4, 0.5, 0.0, 0.9)]
    answer = composer().compose(q, vector, hits, nearby=[Hit(dated, 0.0, 0.0, 0.0, 0.0)])
    assert "14 March 2022" in first_line(answer), answer.text


def test_a_count_of_the_noun_in_a_sentence_about_another_subject_does_not_silence_the_subjects_number():
    # Kasumigaoka's sentence counts towns but is about Kasumigaoka; Veldora's counts its members
    # in other words. The lead is Veldora's number, not a sentence stating none (which would
    # read "no number is stated").
    spring = passage("The Veldora league meets every spring.", n=0)
    members = passage("The Veldora league has 12 members.", n=1)
    other = passage("Kasumigaoka hosts 30 towns every summer.", n=2)
    lead = lead_of("How many towns take part in the Veldora league?", [(spring, 0.9), (members, 0.6), (other, 0.5)])
    assert lead.passage is members


def test_a_focus_counted_through_the_word_bridge_does_not_outweigh_the_askers_own_sentence():
    # 「協力テーマは?」: the English row's header says "Topics" (テーマ through the bridge) and its
    # text "cooperation"; the Japanese sentence says 協力 only. Across languages one focus word
    # counts as many as any: the asker's own sentence, scored better, leads.
    from core.models import TableRow

    values = {"Town": "Veldora", "Partner": "Kasumigaoka", "Topics": "Harbour cooperation"}
    record = TableRow(table="Cities and topics", columns=list(values), values=values, group="", start_year="",
                      entities=["veldora", "kasumi"])
    row = passage("Cities and topics | Town: Veldora; Partner: Kasumigaoka; Topics: Harbour cooperation",
                  kind="table_row", n=1, record=record)
    prose = passage("ヴェルドラ市と霞ヶ丘市は、港湾の安全で協力しています。", language="ja", n=0)
    from app.answering.answer import Span, asked_values
    from tests.test_intents import composer

    q = analyze("ヴェルドラ市と霞ヶ丘市の協力テーマは?", GLOSSARY)
    spans = [Span(p, len(p.section) + 1 if p.section else 0, len(p.text), score) for p, score in ((prose, 0.7), (row, 0.6))]
    lead = composer("sudachi")._lead_span(q, [prose, row], {s.passage.chunk_id: [s] for s in spans},
                                          asked_values(q), spans, -1.0)
    assert lead.passage is prose
