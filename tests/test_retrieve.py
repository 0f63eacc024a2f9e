import pytest

from qa.errors import QuestionError, UnknownYearError
from qa.index import load_index
from qa.retrieve import RetrievalConfig, Retriever, check_question, is_chinese, rrf, years_in


@pytest.fixture(scope="module")
def fake_retriever(fake_index):
    return Retriever(load_index(fake_index))


@pytest.mark.parametrize("text, years", [
    ("2023年高企贷支持了多少家企业？", [2023]),
    ("2023年比2021年增加了多少家？", [2023, 2021]),
    ("How much did Gaoqidai lend in 2021?", [2021]),
    ("销售规模5000万元以下", []),
    ("承保风险2937.6万元", []),
    ("第2023号", [2023]),
    ("Give the figures for both 2021 and 2023.", [2021, 2023]),  # full stop after a year
    ("增长2023.5万元", []),
    ("", []),
])
def test_years_in(text, years):
    assert years_in(text) == years


def test_rrf_weights_and_ranks():
    fused = rrf([([1, 2, 3], 1.0), ([3, 1], 1.0)], k=60)
    assert max(fused, key=fused.get) == 1
    only_dense = rrf([([1, 2], 1.0), ([2, 1], 0.0)], k=60)
    assert only_dense[1] > only_dense[2]


@pytest.mark.parametrize("q", ["", "   ", "\n\t", None])
def test_empty_question(q):
    with pytest.raises(QuestionError, match="empty"):
        check_question(q)


def test_huge_question():
    with pytest.raises(QuestionError, match="limit is 2000"):
        check_question("高企贷" * 1000)


def test_config_validation():
    with pytest.raises(ValueError):
        RetrievalConfig(rrf_k=0)
    with pytest.raises(ValueError):
        RetrievalConfig(zh_bm25_weight=-1)


def test_is_chinese():
    assert is_chinese("mixed 高企贷") and not is_chinese("Gaoqidai 2023")


def test_hits_are_ranked_tuples(fake_retriever):
    hits = fake_retriever.search("科创助力贷授信企业", k=4)
    assert [h.rank for h in hits] == [1, 2, 3, 4]
    assert all(hits[i].score >= hits[i + 1].score for i in range(3))
    assert hits[0].bm25_rank is not None and hits[0].dense_rank is not None


def test_year_in_question_narrows_to_that_report(fake_retriever):
    assert {h.passage.year for h in fake_retriever.search("2021年科创助力贷", k=5)} == {2021}
    assert {h.passage.year for h in fake_retriever.search("科创助力贷 in 2023", k=5)} == {2023}
    both = fake_retriever.search("2023年比2021年科创助力贷", k=10)
    assert {h.passage.year for h in both} == {2021, 2023}


def test_explicit_year_and_doc_filters(fake_retriever):
    assert {h.passage.year for h in fake_retriever.search("企业", k=8, year=2021)} == {2021}
    assert {h.passage.doc_id for h in fake_retriever.search("企业", k=8, doc_id="sh-st-2023")} == {"sh-st-2023"}


def test_unknown_year(fake_retriever):
    with pytest.raises(UnknownYearError, match="no report for year 2019; known years: 2021, 2023"):
        fake_retriever.search("高企贷", year=2019)


def test_year_outside_corpus_in_question_does_not_filter(fake_retriever):
    hits = fake_retriever.search("2019年高企贷", k=10)
    assert {h.passage.year for h in hits} == {2021, 2023}


def test_english_question_uses_glossary_terms_for_bm25(fake_retriever):
    tokens = fake_retriever.bm25_query_tokens("How much did the STAR Market listings raise?")
    assert "科创板" in tokens
    assert fake_retriever.bm25_query_tokens("What about the weather?") == []


def test_search_takes_the_questions_reading_instead_of_rereading_it(fake_index):
    """A question read once (Query.reading) decides language, year and BM25 terms: "21年" is
    2021 to the analysis, so retrieval keeps to the 2021 report too."""
    from qa.index import load_index
    from qa.question import analyze
    from qa.retrieve import Retriever

    r = Retriever(load_index(fake_index))
    q = analyze("科创助力贷21年贷了多少？", r.index.years, r.glossary)
    assert q.reading.years == (2021,) and q.reading.lang == "zh"
    assert {h.passage.year for h in r.search(q.text, k=5, reading=q.reading)} == {2021}
    en = analyze("How much did Gaoqidai lend?", r.index.years, r.glossary)
    assert en.reading.lang == "en" and "高企贷" in en.reading.terms
