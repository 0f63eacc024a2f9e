import pytest

from qa.corpus import Document
from qa.passages import heading_level, parse_document, sentence_spans, strip_markup


def doc(text: str, year: int = 2023) -> Document:
    return Document("t", "测试", "Test", year, "zh", "t.txt", "", text, "")


def test_spans_are_exact_for_every_passage_of_both_reports(docs):
    for d in docs:
        passages = parse_document(d)
        assert len(passages) > 15
        for p in passages:
            assert d.text[p.start:p.end] == p.text
            assert p.text.strip() == p.text
            for s, e in p.sentences:
                assert p.start <= s < e <= p.end
                assert d.text[s:e].strip() == d.text[s:e]


def test_ids_are_stable_and_unique(docs):
    a = [p.id for d in docs for p in parse_document(d)]
    b = [p.id for d in docs for p in parse_document(d)]
    assert a == b and len(set(a)) == len(a)


def test_every_content_line_is_covered(docs):
    """Nothing but headings and blank lines is left out of passages."""
    for d in docs:
        covered = set()
        for p in parse_document(d):
            covered.update(range(p.start, p.end))
        pos = 0
        for line in d.text.split("\n"):
            if line.strip() and heading_level(line) is None:
                assert pos + len(line) - len(line.lstrip()) in covered, line
            pos += len(line) + 1


def test_passage_never_crosses_a_section(docs):
    for d in docs:
        for p in parse_document(d):
            heads = [ln for ln in p.text.split("\n") if heading_level(ln) is not None and heading_level(ln) < 10]
            assert heads == []


def test_numbered_marker_and_short_headings_build_the_path():
    text = "7.1 科技金融\n\n» 科技信贷\n\n科技型企业贷款持续增长\n\n- 贷款余额 10486.31 亿元\n\n7.2 知识产权\n\n全市专利授权量15.91万件。\n"
    ps = parse_document(doc(text))
    assert [p.section for p in ps] == ["7.1 科技金融 › 科技信贷 › 科技型企业贷款持续增长", "7.2 知识产权"]
    assert ps[0].kind == "bullet" and ps[0].sentence_texts() == ["贷款余额 10486.31 亿元"]


def test_new_marker_heading_replaces_short_heading():
    text = "3.1 A节\n\n◆ 甲类\n\n仪器共享服务\n\n共**5亿元**。\n\n◆ 乙类\n\n共**6亿元**。\n"
    assert [p.section for p in parse_document(doc(text))] == ["3.1 A节 › 甲类 › 仪器共享服务", "3.1 A节 › 乙类"]


def test_bullet_continuation_line_stays_with_its_bullet():
    text = "7.1 节\n\n- 存量户数 2.99 万户,比上年增长 49.99% ,其中\n科技型中小企业贷款存量户 2.63 万户\n- 余额 10486.31 亿元\n"
    ps = parse_document(doc(text))
    assert len(ps) == 2 and ps[0].text.endswith("2.63 万户") and ps[1].text == "- 余额 10486.31 亿元"


def test_qualifier_line_attaches_to_previous_paragraph():
    text = "3.1 节\n\n累计已设立科技支行**7家**。\n\n\n\n(1—9月)\n\n下一段落内容很长很长很长很长很长很长很长很长很长很长。\n"
    ps = parse_document(doc(text))
    assert ps[0].text.endswith("(1—9月)") and ps[0].note == "(1—9月)"
    assert len(ps) == 2


def test_table_kept_with_the_paragraph_that_introduces_it():
    text = "3.1 节\n\n□ 上市企业**377**家,其中上海**59**家\n\n\n\n企业占比\t71%\n小巨人占比\t超70%\n\n□ 对**709**家企业做出受理决定\n"
    ps = parse_document(doc(text))
    assert ps[0].kind == "table"
    assert ps[0].text.startswith("□ 上市企业") and ps[0].text.endswith("超70%")
    assert ps[0].sentence_texts()[1:] == ["企业占比\t71%", "小巨人占比\t超70%"]
    assert ps[1].text.startswith("□ 对")


def test_long_paragraph_is_split_at_sentence_ends():
    sentence = "全年为科技型企业提供信贷支持一百亿元并持续扩大覆盖面。"
    text = "1.1 节\n\n" + sentence * 20 + "\n"
    ps = parse_document(doc(text), max_chars=100)
    assert len(ps) > 3 and all(len(p.text) <= 100 for p in ps)
    assert all(p.text.endswith("。") for p in ps)


def test_content_line_with_figures_is_not_a_heading():
    assert heading_level("□ 上市企业**377**家,其中上海**59**家") is None
    assert heading_level("- 认定市级知识产权金融创新中心10家") is None
    assert heading_level("(1—9月)") is None
    assert heading_level("“3+X”科技信贷产品不断完善") == 20


@pytest.mark.parametrize("text, expected", [
    ("", []),
    ("突破**2万家**;发布办法,构建体系;继续支持", ["突破**2万家**;", "发布办法,构建体系;", "继续支持"]),
    ("比上年增长20.51%；PCT专利申请受理量6185件。", ["比上年增长20.51%；", "PCT专利申请受理量6185件。"]),
    ("- ◆ 加大支持力度。全年**8家**银行", ["加大支持力度。", "全年**8家**银行"]),
    ("共为9729家。\n- 另一条\n□ 第三条", ["共为9729家。", "另一条", "第三条"]),
    ("Mixed 中英 text; with ASCII; 标点", ["Mixed 中英 text;", "with ASCII;", "标点"]),
])
def test_sentence_spans(text, expected):
    assert [text[s:e] for s, e in sentence_spans(text)] == expected


@pytest.mark.parametrize("text, expected", [
    ("**1521.63亿元**", "1521.63亿元"), ("2.99 万户", "2.99 万户"), ("", ""),
    ("为**59家企业**的**209项**", "为59家企业的209项"),
])
def test_strip_markup(text, expected):
    assert strip_markup(text) == expected


def test_no_passage_is_longer_than_the_hard_cap():
    # issue 12: a report on one 1 MB line became one 333k-character passage (704 s, 400 MB)
    from qa.passages import HARD_MAX_CHARS

    line = "全市新增企业12家，累计投资3534.78亿元" * 2000 + "全年新增项目" + "甲" * 5000  # no sentence end
    d = doc("1.1 节\n\n" + line + "\n")
    ps = parse_document(d)
    assert len(ps) > 10 and max(len(p.text) for p in ps) <= HARD_MAX_CHARS
    for p in ps:
        assert d.text[p.start:p.end] == p.text
        assert all(p.start <= s < e <= p.end for s, e in p.sentences)
    assert "".join(p.text for p in ps) == line  # nothing lost, nothing doubled
    assert not any(p.text[-1].isdigit() and p.text[-2:].replace(".", "").isdigit() and
                   ps[i + 1].text[0].isdigit() for i, p in enumerate(ps[:-1]))  # never inside a number
