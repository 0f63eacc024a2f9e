"""Units of Chinese report figures: normalization and English/Chinese rendering.

One place for magnitude prefixes (万, 亿, 万亿, 千, 百, ...) and for how a
figure reads in English. ``figures.py`` calls :func:`normalize_unit`; the
answer composer calls :func:`render_en` / :func:`render_zh`.

>>> normalize_unit(1521.63, "亿元")
(152163000000.0, '元')
>>> format_number_en(29900.0)
'29,900'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - only for type hints
    from qa.figures import Figure

# Magnitude prefixes, longest first so that 万亿 wins over 万 and 亿.
MAGNITUDES: dict[str, int] = {
    "万亿": 10**12,
    "千亿": 10**11,
    "百亿": 10**10,
    "十亿": 10**9,
    "亿": 10**8,
    "千万": 10**7,
    "百万": 10**6,
    "十万": 10**5,
    "万": 10**4,
    "千": 10**3,
    "百": 10**2,
}

# Units that are whole words and must never be split into prefix + unit
# (百分点 would otherwise read as 百 x 分点). Value: (factor, base unit).
WHOLE_UNITS: dict[str, tuple[float, str]] = {
    "%": (1, "%"),
    "％": (1, "%"),
    "‰": (0.1, "%"),
    "成": (10, "%"),  # 六成 = 60%
    "个百分点": (1, "pp"),
    "百分点": (1, "pp"),
    "千克": (1, "千克"),
    "千米": (1, "千米"),
    "千瓦": (1, "千瓦"),
    "人民币": (1, "元"),
}

MONTHS = ("January February March April May June July August September October November "
          "December").split()

MONEY_UNITS: dict[str, str] = {"元": "RMB", "美元": "USD", "欧元": "EUR", "港元": "HKD"}

# English nouns for counting units: (singular, plural). Generic on purpose:
# the measured noun ("high-tech enterprises") comes from the metric, not here.
UNIT_NOUNS_EN: dict[str, tuple[str, str]] = {
    "家": ("organization", "organizations"),
    "家次": ("organization-time", "organization-times"),
    "户": ("account", "accounts"),
    "户次": ("account-time", "account-times"),
    "件": ("item", "items"),
    "项": ("item", "items"),
    "个": ("", ""),
    "人": ("person", "people"),
    "位": ("person", "people"),
    "名": ("person", "people"),
    "人次": ("person-time", "person-times"),
    "次": ("time", "times"),
    "金": ("gold award", "gold awards"),
    "银": ("silver award", "silver awards"),
    "铜": ("bronze award", "bronze awards"),
    "届": ("edition", "editions"),
    "年": ("year", "years"),
    "个月": ("month", "months"),
    "天": ("day", "days"),
    "台": ("unit", "units"),
    "套": ("set", "sets"),
    "篇": ("paper", "papers"),
    "种": ("type", "types"),
    "类": ("category", "categories"),
    "款": ("model", "models"),
    "所": ("institution", "institutions"),
    "批": ("batch", "batches"),
    "笔": ("transaction", "transactions"),
    "倍": ("time", "times"),
    "部门": ("department", "departments"),
    "座": ("building", "buildings"),
    "条": ("item", "items"),
}

@dataclass(frozen=True)
class QualifierWord:
    """One row of ``data/qualifiers.tsv``: 不超过 stands before the number, sets 'at most',
    reads 'no more than' in English and is a limit (a threshold, not a result)."""

    zh: str
    position: str  # before / inner / after
    qualifier: str
    en: str
    limit: bool


@lru_cache(maxsize=1)
def qualifier_words() -> tuple[QualifierWord, ...]:
    """The qualifier words, longest first (不超过 before 超).

    >>> [w.en for w in qualifier_words() if w.zh in ("不超过", "超")]
    ['no more than', 'over']
    """
    text = resources.files("qa").joinpath("data/qualifiers.tsv").read_text(encoding="utf-8")
    rows = [(line.split("\t") + [""] * 5)[:5] for line in text.splitlines()
            if line.strip() and not line.startswith("#")]
    words = [QualifierWord(zh, pos, q, en, flag == "limit") for zh, pos, q, en, flag in rows]
    return tuple(sorted(words, key=lambda w: -len(w.zh)))


@lru_cache(maxsize=1)
def measure_word_sections() -> dict[str, tuple[str, ...]]:
    """The units of ``data/measure_words.txt`` by section ('money', 'counts', 'measures' …).

    >>> "头" in measure_word_sections()["counts"], "公顷" in measure_word_sections()["measures"]
    (True, True)
    """
    text = resources.files("qa").joinpath("data/measure_words.txt").read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("#"):
            section = line[1:].strip().split(" ", 1)[0]
            continue
        out.setdefault(section, []).extend(line.split("#", 1)[0].split())
    return {k: tuple(v) for k, v in out.items()}


# qualifier → its English ('over' → 'over', 'at most' → 'no more than')
QUALIFIER_EN: dict[str, str] = {w.qualifier: w.en for w in qualifier_words() if w.en}
LIMIT_QUALIFIERS = frozenset(w.qualifier for w in qualifier_words() if w.limit)


def is_limit(qualifier: str | None) -> bool:
    """A threshold or requirement ('5000万元以下', '不少于1小时'), not a result.

    >>> is_limit("under"), is_limit("cumulative+at least"), is_limit("over")
    (True, True, False)
    """
    return any(part in LIMIT_QUALIFIERS for part in (qualifier or "").split("+"))


_SCALES: tuple[tuple[float, str], ...] = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def split_magnitude(unit: str) -> tuple[int, str]:
    """Split a unit as written into (multiplier, unit without magnitude).

    >>> split_magnitude("万亿元")
    (1000000000000, '元')
    >>> split_magnitude("个百分点")
    (1, '个百分点')
    """
    if unit in WHOLE_UNITS:
        return 1, unit
    for prefix, mult in MAGNITUDES.items():
        if unit.startswith(prefix) and unit[len(prefix) :]:
            return mult, unit[len(prefix):]
    return 1, unit


def normalize_unit(value: float, unit: str) -> tuple[float, str]:
    """Scale a value written with ``unit`` to its base unit.

    Money goes to 元, percentages to % (六成 -> 60%), counts keep their
    measure word (万户 -> 户). Decimal arithmetic keeps 1521.63亿 exact.

    >>> normalize_unit(2.99, "万户")
    (29900.0, '户')
    >>> normalize_unit(2.06, "万亿元")
    (2060000000000.0, '元')
    >>> normalize_unit(6, "成")
    (60.0, '%')
    """
    mult, base = split_magnitude(unit)
    factor: float | int = mult
    if base in WHOLE_UNITS:
        whole_factor, base = WHOLE_UNITS[base]
        factor = mult * whole_factor
    scaled = Decimal(repr(float(value))) * Decimal(repr(factor))
    return float(scaled), base


def format_number_en(x: float) -> str:
    """Thousands separators, at most two decimals, no trailing zeros.

    >>> format_number_en(152.163)
    '152.16'
    >>> format_number_en(1000000.0)
    '1,000,000'
    >>> format_number_en(0.225)
    '0.23'
    """
    q = Decimal(repr(float(x))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{q:,.2f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def ordinal_en(n: float) -> str:
    """English ordinal of an integer rank.

    >>> [ordinal_en(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 103)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '103rd']
    """
    k = int(n)
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def scale_en(x: float) -> str:
    """A large number in words: 152163000000 -> '152.16 billion'.

    Exact to the report's own digits: scaling adds decimals (2937.6万 = 29.376 million,
    1521.63亿 = 152.163 billion), and rounding them away would change the figure.

    >>> scale_en(29376000.0), scale_en(29900.0), scale_en(1e9), scale_en(152163000000.0)
    ('29.376 million', '29,900', '1 billion', '152.163 billion')
    """
    for size, word in _SCALES:
        if abs(x) >= size:
            q = Decimal(repr(float(x))) / Decimal(int(size))
            text = f"{q.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP):,.4f}".rstrip("0").rstrip(".")
            return f"{text} {word}"
    return format_number_en(x)


def unit_noun_en(unit: str, count: float | None = None) -> str:
    """Generic English noun for a counting unit ('' when there is none).

    The magnitude prefix is ignored; ``count == 1`` gives the singular.

    >>> unit_noun_en("万户"), unit_noun_en("家", 1), unit_noun_en("个")
    ('accounts', 'organization', '')
    """
    _, base = split_magnitude(unit)
    singular, plural = UNIT_NOUNS_EN.get(base) or units_en().get(base, ("", ""))
    return singular if count == 1 else plural


@lru_cache(maxsize=1)
def units_en() -> dict[str, tuple[str, str]]:
    """English (singular, plural) of units and measure words, ``data/units_en.tsv``
    (头 → head, 公顷 → hectares); :data:`UNIT_NOUNS_EN` overrides it where the rules'
    answers want a more generic noun."""
    text = resources.files("qa").joinpath("data/units_en.tsv").read_text(encoding="utf-8")
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            zh, one, many = (line.split("\t") + ["", ""])[:3]
            out[zh] = (one, many or one)
    return out


def is_measure_unit(unit: str) -> bool:
    """A physical measure (吨, 公顷, 千瓦时 …: ``measures`` of data/measure_words.txt), whose
    English must name the unit ('2.158 million tonnes'), unlike a count of things.

    >>> is_measure_unit("万吨"), is_measure_unit("家")
    (True, False)
    """
    _, base = split_magnitude(unit)
    return unit in measure_word_sections().get("measures", ()) or base in measure_word_sections().get("measures", ())


def _qualifier_prefix(fig: Figure) -> str:
    """'over ' / 'nearly ' / ... for the first approximation qualifier."""
    for part in (fig.qualifier or "").split("+"):
        if part in QUALIFIER_EN:
            return QUALIFIER_EN[part] + " "
    return ""


def _magnitude_en(fig: Figure) -> str:
    """The number part of a count or money figure, range aware."""
    low = fig.normalized_value
    value_max = getattr(fig, "value_max", None)
    if value_max is None:
        return scale_en(low)
    high, _ = normalize_unit(value_max, fig.unit)
    for size, word in _SCALES:
        if abs(high) >= size:
            return f"{format_number_en(low / size)}–{format_number_en(high / size)} {word}"
    return f"{format_number_en(low)}–{format_number_en(high)}"


def _growth_en(fig: Figure) -> str:
    """Size of a change, without sign: '49.99%', '2 percentage points', '1 place'."""
    g = abs(fig.growth if fig.growth is not None else fig.normalized_value)
    plural = "" if g == 1 else "s"
    if fig.base_unit == "%":
        return f"{format_number_en(g)}%"
    if fig.base_unit == "pp":
        return f"{format_number_en(g)} percentage point{plural}"
    if fig.base_unit == "rank":
        return f"{format_number_en(g)} place{plural}"
    if fig.base_unit in MONEY_UNITS:
        return f"{MONEY_UNITS[fig.base_unit]} {scale_en(g)}"
    return scale_en(g)


def render_change_en(fig: Figure) -> str:
    """A growth figure with its direction: 'up 49.99%', 'down 3%', 'up 1 place'.

    Other kinds are rendered as by :func:`render_en`.

    >>> from qa.figures import extract_figures
    >>> [render_change_en(f) for f in extract_figures("比上年下降 3%，较上年上升1位")]
    ['down 3%', 'up 1 place']
    """
    if fig.kind != "growth":
        return render_en(fig)
    direction = "down" if (fig.growth or 0) < 0 else "up"
    return f"{direction} {render_en(fig)}"


def render_en(fig: Figure, *, with_noun: bool = False) -> str:
    """Render a figure in English, e.g. for an answer sentence.

    1521.63亿元 -> 'RMB 152.16 billion'; 近1亿元 -> 'nearly RMB 100 million';
    2.99万户 -> '29,900' ('29,900 accounts' with ``with_noun``);
    超70% -> 'over 70%'; 第5位 -> '5th'; growth 增长49.99% -> '49.99%'.
    A growth figure renders as the unsigned size of the change (下降3% -> '3%',
    上升1位 -> '1 place'); its direction is the sign of ``fig.growth``, and
    :func:`render_change_en` spells it ('down 3%').
    The 'cumulative' qualifier is not rendered (it is about the metric).

    >>> from qa.figures import extract_figures
    >>> render_en(extract_figures("承保风险2937.6万元")[0])
    'RMB 29.376 million'
    """
    q = _qualifier_prefix(fig)
    if fig.kind == "money":
        currency = MONEY_UNITS.get(fig.base_unit, fig.base_unit)
        return f"{q}{currency} {_magnitude_en(fig)}"
    if fig.kind == "percent":
        if fig.base_unit == "pp":
            return f"{q}{format_number_en(fig.normalized_value)} percentage points"
        return f"{q}{format_number_en(fig.normalized_value)}%"
    if fig.kind == "growth":
        return q + _growth_en(fig)
    if fig.kind == "rank":
        return q + ordinal_en(fig.value)
    if fig.kind == "ordinal":
        noun = unit_noun_en(fig.unit, 1) if with_noun else ""
        return f"{ordinal_en(fig.value)} {noun}".strip()
    if fig.kind == "year":
        value_max = getattr(fig, "value_max", None)
        return f"{int(fig.value)}–{int(value_max)}" if value_max else str(int(fig.value))
    text = q + _magnitude_en(fig)
    if with_noun:
        noun = unit_noun_en(fig.unit, fig.normalized_value)
        text = f"{text} {noun}".strip()
    return text


_MARKUP_RE = re.compile(r"\*\*|\s+")


def render_zh(fig: Figure) -> str:
    """The figure as written, without ``**`` markup or inner spaces.

    >>> from qa.figures import extract_figures
    >>> render_zh(extract_figures("存量户数 2.99 万户")[0])
    '2.99万户'
    """
    return _MARKUP_RE.sub("", fig.text)
