"""Tests for qa.figures: forms of figures, spans, and two gold answer keys."""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import cn2an
import pytest

from qa.figures import KINDS, Figure, extract_figures

ROOT = Path(__file__).resolve().parents[1]
REPORTS = {
    2021: ROOT / "corpus" / "shanghai-st-progress-2021-ch3.txt",
    2023: ROOT / "corpus" / "shanghai-st-progress-2023-ch7.txt",
}
GOLD = ROOT / "tests" / "data" / "figures_gold.tsv"


def _source(year: int) -> str:
    return REPORTS[year].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report_figures() -> dict[int, list[Figure]]:
    return {year: extract_figures(_source(year), year=year) for year in REPORTS}


def _brief(f: Figure) -> tuple:
    return (f.text, f.value, f.unit, f.kind, f.qualifier)


# ------------------------------------------------------------ forms

CASES = [
    ("", []),
    ("没有数字的句子。", []),
    ("**1521.63亿元**", [("1521.63亿元", 1521.63, "亿元", "money", None)]),
    ("存量户数 2.99 万户", [("2.99 万户", 2.99, "万户", "count", None)]),
    ("全年共向**3319**家次中小企业", [("3319**家次", 3319.0, "家次", "count", None)]),
    ("其中**24家企业**成功登陆科创板", [("24家", 24.0, "家", "count", None)]),
    ("为**81家企业及机构**的**398个项目**出具保单",
     [("81家", 81.0, "家", "count", None), ("398个", 398.0, "个", "count", None)]),
    ("比上年增长 49.99% ,其中", [("49.99%", 49.99, "%", "growth", None)]),
    ("比上年下降3%", [("3%", 3.0, "%", "growth", None)]),
    ("总市值**5.96万亿元**", [("5.96万亿元", 5.96, "万亿元", "money", None)]),
    ("总规模1.8万亿元", [("1.8万亿元", 1.8, "万亿元", "money", None)]),
    ("提供保险保障供给 2.06 万亿元", [("2.06 万亿元", 2.06, "万亿元", "money", None)]),
    ("集成电路领域企业占比\t71%", [("71%", 71.0, "%", "percent", None)]),
    ("科技小巨人企业占比\t超70%", [("超70%", 70.0, "%", "percent", "over")]),
    ("覆盖小微企业80%以上的日常安全风险", [("80%以上", 80.0, "%", "percent", "over")]),
    ("近**80%**实现转化", [("近**80%", 80.0, "%", "percent", "nearly")]),
    ("超六成企业在立项后保持高速增长", [("超六成", 6.0, "成", "percent", "over")]),
    ("科技金融从业人员逾千人", [("逾千人", 1000.0, "人", "count", "over")]),
    ("科技特色支行**90余家**", [("90余家", 90.0, "家", "count", "over")]),
    ("1000多人参加", [("1000多人", 1000.0, "人", "count", "over")]),
    ("两家企业", [("两家", 2.0, "家", "count", None)]),
    ("获四金三银", [("四金", 4.0, "金", "count", None), ("三银", 3.0, "银", "count", None)]),
    ("排名全国**第二**", [("第二", 2.0, "", "rank", None)]),
    ("位列第五", [("第五", 5.0, "", "rank", None)]),
    ("跻身全球科技集群第5位，较上年上升1位",
     [("第5位", 5.0, "位", "rank", None), ("1位", 1.0, "位", "growth", None)]),
    ("举办第14届陆家嘴论坛", [("第14届", 14.0, "届", "ordinal", None)]),
    ("在第24届中国专利奖评选中", [("第24届", 24.0, "届", "ordinal", None)]),
    ("每家支持10-20家企业", [("10-20家", 10.0, "家", "count", None)]),
    ("2023年，全市专利授权量15.91万件",
     [("2023年", 2023.0, "年", "year", None), ("15.91万件", 15.91, "万件", "count", None)]),
    ("截至年底，有效发明专利拥有量24.14件", [("24.14件", 24.14, "件", "count", None)]),
    ("已向 6 家科技型企业员工提供近 1 亿元的贷款",
     [("6 家", 6.0, "家", "count", None), ("近 1 亿元", 1.0, "亿元", "money", "nearly")]),
    ("主要支持销售规模**5000万元**以下的企业", [("5000万元**以下", 5000.0, "万元", "money", "under")]),
    ("研发总支出约**2.1亿元**", [("约**2.1亿元", 2.1, "亿元", "money", "about")]),
    ("累计认定近**1.5万项**", [("近**1.5万项", 1.5, "万项", "count", "cumulative+nearly")]),
    ("承保风险2937.6万元", [("2937.6万元", 2937.6, "万元", "money", None)]),
    ("约10亿元左右", [("约10亿元左右", 10.0, "亿元", "money", "about")]),
    ("百分之三十的企业", [("百分之三十", 30.0, "%", "percent", None)]),
    ("提高2个百分点", [("2个百分点", 2.0, "个百分点", "growth", None)]),
    # mixed Chinese / English text
    ("Shanghai had 377 listings; 上市企业377家, share 71%",
     [("377家", 377.0, "家", "count", None), ("71%", 71.0, "%", "percent", None)]),
    # not figures: dates, months, titles, names, model numbers, headings, articles
    ("3月30日,“浦江之光”行动政策汇编对外发布", []),
    ("(1—9月)", []),
    ("截至9月底", []),
    ("2023年12月31日", []),
    ("《2023年全球创新指数报告》", []),
    ("“3+X”科技信贷产品不断完善", []),
    ("优化“一件事”专窗功能，汇集一批优质资源", []),
    ("涵盖ARJ21飞机、船舶制造等重点领域", []),
    ("7.1 科技金融服务体系持续完善", []),
    ("每万人口高价值发明专利拥有量", []),
    ("进一步加大支持力度", []),
    ("排名前10名", []),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[c[0][:24] or "empty" for c in CASES])
def test_forms(text: str, expected: list[tuple]) -> None:
    assert [_brief(f) for f in extract_figures(text)] == expected


@pytest.mark.parametrize(
    "text,normalized,base",
    [
        ("1521.63亿元", 152163000000.0, "元"),
        ("2.99万户", 29900.0, "户"),
        ("15.91万件", 159100.0, "件"),
        ("2.06 万亿元", 2.06e12, "元"),
        ("2937.6万元", 29376000.0, "元"),
        ("超六成", 60.0, "%"),
        ("第5位", 5.0, "rank"),
        ("上升1位", 1.0, "rank"),
    ],
)
def test_normalization(text: str, normalized: float, base: str) -> None:
    (fig,) = extract_figures(text)
    assert fig.normalized_value == pytest.approx(normalized)
    assert fig.base_unit == base


@pytest.mark.parametrize(
    "text,growth",
    [("比上年增长 49.99%", 49.99), ("下降 3%", -3.0), ("同比减少12.5%", -12.5), ("较上年上升1位", 1.0),
     ("较上年下降2位", -2.0), ("增幅达 8%", 8.0), ("占比71%", None)],
)
def test_growth_sign(text: str, growth: float | None) -> None:
    (fig,) = extract_figures(text)
    assert fig.growth == growth


def test_range_high_end() -> None:
    (fig,) = extract_figures("10～20亿元")
    assert (fig.value, fig.value_max, fig.kind) == (10.0, 20.0, "money")


def test_context_fields() -> None:
    text = "- “高企贷”共为 9729 家高企提供信贷支持 3534.78 亿元，其中中小企业 8890 家"
    figs = extract_figures(text, offset=100, year=2023, passage_id="p7")
    assert [f.metric for f in figs[:2]] == ["高企贷 高企", "高企贷 信贷支持"]
    assert "中小企业" in figs[2].metric and "高企贷" in figs[2].metric  # 其中 = of which
    assert all(f.year == 2023 and f.passage_id == "p7" for f in figs)
    assert figs[0].start == 100 + text.index("9729")


def test_periods() -> None:
    text = "全年共为119家企业出具保单。截至9月底,已为 55 家次企业提供保障。截至年底，拥有量24.14件"
    assert [f.period for f in extract_figures(text)] == ["全年", "截至9月底", "截至年底"]


def test_stray_period_line_dates_previous_paragraph() -> None:
    text = "累计已设立科技支行**7家**,科技特色支行**90余家**。\n\n\n\n(1—9月)\n\n下一段**3家**"
    figs = extract_figures(text)
    assert [f.period for f in figs] == ["1—9月", "1—9月", None]


def test_figure_is_frozen_and_serializable() -> None:
    (fig,) = extract_figures("**1521.63亿元**", year=2021)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fig.value = 1.0  # type: ignore[misc]
    d = fig.to_dict()
    assert d["value"] == 1521.63 and d["kind"] == "money" and Figure(**d) == fig


# ------------------------------------------------------------ whole reports


@pytest.mark.parametrize("year", sorted(REPORTS))
def test_span_integrity_full_report(year: int, report_figures: dict[int, list[Figure]]) -> None:
    src = _source(year)
    figs = report_figures[year]
    assert len(figs) > 50
    for f in figs:
        assert src[f.start : f.end] == f.text
        assert f.kind in KINDS
        assert not f.text.startswith("**") and not f.text.endswith("**")
        assert f.year == year
    assert all(a.end <= b.start for a, b in zip(figs, figs[1:]))


@pytest.mark.parametrize("year", sorted(REPORTS))
def test_span_integrity_with_offsets(year: int) -> None:
    src = _source(year)
    pos = 0
    for para in src.split("\n\n"):
        for f in extract_figures(para, offset=pos, year=year, passage_id=f"{year}-{pos}"):
            assert src[f.start : f.end] == f.text
        pos += len(para) + 2


@pytest.mark.parametrize("year", sorted(REPORTS))
def test_no_dates_or_titles(year: int, report_figures: dict[int, list[Figure]]) -> None:
    src = _source(year)
    titles = [m.span() for m in re.finditer(r"《[^》]*》", src)]
    for f in report_figures[year]:
        assert "月" not in f.text and "日" not in f.text
        assert not any(a <= f.start < b for a, b in titles)


# ------------------------------------------------------------ gold A: bold markup

_CN_NUMERAL = "零一二两三四五六七八九十百千"
_BOLD_RE = re.compile(r"\*\*(.+?)\*\*")
_NUM_IN_BOLD_RE = re.compile(rf"\d+(?:\.\d+)?|[{_CN_NUMERAL}]+")


def _bold_answer_key(src: str) -> list[tuple[int, int, float, str]]:
    """(bold start, bold end, value, text after the number) for each numeric bold span."""
    keys = []
    for m in _BOLD_RE.finditer(src):
        num = _NUM_IN_BOLD_RE.search(m.group(1))
        if not num:
            continue
        raw = num.group()
        value = float(raw) if raw[0].isdigit() else float(cn2an.cn2an(raw, "normal"))
        rest = m.group(1)[num.end() :].lstrip("余多 ")
        if not rest:
            rest = src[m.end() : m.end() + 4]
        keys.append((m.start(), m.end(), value, rest))
    return keys


@pytest.mark.parametrize("year", sorted(REPORTS))
def test_gold_bold_spans(year: int, report_figures: dict[int, list[Figure]]) -> None:
    src = _source(year)
    keys = _bold_answer_key(src)
    assert keys  # 2021 bolds ~60 figures; 2023 bolds only 第14届
    for start, end, value, rest in keys:
        near = [f for f in report_figures[year] if f.start < end and f.end > start]
        ok = [
            f for f in near
            if f.value == pytest.approx(value) and (rest.startswith(f.unit) if f.unit else f.kind == "rank")
        ]
        assert ok, f"bold {src[start:end]!r}: got {[_brief(f) for f in near]}"


# ------------------------------------------------------------ gold B: hand-checked table


def _gold_rows() -> list[dict[str, str]]:
    with GOLD.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_gold_table_shape() -> None:
    rows = _gold_rows()
    assert len(rows) >= 60
    assert {r["year"] for r in rows} == {"2021", "2023"}


@pytest.mark.parametrize("row", _gold_rows(), ids=lambda r: f"{r['year']}-{r['text']}")
def test_gold_table(row: dict[str, str], report_figures: dict[int, list[Figure]]) -> None:
    figs = report_figures[int(row["year"])]

    def matches(f: Figure) -> bool:
        return (
            f.text.replace("**", "") == row["text"]
            and f.value == pytest.approx(float(row["value"]))
            and f.unit == row["unit"]
            and f.normalized_value == pytest.approx(float(row["normalized_value"]))
            and f.base_unit == row["base_unit"]
            and f.kind == row["kind"]
            and row["metric_keyword"] in f.metric
            and (f.qualifier or "") == row["qualifier"]
        )

    same_text = [f.to_dict() for f in figs if f.text.replace("**", "") == row["text"]]
    assert any(matches(f) for f in figs), f"no match for {row}; same text: {same_text}"
