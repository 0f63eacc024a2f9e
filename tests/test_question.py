import pytest

from qa.glossary import Glossary, normalize_en
from qa.question import analyze, detect_language

G = Glossary([("高企贷", "Gaoqidai (high-tech enterprise loans)", "HTE loans|gaoqidai"),
              ("授信企业", "enterprises granted credit", ""),
              ("PCT专利申请受理量", "PCT patent applications accepted", "PCT applications")])
YEARS = [2021, 2023]


@pytest.mark.parametrize("text, lang", [
    ("2023年高企贷支持了多少家企业？", "zh"),
    ("How many PCT applications did Shanghai file in 2023?", "en"),
    ("How much did 高企贷 lend in 2023?", "en"),
    ("高企贷 2023 多少家", "zh"),
    ("PCT专利申请受理量是多少", "zh"),
    ("", "en"),
])
def test_detect_language(text, lang):
    assert detect_language(text) == lang


@pytest.mark.parametrize("question, kinds, units", [
    ("2023年高企贷支持了多少家企业？", ["count"], ["家"]),
    ("高企贷信贷支持金额是多少？", ["money"], []),
    ("科技型企业贷款余额同比增长多少？", ["growth", "money"], []),
    ("上海排名全国第几？", ["rank"], []),
    ("How many enterprises got Gaoqidai loans?", ["count"], ["家"]),
    ("How much credit did HTE loans provide?", ["money"], []),
    ("What share of listed companies are Little Giants?", ["percent"], ["家"]),
    ("By how much did PCT applications grow?", ["growth", "money"], ["件"]),
    ("How fast did the outstanding loan balance grow?", ["growth", "money"], []),
    ("2023年比2021年增加了多少家？", ["count"], ["家"]),
    ("Where does Shanghai rank nationally?", ["rank"], []),
    ("Which fund did Fudan set up?", [], []),
    # the counted noun decides the unit, not another noun of the question
    ("How many innovation services did companies buy with vouchers?", ["count"], []),
    ("How many patents did the firms file?", ["count"], ["件"]),
    ("What number of banks took part?", ["count"], ["家"]),
    ("How many grants (counted in enterprise-times) were made?", ["count"], ["家"]),
    # growth over the previous year is not a comparison of the two reports
    ("By what percentage did loans grow compared with the previous year?", ["growth", "percent"], []),
    ("中小型科技企业的贷款余额比上一年多了百分之几？", ["growth", "money", "percent"], []),
    ("How much more were loans than a year earlier, in percent?", ["growth", "money", "percent"], []),
    ("How many times did firms use vouchers?", ["count"], ["次"]),
    ("科创助力贷21年贷了多少", ["money"], []),
    ("报告用了哪几个词来形容科创金融服务体系？", [], []),  # which ones, not how many
    ("高企贷2023年支持企业数", ["count"], ["家"]),
    ("科技型企业贷款存量户数是多少万户？", ["count"], ["户"]),        # 万户 is a count
    ("每万人口高价值发明专利拥有量比上年提高了百分之几？", ["growth", "percent"], []),
    ("中小企业贷款占比变化了多少个百分点？", ["growth", "percent"], []),
    ("What shares of listed companies are Little Giants?", ["percent"], ["家"]),
    ("What insured risk did the cover carry?", ["money"], []),
    ("Did A or B grant credit to more companies, and how many did each reach?", ["count", "money"], []),
    ("保险出具保单的企业及机构数，2021年和2023年各多少？", ["count"], ["家"]),   # 机构数 counts
    # "增长了多少" over the two reports is the computed change, not a growth rate
    ("高企贷两份报告的信贷支持金额分别是多少，增长了多少？", ["money"], []),
    # the counted noun's measure word when none is written
    ("高新技术企业数量是多少？", ["count"], ["家"]),
    # a figure of no particular kind
    ("What is the sales threshold for the loan?", ["any"], []),
    ("创新券带动的研发总支出大概有多少？", ["any"], []),
    ("What was the total amount underwritten in 2021?", ["money"], []),
    ("What was the total underwritten in 2021?", ["any"], []),
    ("What training programme was launched?", [], []),
    # a money noun that only describes what is counted does not ask for money
    ("有贷款余额的科技型中小企业有多少户？", ["count"], ["户"]),
    ("带动企业拿到了多少项投融资？金额是多少？", ["count", "money"], ["项"]),
    # "which/what" asks for a name: a money noun in a programme's name asks no figure
    ("技术创新资金计划优先支持哪些项目？", [], []),
    ("哪些企业获得了多少贷款？", ["money"], []),
])
def test_kinds_and_units(question, kinds, units):
    q = analyze(question, YEARS, G)
    assert q.kinds == kinds and q.unit_hints == units


def test_years_known_unknown_and_compare():
    q = analyze("2023年比2021年高企贷增加了多少家？", YEARS, G)
    assert q.years == [2023, 2021] and q.compare and q.unknown_years == []
    q = analyze("How much did Gaoqidai lend in 2019?", YEARS, G)
    assert q.years == [] and q.unknown_years == [2019]
    q = analyze("How did Gaoqidai lending change?", YEARS, G)
    assert q.compare and q.years == []
    assert analyze("高企贷", YEARS, G, year=2021).years == [2021]


def test_english_terms_come_from_the_glossary():
    q = analyze("How many PCT applications were accepted?", YEARS, G)
    assert "PCT专利申请受理量" in q.terms and q.latin == ["PCT"]
    assert analyze("What about the weather?", YEARS, G).terms == {}


@pytest.mark.parametrize("question, term", [
    # fillers ("have been") and British spelling do not hide a glossary phrase
    ("How many listing applications have been accepted?", "受理决定"),
    ("What speeds up the commercialisation of research?", "科技成果转化"),
    ("What is the Little Giant Programme?", "科技小巨人工程"),
])
def test_english_phrasing_variants_find_the_term(question, term):
    from qa.glossary import load_glossary

    assert term in analyze(question, YEARS, load_glossary()).concepts


def test_chinese_terms_drop_question_words():
    q = analyze("2023年高企贷支持了多少家企业？", YEARS, G)
    assert "高企贷" in q.terms and "多少" not in q.terms and "2023" not in q.terms


def test_glossary_translate_keeps_unknown_chinese_in_brackets():
    assert G.translate("高企贷授信企业") == "Gaoqidai (high-tech enterprise loans) enterprises granted credit"
    assert G.translate("某某授信企业") == "[某某] enterprises granted credit"
    assert normalize_en("PCT Applications") == " pct application "


def test_terms_sharing_an_english_phrase_count_as_synonyms():
    g = Glossary([("创新创业企业", "innovative start-ups", "startups"), ("初创企业", "start-ups", "startups")])
    q = analyze("How many startups were covered?", YEARS, g)
    assert q.terms.keys() >= {"创新创业企业"} and q.synonyms == {"创新创业企业": ["初创企业"]}
    from qa.answer import _coverage
    assert _coverage({"创新创业企业": 1.0}, "300家初创企业", q.synonyms) == 1.0


@pytest.mark.parametrize("question, numbers", [
    ("Which three sectors together account for 71% of STAR Market listed companies?", ["71"]),
    ("2023年比2021年增加了多少家？", []),
    ("per 10,000 residents", ["10000"]),  # read as a number; no sentence writes 10000, so harmless
    ("第24届中国专利奖", ["24"]),
])
def test_quoted_numbers(question, numbers):
    assert analyze(question, YEARS, G).numbers == numbers


def test_place_and_time_words_are_not_content_even_when_in_the_glossary():
    q = analyze("上海全年技术合同成交额是多少？", YEARS, G)
    assert "上海" not in q.terms and "全年" not in q.terms and "成交额" in q.terms


def test_a_question_word_glued_to_a_noun_is_not_content():
    assert "哪些项目" not in analyze("资金计划优先支持哪些项目？", YEARS, G).terms


@pytest.mark.parametrize("question, years", [
    ("科创助力贷21年贷了多少", [2021]),   # a report year written short
    ("近15年来贷了多少", []),             # fifteen years, not 2015
    ("19年的数据呢", []),                 # no report for it: not a year we can answer
])
def test_short_years(question, years):
    assert analyze(question, YEARS, G).years == years


@pytest.mark.parametrize("question, new_only", [
    ("2023年当年新增承保了多少个项目？", True),
    ("How many new projects were insured during the year?", True),
    ("累计承保了多少个项目？", False),
])
def test_new_only(question, new_only):
    assert analyze(question, YEARS, G).new_only == new_only


def test_full_width_digits_and_letters_are_read():
    q = analyze("２０２３年ＰＣＴ申请有多少件？", YEARS, G)
    assert q.years == [2023] and q.latin == ["PCT"] and q.kinds == ["count"]


def test_chinese_paraphrases_count_as_the_report_wording():
    from qa.glossary import load_glossary

    q = analyze("中小型科技企业的贷款余额比上一年多了百分之几？", YEARS, load_glossary())
    assert q.synonyms["中小型科技企业"] == ["科技型中小企业"]
    assert not {"上一年", "百分之几", "一年"} & set(q.terms)
    # paraphrase rows are never read in English questions
    assert "中小型科技企业" not in analyze("How many tech SMEs?", YEARS, load_glossary()).concepts


def test_numbers_with_thousands_separators_are_quoted_numbers():
    assert analyze("How many of the 3,983 firms were SMEs?", YEARS, G).numbers == ["3983"]


@pytest.mark.parametrize("question, years, words", [
    ("上一份报告里，高企贷支持了多少家企业？", [2021], "上一份报告"),
    ("最新报告中高企贷支持了多少家企业？", [2023], "最新报告"),
    ("In the earlier of the two reports, how many companies did Gaoqidai support?", [2021],
     "the earlier of the two reports"),
    ("In the year before the 2023 report, how many companies did Gaoqidai support?", [2021],
     "the year before the 2023 report"),
    ("How many PCT applications were filed according to the latest report?", [2023], "the latest report"),
])
def test_relative_report_years(question, years, words):
    q = analyze(question, YEARS, G)
    assert q.years == years and q.relative == [(years[0], words)]


def test_relative_report_years_need_a_report_there():
    assert analyze("上一份报告里高企贷支持了多少家？", [2023], G).relative == []  # no report before the only one
    assert analyze("2023年比上年增长了多少？", YEARS, G).relative == []  # 上年 is content, not a report


def test_relative_words_are_content_when_the_corpus_has_one_report_year():
    assert analyze("Who wrote the first edition?", [2024], G).relative == []
