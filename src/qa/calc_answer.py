"""Answer composition for computed values: fetch each operand with the ordinary reading
(one cited figure each), do the arithmetic (qa.arith), and say how.

    2023年科技型中小企业贷款余额平均每户多少？
    → 2023年：平均每户1808.54万元（计算值：4756.47亿元 ÷ 2.63万户 = 1808.54万元/户）[1][2]。
      原文：科技型中小企业贷款余额 4756.47 亿元…[1]；科技型中小企业贷款存量户 2.63 万户…[2]。

Nothing is computed from a figure that is not cited, from two operands that are the same
figure, or from operands in different units; then the answer says which operand is missing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import jieba

from qa.arith import Operand, Result, UnitMismatch, compute, render_en
from qa.compute import OperandAsk, Plan, kin, rate_words
from qa.figures import Figure
from qa.passages import strip_markup
from qa.question import ZH_COUNTED_NOUN, ZH_NOUN_UNITS, Query, analyze
from qa.reader import asked_measure_word
from qa.units import normalize_unit
from qa.units import render_en as figure_en

if TYPE_CHECKING:
    from qa.answer import Answer, Answerer, Block

# the general reader's span types as the rules' figure kinds
SPAN_KINDS = {"count": "count", "number": "count", "money": "money", "percent": "percent",
              "length": "count", "age": "count", "duration": "count"}


@dataclass
class Found:
    """One operand: the figure and the evidence that cites it."""

    figure: Figure
    block: "Block"
    ask: OperandAsk


def _fits(f: Figure, ask: OperandAsk, like: Figure | None = None) -> bool:
    """Whether figure ``f`` can be the operand ``ask`` names, measured like the operand
    found before it (a share's part in the whole's unit, a sum's items in one unit)."""
    if f.kind not in ask.kinds or f.kind == "growth":
        return False
    if like is not None and f.base_unit != like.base_unit:
        return False
    if ask.unit:
        units = kin().get(ask.unit, (ask.unit,))
        return any(f.unit.endswith(u) or f.base_unit == u for u in units)
    return True


def _from_pick(pick, ask: OperandAsk, like: Figure | None = None) -> Found | None:
    from qa.answer import Block

    span = pick.scored.span
    if span is None or SPAN_KINDS.get(span.type) not in ask.kinds:
        return None
    a, b = pick.span_abs
    p = pick.hit.passage
    norm, base = normalize_unit(span.value, span.unit) if span.unit else (span.normalized, "")
    kind = SPAN_KINDS[span.type]
    fig = Figure(strip_markup(span.text).strip(), span.value, span.unit, norm, base, span.qualifier or None,
                 kind, "", p.year, None, None, a, b, p.id)
    if not _fits(fig, ask, like):
        return None
    return Found(fig, Block(p.year, pick.hit, pick.sentence, [fig], pick.prob), ask)


def _said_before(passage, f: Figure, chars: int, stops: str) -> str:
    """The report's words right before figure ``f`` (at most ``chars``), back to the nearest
    of the ``stops`` punctuation marks: the figure's own clause."""
    before = strip_markup(passage.span(max(passage.start, f.start - chars), f.start))
    return re.split(f"[{stops}]", before)[-1]


def _is_rate(passage, f: Figure, lang: str) -> bool:
    """Whether its own clause makes figure ``f`` a rate ("每千名老年人拥有养老床位32.5张")."""
    rate = rate_words(lang)
    if rate is None:
        return False
    return bool(rate.search(_said_before(passage, f, 24, "，,；;。：:")))


def _noun_unit(question: str) -> str:
    """The measure word of the noun a Chinese question counts ("多少学生" → 人)."""
    m = re.search(ZH_COUNTED_NOUN, question)
    return ZH_NOUN_UNITS[m.group(1)] if m else ""


def _named_before(passage, f: Figure, label: str) -> int:
    """The length of the longest run of ``label``'s characters (2 or more) that the text right
    before figure ``f`` repeats (0 when the figure's clause names something else)."""
    before = _said_before(passage, f, 16, "，,；;。：:、").strip()
    label = re.sub(r"^\d{4}年(?:的)?", "", label).strip()
    best = 0
    for n in range(2, min(len(label), 12) + 1):
        for i in range(0, len(label) - n + 1):
            if label[i:i + n] in before:
                best = n
                break
    return best


def find_operand(ans: "Answerer", parent: Query, ask: OperandAsk, k: int,
                 like: Figure | None = None, no_rates: bool = False,
                 exclude: tuple[Figure, ...] = ()) -> dict[int, Found]:
    """The operand's figure for each report year that gives it (the rules' reading first,
    the learned reader's where the rules hold none of the kind asked)."""
    index = ans.retriever.index
    sub = analyze(ask.question, index.years, ans.glossary, ask.year,
                  userdict=ans.retriever.userdict, bridge=ans.bridge, this_year=ans.config.this_year)
    if ask.year is None and parent.years and len(parent.years) == 1:
        sub.years = list(parent.years)
    # the figure kinds the operand's role allows; those the sub-question asks for, if any
    # ("lending" asks for money, not the count of firms beside it)
    asked_kinds = list(sub.kinds)
    sub.kinds = [x for x in sub.kinds if x in ask.kinds] or list(ask.kinds)
    if not ask.unit and sub.lang == "zh" and (unit := asked_measure_word(ask.question) or (
            "money" not in asked_kinds and _noun_unit(ask.question))):
        # "养老机构有多少张床位": counted in 张, not 家; "多少学生": in 人
        ask = replace(ask, unit=unit)
    if ask.unit:
        sub.unit_hints = [ask.unit]
        if "count" in ask.kinds:
            sub.kinds = ["count"] + [x for x in sub.kinds if x != "count"]
    search = ans._searcher(sub, k)
    blocks, _ = ans._blocks(sub, k, ask.year, search)
    out: dict[int, Found] = {}
    for b in blocks:
        if b.confidence < ans.min_confidence or b.year in out:
            continue
        fits = [f for f in b.figures if _fits(f, ask, like) and f not in exclude
                and not (no_rates and _is_rate(b.hit.passage, f, sub.lang))]
        # the item's own name right before a figure says it is that item's ("工业用水48.7亿立方米"),
        # among figures of the kind the reading ranks first (授信金额 asks money, not 家)
        fits = [f for f in fits if f.kind == fits[0].kind and f.base_unit == fits[0].base_unit]
        fig = max(fits, key=lambda f: _named_before(b.hit.passage, f, ask.label), default=None) \
            if ask.label and len(fits) > 1 else (fits[0] if fits else None)
        if fig is not None:
            out[b.year] = Found(fig, b, ask)
    if not out:
        threshold = ans._threshold(sub)
        for pick in ans._general(sub, ask.year, [], search):
            if pick.prob < threshold:
                break
            found = _from_pick(pick, ask, like)
            if found is not None and (found.figure in exclude or (
                    no_rates and _is_rate(pick.hit.passage, found.figure, sub.lang))):
                continue
            if found is not None and found.block.year not in out:
                out[found.block.year] = found
                break
    return out


def _find_all(ans: "Answerer", q: Query, plan: Plan, k: int) -> list[dict[int, Found]]:
    """Every operand, in the plan's order. The best-named one is read first and the others
    must be measured like it (a share's whole before its part: "what % of tech companies
    … were SMEs" counts companies, so the part is a count too); an average's total and
    count differ by design."""
    order = list(range(len(plan.operands)))
    if plan.op == "share":
        order = order[::-1]
    found: dict[int, dict[int, Found]] = {}
    like: Figure | None = None
    for i in order:
        # an average, a sum or a share is of totals and counts, never of rates
        found[i] = find_operand(ans, q, plan.operands[i], k, like if plan.op != "average" else None,
                                no_rates=plan.op in ("average", "sum", "share"))
        if like is None and found[i]:
            like = next(iter(found[i].values())).figure
    # two operands read as the same figure ("女的…" and "男的预期寿命" both 76.58岁): the
    # surer reading keeps it, the other is read again without it
    for i in order:
        for j in order:
            if i >= j or plan.over_years:  # one metric in two years: each year's own figure
                continue
            for y in set(found[i]) & set(found[j]):
                a, b = found[i][y], found[j][y]
                if _same(a, b):
                    # the side whose name sits right before the figure keeps it, else the surer
                    na = _named_before(a.block.hit.passage, a.figure, a.ask.label)
                    nb = _named_before(b.block.hit.passage, b.figure, b.ask.label)
                    loser = j if (na, a.block.confidence) >= (nb, b.block.confidence) else i
                    keep = found[i + j - loser][y].figure
                    again = find_operand(ans, q, plan.operands[loser], k, None if plan.op == "average" else like,
                                         no_rates=plan.op in ("average", "sum", "share"), exclude=(keep,))
                    if y in again:
                        found[loser][y] = again[y]
    return [found[i] for i in range(len(plan.operands))]


def _same(a: Found, b: Found) -> bool:
    return a.figure.passage_id == b.figure.passage_id and a.figure.start == b.figure.start


def _years_for(plan: Plan, found: list[dict[int, Found]]) -> list[list[Found]]:
    """Operand sets to compute: one per year that gives every operand; over years, the
    plan's years in order."""
    if plan.over_years:
        row = []
        for ask, by_year in zip(plan.operands, found):
            f = by_year.get(ask.year) if ask.year is not None else None
            if f is None:
                return []
            row.append(f)
        return [_align(row)]
    common = set(found[0])
    for by_year in found[1:]:
        common &= set(by_year)
    rows = [[by_year[y] for by_year in found] for y in sorted(common)]
    if not rows and all(found):
        # the items are reported in different years: each item's best reading
        rows = [[next(iter(by_year.values())) for by_year in found]]
    return rows


def _align(row: list[Found]) -> list[Found]:
    """One metric over several years compares like with like: each year's operand is its
    figure (same kind and unit) whose metric is closest to the most confident year's
    ("3983家高新技术企业" beside "9729家高企", not "8家试点合作银行" of the same sentence)."""
    from qa.answer import _overlap

    anchor = max(row, key=lambda f: f.block.confidence)
    fa = anchor.figure
    out = []
    for f in row:
        same = [g for g in f.block.figures if g.kind == fa.kind and g.base_unit == fa.base_unit]
        if f is not anchor and same:
            best = max(same, key=lambda g: _overlap(g.metric, fa.metric))
            if _overlap(best.metric, fa.metric) > _overlap(f.figure.metric, fa.metric):
                f = Found(best, f.block, f.ask)
        out.append(f)
    return out


def _check(plan: Plan, row: list[Found]) -> str:
    """Why these operands cannot be combined, or '' when they can."""
    for i, a in enumerate(row):
        for b in row[i + 1:]:
            if _same(a, b):
                return "same"  # two operands read as one figure: one of them was not found
    if plan.op == "average":
        total, count = row[0].figure, row[1].figure
        if total.base_unit == count.base_unit:
            return "unit"
    if plan.op == "share" and row[0].figure.normalized_value > row[1].figure.normalized_value:
        return "share"  # a part larger than its whole is not a part of it
    return ""


def _operands(row: list[Found], ns: list[int]) -> list[Operand]:
    return [Operand(f.figure.value, f.figure.unit, f.figure.text.replace(" ", ""), n) for n, f in zip(ns, row)]


def answer_computed(ans: "Answerer", q: Query, plan: Plan, k: int) -> "Answer | None":
    """The computed answer, or None when an operand is missing (the caller answers plainly)."""
    from qa.answer import Answer, _figure_dict, _hit_dict, ground, quote_en

    found = _find_all(ans, q, plan, k)
    rows = [r for r in _years_for(plan, found) if not _check(plan, r)]
    if not rows:
        return None
    citations, figures, computed, objs, lines, quotes = [], [], [], [], [], []
    where: dict[tuple[str, tuple[int, int]], int] = {}  # one citation per cited sentence
    for row in rows:
        ns = []
        for f in row:
            key = (f.block.hit.passage.id, f.block.sentence)
            if key not in where:
                where[key] = len(citations) + 1
                citations.append(ans._citation(where[key], f.block, q.lang))
            ns.append(where[key])
            objs.append((where[key], f.figure))
        try:
            years = abs(row[-1].block.year - row[0].block.year) if plan.op == "cagr" else 0
            pairs = list(zip(_operands(row, ns), row))
            if plan.op == "ratio" and plan.over_years:
                pairs = pairs[::-1]  # "2023年是2021年的几倍": the later year over the earlier
            if plan.op == "difference" and not plan.over_years:
                pairs = pairs[::-1]  # "A比B多多少", "A minus B": the first item less the second
            result = compute(plan.op, [o for o, _ in pairs], years=years)
        except UnitMismatch:
            return None
        d = result.to_dict()
        d["year"] = row[0].block.year if not plan.over_years else None
        d["operand_values"] = [{"text": o.text, "value": o.value, "unit": o.unit, "citation": o.id,
                                "year": f.block.year} for o, f in pairs]
        d["text_en"] = render_en(result, plan.per_noun)
        d["formula_en"] = _formula_en(result, [f for _, f in pairs])
        computed.append(d)
        figures.append({**{k_: d[k_] for k_ in ("text", "value", "unit", "normalized_value", "base_unit")},
                        "kind": plan.op, "computed": True, "formula": d["formula"], "operands": d["operands"],
                        "year": d["year"], "citation": None, "metric": ""})
        lines.append(_line(q, plan, result, d, row, ns))
    for n, f in objs:
        figures.append(_figure_dict(f, n))
    for c in citations:
        quotes.append(f"{_clause(c)}[{c.n}]" if q.lang == "zh" else f"[{c.n}] {quote_en(_clause(c))}")
    if q.lang == "zh":
        text = "\n".join(lines) + "\n原文：" + "；".join(quotes) + "。"
    else:
        text = "\n".join(lines) + "\nSources: " + "; ".join(quotes)
    hits = list({f.block.hit.passage.id: f.block.hit for row in rows for f in row}.values())
    answer = Answer(q.text, q.lang, True, text, figures, citations, [_hit_dict(h) for h in hits[:5]],
                    computed, figure_objs=[f for _, f in objs])
    answer.reader = {"chosen_by": "computed", "op": plan.op}
    return ground(answer, ans.glossary)


def _clause(c) -> str:
    return strip_markup(c.quote).strip().rstrip("。；;，, ")


def _formula_en(r: Result, row: list[Found]) -> str:
    names = [figure_en(f.figure) for f in row]
    sym = {"average": " ÷ ", "sum": " + ", "share": " ÷ ", "difference": " − ", "ratio": " ÷ "}.get(r.op, " → ")
    if r.op == "difference":
        names = names[::-1]
    return sym.join(names) + f" = {render_en(r)}"


OP_ZH = {"average": "平均", "sum": "合计", "share": "占比", "difference": "相差", "ratio": "倍数",
         "growth": "增长", "cagr": "年均增长"}
OP_EN = {"average": "the average", "sum": "the total", "share": "the share", "difference": "the difference",
         "ratio": "the ratio", "growth": "the growth", "cagr": "the compound annual growth rate"}


def _line(q: Query, plan: Plan, r: Result, d: dict, row: list[Found], ns: list[int]) -> str:
    refs = "".join(f"[{n}]" for n in dict.fromkeys(ns))
    years = sorted({f.block.year for f in row})
    if q.lang == "zh":
        when = "、".join(f"{y}年" for y in years)
        if plan.op == "difference":
            up = r.value >= 0
            value = r.text.lstrip("-")
            said = (f"{years[-1]}年比{years[0]}年{'增加' if up else '减少'}{value}" if plan.over_years
                    else f"相差{value}")
            return f"{said}（计算值：{r.formula}）{refs}。"
        if plan.over_years:
            return f"{years[0]}年至{years[-1]}年{OP_ZH[plan.op]}{r.text}（计算值：{r.formula}）{refs}。"
        return f"{when}：{OP_ZH[plan.op]}{r.text}（计算值：{r.formula}）{refs}。"
    when = (f"from {years[0]} to {years[-1]}" if plan.over_years
            else f"in {' and '.join(map(str, years))}")
    # a sentence, with the arithmetic shown: the value is computed, not quoted
    return (f"Computed from the report's figures, {OP_EN[plan.op]} {when} is {d['text_en']} "
            f"({d['formula_en']}) {refs}.")


STATED_REACH = 40  # characters before a stated share in which the asked part must be named


def stated_directly(plan: Plan, answer: "Answer") -> bool:
    """Whether a plain answer gives the value as the report states it: a word of that kind
    right before its lead figure ("户均", "占比"), or a ratio the report writes in 倍
    ("质量为木星的8.65倍")."""
    if not answer.answerable or not answer.figures or not answer.citations:
        return False
    f = answer.figures[0]
    if f.get("computed") or f.get("start") is None:
        return False
    if plan.op == "ratio":
        return str(f.get("unit") or "").endswith("倍")
    if plan.stated is None:
        return False
    c = next((c for c in answer.citations if c.n == f.get("citation")), answer.citations[0])
    start = f["start"] - _offset(c)
    window = strip_markup(c.text[max(0, start - 14): max(0, start)])
    wants = {"share": "percent", "growth": "growth", "cagr": "growth"}.get(plan.op)
    if wants and f.get("kind") not in (wants, "percent"):
        return False
    part = next((o.label for o in plan.operands if o.role == "part"), "")
    if plan.op == "share" and re.search(r"[\u4e00-\u9fff]", part):
        # the share the report states must be the asked part's: "其中地表水源供水量5.61亿立方米，
        # 占总供水量的87.9%" does not state agriculture's share of water use
        before = strip_markup(c.text[max(0, start - STATED_REACH): max(0, start)])
        words = [w for w in jieba.cut(part, HMM=False) if len(w) >= 2 and not w.isdigit()]
        if words and not any(w in before for w in words):  # "1901年华沙人口中新教徒": 新教徒占2.8%
            return False
    return bool(plan.stated.search(window))


def _offset(c) -> int:
    """Citation texts are whole passages; figure offsets are absolute in the report."""
    return c.start - c.text.find(c.quote) if c.quote in c.text else 0
