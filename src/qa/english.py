"""English answer sentences composed from a figure's structured fields, one small grammar
per kind (count, money, percent, growth, rank …), with the words in
``data/english_grammar.tsv``; the numbers are always :func:`qa.units.render_en` of a cited
figure, so the grounding check sees nothing new.

The subject is the metric's English name: the glossary's term, else CC-CEDICT's first sense
(:func:`qa.bridge.english_gloss`), else the Chinese in quotes with "no English name known"
(never a guess, never a bracketed single character).

    >>> from dataclasses import replace
    >>> from qa.figures import extract_figures
    >>> from qa.glossary import Glossary
    >>> g = Glossary([("授信企业", "enterprises granted credit", ""), ("授信金额", "amount of credit granted", ""),
    ...               ("小巨人信用贷", "Little Giant credit loans", "")])
    >>> text = "小巨人信用贷授信企业 233 家,授信金额 45 亿元"
    >>> count, money = extract_figures(text, year=2023)
    >>> figs = [replace(count, metric="小巨人信用贷 授信企业"), replace(money, metric="小巨人信用贷 授信企业 授信金额")]
    >>> describe(figs, 2023, g, text, asked=["小巨人信用贷"])
    'For Little Giant credit loans, the number of enterprises granted credit was 233 and the amount of credit granted was RMB 4.5 billion in 2023'
"""
from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

from qa.bridge import english_gloss, is_proper_name
from qa.cues import language_rows
from qa.figures import Figure
from qa.glossary import Glossary
from qa.units import MONTHS, is_measure_unit, render_en



@lru_cache(maxsize=1)
def _grammar() -> dict[str, list[tuple[str, str]]]:
    """rule name → [(key, value)] in file order, from data/english_grammar.tsv."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name, key, value in language_rows("english_grammar.tsv"):
        out.setdefault(name, []).append((key, value))
    return out


def _rule(name: str, key: str) -> str:
    """The value of rule ``name`` for ``key``, else its '*' row, else ''."""
    rows = dict(_grammar().get(name, ()))
    return rows.get(key, rows.get("*", ""))


def _rows(name: str) -> list[tuple[str, str]]:
    return _grammar().get(name, [])


@dataclass
class Subject:
    """What a figure measures, in English: ``head`` (the measured thing) and ``context``
    (what it belongs to: the asked term, or the word before the head)."""

    head: str
    context: str
    named: bool  # False when no English name is known


def _sense(zh: str) -> str | None:
    """CC-CEDICT's first sense, unless it holds a digit ('carbon dioxide CO2'): a number in
    an answer must come from the report, and the grounding check would refuse it."""
    en = english_gloss(zh)
    if en is None or re.search(r"\d", en):
        return None
    return en.removeprefix("the ")  # "the whole province": the grammar adds its own article


def _glossary_en(zh: str, glossary: Glossary) -> str | None:
    """The glossary's English for a word; a word partly known keeps its unknown stretch as
    the dictionary's sense, else in quotes (never a bracketed single character)."""
    en = glossary.translate(zh)
    if en.startswith("["):
        return None

    def fill(m: re.Match[str]) -> str:
        chunk = m.group(1)
        return _sense(chunk) or ("" if len(chunk) < 2 else f"“{chunk}”")

    return re.sub(r"\s*\[([^\]]*)\]\s*", lambda m: f" {fill(m)} ", en).strip() or None


@lru_cache(maxsize=4096)
def _pos(zh: str) -> str:
    """jieba's part of speech of the word's last piece ('n', 'v', 'vn' …)."""
    import jieba.posseg

    pieces = list(jieba.posseg.cut(zh, HMM=False))
    return pieces[-1].flag if pieces else ""


def _nominal(zh: str, from_glossary: bool) -> bool:
    """A word that can name what a figure measures: any glossary term (its English names a
    thing), or a word jieba tags as a noun (认定 'to recognize' and 登陆 'to land' cannot)."""
    return from_glossary or _pos(zh).startswith(("n", "t"))


def plural(noun: str) -> str:
    """A dictionary sense counted: company → companies (one plain word only).

    >>> plural("company"), plural("bus"), plural("high-tech enterprises")
    ('companies', 'buses', 'high-tech enterprises')
    """
    if not re.fullmatch(r"[a-z]+", noun) or noun.endswith("s") and not noun.endswith(("ss", "us")):
        return noun
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")


def word_en(zh: str, glossary: Glossary) -> str | None:
    """A metric word in English: the glossary's name, else the dictionary's first sense;
    None when nothing is known.

    >>> word_en("企业", Glossary([]))
    'company'
    """
    return _glossary_en(zh, glossary) or _sense(zh)


def _counted_word(fig: Figure, words: Sequence[str], text: str, offset: int) -> str | None:
    """The metric word written right after a count ("6个试点区": 试点区): what is counted."""
    after = text[fig.end - offset:fig.end - offset + 8]
    return next((w for w in words if after.startswith(w)), None)


def subject(fig: Figure, glossary: Glossary, asked: Collection[str] = (), text: str = "",
            offset: int = 0) -> Subject:
    """The figure's metric as a head and a context.

    Glossary names are preferred to the dictionary's senses; only nouns name the head (a
    verb such as 认定 never does); for a count, the word written right after the figure is
    what is counted; a context that is a prepositional phrase follows the head.

    >>> from qa.figures import extract_figures
    >>> f = extract_figures("上市企业377家,其中上海59家,排名全国第二")[-1]
    >>> subject(f, Glossary([("上海", "Shanghai", "")]))
    Subject(head='Shanghai', context='', named=True)
    """
    rank_words = re.compile(_rule("rank_word", "-") or r"$^")
    words = [w for w in dict.fromkeys((fig.metric or "").split()) if len(w) >= 2]
    scopes = [zh for zh, _ in _rows("scope")]
    if fig.kind == "rank":  # the thing ranked, not the words 排名/全国 around the rank
        words = [w for w in words if not rank_words.search(w) and w not in scopes] or words
    else:  # 全省/全市 say where, never what: "the number of the whole province" is no subject
        words = [w for w in words if w not in scopes] or words
    counted = _counted_word(fig, words, text, offset) if fig.kind == "count" else None
    # a word inside another metric word repeats it (集群 in 全球科技集群): not a name of its own
    words = [w for w in words if w == counted or glossary.en_for(w) or not any(w != o and w in o for o in words)]
    named = []
    for w in words:
        if (en := _glossary_en(w, glossary)):
            named.append((w, en))
        elif (en := _sense(w)) and _nominal(w, False):
            if is_proper_name(w):  # the dictionary index lower-cases every sense
                en = " ".join(x[:1].upper() + x[1:] for x in en.split())
            named.append((w, en))
    if not named:
        zh = next((w for w in reversed(words) if _nominal(w, False)), words[-1] if words else "")
        return Subject(_rule("unnamed", "-").format(zh=zh) if zh else "figure", "", False)
    preposition = re.compile(_rule("preposition", "-") or r"$^", re.I)
    # a place is where, not what (上海 in "上海…9.9亿元"), except for a rank: Shanghai ranked 1st
    heads = [(w, en) for w, en in named if not preposition.match(en)
             and (fig.kind == "rank" or w not in glossary.places)] or named
    head_zh, head = next(((w, en) for w, en in named if w == counted), heads[-1])
    if fig.kind == "count" and not glossary.en_for(head_zh):
        head = plural(head)  # a dictionary sense is singular: the number of companies
    # the context is what comes before the head (孵化器 after 6个试点区 is not their context)
    rest = [(w, en) for w, en in named[:[w for w, _ in named].index(head_zh)]]
    quantity = re.compile(_rule("quantity_head", "-"), re.I)
    before = [en for w, en in rest if w in asked]
    if not before and fig.kind != "rank":  # the thing ranked is the subject on its own
        # the word before the head; a dictionary sense only when written right before it
        # (粮食总产量: grain · output), since a sense out of context is often the wrong one
        before = [en for w, en in rest[-1:]
                  if glossary.en_for(w) or _glossary_en(w, glossary) or f"{w}{head_zh}" in text.replace("**", "")]
    before = [e for e in dict.fromkeys(before) if not quantity.match(e) and e.lower() not in head.lower()]
    wider = [e for e in before if head.lower() in e.lower()]  # "sci-tech innovation vouchers" ⊃ "innovation vouchers"
    if wider:
        head, before = wider[0], [e for e in before if e != wider[0]]
    after = [e for e in before if preposition.match(e)]
    if after:
        head = f"{head} {' '.join(after)}"
    # a place the figure belongs to ("其中上海近1518亿元") always says whose figure it is
    places = [en for w, en in named if w in glossary.places and w != head_zh and en not in before]
    context = " and ".join([e for e in before if e not in after] + (places if fig.kind != "rank" else []))
    return Subject(head, context, True)


def when(fig: Figure, year: int | None) -> str:
    """'in 2023', 'at the end of 2023', 'in January–September 2021' from the figure's period.

    >>> from qa.figures import extract_figures
    >>> when(extract_figures("截至年底，有效发明专利拥有量24.14件")[0], 2023)
    'at the end of 2023'
    """
    if year is None:
        return ""
    period = fig.period or ""
    for pattern, template in _rows("period"):
        m = re.search(pattern, period) if pattern != "*" else None
        if pattern == "*" or m:
            months = [MONTHS[int(g) - 1] for g in (m.groups() if m else ()) if g and 1 <= int(g) <= 12]
            if m and len(months) < template.count("{m"):
                continue
            return template.format(year=year, m1=months[0] if months else "", m2=months[-1] if months else "")
    return f"in {year}"


def _before(text: str, offset: int, fig: Figure, n: int) -> str:
    """The ``n`` characters before the figure; ``text`` starts at document offset ``offset``."""
    start = fig.start - offset
    return text[max(0, start - n):max(0, start)]


def change_base(text: str, fig: Figure, offset: int = 0) -> str:
    """'year on year' / 'on 2020' / '' from the words just before a change figure."""
    window = _before(text, offset, fig, 12)
    for pattern, template in _rows("base"):
        if pattern == "*":
            return template
        m = None
        for m in re.finditer(pattern, window):
            pass
        if m:
            return template.format(y=m.group(1) if m.groups() else "")
    return ""


def _scope(text: str, fig: Figure, offset: int) -> str:
    window = _before(text, offset, fig, 8)
    return next((en for zh, en in _rows("scope") if zh in window), "")


def clause(fig: Figure, subj: Subject, text: str, offset: int = 0) -> str:
    """'the number of enterprises granted credit was 233' (no context, no year)."""
    head = subj.head
    kind = fig.kind
    measure = fig.kind == "count" and is_measure_unit(fig.unit)
    if measure or fig.kind in ("count", "ordinal", "money") and re.match(_rule("quantity_head", "-"), head, re.I):
        kind = "quantity"  # "the number of patents granted", "the total market value", "the grain output"
    if kind == "percent":  # "the proportion"; 占常住人口的21.3%: "the share of …"; else "the figure for …"
        if re.match(_rule("quantity_head", "-"), head, re.I):
            kind = "quantity"
        elif re.search(_rule("share_cue", "-") or r"$^", _before(text, offset, fig, 12)):
            kind = "share"
    noun = _rule("subject", kind).format(head=head) if subj.named else head
    for part in (fig.qualifier or "").split("+"):
        word = _rule("metric_qualifier", part) if part else ""
        if word and kind != "rank" and noun.startswith("the "):
            noun = f"the {word} {noun[4:]}"  # the cumulative number of …
    value = render_en(fig, with_noun=measure)  # a measure names its unit: 2.158 million tonnes
    if kind == "growth":
        verb = _rule("verb", "growth-" if (fig.growth or 0) < 0 else "growth+")
        base = change_base(text, fig, offset)
        return f"{noun} {verb} {value}{' ' + base if base else ''}"
    if kind == "rank":
        scope = _scope(text, fig, offset)
        return f"{noun} {_rule('verb', 'rank')} {value}{' ' + scope if scope else ''}"
    return f"{noun} {_rule('verb', kind)} {value}"


def _between(text: str, offset: int, a: int, b: int) -> str:
    return text[max(0, a - offset):max(0, b - offset)]


def _whole_of(fig: Figure, others: Sequence[Figure], text: str, offset: int) -> Figure | None:
    """The total a part is "of": the last figure of the same kind and unit before 其中 in
    the figure's sentence ("累计募得资金5080亿元,其中上海近1518亿元" → 5080亿元)."""
    for o in sorted(others, key=lambda o: -o.start):
        if o.end <= fig.start and o.kind == fig.kind and o.base_unit == fig.base_unit:
            gap = _between(text, offset, o.end, fig.start)
            return o if "其中" in gap and not re.search(r"[。；;]", gap) else None
    return None


def _rank_after(fig: Figure, others: Sequence[Figure], text: str, offset: int) -> Figure | None:
    """A rank stated right after the figure, in its sentence (…1518亿元,排名全国第一)."""
    nxt = min((o for o in others if o.start >= fig.end), key=lambda o: o.start, default=None)
    if nxt is None or nxt.kind != "rank" or re.search(r"[。；;]", _between(text, offset, fig.end, nxt.start)):
        return None
    return nxt


def companion(fig: Figure, others: Sequence[Figure], text: str, offset: int = 0) -> str:
    """What the report states beside the figure, in its sentence: a change of the same metric
    (', up 10.62% year on year'), the total it is part of (', of RMB 508 billion in all') and
    its rank (', ranking 1st nationally'); for a rank, the figure it ranks (', with …')."""
    if fig.kind == "rank":
        before = max((o for o in others if o.end <= fig.start and o.kind in ("count", "money")),
                     key=lambda o: o.start, default=None)
        if before is None or _rank_after(before, list(others) + [fig], text, offset) is not fig:
            return ""
        whole = _whole_of(before, others, text, offset)
        return f", with {render_en(before)}" + (f" of {render_en(whole)} in all" if whole else "")
    if fig.kind not in ("count", "money", "percent"):
        return ""
    out = ""
    for o in others:
        if o.kind == "growth" and o.metric == fig.metric and 0 <= o.start - fig.end <= 16 and o.growth is not None:
            direction = "down" if o.growth < 0 else "up"
            base = change_base(text, o, offset)
            out = f", {direction} {render_en(o)}{' ' + base if base else ''}"
            break
    whole = _whole_of(fig, others, text, offset)
    if whole is not None:
        out += f", of {render_en(whole)} in all"
    rank = _rank_after(fig, others, text, offset)
    if rank is not None:
        scope = _scope(text, rank, offset)
        out += f", ranking {render_en(rank)}{' ' + scope if scope else ''}"
    return out


def describe(figs: Sequence[Figure], year: int | None, glossary: Glossary, text: str,
             asked: Collection[str] = (), others: Sequence[Figure] = (), offset: int = 0) -> str:
    """One English sentence (without the final full stop) for the lead figures of the cited
    text ``text``, which starts at document offset ``offset`` (the figures' offsets are the
    document's)."""
    if not figs:
        return ""
    subjects = [subject(f, glossary, asked, text, offset) for f in figs]
    contexts = {s.context for s in subjects}
    shared = contexts.pop() if len(contexts) == 1 else ""
    parts = []
    for f, s in zip(figs, subjects):
        own = Subject(s.head, "" if shared else s.context, s.named)
        part = clause(f, own, text, offset)
        if own.context:
            part = f"for {own.context}, {part}"
        parts.append(part)
    sentence = " and ".join(parts)
    if shared:
        sentence = f"For {shared}, {sentence}"
    moment = when(figs[0], year)
    sentence += f" {moment}" if moment else ""
    sentence += companion(figs[-1], [o for o in others if o not in figs], text, offset)
    return sentence[0].upper() + sentence[1:]


def join_en(items: Sequence[str]) -> str:
    """A list in English.

    >>> join_en(["2021"]), join_en(["2021", "2023"]), join_en(["2021", "2022", "2023"])
    ('2021', '2021 and 2023', '2021, 2022 and 2023')
    """
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}" if items else ""


def word_gloss(zh: str, glossary: Glossary, limit: int = 8) -> list[str]:
    """Word-by-word English of a Chinese phrase: each word of two or more characters as the
    glossary names it, else the dictionary's first sense; words neither knows are left out.

    >>> word_gloss("科技金融服务体系持续完善", Glossary([]))[:3]
    ['science and technology', 'system', 'continue']
    """
    import jieba

    out: list[str] = []
    for w in jieba.cut(zh, HMM=False):
        en = _glossary_en(w, glossary) if len(w) >= 2 else None
        en = en or (_sense(w) if len(w) >= 2 else None)
        if en and en not in out:
            out.append(en)
    return out[:limit]


def text_opening(year: int | None, section: str, quote: str, glossary: Glossary,
                 figures: Sequence[Figure], n: int) -> str:
    """The English sentence that opens an answer quoting a report sentence: where the report
    answers (its section, glossed word by word and labelled so), the glossary's terms in the
    quote, and the quote's figures in English. Only what is known for sure; no translation.

    >>> text_opening(2023, "7.1 科技金融 › 金融支持科技创新", "成立科创金融联盟", Glossary([("科创金融联盟", "sci-tech finance alliance", "")]), [], 1)
    'The 2023 report answers this in its section on banking · be in favor of · science and technology · bring forth new ideas (word-by-word gloss) [1]. Terms in the quoted sentence: sci-tech finance alliance.'
    """
    title = re.sub(r"^[\d.]+\s*|^[一二三四五六七八九十]+、|^[（(][一二三四五六七八九十\d]+[)）]", "",
                   section.split("›")[-1].strip())
    gloss = word_gloss(title, glossary)
    where = f"in its section on {' · '.join(gloss)} (word-by-word gloss)" if gloss else "in the passage below"
    report = f"The {year} report" if year else "The report"
    parts = [f"{report} answers this {where} [{n}]."]
    terms = [glossary.en_for(t) for t in glossary.zh_terms_in(quote)]
    terms = [t for t in dict.fromkeys(terms) if t][:5]
    if terms:
        parts.append(f"Terms in the quoted sentence: {'; '.join(terms)}.")
    else:
        words = word_gloss(quote, Glossary([]), limit=6)
        if words:
            parts.append(f"Key words of the quoted sentence (word-by-word gloss): {' · '.join(words)}.")
    if figures:
        rendered = list(dict.fromkeys(render_en(f, with_noun=True) for f in figures[:4]))
        parts.append(f"The sentence gives {join_en(rendered)}.")
    return " ".join(parts)
