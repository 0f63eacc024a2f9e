"""Messy questions (issue 10): Chinese typos read by sound, names spelled in pinyin, English
words typed together or mistyped next to a question word — each said in the answer."""
import pytest

from qa.answer import Answerer
from qa.index import load_index
from qa.pinyin import Pinyin
from qa.retrieve import Retriever
from qa.spelling import Speller

TEXT = "孙权见到潘淑时发觉她很不一般。那年成立。发明专利授权量4.43万件。“高企贷”共为9729家高企提供信贷支持。科创助力贷授信企业411家。累计已设立科技支行7家。年末建成5G基站2.35万个。临江市旅客运输量是多少"
WORDS = ["潘淑时", "那年成立", "发明专利授权量", "高企贷", "科创助力贷", "科技支行", "基站", "临江", "旅客", "运输量"]


@pytest.fixture(scope="module")
def pinyin():
    return Pinyin(WORDS, TEXT)


@pytest.mark.parametrize("question, fixed, pair", [
    ("2023年高企代支持了多少家企业？", "2023年高企贷支持了多少家企业？", ("高企代", "高企贷")),
    ("发明专立授权量多少", "发明专利授权量多少", ("发明专立授权量", "发明专利授权量")),
])
def test_chinese_typos_are_read_by_sound(pinyin, question, fixed, pair):
    assert pinyin.correct_zh(question) == (fixed, [pair])


@pytest.mark.parametrize("question", [
    "2022年全市旅客运输量是多少？",  # 量是 sounds like 粮食: whole words are never re-read
    "科创板上市企业的总市值是多少？",
    "高企贷支持了多少家企业？",
    "潘淑是哪里人？",  # 是 is no typo of 时, however 潘淑时 sounds
    "公司哪年成立的？",  # an interrogative is typed on purpose
])
def test_words_are_never_corrected(pinyin, question):
    assert pinyin.correct_zh(question) == (question, [])


def test_names_in_pinyin_become_corpus_words(pinyin):
    found = pinyin.romanized("how many firms got kechuang zhu li dai credit, and how many keji zhihang in Linjiang?")
    # 行 is read hang in 支行 and xing in 银行: every reading counts
    assert found == {"科创助力贷": "kechuang zhu li dai", "科技支行": "keji zhihang", "临江": "Linjiang"}


def test_english_words_are_not_pinyin(pinyin):
    assert pinyin.romanized("how did the changes in lending go") == {}


def test_the_word_before_breaks_ties():
    assert Speller().correct("how mnay patnet applicatons")[0] == "how many patent applications"


def test_words_typed_together_are_split():
    assert Speller().correct("invension patentgrants in 2023") == (
        "invention patent grants in 2023", [("invension", "invention"), ("patentgrants", "patent grants")])


def test_kept_words_are_not_corrected():
    assert Speller().correct("kechuang zhu li dai loans", keep={"kechuang"})[1] == []


@pytest.fixture(scope="module")
def answerer(real_index):
    return Answerer(Retriever(load_index(real_index)))


def test_a_chinese_typo_is_answered_and_said(answerer):
    a = answerer.ask("2023年高企代支持了多少家企业？")
    assert a.figures[0]["value"] == 9729
    assert "“高企代”按“高企贷”理解" in a.answer


def test_a_pinyin_name_is_answered_in_english(answerer):
    a = answerer.ask("numbr of compnaies that got kechuang zhu li dai credit in 2023")
    assert a.figures[0]["value"] == 411
    assert "(Read “numbr” as “number”" in a.answer and "kechuang" not in a.answer.split("(Read")[1]


def test_traditional_question_gets_a_traditional_answer(answerer):
    a = answerer.ask("2023年高企貸支持了多少家企業？")
    assert a.question == "2023年高企貸支持了多少家企業？"
    assert a.figures[0]["value"] == 9729
    assert "“高企贷”共为" in a.answer  # the quote stays as the report writes it


# --- several things asked at once ---------------------------------------------------------------

from qa.several import split  # noqa: E402


@pytest.mark.parametrize("question, lang, parts", [
    ("小巨人信用贷和科技履约贷分别授信了多少家企业？", "zh",
     ["小巨人信用贷授信了多少家企业？", "科技履约贷授信了多少家企业？"]),
    ("2023 patents: total granted, invention granted and PCT filed?", "en",
     ["2023 patents: total granted?", "2023 patents: invention granted?", "2023 patents: PCT filed?"]),
])
def test_several_things_are_split(question, lang, parts):
    assert split(question, lang) == parts


@pytest.mark.parametrize("question, lang", [
    ("高企贷2021年和2023年分别支持了多少家企业？", "zh"),  # the years of one thing
    ("两份报告中，生物医药责任保险出具保单的企业（及机构）数量和承保金额分别为多少？", "zh"),  # measures of one thing
    ("How many firms got loans, and what was the total amount?", "en"),
])
def test_one_thing_is_not_split(question, lang):
    assert split(question, lang) == []


def test_each_thing_is_answered_and_cited(answerer):
    a = answerer.ask("小巨人信用贷和科技履约贷分别授信了多少家企业？")
    assert [f["value"] for f in a.figures[:2]] == [233, 368]
    assert [c.n for c in a.citations] == [1, 2] and "[2]" in a.answer


def test_a_thing_not_found_is_named(answerer):
    from qa.answer import Answer, merge_answers
    from qa.question import analyze

    q = analyze("小巨人信用贷和科技支行分别授信了多少家企业？", [2021, 2023])
    found = answerer.ask("科技履约贷授信了多少家企业？")
    none = Answer("小巨人信用贷授信了多少家企业？", "zh", False, "抱歉……")
    a = merge_answers(q, [("小巨人信用贷授信了多少家企业？", none), ("科技履约贷授信了多少家企业？", found)], 0.0, None)
    assert a.answerable and a.figures[0]["value"] == 368
    assert "没有找到：小巨人信用贷授信了多少家企业？" in a.answer


# --- years counted back from the current one --------------------------------------------------

@pytest.mark.parametrize("this_year, expected", [(2024, 9729), (2022, 3983)])
def test_last_year_is_counted_from_the_current_year(real_index, this_year, expected):
    from qa.config import AnswerConfig

    a = Answerer(Retriever(load_index(real_index)), config=AnswerConfig(this_year=this_year))
    d = a.ask("去年高企贷支持了多少家企业？")
    assert d.figures[0]["value"] == expected and f"“去年”即{this_year - 1}年" in d.answer


def test_last_year_without_a_report_says_so(real_index):
    from qa.config import AnswerConfig

    a = Answerer(Retriever(load_index(real_index)), config=AnswerConfig(this_year=2026))
    d = a.ask("2023年高企贷支持了多少家企业？去年呢")
    assert d.figures[0]["value"] == 9729
    assert "“去年”是2025年，没有该年的报告" in d.answer


def test_a_stated_comparison_with_last_year_is_not_a_year(real_index):
    from qa.config import AnswerConfig

    a = Answerer(Retriever(load_index(real_index)), config=AnswerConfig(this_year=2026))
    d = a.ask("2023年PCT专利申请受理量比去年增长了多少？")
    assert d.figures[0]["text"].startswith("10.62")




def test_a_question_without_typos_never_builds_the_symspell_index(monkeypatch):
    """Building SymSpell's index of deletions costs seconds at every start of a process;
    known words are looked up in the plain word list (same words as SymSpell's)."""
    import qa.spelling as spelling
    from qa.pinyin import _is_english

    assert spelling.english_words() == frozenset(spelling._symspell().words)

    def refuse():
        raise AssertionError("SymSpell index built for a question without typos")

    monkeypatch.setattr(spelling, "_symspell", refuse)
    assert Speller().correct("How many PCT applications did Shanghai file in 2023?") == (
        "How many PCT applications did Shanghai file in 2023?", [])
    assert _is_english("applications") and not _is_english("gaoqidai")
    with pytest.raises(AssertionError):
        Speller().correct("How mnay applications?")  # a typo: now the index is needed
