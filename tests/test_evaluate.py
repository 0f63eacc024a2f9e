import json

import pytest

from qa.errors import GoldFileError
from qa.evaluate import figure_matches, load_gold, score_one


@pytest.mark.parametrize("gold, fig, ok", [
    ({"value": 2.99, "unit": "万户"}, {"value": 2.99, "normalized_value": 29900.0, "base_unit": "户"}, True),
    ({"value": 1521.63, "unit": "亿元"}, {"value": 1521.63, "normalized_value": 152163000000.0, "base_unit": "元"}, True),
    ({"value": 1521, "unit": "亿元"}, {"value": 1521.63, "normalized_value": 152163000000.0, "base_unit": "元"}, True),
    ({"value": 1500, "unit": "亿元"}, {"value": 1521.63, "normalized_value": 152163000000.0, "base_unit": "元"}, False),
    ({"value": 9729, "unit": "家"}, {"value": 9729, "normalized_value": 9729.0, "base_unit": "件"}, False),
    ({"value": 2, "unit": None}, {"value": 2, "normalized_value": 2, "base_unit": "rank"}, True),
])
def test_figure_matching(gold, fig, ok):
    assert figure_matches(gold, fig) is ok


def _answer(**kw):
    base = {"answerable": True, "language": "en", "answer": "In 2023, 9,729 [1].", "figures": [],
            "citations": [], "passages": [], "timings_ms": {"total": 5.0}}
    base.update(kw)
    return base


def _figure_gold(value, unit, text, quote, lang="en"):
    return {"id": "x", "lang": lang, "type": "figure", "question": "q",
            "answers": [{"value": value, "unit": unit, "text": text}],
            "source": [{"doc": "d", "quote": quote}]}


def _cited(text):
    """An answer's citation and retrieved passage, both of ``text``."""
    return {"citations": [{"doc_id": "d", "text": text, "quote": text}], "passages": [{"text": text}]}


def test_score_one_counts_figures_citations_language():
    gold = _figure_gold(9729, "家", "9729家", "9729 家高企")
    fig = {"value": 9729, "normalized_value": 9729.0, "base_unit": "家"}
    r = score_one(gold, _answer(figures=[fig], **_cited("共为 9729 家高企提供")), k=5)
    assert (r.figure_hits, r.citation_hits, r.retrieval_hit, r.ok) == (1, 1, True, True)
    r = score_one(gold, _answer(language="zh", answer="2023年：9729家"), k=5)
    assert not r.language_ok and r.figure_hits == 0 and not r.ok


def test_a_gold_quote_with_bold_markup_matches_the_cited_passage():
    gold = _figure_gold(0.225, "亿元", "0.225亿元", "提供信贷支持**0.225亿元**", lang="zh")
    fig = {"value": 0.225, "normalized_value": 22_500_000.0, "base_unit": "元"}
    r = score_one(gold, _answer(language="zh", figures=[fig], **_cited("全年为**12家企业**提供信贷支持**0.225亿元**。")), k=5)
    assert (r.citation_hits, r.retrieval_hit) == (1, True)


def test_unanswerable_scoring():
    gold = {"id": "u", "lang": "zh", "type": "unanswerable", "question": "q", "answers": [], "source": []}
    assert score_one(gold, _answer(answerable=False, language="zh", answer="抱歉，没有。"), 5).ok
    assert not score_one(gold, _answer(language="zh", answer="2023年：1家"), 5).ok


@pytest.mark.parametrize("content, message", [
    ("{bad", "not valid JSON"),
    ('{"id": 1}', "lacks"),
    ('{"id": 1, "lang": "en", "type": "essay", "question": "q", "answers": [], "source": []}', "unknown type"),
    ("", "no questions"),
])
def test_bad_gold_file(tmp_path, content, message):
    path = tmp_path / "g.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GoldFileError, match=message):
        load_gold(path)


def test_qa_eval_end_to_end_with_thresholds(real_index, tmp_path, capsys):
    from qa.cli import main

    rows = [json.loads(x) for x in (__import__("conftest").REPO / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    sample = [r for r in rows if r["type"] in ("figure", "unanswerable")][:6] + [r for r in rows if r["type"] == "unanswerable"][:2]
    gold = tmp_path / "g.jsonl"
    gold.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in sample), encoding="utf-8")
    out = tmp_path / "report.md"
    code = main(["eval", str(gold), "--out", str(out), "--index", str(real_index)])
    assert code == 0 and "| **overall** |" in out.read_text(encoding="utf-8")
    assert main(["eval", str(gold), "--min-figure", "1.01", "--index", str(real_index)]) == 1
    assert "below threshold" in capsys.readouterr().err


@pytest.mark.parametrize("text, wants, ok", [
    ("In 2023, 233 enterprises were granted credit [1]. Source: “小巨人信用贷授信企业 233 家”", True, True),
    ("The 2023 report answers this in its section on banking · science and technology (word-by-word gloss) [1]. "
     "Terms in the quoted sentence: sci-tech finance alliance. Quote: “成立科创金融联盟”", False, True),
    ("The 2023 report says [1]: “成立科创金融联盟”", False, False),  # only a Chinese quote
    ("The 2023 report says [1]: “小巨人信用贷授信企业 233 家”", True, False),  # the figure only in the quote
    ("In 2023, 授信企业: 233 [1].", True, False),  # Chinese outside quotes
    ("In 2023, enterprises granted credit: 233 [1].", True, False),  # a label, not a sentence
    ("The number of [家庭医生] teams was 21,500 in 2023 [1].", True, True),  # a bracketed name is allowed
])
def test_english_quality(text, wants, ok):
    from qa.evaluate import english_quality

    assert english_quality({"answer": text}, wants) is ok
