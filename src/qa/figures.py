"""Figure extraction from Chinese report text.

A *figure* is a number with its unit as written in the report: ``1521.63亿元``,
``2.99 万户``, ``超70%``, ``第5位``, ``增长 49.99%``. :func:`extract_figures`
scans a raw slice of a report (``**bold**`` markup and original spacing kept)
and returns :class:`Figure` objects whose ``start``/``end`` are absolute
offsets into the source, so ``source[f.start:f.end] == f.text`` always holds.

Worked example::

    >>> figs = extract_figures("“高企贷”共为 9729 家高企提供信贷支持 3534.78 亿元", year=2023)
    >>> [(f.text, f.value, f.unit, f.kind) for f in figs]
    [('9729 家', 9729.0, '家', 'count'), ('3534.78 亿元', 3534.78, '亿元', 'money')]
    >>> figs[1].normalized_value, figs[1].base_unit, figs[1].metric
    (353478000000.0, '元', '高企贷 信贷支持')

Rules (general, never tied to one report sentence):

* Span: from the first character of a leading qualifier (超/近/约/...) or of
  ``第``, else of the number, to the last character of the unit or of a
  trailing qualifier (以上/以下/左右). ``**`` inside the span is kept as
  written (``3319**家次``, ``超**28%``); markup just outside it is not.
* Qualifier: ``cumulative`` (累计/累积 earlier in the same sentence; counts and
  money only) comes first, then approximation words in reading order:
  ``over`` (超/超过/逾/突破/多于/高于, 余/多 between number and unit, 以上),
  ``nearly`` (近/将近/接近), ``about`` (约/大约/左右), ``under``
  (不到/不足/低于/少于, 以下/以内); several are joined with ``+``
  (``cumulative+nearly``); none gives ``None``.
* Kind: ``rank`` (第N with 位/名 or no counter: 第5位, 排名全国第二),
  ``ordinal`` (第N + counter such as 届/次/批: 第14届), ``year`` (4-digit
  1900-2100 + 年, not part of a date), ``growth`` (a number right after a
  change verb 增长/上升/下降/...; ``growth`` is the signed normalized value:
  增长 49.99% -> +49.99, 下降3% -> -3.0, 上升1位 -> +1.0), ``money`` (base unit
  元/美元...), ``percent`` (%, 成, 百分点), else ``count``.
* Not figures: dates and months (3月30日, 1—9月, 9月底), anything inside
  《…》 or a short “…” quote (names such as “3+X”), numbers glued to Latin
  letters (ARJ21), section numbers (``3.1 促进…``), bare numbers without a
  unit, the numerals 一/二 used as counts (一批, 一件事), and bare 百/千/万
  without a qualifier (每万人口); 逾千人 is kept.
* Ranges ``10-20家`` give ``value`` = low end and ``value_max`` = high end.
* Metric: space-joined key words (jieba, with the Chinese terms of
  ``corpus/glossary.tsv`` as extra words; stop words and verbs dropped):
  the sentence's topic (glossary terms before its first figure, last 6), then
  the figure's clause: its head, the words right before the figure, the noun
  counted after a count (9729 家高企 -> 高企) and, for the clause's last figure,
  the words after it (709家企业做出受理决定 -> 受理决定). Growth and rank figures,
  figures with no words of their own and 其中 ("of which") clauses start from
  the metric of the previous figure of the sentence.
* Period: the last of 全年 / 截至9月底 / 截至年底 / 1—9月 / "2023年，" earlier in the
  sentence; a line that is only ``(1—9月)`` dates the paragraph above it.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import cn2an

from qa.units import MAGNITUDES, MONEY_UNITS, measure_word_sections, normalize_unit, qualifier_words

KINDS = ("count", "money", "percent", "growth", "rank", "year", "ordinal")


@dataclass(frozen=True)
class Figure:
    """One figure of a report, with its span in the source text."""

    text: str
    value: float
    unit: str
    normalized_value: float
    base_unit: str
    qualifier: str | None
    kind: str
    metric: str
    year: int | None
    period: str | None
    growth: float | None
    start: int
    end: int
    passage_id: str = ""
    value_max: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready) of all fields."""
        return asdict(self)


# ---------------------------------------------------------------- patterns

_G = r"(?:[ \u3000]|\*\*)*"  # gap allowed inside a figure: spaces or bold markers
_ARABIC = r"\d+(?:,\d{3}(?!\d))*(?:\.\d+)?"
_CN_CHARS = "零〇一二两三四五六七八九十百千万亿"
_NUM = rf"(?:{_ARABIC}|[{_CN_CHARS}]+)"
_CORE_RE = re.compile(
    rf"(?P<ord>第{_G})?(?P<n1>{_NUM})(?:{_G}(?P<sep>[-—–~～至到]){_G}(?P<n2>{_NUM}))?"
)
_GAP_RE = re.compile(_G)

# approximation and limit words (data/qualifiers.tsv), longest first
_Q_PREFIX = {w.zh: w.qualifier for w in qualifier_words() if w.position == "before" and w.qualifier != "reached"}
_Q_INNER = {w.zh: w.qualifier for w in qualifier_words() if w.position == "inner"}
_Q_SUFFIX = {w.zh: w.qualifier for w in qualifier_words() if w.position == "after"}
_PREFIX_Q_RE = re.compile(
    rf"(?<![最附])({'|'.join(sorted(_Q_PREFIX, key=len, reverse=True))}){_G}$"
)
_SUFFIX_Q_RE = re.compile(rf"{_G}({'|'.join(_Q_SUFFIX)})")

_INCREASE = ("增长", "增加", "上升", "提高", "提升", "上涨", "增幅", "增速")
_DECREASE = ("下降", "减少", "降低", "下滑", "回落", "下跌", "降幅")
_GROWTH_RE = re.compile(rf"({'|'.join(_INCREASE + _DECREASE)})(?:了|达到|达|为)?{_G}$")

# Counting / money / percent units. Longest match wins.
_UNITS = tuple((
    "万亿元 亿元 万元 元 美元 欧元 港元 人民币 % ％ ‰ 个百分点 百分点 成 "
    "家次 人次 户次 家 户 件 项 个月 个 人 位 名 次 台 套 篇 种 类 款 所 批 笔 倍 "
    "部门 座 条 届 周年 年 天 小时 金 银 铜 平方公里 平方米 公里 千克 吨"
).split())
# ... and every counting and measuring word of data/measure_words.txt (辆, 头, 张, 床, 剂次,
# 公顷, 千瓦时 …): a statistical bulletin counts pigs and hospital beds, not only firms
_UNITS += tuple(w for section in ("counts", "measures") for w in measure_word_sections().get(section, ())
                if w not in _UNITS and w not in ("种族", "语种", "岁"))  # 5岁以下儿童: an age names a group
_UNIT_RE = re.compile("|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True)))
# A single-character unit that starts a longer word is not a unit (所有, 条件, 成功, 支持).
_UNIT_NOT_BEFORE = {
    "所": "有以属在谓得需", "条": "件例", "名": "单称义", "成": "功立为果本交员熟效长",
    "人": "民口才工均", "周": "期边", "批": "准复", "款": "项", "元": "素",
    "支": "持撑付出柱", "首": "次台批个家都先创", "本": "地年市次科土", "包": "括含", "根": "据本",
    "份": "额", "幅": "度", "场": "景所馆地", "片": "区", "双": "创向", "门": "槛类户", "对": "于外接",
    "起": "来步草", "只": "有是要", "队": "伍", "度": "过", "层": "次面级", "级": "别", "口": "岸径",
    "集": "团聚成中群", "节": "能约点", "章": "程", "块": "钱", "把": "握", "米": "粮",
    "码": "头", "票": "据", "席": "位", "部": "门分署", "头": "部", "张": "江", "例": "如",
    "架": "构", "株": "洲", "卷": "烟", "尾": "气", "羽": "毛",
}
_MEDAL_UNITS = ("金", "银", "铜")
_DURATION_UNITS = ("年", "个月", "天", "小时", "周")
_PERCENT_WORD = "百分之"
_MAG_RE = re.compile("|".join(sorted(MAGNITUDES, key=len, reverse=True)))
_ORD_COUNTER_RE = re.compile(rf"{_G}(季度|阶段|届|次|批|期|轮|章|节|条|款|号|个|代|版|部|项|家|年|天|周|位|名)")

_BLOCK_RE = re.compile(r"《[^《》\n]*》|“[^“”\n]{0,30}”|「[^「」\n]{0,30}」|\"[^\"\n]{0,30}\"")
_HEADING_RE = re.compile(r"(?m)^[ \t]*\d+(?:\.\d+)+[ \t\u3000]+")
_DATE_AFTER_YEAR_RE = re.compile(rf"{_G}(?:\d{{1,2}}{_G}月|[底末初])")

_PERIOD = (
    r"截[至止](?:\d{4}年)?(?:\d{1,2}月(?:底|末|\d{1,2}日)?|年[底末]|[底末])"
    r"|全年|上半年|下半年|前三季度|第[一二三四]季度"
    r"|\d{1,2}\s*[—\-–~至]\s*\d{1,2}月"
    r"|\d{4}年(?=\s*[，,])"
)
_PERIOD_RE = re.compile(_PERIOD)
_STRAY_PERIOD_RE = re.compile(rf"(?m)^[ \t]*[(（]\s*({_PERIOD})\s*[)）][ \t]*$")
_CUMULATIVE_RE = re.compile(r"累计|累积")

_SENT_DELIMS = "。；;！？!?\n"
_CLAUSE_DELIMS = _SENT_DELIMS + "，,：:"


@dataclass
class _Raw:
    """A figure before its sentence context (metric, period, ...) is known."""

    start: int
    end: int
    value: float
    unit: str
    kind: str
    qualifiers: list[str] = field(default_factory=list)
    growth_sign: int = 0
    value_max: float | None = None


# ---------------------------------------------------------------- numbers


def parse_number(s: str) -> float | None:
    """Arabic or Chinese numeral -> float; None if it is not a number.

    cn2an does the Chinese numerals; bare magnitudes (千, 万) are a fallback.

    >>> parse_number("1,557"), parse_number("两千"), parse_number("千"), parse_number("十四五")
    (1557.0, 2000.0, 1000.0, None)
    """
    s = s.replace(",", "")
    if s[:1].isdigit():
        return float(s)
    try:
        return float(cn2an.cn2an(s, "normal"))
    except (ValueError, KeyError, IndexError, TypeError):
        return float(MAGNITUDES[s]) if s in MAGNITUDES else None


def _split_cn_magnitude(numeral: str) -> tuple[str, str]:
    """Move a trailing 万/亿/万亿 of a Chinese numeral into the unit.

    >>> _split_cn_magnitude("三百万"), _split_cn_magnitude("万"), _split_cn_magnitude("三万五千")
    (('三百', '万'), ('万', ''), ('三万五千', ''))
    """
    for mag in ("万亿", "亿", "万"):
        head = numeral[: -len(mag)]
        if numeral.endswith(mag) and head and parse_number(head) is not None:
            return head, mag
    return numeral, ""


# ---------------------------------------------------------------- scanning


def _blocked_spans(text: str) -> list[tuple[int, int]]:
    """Spans whose numbers are names, not figures: 《titles》, “short quotes”, headings."""
    spans = [m.span() for m in _BLOCK_RE.finditer(text)]
    headings = [
        m.span() for m in _HEADING_RE.finditer(text)
        if not (_match_unit(text, m.end()) or _MAG_RE.match(text, m.end()))  # "2.06 万亿元" is a figure
    ]
    return spans + headings


def _glued_to_latin(text: str, start: int, end: int) -> bool:
    """True for model names like ARJ21, 5G, COVID-19.

    >>> _glued_to_latin("ARJ21飞机", 3, 5), _glued_to_latin("PCT受理量6185件", 6, 10)
    (True, False)
    """
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if before.isascii() and before.isalpha() or after.isascii() and after.isalpha():
        return True
    return before in "-_" and start >= 2 and text[start - 2].isascii() and text[start - 2].isalnum()


def _match_unit(text: str, pos: int) -> str:
    """The unit starting at ``pos`` ('' if none), honouring word boundaries.

    >>> _match_unit("家次中小企业", 0), _match_unit("所有", 0), _match_unit("金三银", 0)
    ('家次', '', '金')
    """
    m = _UNIT_RE.match(text, pos)
    if not m:
        return ""
    unit, nxt = m.group(), text[m.end() : m.end() + 1]
    if nxt and nxt in _UNIT_NOT_BEFORE.get(unit, ""):
        return ""
    if unit in _MEDAL_UNITS and nxt and "\u4e00" <= nxt <= "\u9fff" and nxt not in _CN_CHARS + "奖牌":
        return ""
    return unit


def _prefix_qualifier(text: str, start: int) -> tuple[str | None, int]:
    """Approximation word right before ``start``: (qualifier, new start).

    >>> _prefix_qualifier("落户人才超**3000人", 7)
    ('over', 4)
    """
    window_start = max(0, start - 12)
    m = _PREFIX_Q_RE.search(text[window_start:start])
    if not m:
        return None, start
    return _Q_PREFIX[m.group(1)], window_start + m.start(1)


def _growth_sign(text: str, start: int) -> int:
    """+1 / -1 if a change verb (增长, 下降, ...) ends right before ``start``, else 0.

    >>> _growth_sign("比上年增长 49.99%", 6), _growth_sign("下降3%", 2), _growth_sign("占比71%", 2)
    (1, -1, 0)
    """
    m = _GROWTH_RE.search(text[max(0, start - 10) : start])
    if not m:
        return 0
    return -1 if m.group(1) in _DECREASE else 1


def _parse_ordinal(text: str, m: re.Match[str], value: float) -> _Raw:
    """第N...: rank (第5位, 第二) or edition-like ordinal (第14届)."""
    c = _ORD_COUNTER_RE.match(text, m.end("n1"))
    counter = c.group(1) if c else ""
    if counter in ("位", "名", ""):
        end = c.end() if c else m.end("n1")
        return _Raw(m.start(), end, value, counter, "rank")
    return _Raw(m.start(), c.end(), value, counter, "ordinal")


def _parse_right(text: str, pos: int, is_cn: bool) -> tuple[str, list[str], int] | None:
    """Unit (magnitude + unit) after a number: (unit, inner qualifiers, end).

    >>> _parse_right("余家", 0, False), _parse_right(" 万户,", 0, False), _parse_right("月30日", 0, False)
    (('家', ['over'], 2), ('万户', [], 3), None)
    """
    inner: list[str] = []
    pos = _GAP_RE.match(text, pos).end()
    if text[pos : pos + 1] in _Q_INNER:
        inner.append(_Q_INNER[text[pos]])
        pos += 1
    unit = _match_unit(text, pos)
    if unit:
        return unit, inner, pos + len(unit)
    mag = _MAG_RE.match(text, pos) if not is_cn else None
    if not mag:
        return None
    pos = mag.end()
    if text[pos : pos + 1] in _Q_INNER:
        inner.append(_Q_INNER[text[pos]])
        pos += 1
    pos = _GAP_RE.match(text, pos).end()
    unit = _match_unit(text, pos)
    if not unit or unit in ("%", "％", "‰", "成", "个百分点", "百分点"):
        return None
    return mag.group() + unit, inner, pos + len(unit)


def _classify(base_unit: str) -> str:
    """Kind from the base unit alone: money, percent or count."""
    if base_unit in MONEY_UNITS:
        return "money"
    if base_unit in ("%", "pp"):
        return "percent"
    return "count"


def _parse_candidate(text: str, m: re.Match[str]) -> _Raw | None:
    """Turn one number match into a raw figure, or None if it is not a figure."""
    n1, n2 = m.group("n1"), m.group("n2")
    is_cn = not n1[0].isdigit()
    if not is_cn and _glued_to_latin(text, m.start("n1"), m.end("n1")):
        return None
    mag = ""  # a Chinese numeral's trailing 万/亿 belongs to the unit, as for 2万家
    if is_cn and n2:
        n2, mag = _split_cn_magnitude(n2)
    elif is_cn:
        n1, mag = _split_cn_magnitude(n1)
    value = parse_number(n1)
    value_max = parse_number(n2) if n2 else None
    if value is None or (n2 and value_max is None):
        return None
    if m.group("ord"):
        return None if n2 else _parse_ordinal(text, m, value)
    if text[max(0, m.start() - 3) : m.start()] == _PERCENT_WORD:
        right: tuple[str, list[str], int] | None = ("%", [], m.end())
        start = m.start() - 3
    else:
        right, start = _parse_right(text, m.end(), is_cn), m.start()
    if right is None:
        return None
    unit, inner, end = right
    unit = mag + unit
    raw = _Raw(start, end, value, unit, "count", inner, value_max=value_max)
    return _finish_raw(text, raw, n1, is_cn)


def _finish_raw(text: str, raw: _Raw, numeral: str, is_cn: bool) -> _Raw | None:
    """Qualifiers, kind and the sanity rules that drop non-figures."""
    q, q_start = _prefix_qualifier(text, raw.start)
    if q == "nearly" and raw.unit in _DURATION_UNITS:
        q = None  # 近三年 = "the past three years", not "nearly"
    if q:
        raw.qualifiers.insert(0, q)
        raw.start = q_start
    if sq := _SUFFIX_Q_RE.match(text, raw.end):
        raw.qualifiers.append(_Q_SUFFIX[sq.group(1)])
        raw.end = sq.end()
    _, base = normalize_unit(raw.value, raw.unit)
    raw.kind = _classify(base)
    if raw.unit == "年" and not is_cn and re.fullmatch(r"(19|20)\d\d|2100", numeral):
        if _DATE_AFTER_YEAR_RE.match(text, raw.end):
            return None
        raw.kind = "year"
        return raw
    if raw.unit == "成" and not (is_cn or raw.value <= 10):
        return None
    if raw.kind == "count" and is_cn and numeral in ("一", "二"):
        return None
    if is_cn and numeral in ("百", "千", "万", "亿") and not q:
        return None
    if raw.unit in ("名", "位") and text[max(0, raw.start - 1) : raw.start] == "前":
        return None
    raw.growth_sign = _growth_sign(text, raw.start)
    if raw.growth_sign:
        raw.kind = "growth"
    return raw


def _scan(text: str) -> list[_Raw]:
    """All figures of ``text`` in order, without context fields.

    >>> [(r.value, r.unit, r.kind) for r in _scan("上海在第24届中国专利奖评选中获四金三银")]
    [(24.0, '届', 'ordinal'), (4.0, '金', 'count'), (3.0, '银', 'count')]
    """
    blocked = _blocked_spans(text)
    raws: list[_Raw] = []
    pos = 0
    while m := _CORE_RE.search(text, pos):
        pos = m.end()
        if any(a <= m.start() < b for a, b in blocked):
            continue
        raw = _parse_candidate(text, m)
        if raw is not None:
            raws.append(raw)
            pos = raw.end
    return raws


# ---------------------------------------------------------------- context


def _bounds(text: str, pos: int, delims: str) -> tuple[int, int]:
    """Start and end of the sentence/clause around ``pos``."""
    start = max(text.rfind(d, 0, pos) for d in delims) + 1
    ends = [i for i in (text.find(d, pos) for d in delims) if i != -1]
    return start, min(ends, default=len(text))


def _period(text: str, raw: _Raw) -> str | None:
    """Last period phrase (全年, 截至9月底, 1—9月, ...) earlier in the sentence.

    >>> _period("截至9月底,已为 55 家次", _Raw(10, 15, 55, "家次", "count"))
    '截至9月底'
    """
    s, _ = _bounds(text, raw.start, _SENT_DELIMS)
    found = [m.group() for m in _PERIOD_RE.finditer(text, s, raw.start)]
    return re.sub(r"\s+", "", found[-1]) if found else None


def _stray_periods(text: str, raws: list[_Raw], periods: list[str | None]) -> None:
    """A line that is only ``(1—9月)`` dates the paragraph just before it."""
    for m in _STRAY_PERIOD_RE.finditer(text):
        before = text[: m.start()].rstrip()
        para_start = before.rfind("\n\n") + 1
        for i, raw in enumerate(raws):
            if para_start <= raw.start < len(before) and periods[i] is None:
                periods[i] = re.sub(r"\s+", "", m.group(1))


# ---------------------------------------------------------------- metric

_STOP = frozenset(
    # function words
    """的 了 和 及 与 或 以及 在 中 为 向 对 从 于 以 由 被 把 将 并 且 共 共为 共向 已 已为 已向 已经
    其 其中 等 各类 各 之 含 内 该 此 这 是 有 一批 一系列 一些 根据 通过 进行 相关 有关 方面 分别
    共计 合计 总计 全市 主要 进一步 持续 不断 积极 大力 全力 力度 作用 工作 建设 共同"""
    # generic verbs of report prose
    """ 获 获得 提供 完成 实现 达 达到 首次 跻身 出具 成功 做出 作出 带动 利用 使用 形成 涵盖 购买 发放
    落实 推出 支持 承保 加快 推进 加强 加大 扩大 深入 开展 完善 不断完善 优化 推动 深化 发布 设立"""
    # time, comparison and approximation words (kept in period / growth / qualifier)
    """ 全年 截至 截止 年底 月底 截至年底 比 较 上年 比上年 较上年 同比 增长 上升 下降 增加 减少 提高
    比上年增长 较上年上升 累计 超 超过 逾 近 约 突破 以上 以下 左右 余 多""".split()
)
_TOPIC_WORDS = 6
_CONNECTORS = frozenset("和 及 与 或 以及 、".split())
_CLEAN_RE = re.compile(r"\*\*|[“”\"'‘’《》\[\]【】◆»□•·\-—–|]")
# the glossary of the corpus being indexed (set by qa.index around extraction): figures of
# one corpus never take words from another corpus's glossary
DOMAIN_GLOSSARY: ContextVar[str | None] = ContextVar("qa_domain_glossary", default=None)
# used when no corpus is being indexed (None in the product; the tests set the seed glossary)
DEFAULT_DOMAIN_GLOSSARY: str | None = None


def _domain_glossary() -> str | None:
    return DOMAIN_GLOSSARY.get() or DEFAULT_DOMAIN_GLOSSARY


def _domain_words() -> frozenset[str]:
    return _domain_words_of(_domain_glossary())


@lru_cache(maxsize=8)
def _domain_words_of(path: str | None) -> frozenset[str]:
    """Chinese terms of a corpus's ``glossary.tsv`` usable as jieba words (empty if absent)."""
    if not path or not Path(path).exists():
        return frozenset()
    words = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines()[1:]:
        zh = line.split("\t", 1)[0].strip()
        if len(zh) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+|[A-Za-z]+[\u4e00-\u9fffA-Za-z0-9]*", zh):
            words.add(zh)
    return frozenset(words)


def _tokenizer() -> Any:
    return _tokenizer_of(_domain_glossary())


@lru_cache(maxsize=8)
def _tokenizer_of(path: str | None) -> Any:
    """A private jieba tokenizer that knows the glossary's Chinese terms.

    Private so that adding words never changes other modules' segmentation.
    """
    import jieba

    tok = jieba.Tokenizer()
    for word in sorted(_domain_words_of(path)):
        tok.add_word(word)
    return tok


def _tokens(segment: str) -> list[str]:
    """Words of a text segment, markup removed.

    >>> _tokens("**798家企业**获贷款")[-2:]
    ['获', '贷款']
    """
    cleaned = _CLEAN_RE.sub(" ", segment)
    return [t for t in _tokenizer().lcut(cleaned) if t.strip()]


def _is_content(token: str) -> bool:
    """A token worth keeping in a metric: a 2+ character word, not a stop word."""
    return len(token) >= 2 and token not in _STOP and bool(re.search(r"[\u4e00-\u9fffA-Za-z]", token))


def _content(tokens: list[str]) -> list[str]:
    return [t for t in tokens if _is_content(t)]


def _counted_noun(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Split the words after a count into (counted noun, rest).

    >>> _counted_noun(["企业", "及", "机构", "的", "项目"])
    (['企业', '机构'], ['的', '项目'])
    """
    noun: list[str] = []
    for i, tok in enumerate(tokens):
        if tok in _CONNECTORS:
            continue
        if not _is_content(tok) or len(noun) >= 4:
            return noun, tokens[i:]
        noun.append(tok)
    return noun, []


def _dedupe(tokens: list[str]) -> list[str]:
    return list(dict.fromkeys(tokens))


def _clause_metrics(text: str, raws: list[_Raw], cs: int, ce: int) -> list[list[str]]:
    """Own metric words of the figures of one clause (before inheritance)."""
    segs = [_tokens(text[a:b]) for a, b in zip([cs] + [r.end for r in raws], [r.start for r in raws] + [ce])]
    head = _content(segs[0])
    out: list[list[str]] = []
    local = segs[0]
    for i, raw in enumerate(raws):
        after = segs[i + 1]
        if raw.kind == "count":  # 9729 家高企 -> 高企 belongs to 9729, not to what follows
            noun, rest = _counted_noun(after)
        elif raw.kind == "ordinal":  # 第24届中国专利奖 -> the event also frames what follows
            noun, rest = _counted_noun(after)[0], after
        else:
            noun, rest = [], after
        core = _content(local) + noun + (_content(rest) if i == len(raws) - 1 else [])
        out.append(core if i == 0 or not core else head + core)
        local = rest
    return out


def _topic(text: str, sent_start: int, raws: list[_Raw]) -> list[str]:
    """Words of a sentence before its first figure (its topic), last few kept.

    Glossary terms are preferred when there are any (they are the domain nouns).

    In "深入开展首台(套)重大技术装备保险,累计完成 255 个..." the insured product
    is named before the clause of the figure.
    """
    first = next(r for r in raws if r.start >= sent_start)
    words = _content(_tokens(text[sent_start : first.start]))
    domain = [w for w in words if w in _domain_words()]
    return (domain or words)[-_TOPIC_WORDS:]


def _previous_in_sentence(raws: list[_Raw], i: int, sent_start: int) -> int | None:
    """Index of the closest earlier non-year figure of the same sentence."""
    for j in range(i - 1, -1, -1):
        if raws[j].start < sent_start:
            return None
        if raws[j].kind != "year":
            return j
    return None


def _opens_with_of_which(text: str, prev: _Raw, raw: _Raw) -> bool:
    """True if ``raw``'s clause starts with 其中 ("of which") after ``prev``'s clause."""
    clause_start, _ = _bounds(text, raw.start, _CLAUSE_DELIMS)
    lead = _CLEAN_RE.sub("", text[clause_start : raw.start]).strip()
    return prev.start < clause_start and lead.startswith("其中")


def _metrics(text: str, raws: list[_Raw]) -> list[str]:
    """Metric phrase of each figure: key nouns of its clause.

    Growth and rank figures, and figures whose clause says nothing of their
    own, take the words of the previous figure of the sentence first; a clause
    starting with 其中 ("of which") is prefixed by the figure it breaks down.
    """
    own: list[list[str]] = [[] for _ in raws]
    clauses: dict[tuple[int, int], list[int]] = {}
    for i, raw in enumerate(raws):
        clauses.setdefault(_bounds(text, raw.start, _CLAUSE_DELIMS), []).append(i)
    for (cs, ce), idx in clauses.items():
        for i, words in zip(idx, _clause_metrics(text, [raws[i] for i in idx], cs, ce)):
            own[i] = words
    final: list[list[str]] = []
    for i, raw in enumerate(raws):
        sent_start, _ = _bounds(text, raw.start, _SENT_DELIMS)
        prev = _previous_in_sentence(raws, i, sent_start)
        if prev is None:
            base = _topic(text, sent_start, raws)
        elif raw.kind in ("growth", "rank") or not own[i] or _opens_with_of_which(text, raws[prev], raw):
            base = final[prev]
        else:
            base = _topic(text, sent_start, raws)
        final.append(_dedupe(base + own[i]))
    return [" ".join(w) for w in final]


# ---------------------------------------------------------------- public


def _cumulative(text: str, raw: _Raw) -> bool:
    """累计 earlier in the same sentence (counts and money only)."""
    s, _ = _bounds(text, raw.start, _SENT_DELIMS)
    return raw.kind in ("count", "money") and bool(_CUMULATIVE_RE.search(text, s, raw.start))


def _qualifier(parts: list[str]) -> str | None:
    """Join qualifier parts with '+', first occurrence order, no repeats."""
    return "+".join(dict.fromkeys(parts)) or None


def _to_figure(
    text: str, raw: _Raw, metric: str, period: str | None, offset: int, year: int | None, passage_id: str
) -> Figure:
    """Build the public Figure from a raw figure and its context."""
    normalized, base = normalize_unit(raw.value, raw.unit)
    if raw.kind == "rank" or (raw.kind == "growth" and raw.unit in ("位", "名")):
        base = "rank"
    parts = (["cumulative"] if _cumulative(text, raw) else []) + raw.qualifiers
    return Figure(
        text=text[raw.start : raw.end],
        value=raw.value,
        unit=raw.unit,
        normalized_value=normalized,
        base_unit=base,
        qualifier=_qualifier(parts),
        kind=raw.kind,
        metric=metric,
        year=year,
        period=period,
        growth=raw.growth_sign * normalized if raw.kind == "growth" else None,
        start=offset + raw.start,
        end=offset + raw.end,
        passage_id=passage_id,
        value_max=raw.value_max,
    )


def extract_figures(
    text: str, *, offset: int = 0, year: int | None = None, passage_id: str = ""
) -> list[Figure]:
    """Extract every figure of a raw report slice, in reading order.

    ``offset`` is where ``text`` starts in the source, so that
    ``source[f.start:f.end] == f.text``; ``year`` is the report year.

    >>> [(f.text, f.kind, f.growth) for f in extract_figures("存量户数 2.99 万户,比上年增长 49.99% ,其中")]
    [('2.99 万户', 'count', None), ('49.99%', 'growth', 49.99)]
    >>> f = extract_figures("科技特色支行**90余家**", year=2021)[0]
    >>> f.text, f.value, f.unit, f.qualifier
    ('90余家', 90.0, '家', 'over')
    """
    raws = _scan(text)
    metrics = _metrics(text, raws)
    periods = [_period(text, raw) for raw in raws]
    _stray_periods(text, raws, periods)
    return [
        _to_figure(text, raw, metric, period, offset, year, passage_id)
        for raw, metric, period in zip(raws, metrics, periods)
    ]
