"""Questions whose answer is computed from the report's figures: what to compute, and the
plain questions that fetch each operand (cues in ``data/compute_cues.tsv``).

    >>> p = plan("2023年科技型中小企业贷款余额平均每户多少？", "zh", [2023], [2021, 2023])
    >>> p.op, [(o.question, o.role, o.unit) for o in p.operands]
    ('average', [('2023年科技型中小企业贷款余额多少？', 'total', ''), ('2023年科技型中小企业贷款余额有多少户？', 'count', '户')])
    >>> p = plan("小巨人信用贷、科技履约贷、科创助力贷三者授信企业加起来有多少家？", "zh", [], [2021, 2023])
    >>> p.op, [o.question for o in p.operands]
    ('sum', ['小巨人信用贷授信企业有多少家？', '科技履约贷授信企业有多少家？', '科创助力贷授信企业有多少家？'])

The operands are answered by the ordinary reading of the corpus (qa.answer), each with
its own citation; qa.arith does the arithmetic.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from qa.cues import language_patterns, language_rows
from qa.question import ZH_NOUN_UNITS
from qa.reader import asked_measure_word

# what an operand of each role may be (the rules' figure kinds)
ROLE_KINDS = {"total": ["money", "count"], "count": ["count"], "part": ["money", "count", "percent"],
              "whole": ["money", "count", "percent"], "item": ["money", "count", "percent"],
              "year": ["money", "count", "percent"]}
# two figures are compared across years or items; a sum may also run over years
TWO_SIDED = {"difference", "ratio", "growth", "cagr"}
ZH_QUANTITY_ASKED = re.compile(r"多少|几|多大|多高")
ZH_TAIL = re.compile(r"(?:是|为|有|共有|达到?)?(?:多少|几)[^，,。？?]{0,4}[？?。]?$|[？?。！!]+$")
EN_HEAD = re.compile(r"^\s*(?:what(?:'s| is| was| were| are)?|how (?:many|much|large|big)|tell me|give me|can you tell me)\b\s*", re.I)


@dataclass(frozen=True)
class OperandAsk:
    question: str  # a plain question that fetches this operand
    role: str  # total | count | part | whole | item | year
    year: int | None = None
    unit: str = ""  # the measure word it must be counted in ("户"), or "" for any
    label: str = ""  # how the answer names it (the item, or the year)

    @property
    def kinds(self) -> list[str]:
        return ROLE_KINDS[self.role]


@dataclass
class Plan:
    op: str  # average | sum | share | difference | ratio | growth | cagr
    cue: str  # the words that asked for it
    operands: list[OperandAsk] = field(default_factory=list)
    per_noun: str = ""  # English "per firm": how the answer names the unit
    over_years: bool = False  # the operands are one metric in several years
    stated: re.Pattern[str] | None = None  # words of a sentence that states the value itself


def _cues() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    return language_patterns("compute_cues.tsv")


@lru_cache(maxsize=1)
def kin() -> dict[str, tuple[str, ...]]:
    """Measure words that count the same things: 家 → (家, 户, 企业)."""
    out: dict[str, tuple[str, ...]] = {}
    for lang, op, pairs in language_rows("compute_cues.tsv"):
        if lang == "any" and op == "kin":
            for pair in pairs.split():
                word, others = pair.split("=")
                out[word] = (word, *others.split(","))
    return out


def rate_words(lang: str) -> re.Pattern[str] | None:
    """Words that make the figure after them a rate (op "rate" of the cue file)."""
    rows = _rows(lang, "rate")
    return rows[0] if rows else None


def _rows(lang: str, op: str) -> list[re.Pattern[str]]:
    return [p for l, o, p in _cues() if l == lang and o == op]


def _first(lang: str, op: str, text: str) -> re.Match[str] | None:
    for p in _rows(lang, op):
        if m := p.search(text):
            return m
    return None


def _cut(text: str, m: re.Match[str]) -> str:
    return (text[: m.start()] + text[m.end():]).strip()


def _ask_zh(stem: str, unit: str = "") -> str:
    """A plain Chinese question from a stem: '…贷款余额' → '…贷款余额是多少？' / '…有多少户？'
    (a stem that asks already keeps its own words: '…授信企业有多少家').
    """
    stem = stem.strip().rstrip("？?。！!，, ")
    if unit:
        return f"{ZH_TAIL.sub('', stem).rstrip('的，, ')}有多少{unit}？"
    if ZH_QUANTITY_ASKED.search(stem):
        return stem + "？"
    return f"{stem.rstrip('的，, ')}是多少？"


def _bare_en(stem: str) -> str:
    """'What was the loan balance in 2023?' → 'loan balance in 2023'."""
    stem = EN_HEAD.sub("", stem.strip()).strip(" ?.!,")
    stem = re.sub(r"^(?:(?:did|does|do|was|were|is|are|has|have|had)\s+)?(?:(?:the|a|an)\s+)?", "", stem, flags=re.I)
    return stem


def _ask_en(stem: str, how: str = "") -> str:
    """An English operand question: the asker's own words, led by "how many/much" when the
    question was led by one ("what was the" would ask for a sentence, not a figure)."""
    bare = _bare_en(stem)
    return f"{how} {bare}?" if how else f"{bare[:1].upper()}{bare[1:]}?"


def _borrow_zh(a: str, b: str) -> str:
    """The second side of a comparison often names only what differs ("科技型企业贷款余额比
    科技型中小企业多多少"): it borrows the first side's words after their shared tail.

    >>> _borrow_zh("2023年科技型企业贷款余额", "科技型中小企业")
    '科技型中小企业贷款余额'
    """
    for n in range(min(len(b), 6), 0, -1):
        i = a.find(b[-n:])
        if i >= 0 and (n >= 2 or b[-1] == "的"):  # one shared character only if it is 的
            rest = a[i + n:]
            return b + rest if rest and rest not in b else b
    return b


def _borrow_en(a: str, b: str) -> str:
    """'cost at tier 3 public hospitals' vs 'at tier 2 ones' → 'cost at tier 2 ones'."""
    words = b.split()
    if not words:
        return b
    i = a.lower().rfind(" " + words[0].lower() + " ")
    return a[:i] + " " + b if i > 0 else b


def _items(lang: str, text: str) -> tuple[int, int, list[str]] | None:
    """The longest list in ``text`` ("A、B、C", "A, B and C"): its span and its items."""
    seps = _rows(lang, "sep")
    if not seps:
        return None
    sep = seps[0]
    if lang == "zh":
        # a run of CJK/Latin words joined by separators, followed by what they share
        m = re.search(r"([\u4e00-\u9fffA-Za-z0-9“”\"（）()]{2,24}(?:(?:" + sep.pattern + r")[\u4e00-\u9fffA-Za-z0-9“”\"（）()]{2,24})+)", text)
        if not m:
            return None
        # separators inside brackets are not between items: "企业（及机构）数量"
        masked = re.sub(r"[（(][^）)]*[）)]", lambda b: "\0" * len(b.group(0)), m.group(1))
        items, at = [], 0
        for s_m in sep.finditer(masked):
            items.append(m.group(1)[at:s_m.start()])
            at = s_m.end()
        items = [i for i in items + [m.group(1)[at:]] if i]
        return (m.start(1), m.end(1), items) if len(items) >= 2 else None
    parts = sep.split(text)
    if len(parts) < 2:
        return None
    return 0, len(text), parts


def zh_list(text: str, commas: bool = True) -> tuple[str, list[str], str] | None:
    """'小巨人信用贷、科技履约贷、科创助力贷三者授信企业…' → ('', [items], '授信企业…').
    The last item is cut where a counter word ("三者", "这两项") or the first item's length says."""
    found = _items("zh", text if commas else re.split(r"[，,；;]", text)[-1])
    if not found:
        return None
    start, end, items = found
    if not commas:
        text = re.split(r"[，,；;]", text)[-1]
    head, tail = text[:start], text[end:]
    last = items[-1]
    m = re.match(r"(.+?)((?:这|那)?(?:[两二三四五六七八九]|几)(?:者|个|项|家|类|种|款)|(?:等|共|合计|加起来|总共|一共)|$)", last)
    if m and m.group(2):
        items[-1], tail = m.group(1), last[len(m.group(1)):] + tail
    elif len(items) >= 2:
        # no counter word: the last item is as long as the one before it
        n = len(items[-2])
        if len(last) > n + 2:
            items[-1], tail = last[:n], last[n:] + tail
    tail = re.sub(r"^(?:这|那)?(?:[两二三四五六七八九]|几)(?:者|个|项|家|类|种|款)(?:的)?", "", tail)
    # the first item may carry the question's lead-in ("2023年小巨人信用贷"): the lead stays
    year = re.match(r"^(\d{4}年(?:的)?|上海|全市)", items[0])
    if year:
        head, items[0] = head + year.group(1), items[0][year.end():]
    return head, [i.strip("“”\" ") for i in items if i.strip()], tail


def _two_years(years: list[int], known: list[int], text: str, lang: str) -> list[int]:
    """The two report years a comparison runs between: the two the question names, or the
    corpus's first and last when it asks about the reports' years without naming them."""
    if len(years) >= 2:
        return sorted(years)[:1] + sorted(years)[-1:]
    across = re.search(r"两年|两份|两个?报告|前后|\b(?:both|two|the) (?:years|reports)\b|\bbetween the reports\b", text, re.I)
    if not years and across and len(known) >= 2:
        return [known[0], known[-1]]
    return []


def plan(question: str, lang: str, years: list[int], known_years: list[int]) -> Plan | None:
    """What to compute for ``question``, or None when it asks for a figure as stated.
    ``years``: the report years the question names (relative ones resolved)."""
    for op in ("cagr", "average", "share", "ratio", "growth", "difference", "sum"):
        for pattern in _rows(lang, op):
            m = pattern.search(question)
            found = _plan_op(op, m, question, lang, years, known_years) if m else None
            if found is not None:
                found.stated = _stated(lang)
                return found
    return None


def _stated(lang: str) -> re.Pattern[str] | None:
    rows = _rows(lang, "stated")
    return rows[0] if rows else None


def _plan_op(op: str, m: re.Match[str], q: str, lang: str, years: list[int], known: list[int]) -> Plan | None:
    if op == "average":
        return _plan_average(m, q, lang, years)
    if op == "share":
        return _plan_share(m, q, lang, years)
    if op == "sum":
        return _plan_sum(m, q, lang, years, known)
    return _plan_two(op, m, q, lang, years, known)


def _plan_average(m: re.Match[str], q: str, lang: str, years: list[int]) -> Plan | None:
    year = years[0] if len(years) == 1 else None
    per = (m.groupdict().get("per") or "").strip()
    stem = _cut(q, m)
    if lang == "zh":
        unit = {"企业": "家", "公司": "家", "机构": "家", "项目": "个"}.get(per, per)
        # the units are counted by what comes before the cue ("南湖小学|平均一所学校多少学生":
        # how many 所 of 南湖小学); the stem without the cue asks for the total
        before = q[: m.start()].strip()
        count_stem = before if len(before) >= 2 else stem
        count_ask = _ask_zh(count_stem, unit)
        # "平均每家企业": what is counted, when the cue names it, is asked for too
        noun = next((n for n in ZH_NOUN_UNITS if q[m.end():].startswith(n)), "")
        if noun:
            count_ask = count_ask.rstrip("？") + noun + "？"
        return Plan("average", m.group(0), [OperandAsk(_ask_zh(stem), "total", year),
                                            OperandAsk(count_ask, "count", year, unit)])
    if not per:
        # "the average loan per firm" is matched by its "per" row; a bare "average" needs one
        m2 = _first_per(q)
        if m2 is None:
            return None
        per, stem = m2.group("per"), _cut(stem, m2) if m2.group(0) in stem else stem
    else:
        stem = re.sub(r"\b(?:on )?average\b", " ", stem, flags=re.I)
    stem = _bare_en(re.sub(r"\s+", " ", stem))
    # the unit names whose total it is: "loan balance per tech SME" is the SMEs' balance
    return Plan("average", m.group(0), [OperandAsk(_ask_en(f"{stem} of {per}"), "total", year),
                                        OperandAsk(_ask_en(f"{per} {stem}", "How many"), "count", year)],
                per_noun=per)


def _first_per(q: str) -> re.Match[str] | None:
    for p in _rows("en", "average"):
        if "per" in p.groupindex and (m := p.search(q)):
            return m
    return None


def _plan_share(m: re.Match[str], q: str, lang: str, years: list[int]) -> Plan | None:
    groups = m.groupdict()
    part, whole = (groups.get("part") or "").strip(), (groups.get("whole") or "").strip()
    if not part or not whole or re.fullmatch(r"(?:百分之|多少|几|多大|比例|比重)+", whole):
        return None  # "占百分之多少": what follows 占 is the question, not the whole
    year = years[0] if len(years) == 1 else None
    if lang == "zh":
        if (ctx := re.match(r"(.{2,}?)(?:当中|之中|里面|里|中)(?!小)(.+)", part)) and len(whole) <= 4:
            # "科创板募资里上海占全国的比例": the whole is 全国's 科创板募资
            whole = ctx.group(1) + whole
        lead = re.match(r"^(\d{4}年(?:的)?)", part)
        if lead and not whole.startswith(lead.group(1)):
            whole = lead.group(1) + whole  # "2023年A占B": B is of 2023 as well
        if len(part) <= 6 and not m.group(0).startswith(part):
            # "高企贷金额里中小企业占几成": the part is named within the whole
            part = f"{whole}中{part}"
        return Plan("share", m.group(0), [OperandAsk(_ask_zh(part), "part", year, label=part),
                                          OperandAsk(_ask_zh(whole), "whole", year, label=whole)])
    when = " ".join(f"in {y}" for y in years[:1] if str(y) not in part + whole)
    if len(part.split()) <= 3:
        part = f"{part} {whole}"  # "went to SMEs": the part is named by its difference from the whole
    return Plan("share", m.group(0), [OperandAsk(_ask_en(f"{part} {when}"), "part", year, label=part),
                                      OperandAsk(_ask_en(f"{whole} {when}"), "whole", year, label=whole)])


def _no_years(stem: str) -> str:
    """The metric without the years it is asked for (each operand's search has its year)."""
    bare = re.sub(r"(?:从|由|比)?\d{4}年?(?:到|至|和|与|及|、|-|—|~|比)?|\b(?:from|between|in|to|and)?\s*\d{4}\b", "", stem)
    bare = re.sub(r"\b(?:across|in|of|for)?\s*(?:both|the two|each of the two) (?:reports|years)\b|两份报告|两年", "", bare, flags=re.I)
    # the comparison's own words ("bigger … than", "grow") are not the metric's
    bare = re.sub(r"\b(?:bigger|larger|higher|greater|more|smaller|lower|less|fewer|than|gr[oe]w|rise|rose|increased?|changed?)\b", "", bare, flags=re.I)
    return re.sub(r"\s+", " ", bare).strip() or stem


def _plan_sum(m: re.Match[str], q: str, lang: str, years: list[int], known: list[int]) -> Plan | None:
    stem = _cut(q, m)
    year = years[0] if len(years) == 1 else None
    if lang == "zh":
        found = zh_list(stem, commas=False)  # "问一下哈，2021年…一共": a comma ends a clause
        if found:
            head, items, tail = found
            return Plan("sum", m.group(0), [OperandAsk(_ask_zh(head + item + tail), "item", year, label=item)
                                            for item in items])
    else:
        found = en_list(stem)
        if found:
            head, items, tail = found
            return Plan("sum", m.group(0), [OperandAsk(_ask_en(f"{head} {item} {tail}", _en_how(q)), "item", year, label=item)
                                            for item in items])
    over = sorted(years) if len(years) >= 2 else _two_years(years, known, q, lang)
    if len(over) >= 2:  # "2021年和2023年加起来", "across both reports combined"
        ask = _ask_zh(_no_years(stem)) if lang == "zh" else _ask_en(_no_years(stem), _en_how(q))
        return Plan("sum", m.group(0), [OperandAsk(ask, "year", y, label=str(y)) for y in over],
                    over_years=True)
    return None


def _en_how(q: str) -> str:
    m = re.match(r"^\s*(how many|how much)\b(?! times)", q, re.I)
    return m.group(1).capitalize() if m else ""


# English words that end an item of a list on the left ("how many firms did A, B and C …")
EN_LEFT_STOP = re.compile(r"\b(?:did|does|do|were|was|are|is|by|from|of|for|to|through|via|under|the|how many|how much|what)\s+(?!.*\b(?:did|does|do|were|was|are|is|by|from|of|for|to|through|via|under|the|how many|how much|what)\b)", re.I)
EN_RIGHT_STOP = re.compile(r"\s+(?:support|supported|supports|get|got|receive|received|grant|granted|provide|provided|give|gave|have|had|has|lend|lent|in|during|for|with|at|on)\b", re.I)


def en_list(text: str) -> tuple[str, list[str], str] | None:
    parts = _rows("en", "sep")[0].split(text) if _rows("en", "sep") else []
    parts = [p for p in parts if p]
    if len(parts) < 2:
        return None
    left, middle, right = parts[0], parts[1:-1], parts[-1]
    lm = None
    for lm in EN_LEFT_STOP.finditer(left):
        pass
    head, first = (left[: lm.end()], left[lm.end():]) if lm else ("", left)
    rm = EN_RIGHT_STOP.search(right)
    last, tail = (right[: rm.start()], right[rm.start():]) if rm else (right, "")
    items = [first, *middle, last]
    if any(not i.strip() or len(i.split()) > 6 or re.search(r"\b(?:what|how|which|who|when|where)\b", i, re.I)
           for i in items):
        return None  # clauses, not items: "how many firms…, and what was the total amount"
    return head.strip(), [i.strip() for i in items], tail.strip()


def _plan_two(op: str, m: re.Match[str], q: str, lang: str, years: list[int], known: list[int]) -> Plan | None:
    """Difference, ratio, growth or CAGR: between two years of one metric, or two items."""
    stem = _cut(q, m)
    two = _two_years(years, known, q, lang)
    if len(two) == 2 and two[0] != two[1]:
        # the years go into each operand's search; the stem keeps the metric only
        bare = _no_years(stem)
        if lang == "zh":
            # "增加了多少家": the measure word the cue asked in stays with the operands
            unit = asked_measure_word(q[m.start():]) if op == "difference" else ""
            if unit and q[m.end():].startswith(unit):
                bare = _no_years(q[: m.start()] + q[m.end() + len(unit):])
            ask = _ask_zh(bare, unit)
        else:
            ask = _ask_en(bare, _en_how(stem))
        return Plan(op, m.group(0), [OperandAsk(ask, "year", y, label=str(y)) for y in two], over_years=True)
    if op in ("cagr", "growth"):
        return None  # a growth rate between two items means nothing; one year's is stated
    year = years[0] if len(years) == 1 else None
    groups = m.groupdict()
    if lang == "zh":
        a = b = ""
        if groups.get("b"):  # "A是B的几倍"
            a, b = q[: m.start()].strip(), groups["b"].strip()
        elif (mm := re.search(r"(.+?)比(?!上年|去年|前一?年|上一年|同期|\d{2,4}年?)(.+?)(?:多|少|高|低|大|小|长|短)", q)):
            a, b = mm.group(1), mm.group(2)
            # each side borrows the metric the other names ("女的比男的预期寿命长几岁")
            a, b = (_borrow_zh(b, a), b) if len(b) > len(a) else (a, _borrow_zh(a, b))
        elif not re.search(r"比上年|同比|比去年|比\d{4}年", q):
            found = zh_list(stem, commas=False)
            if found and len(found[1]) == 2:
                head, (x, y), tail = found
                a, b = head + x + tail, head + y + tail
        if not a or not b:
            return None
        lead = re.match(r"^(\d{4}年(?:的)?)", a)
        if lead and not b.startswith(lead.group(1)):
            b = lead.group(1) + b
        return Plan(op, m.group(0), [OperandAsk(_ask_zh(a), "item", year, label=a),
                                     OperandAsk(_ask_zh(b), "item", year, label=b)])
    mm = re.search(r"(?:\bi\.e\.,?|\bthat is,?|\bnamely)?\s*([^,;]+?)\s+minus\s+(.+?)\s*[?.!]*$", q, re.I) or \
        re.search(r"\bbetween (.+?) and (.+?)(?:\s+in \d{4})?\s*[?.!]*$", q, re.I) or \
        re.search(r"\b(?:than|compared (?:with|to)|versus|vs\.?)\s+(.+?)\s*[?.!]*$", q, re.I)
    if not mm:
        return None
    if mm.lastindex == 2:
        a, b = mm.group(1), mm.group(2)
    else:
        b = mm.group(1)
        a = _cut(stem, mm) if mm.group(0) in stem else q[: mm.start()]
    when = " ".join(f"in {y}" for y in years[:1] if str(y) not in b)
    b = _borrow_en(_bare_en(a), b)
    if len(b.split()) <= 3 and not set(b.lower().split()) & set(a.lower().split()) - {"the", "a", "of"}:
        b = f"{b} {_bare_en(a)}"  # "minus the SME part": the part of what the first side names
    return Plan(op, m.group(0), [OperandAsk(_ask_en(f"{a} {when}", _en_how(q)), "item", year, label=a.strip()),
                                 OperandAsk(_ask_en(f"{b} {when}", _en_how(q)), "item", year, label=b.strip())])
