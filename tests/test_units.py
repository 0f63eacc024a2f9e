"""Tests for qa.units (normalization, English/Chinese rendering) and the glossary file."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.figures import extract_figures
from qa.units import (
    format_number_en,
    normalize_unit,
    ordinal_en,
    render_change_en,
    render_en,
    render_zh,
    split_magnitude,
    unit_noun_en,
)

from conftest import SEED_REPORTS

GLOSSARY = Path(__file__).resolve().parents[1] / "corpus" / "glossary.tsv"


def _one(text: str):
    (fig,) = extract_figures(text)
    return fig


@pytest.mark.parametrize(
    "value,unit,expected",
    [
        (1521.63, "亿元", (152163000000.0, "元")),
        (2.06, "万亿元", (2060000000000.0, "元")),
        (2.99, "万户", (29900.0, "户")),
        (15.91, "万件", (159100.0, "件")),
        (2937.6, "万元", (29376000.0, "元")),
        (0.225, "亿元", (22500000.0, "元")),
        (6, "成", (60.0, "%")),
        (49.99, "%", (49.99, "%")),
        (2, "个百分点", (2.0, "pp")),
        (3319, "家次", (3319.0, "家次")),
        (5, "千克", (5.0, "千克")),
        (7, "", (7.0, "")),
    ],
)
def test_normalize_unit(value: float, unit: str, expected: tuple[float, str]) -> None:
    assert normalize_unit(value, unit) == expected


def test_split_magnitude() -> None:
    assert split_magnitude("万亿元") == (10**12, "元")
    assert split_magnitude("百分点") == (1, "百分点")
    assert split_magnitude("家") == (1, "家")


@pytest.mark.parametrize(
    "x,expected",
    [(29900.0, "29,900"), (152.163, "152.16"), (1.0, "1"), (1.5, "1.5"), (0.225, "0.23"),
     (1234567.891, "1,234,567.89"), (0.0, "0"), (-3.0, "-3"), (2.10, "2.1"), (100.0, "100")],
)
def test_format_number_en(x: float, expected: str) -> None:
    assert format_number_en(x) == expected


@pytest.mark.parametrize("n,expected", [(1, "1st"), (2, "2nd"), (3, "3rd"), (5, "5th"), (11, "11th"),
                                        (12, "12th"), (13, "13th"), (21, "21st"), (24, "24th")])
def test_ordinal_en(n: int, expected: str) -> None:
    assert ordinal_en(n) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1521.63亿元", "RMB 152.163 billion"),
        ("2.06 万亿元", "RMB 2.06 trillion"),
        ("1.8万亿元", "RMB 1.8 trillion"),
        ("2937.6万元", "RMB 29.376 million"),
        ("10亿元", "RMB 1 billion"),
        ("0.225亿元", "RMB 22.5 million"),
        ("近 1 亿元", "nearly RMB 100 million"),
        ("约**2.1亿元**", "about RMB 210 million"),
        ("超**6210万元**", "over RMB 62.1 million"),
        ("5000万元以下", "under RMB 50 million"),
        ("2.99 万户", "29,900"),
        ("9729 家", "9,729"),
        ("逾千人", "over 1,000"),
        ("90余家", "over 90"),
        ("10-20家", "10–20"),
        ("10～20亿元", "RMB 1–2 billion"),
        ("超70%", "over 70%"),
        ("71%", "71%"),
        ("超六成", "over 60%"),
        ("80%以上", "over 80%"),
        ("第5位", "5th"),
        ("排名全国第二", "2nd"),
        ("第一", "1st"),
        ("比上年增长 49.99%", "49.99%"),
        ("比上年下降 3%", "3%"),
        ("较上年上升1位", "1 place"),
        ("较上年下降2位", "2 places"),
        ("提高2个百分点", "2 percentage points"),
        ("第14届", "14th"),
        ("2023年，", "2023"),
        ("累计入库企业**1557家**", "1,557"),
    ],
)
def test_render_en(text: str, expected: str) -> None:
    assert render_en(_one(text)) == expected


@pytest.mark.parametrize(
    "text,expected",
    [("比上年增长 49.99%", "up 49.99%"), ("比上年下降 3%", "down 3%"), ("较上年上升1位", "up 1 place"),
     ("较上年下降2位", "down 2 places"), ("下降了2个百分点", "down 2 percentage points"), ("71%", "71%")],
)
def test_render_change_en(text: str, expected: str) -> None:
    assert render_change_en(_one(text)) == expected


@pytest.mark.parametrize(
    "text,expected",
    [("2.99 万户", "29,900 accounts"), ("9729 家", "9,729 organizations"), ("1家", "1 organization"),
     ("816位", "816 people"), ("3319**家次", "3,319 organization-times"), ("398个", "398"),
     ("四金", "4 gold awards"), ("第14届", "14th edition"), ("1.5万项", "15,000 items")],
)
def test_render_en_with_noun(text: str, expected: str) -> None:
    assert render_en(_one(text), with_noun=True) == expected


@pytest.mark.parametrize("unit,expected", [("家", "organizations"), ("万户", "accounts"), ("件", "items"),
                                           ("人", "people"), ("个", ""), ("未知", "")])
def test_unit_noun_en(unit: str, expected: str) -> None:
    assert unit_noun_en(unit) == expected


@pytest.mark.parametrize(
    "text,expected",
    [("**1521.63亿元**", "1521.63亿元"), ("存量户数 2.99 万户", "2.99万户"), ("科技小巨人企业占比\t超70%", "超70%"),
     ("超**28%**", "超28%"), ("全年共向**3319**家次", "3319家次"), ("增长 49.99%", "49.99%")],
)
def test_render_zh(text: str, expected: str) -> None:
    assert render_zh(_one(text)) == expected


# ------------------------------------------------------------ glossary file


def test_glossary_tsv_parses() -> None:
    raw = GLOSSARY.read_bytes()
    text = raw.decode("utf-8")  # must be valid UTF-8
    assert not text.startswith("\ufeff")
    lines = text.splitlines()
    assert lines[0].split("\t") == ["zh", "en", "aliases_en", "scope"]
    rows = [line.split("\t") for line in lines[1:] if line.strip() and not line.startswith("#")]
    assert len(rows) >= 160
    bad = [r for r in rows if len(r) not in (3, 4) or (len(r) == 4 and r[3] not in ("", "outside", "place", "paraphrase"))]
    assert not bad, bad[:3]
    zh = [r[0].strip() for r in rows]
    assert len(zh) == len(set(zh)), sorted({z for z in zh if zh.count(z) > 1})
    for z, en, aliases, *_ in rows:
        assert z and en.strip(), (z, en)
        assert z == z.strip() and en == en.strip()
        assert all(a.strip() for a in aliases.split("|")) if aliases else True


def test_outside_terms_are_really_absent_from_the_reports() -> None:
    from qa.glossary import load_glossary

    # the two seed reports by name: a report a user adds to corpus/ may well name 北京 or GDP
    reports = "".join((GLOSSARY.parent / name).read_text(encoding="utf-8") for name in SEED_REPORTS)
    outside = load_glossary(GLOSSARY).outside
    assert len(outside) >= 20
    assert not [t for t in outside if t in reports]
    places = load_glossary(GLOSSARY).places
    assert "上海" in places and all(p in reports for p in places)


@pytest.mark.parametrize(
    "zh,en",
    [("高企贷", "Gaoqidai"), ("科创板", "STAR Market"), ("上交所", "Shanghai Stock Exchange"),
     ("专利授权量", "patents granted"), ("PCT专利申请受理量", "PCT patent applications accepted"),
     ("高新技术企业", "high-tech enterprises"), ("全球创新指数", "Global Innovation Index"),
     ("比上年增长", "year-on-year growth")],
)
def test_glossary_key_terms(zh: str, en: str) -> None:
    lines = GLOSSARY.read_text(encoding="utf-8").splitlines()[1:]
    rows = {line.split("\t")[0]: line.split("\t")[1] for line in lines if not line.startswith("#")}
    assert en in rows[zh]
