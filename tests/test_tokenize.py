import pytest

from qa.tokenize import tokenize


@pytest.mark.parametrize("text, must_have, must_not", [
    ("2023年高企贷支持了多少家企业？", ["高企贷", "2023", "企业"], ["？", "了", "多少"]),
    ("科创助力贷授信企业 411 家", ["科创助力贷", "411"], [" "]),
    ("**1521.63亿元**", ["1521.63", "亿元"], ["**", "*"]),
    ("2.99 万户", ["2.99", "万户"], []),
    ("How many PCT applications in 2023?", ["pct", "applications", "2023"], ["how", "?", "many"]),
    ("科技小巨人企业占比\t超70%", ["科技小巨人"], ["\t"]),
    ("上海在第24届中国专利奖评选中获四金三银", ["中国专利奖", "24"], []),
    ("Mixed 中英 STAR Market 科创板", ["mixed", "star", "market", "科创板"], []),
])
def test_tokens(text, must_have, must_not):
    tokens = tokenize(text)
    for t in must_have:
        assert t in tokens, (t, tokens)
    for t in must_not:
        assert t not in tokens, (t, tokens)


@pytest.mark.parametrize("text", ["", "   ", "，。！？", "**"])
def test_nothing_to_index(text):
    assert tokenize(text) == []
