"""Candidate answer spans: every quantity, date and number in a piece of Chinese text.

The report-figure extractor (``qa.figures``) reads a closed set of report units with their
metric and period; this module is the open-class view the general reader needs on *any*
text: a number (Arabic, with thousands separators, or Chinese numerals), an optional range,
magnitude and unit or measure word (``data/measure_words.txt``), dates (1886年, 2013年5月,
20世纪50年代), ranks (第12), ratios (20比1) and approximation words (近, 约, 超过 …).

    >>> [(s.text, s.type, s.normalized) for s in find_spans("1901年华沙有近50万人，占2.8%，排名第12")]
    [('1901年', 'date', 1901.0), ('近50万人', 'count', 500000.0), ('2.8%', 'percent', 2.8), ('第12', 'rank', 12.0)]

Every span keeps its offsets: ``text[s.start:s.end] == s.text``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from qa.figures import _glued_to_latin, parse_number
from qa.units import measure_word_sections, qualifier_words

_ARABIC = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CN = r"[零〇一二两三四五六七八九十百千万亿]+"
_NUM = rf"(?:{_ARABIC}|{_CN})"
_MAG = {"万亿": 1e12, "亿": 1e8, "千万": 1e7, "百万": 1e6, "万": 1e4, "千": 1e3}
# approximation and limit words (data/qualifiers.tsv), longest first
_QUAL_BEFORE = tuple(w.zh for w in qualifier_words() if w.position == "before")
_QUAL_AFTER = tuple(w.zh for w in qualifier_words() if w.position != "before")
MONEY = {"元", "美元", "欧元", "英镑", "日元", "港元", "卢布", "法郎", "马克", "人民币", "块"}
PERCENT = {"%", "％", "‰", "个百分点", "百分点", "成"}
TIME_UNITS = {"年", "个月", "月", "日", "天", "小时", "分钟", "分", "秒", "周", "星期", "季度", "世纪", "年代"}
LENGTH_UNITS = {"平方公里", "平方千米", "平方米", "平方英里", "公顷", "亩", "英亩", "公里", "千米", "米", "厘米",
                "毫米", "英里", "英尺", "英寸", "码", "海里", "立方米", "升", "毫升", "加仑", "度", "摄氏度",
                "华氏度", "吨", "公吨", "千克", "公斤", "克", "斤", "磅", "盎司"}


@lru_cache(maxsize=1)
def measure_words() -> tuple[str, ...]:
    """The units of ``data/measure_words.txt``, longest first."""
    words = {w for section in measure_word_sections().values() for w in section}
    return tuple(sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    units = "|".join(map(re.escape, measure_words()))
    mags = "|".join(_MAG)
    before = "|".join(_QUAL_BEFORE)
    after = "|".join(_QUAL_AFTER)
    return re.compile(
        rf"(?P<qual>{before})?(?P<ord>第)?(?P<n1>{_NUM})"
        rf"(?:\s*(?P<ratio>比|:|：)\s*(?P<r2>{_NUM}))?"
        rf"(?:\s*(?P<sep>-|—|–|~|～|至|到)\s*(?P<n2>{_NUM}))?"
        rf"\s*(?P<mag>{mags})?(?P<inner>多|余)?\s*(?P<unit>{units})?(?P<after>{after})?"
        rf"(?:(?P<month>\d{{1,2}}月)(?P<day>\d{{1,2}}日)?)?"
    )


@dataclass(frozen=True)
class Span:
    """A candidate answer in text, with offsets relative to the text it was found in."""

    text: str
    start: int
    end: int
    value: float
    unit: str
    type: str  # date | duration | age | percent | ratio | rank | money | length | count | number
    normalized: float
    qualifier: str = ""


def _type(unit: str, n1: str, m: re.Match[str]) -> str:
    if m.group("ratio"):
        return "ratio"
    if m.group("ord"):
        return "rank"
    if unit in ("世纪", "年代") or m.group("month"):
        return "date"
    if unit == "年":
        digits = n1.replace(",", "")
        return "date" if digits.isdigit() and len(digits) in (3, 4) else "duration"
    if unit in ("月", "日"):
        return "date"
    if unit == "岁":
        return "age"
    if unit in TIME_UNITS:
        return "duration"
    if unit in PERCENT:
        return "percent"
    if unit in MONEY or unit.endswith("元"):
        return "money"
    if unit in LENGTH_UNITS:
        return "length"
    if unit:
        return "count"
    digits = n1.replace(",", "")
    if digits.isdigit() and len(digits) == 4 and 1000 <= int(digits) <= 2100 and not m.group("mag"):
        return "date"  # a bare year ("建于1886")
    return "number"


def _cn_ok(n1: str, unit: str, m: re.Match[str]) -> bool:
    """Chinese numerals are words too (一些, 统一, 万一): keep them only before a unit,
    after 第, or as a multi-character number."""
    if n1[0].isdigit():
        return True
    if n1 in ("万", "亿", "千", "百", "十") and not m.group("qual"):
        return False
    return bool(unit or m.group("ord") or m.group("mag") or len(n1) >= 2 and n1 not in ("一一", "万万"))


def find_spans(text: str) -> list[Span]:
    """All candidate spans of ``text``, in order (see module docstring)."""
    out: list[Span] = []
    for m in _pattern().finditer(text):
        n1 = m.group("n1")
        unit = m.group("unit") or ""
        mag = m.group("mag") or ""
        if not _cn_ok(n1, unit, m):
            continue
        if n1[0].isdigit() and _glued_to_latin(text, m.start("n1"), m.end("n1")):
            continue  # model names: ARJ21, 5G
        if not unit and not mag and _enumerator(text, m):
            continue  # list and heading numbers: "十一、", "（三）", "2. "
        value = parse_number(n1)
        if value is None:
            continue
        kind = _type(unit, n1, m)
        normalized = value * _MAG.get(mag, 1.0)
        qual = (m.group("qual") or "") + (m.group("inner") or "") + (m.group("after") or "")
        start, end = m.start(), m.end()
        while end > start and text[end - 1].isspace():
            end -= 1
        out.append(Span(text[start:end], start, end, value, mag + unit, kind, normalized, qual))
    return out


def _enumerator(text: str, m: re.Match[str]) -> bool:
    after = text[m.end():m.end() + 1]
    before = text[m.start() - 1:m.start()] if m.start() else ""
    if after in ("、", "）", ")") and (before in ("", "（", "(", "\n", " ", "第") or after == "、"):
        return True
    return bool(after == "." and (m.start() == 0 or before == "\n") and text[m.end() + 1:m.end() + 2] in (" ", "\t", ""))
