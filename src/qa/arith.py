"""Exact arithmetic on report figures, with units: the values a computed answer gives.

Every operand is a figure as the report writes it (value + unit as written); the result
keeps a unit a reader understands (亿元 ÷ 万户 → 万元/户) and a formula that names the
operands exactly as written.

    >>> r = compute("average", [Operand(4756.47, "亿元", "4756.47亿元"), Operand(2.63, "万户", "2.63万户")])
    >>> r.text, r.formula
    ('1808.54万元/户', '4756.47亿元 ÷ 2.63万户 = 1808.54万元/户')
    >>> compute("share", [Operand(4756.47, "亿元", "4756.47亿元"), Operand(10486.31, "亿元", "10486.31亿元")]).text
    '45.36%'
    >>> compute("cagr", [Operand(3983, "家", "3983家"), Operand(9729, "家", "9729家")], years=2).text
    '56.29%'
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, getcontext

from qa.units import MONEY_UNITS, normalize_unit, split_magnitude, unit_noun_en

getcontext().prec = 34

OPS = ("average", "sum", "share", "difference", "ratio", "growth", "cagr")
SYMBOL = {"average": "÷", "sum": "+", "share": "÷", "difference": "−", "ratio": "÷"}


class UnitMismatch(ValueError):
    """The operands measure different things (家 + 亿元): no arithmetic between them."""


@dataclass(frozen=True)
class Operand:
    value: float
    unit: str  # as written: 亿元, 万户, 家, %
    text: str  # the figure as the report writes it, for the formula
    id: int = 0  # the answer's citation number for this operand

    @property
    def base(self) -> tuple[Decimal, str]:
        v, b = normalize_unit(self.value, self.unit) if self.unit else (self.value, "")
        return Decimal(repr(float(v))), b


@dataclass
class Result:
    op: str
    value: float  # rounded as shown, in ``unit``
    unit: str  # as shown: 万元/户, %, 倍, 家, 亿元
    normalized_value: float  # in ``base_unit``
    base_unit: str  # 元/户, %, 倍, 家, 元
    text: str  # "1808.54万元/户"
    formula: str  # "4756.47亿元 ÷ 2.63万户 = 1808.54万元/户"
    operands: list[int] = field(default_factory=list)  # operand ids (citation numbers)

    def to_dict(self) -> dict:
        return {"op": self.op, "text": self.text, "value": self.value, "unit": self.unit,
                "normalized_value": self.normalized_value, "base_unit": self.base_unit,
                "formula": self.formula, "operands": self.operands, "computed": True}


def _round(x: Decimal, places: int = 2) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _plain(x: Decimal) -> str:
    """2 decimals at most, no trailing zeros: 1808.5400 → '1808.54', 5746.00 → '5746'."""
    s = format(_round(x), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def _magnitude_for(value: Decimal, base: str, like: str = "") -> tuple[Decimal, str]:
    """A readable magnitude for a base value: money in 亿/万 (or the operands' own, ``like``),
    counts as they are unless large."""
    if like:
        mult, rest = split_magnitude(like)
        if rest == base and mult > 1 and abs(value) >= mult:
            return value / mult, like
    if base in MONEY_UNITS:
        for mult, prefix in ((10**8, "亿"), (10**4, "万")):
            if abs(value) >= mult:
                return value / mult, prefix + base
    return value, base


def _same_base(ops: list[Operand]) -> str:
    bases = {o.base[1] for o in ops}
    if len(bases) != 1:
        raise UnitMismatch(" and ".join(sorted(b or "no unit" for b in bases)))
    return bases.pop()


def compute(op: str, ops: list[Operand], *, years: int = 0) -> Result:
    """The value ``op`` gives on ``ops`` (average: total, count; share: part, whole;
    difference/ratio/growth/cagr: earlier or first, later or second — b − a, a ÷ b for
    ratio of items, b ÷ a for years is the caller's order). ``years``: the span of a CAGR."""
    if op not in OPS:
        raise ValueError(f"unknown operation {op}")
    ids = [o.id for o in ops]
    if op == "average":
        (tv, tb), (cv, cb) = ops[0].base, ops[1].base
        if cv == 0:
            raise UnitMismatch("a count of zero")
        per = tv / cv
        shown, unit = _magnitude_for(per, tb)
        unit_text = f"{unit}/{cb}" if cb else unit
        return _result(op, shown, unit_text, per, f"{tb}/{cb}" if cb else tb, ops, ids)
    if op == "sum":
        base = _same_base(ops)
        total = sum((o.base[0] for o in ops), Decimal(0))
        shown, unit = _magnitude_for(total, base, ops[0].unit)
        return _result(op, shown, unit, total, base, ops, ids)
    a, b = ops[0], ops[1]
    if op in ("share", "ratio", "growth", "cagr") or op == "difference":
        base = _same_base([a, b]) if op != "ratio" else _ratio_base(a, b)
    (av, _), (bv, _) = a.base, b.base
    if op == "difference":
        diff = bv - av
        shown, unit = _magnitude_for(diff, base, a.unit if split_magnitude(a.unit)[0] > 1 else "")
        if base == "%":
            unit = "个百分点"
        return _result(op, shown, unit, diff, "pp" if base == "%" else base, [b, a], ids)
    if (op in ("share", "ratio") and bv == 0) or (op in ("growth", "cagr") and av == 0):
        raise UnitMismatch("a zero divisor")
    if op == "share":
        pct = av / bv * 100
        return _result(op, pct, "%", pct, "%", ops, ids)
    if op == "ratio":
        r = av / bv
        return _result(op, r, "倍", r, "倍", ops, ids)
    if op == "growth":
        g = (bv / av - 1) * 100
        return _result(op, g, "%", g, "%", [b, a], ids, growth=True)
    if years <= 0:
        raise ValueError("a compound annual growth rate needs the number of years")
    g = (Decimal(str(float(bv / av) ** (1.0 / years))) - 1) * 100
    return _result(op, g, "%", g, "%", [b, a], ids, growth=True, years=years)


def _ratio_base(a: Operand, b: Operand) -> str:
    return _same_base([a, b])


def _result(op: str, shown: Decimal, unit: str, exact: Decimal, base: str, ops: list[Operand],
            ids: list[int], *, growth: bool = False, years: int = 0) -> Result:
    value = float(_round(shown))
    text = f"{_plain(shown)}{unit}"
    names = [o.text for o in ops]
    if op == "growth":
        lhs = f"({names[0]} ÷ {names[1]} − 1) × 100%"
    elif op == "cagr":
        lhs = f"(({names[0]} ÷ {names[1]})^(1/{years}) − 1) × 100%"
    elif op == "share":
        lhs = f"{names[0]} ÷ {names[1]} × 100%"
    else:
        lhs = f" {SYMBOL[op]} ".join(names)
    return Result(op, value, unit, float(_round(exact, 6)), base, text, f"{lhs} = {text}", ids)


def render_en(r: Result, per_noun: str = "") -> str:
    """The computed value in English words: '1808.54万元/户' → 'RMB 18.09 million per account'."""
    from qa.units import format_number_en, scale_en

    num, _, per = r.base_unit.partition("/")
    value = r.normalized_value
    if r.unit == "%":
        return f"{format_number_en(value)}%"
    if r.unit == "个百分点":
        return f"{format_number_en(value)} percentage points"
    if r.unit == "倍":
        return f"{format_number_en(value)} times"
    if num in MONEY_UNITS:
        amount = f"{MONEY_UNITS[num]} {scale_en(value)}"
    else:
        noun = unit_noun_en(num, value) if num else ""
        amount = f"{format_number_en(value)}{' ' + noun if noun else ''}"
    if per:
        amount += f" per {per_noun or unit_noun_en(per, 1) or per}"
    return amount


def verify(c: dict) -> bool:
    """Whether a computed entry's value is what its inputs give (the grounding check).

    >>> d = compute("sum", [Operand(233, "家", "233家", 1), Operand(368, "家", "368家", 2)]).to_dict()
    >>> d["operand_values"] = [{"value": 233, "unit": "家", "text": "233家"}, {"value": 368, "unit": "家", "text": "368家"}]
    >>> verify(d), verify({**d, "value": 602})
    (True, False)
    """
    try:
        ops = [Operand(float(i["value"]), i.get("unit") or "", i.get("text", "")) for i in c["operand_values"]]
        years = 0
        if c["op"] == "cagr":
            ys = [i.get("year") for i in c["operand_values"]]
            years = abs(ys[-1] - ys[0]) if all(ys) else 0
        again = compute(c["op"], ops, years=years)
    except (KeyError, TypeError, ValueError):
        return False
    return again.value == c["value"] and again.unit == c["unit"]
