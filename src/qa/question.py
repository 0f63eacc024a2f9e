"""Question analysis: language, years, what kind of figure is asked for, content terms.

    >>> q = analyze("2023年高企贷支持了多少家企业？", known_years=[2021, 2023])
    >>> q.lang, q.years, sorted(q.kinds), q.unit_hints
    ('zh', [2023], ['count'], ['家'])

The cue words below are about *language* (how people ask for a count, a sum, a share…),
not about the reports: domain terms come from ``corpus/glossary.tsv`` and the tokenizer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from qa.cues import cue, cue_list, cue_map, cue_words
from qa.glossary import Glossary
from qa.qtype import answer_type
from qa.relyears import calendar_mentions, relative_mentions
from qa.retrieve import Reading, detect_language, years_in  # noqa: F401 (detect_language is re-exported)
from qa.tokenize import tokenize

if TYPE_CHECKING:
    from qa.bridge import Bridge

_CJK = re.compile(r"[\u4e00-\u9fff]")

# (pattern, kind) — kinds are ordered by where their cue appears, except that an explicit
# question about growth ("增长了多少", "how fast") leads: "余额同比增长多少" asks for growth.
ZH_GROWTH_FIRST = cue("ZH_GROWTH_FIRST")
EN_GROWTH_FIRST = cue("EN_GROWTH_FIRST")
ZH_KIND_CUES = cue_list("ZH_KIND_CUES")
# an interrogative with a measure word ("多少户", "how many") says more than a noun in the
# question ("贷款余额"): its kind leads
ZH_COUNT_FIRST = cue("ZH_COUNT_FIRST")
# money asked for in so many words, not only named ("贷款余额")
ZH_MONEY_ASKED = cue("ZH_MONEY_ASKED")
EN_KIND_CUES = cue_list("EN_KIND_CUES")
# the measure word of a counted noun, when the question counts it without one
ZH_NOUN_UNITS = cue_map("ZH_NOUN_UNITS")
ZH_COUNTED_NOUN = "(" + "|".join(ZH_NOUN_UNITS) + r")[^，。？,?；;]{0,6}?(?:的)?(?:数量|数目|总数|数(?![据字额])|有多少|是多少|多少)"
ZH_UNIT_CUES = cue_map("ZH_UNIT_CUES")
EN_UNIT_CUES = cue_list("EN_UNIT_CUES")
# a figure for the period alone, not a running total ("当年新增", "new in 2023")
ZH_NEW_ONLY = cue("ZH_NEW_ONLY")
EN_NEW_ONLY = cue("EN_NEW_ONLY")
# each asks for one figure: "有多少家…多少个项目", "how many firms…, and what sum"
ZH_ASKED = cue("ZH_ASKED")
EN_ASKED = cue("EN_ASKED")
# a figure is asked for, of no particular kind ("大概有多少？", "the total risk underwritten")
ZH_ANY_FIGURE = ZH_ASKED  # any Chinese interrogative of quantity
EN_ANY_FIGURE = cue("EN_ANY_FIGURE")
# the kinds a generic figure question accepts (not dates, editions or years)
ANSWER_KINDS = ("count", "money", "percent", "growth", "rank")
# "which/what" asks for a name or a sentence; a money noun in it ("资金计划") asks no figure
ZH_INTERROGATIVE = cue("ZH_INTERROGATIVE")
ZH_FIGURE_ASKED = cue("ZH_FIGURE_ASKED")
# the question is about both reports' years ("两份报告", "in each report")
ACROSS_YEARS = re.compile(cue("ACROSS_YEARS"), re.I)
COMPARE_CUES_ZH = cue("COMPARE_CUES_ZH")
COMPARE_CUES_EN = cue("COMPARE_CUES_EN")
# asking to compare, in so many words (not "between … and …", which may ask for a name)
COMPARE_INTENT = cue("COMPARE_INTENT")

# question words and fillers that carry no content for matching (language, not domain)
ZH_QUESTION_WORDS = cue_words("ZH_QUESTION_WORDS")


# "第二期", "首批", "phase 2", "the 24th edition": which one of a series is meant
ZH_ORDINAL = re.compile(r"第\s*([0-9]+|[一二三四五六七八九十百两]+)\s*(期|批|届|轮)|首(期|批|届|轮)")
EN_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}
EN_SERIES = {"phase": "期", "batch": "批", "edition": "届", "session": "届", "round": "轮"}
EN_ORDINAL = re.compile(r"\b(first|second|third|fourth|fifth|sixth|\d+(?:st|nd|rd|th))\s+(phase|batch|edition|session|round)\b"
                        r"|\b(phase|batch|round)\s+(\d+)\b", re.I)


def ordinals_in(text: str) -> list[tuple[int, str]]:
    """(number, series) pairs of ordinals in Chinese or English text.

    >>> ordinals_in("首期规模10亿元"), ordinals_in("第24届中国专利奖"), ordinals_in("its second phase")
    ([(1, '期')], [(24, '届')], [(2, '期')])
    """
    from qa.figures import parse_number  # the figure parser already reads Chinese numerals

    out = []
    for m in ZH_ORDINAL.finditer(text):
        if m.group(3):
            out.append((1, m.group(3)))
        elif (n := parse_number(m.group(1))) is not None:
            out.append((int(n), m.group(2)))
    for m in EN_ORDINAL.finditer(text):
        if m.group(1):
            word = m.group(1).lower()
            n = EN_ORDINAL_WORDS.get(word) or int(re.sub(r"\D", "", word))
            out.append((n, EN_SERIES[m.group(2).lower()]))
        else:
            out.append((int(m.group(4)), EN_SERIES[m.group(3).lower()]))
    return out


@dataclass
class Query:
    text: str
    lang: str  # zh | en
    years: list[int]  # years asked that the corpus covers
    unknown_years: list[int]  # years asked that no report covers
    kinds: list[str]  # figure kinds asked for, most likely first
    unit_hints: list[str]
    compare: bool
    terms: dict[str, float] = field(default_factory=dict)  # zh content term -> weight
    latin: list[str] = field(default_factory=list)  # Latin tokens to match literally (PCT, ARJ21)
    synonyms: dict[str, list[str]] = field(default_factory=dict)  # term -> other terms that count
    numbers: list[str] = field(default_factory=list)  # numbers quoted in the question (not years)
    concepts: list[str] = field(default_factory=list)  # glossary terms the question names
    ordinals: list[tuple[int, str]] = field(default_factory=list)  # "第二期" → (2, "期")
    new_only: bool = False  # the period's own figure is asked, not a cumulative one
    asked: int = 1  # how many figures the question asks for ("多少家…多少个…": 2)
    places: list[str] = field(default_factory=list)  # places it names (上海): no content term
    counted: list[str] = field(default_factory=list)  # what "how many X" counts, as glossary terms
    answer_type: str = "text"  # what the general reader looks for (qa.qtype)
    bridged: dict[str, float] = field(default_factory=dict)  # en: Chinese terms from the dictionary
    relative: list = field(default_factory=list)  # (report year, words) named relatively ("上一份报告")
    calendar_missing: list = field(default_factory=list)  # (year, words): "去年" that no report covers

    @property
    def reading(self) -> Reading:
        """What retrieval needs, so that it does not read the question string again."""
        terms = tuple(dict.fromkeys([*self.terms, *self.bridged])) if self.lang == "en" else ()
        return Reading(self.lang, tuple(self.years), terms)

    def wants(self, kind: str) -> bool:
        """Whether a figure of ``kind`` answers the question ("any" takes every answer kind)."""
        return kind in self.kinds or ("any" in self.kinds and kind in ANSWER_KINDS)

    @property
    def key_terms(self) -> list[str]:
        """The question's most specific terms (weight ≥ 2: glossary terms, long words)."""
        return [t for t, w in self.terms.items() if w >= 2.0]

    @property
    def spans_years(self) -> bool:
        """Whether it asks about several reports' years ("2021年和2023年", "两份报告")."""
        return len(self.years) >= 2 or bool(ACROSS_YEARS.search(self.text))

    def says(self, text: str, term: str) -> bool:
        """Whether ``text`` names ``term``, or one of its glossary synonyms."""
        return names(text, term, self.synonyms)


def names(text: str, term: str, synonyms: dict[str, list[str]] | None = None) -> bool:
    """Whether ``text`` holds ``term`` or one of its ``synonyms[term]``.

    >>> names("科技型中小企业贷款", "中小型科技企业", {"中小型科技企业": ["科技型中小企业"]})
    True
    """
    return term in text or any(a in text for a in (synonyms or {}).get(term, ()))


def _cues(text: str, table: list[tuple[str, str]], flags: int = 0) -> list[str]:
    found: list[tuple[int, str]] = []
    for pattern, kind in table:
        m = re.search(pattern, text, flags)
        if m and kind not in [k for _, k in found]:
            found.append((m.start(), kind))
    return [k for _, k in sorted(found)]


def _counted_phrase(question: str, lead: str = "how many|number of", max_words: int = 6) -> str | None:
    """The noun phrase after "how many": it ends where the verb or a preposition starts.

    >>> _counted_phrase("How many innovation services did companies buy?")
    ' innovation services'
    """
    m = re.search(rf"\b(?:{lead})((?:\s+[\w-]+){{1,{max_words}}})", question, re.I)
    if not m:
        return None
    return re.split(r"\s(?:did|do|does|were|was|are|is|have|has|had|will|can|in|of|from|"
                    r"with|for|by|at|on|under|received?|got|get)\b", m.group(1), maxsplit=1, flags=re.I)[0]


def _en_unit_hints(question: str) -> list[str]:
    """Units of the noun counted: "how many innovation services did companies buy" counts
    services, not companies; without "how many/number of", any unit noun is a hint.

    >>> _en_unit_hints("How many services did firms buy?"), _en_unit_hints("How many firms?")
    ([], ['家'])
    """
    scope = _counted_phrase(question)
    if scope is None:
        return [u for pattern, u in EN_UNIT_CUES if re.search(pattern, question, re.I)]
    # the phrase's first unit word is the counted one ("how many times firms used …")
    first = sorted((hit.start(), u) for pattern, u in EN_UNIT_CUES if (hit := re.search(pattern, scope, re.I)))
    units = [u for _, u in first[:1]]
    # a unit named in so many words counts too: "(counted in enterprise-times)"
    named = " ".join(re.findall(r"\b(?:counted|measured|expressed) in ((?:\s*[\w-]+){1,2})", question, re.I))
    return units + [u for pattern, u in EN_UNIT_CUES if re.search(pattern, named, re.I) and u not in units]


def _counted(question: str, glossary: Glossary) -> list[str]:
    """The glossary term of the noun phrase after "how many": what the answer must count
    (none when the phrase names several).

    >>> _counted("How many partner banks took part?", Glossary([("试点合作银行", "partner banks", "")]))
    ['试点合作银行']
    """
    phrase = _counted_phrase(question, "how many", max_words=4)
    if phrase is None:
        return []
    found = glossary.zh_terms_for(phrase)
    return found if len(found) == 1 else []  # "clinical-trial projects": which one is counted is unclear


def _short_years(question: str, known_years: list[int]) -> list[int]:
    """"21年" for a report year, as people write it ("科创助力贷21年贷了多少"); only years a
    report covers, since "15年来" means fifteen years.

    >>> _short_years("科创助力贷21年贷了多少", [2021, 2023]), _short_years("近15年来", [2021])
    ([2021], [])
    """
    found = [2000 + int(m.group(1)) for m in re.finditer(r"(?<![\d.])(\d{2})年(?![代来前后间内度])", question)]
    return [y for y in dict.fromkeys(found) if y in known_years]


def _growth_first(kinds: list[str], explicit: object) -> list[str]:
    """An explicit question about growth ("多了百分之几", "compared with a year earlier")
    asks for growth first, whatever other cues say."""
    if explicit:
        return ["growth"] + [k for k in kinds if k != "growth"]
    return kinds


def term_weight(term: str) -> float:
    """Longer Chinese terms are more specific; a lone character says little."""
    if _CJK.search(term):
        return {1: 0.3, 2: 1.0, 3: 1.5}.get(len(term), 2.0)
    return 1.0 if not term.replace(".", "").isdigit() else 0.0


def content_terms(text: str, userdict: object = None) -> dict[str, float]:
    """Content terms of a Chinese text with their weights (question words left out);
    ``userdict``: the corpus's jieba dictionary (default: the tokenizer's default)."""
    terms: dict[str, float] = {}
    toks = tokenize(text, bigrams=False) if userdict is None else tokenize(text, userdict, bigrams=False)
    for tok in toks:  # bigrams help BM25 recall, not term matching
        if is_content_term(tok):
            terms[tok] = max(terms.get(tok, 0.0), term_weight(tok))
    return terms


def is_content_term(tok: str) -> bool:
    """A token that can be a content term: Chinese, not a number, not a question word."""
    if tok in ZH_QUESTION_WORDS or re.fullmatch(r"\d+(\.\d+)?%?", tok) or not _CJK.search(tok):
        return False
    return not re.match(ZH_INTERROGATIVE, tok)  # jieba's "哪些项目": the noun is a token too


# full-width digits and Latin letters, as Chinese input methods type them: "２０２３年", "ＰＣＴ"
_FULL_WIDTH = {c: c - 0xFEE0 for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
_FULL_WIDTH.update({ord("％"): "%", ord("．"): "."})


def normalize_question(text: str) -> str:
    """Half-width digits, letters, % and decimal points; everything else as typed.

    >>> normalize_question("２０２３年ＰＣＴ申请增长１０．６２％？")
    '2023年PCT申请增长10.62%？'
    """
    return text.translate(_FULL_WIDTH)


def analyze(question: str, known_years: list[int], glossary: Glossary | None = None,
            year: int | None = None, *, userdict: str | None = None, bridge: "Bridge | None" = None,
            this_year: int | None = None) -> Query:
    """Read a question once: everything later stages need (see :class:`Query`).
    ``userdict`` is the corpus's jieba dictionary; ``bridge`` maps English words to the
    corpus's Chinese ones (qa.bridge)."""
    question = normalize_question(question)
    lang = detect_language(question)
    asked = years_in(question) or _short_years(question, known_years)
    years = [y for y in asked if y in known_years]
    # "上一份报告", "the year before the 2023 report": a report named by its place among the
    # corpus's reports (the 2023 there only locates it)
    relative = relative_mentions(question, lang, known_years)
    for y, _, anchor in relative:
        if anchor is not None and anchor in years:
            years.remove(anchor)
            asked = [a for a in asked if a != anchor]
        if y not in years:
            years.append(y)
    # "去年", "two years ago": years before the current one, which a report may or may not cover
    # (a year no report covers is said in the answer, which comes from the reports' own years:
    # "临江去年楼市" about a 2022 bulletin asked in 2026 means the bulletin's year)
    calendar_missing = []
    for y, words in calendar_mentions(question, lang, this_year or date.today().year):
        if y in known_years:
            years.append(y)
            relative.append((y, words, None))
        else:
            calendar_missing.append((y, words))
    if year is not None and year not in years:
        years = [year] + years
    unknown = [y for y in asked if y not in known_years]
    synonyms: dict[str, list[str]] = {}
    bridged: dict[str, float] = {}
    asked = max(1, len(re.findall(ZH_ASKED if lang == "zh" else EN_ASKED, question, re.I)))
    cue_text = question
    if lang == "zh":
        # "哪几个词" asks which ones, not how many
        cue_text = re.sub(r"哪几", "哪些", question)
        kinds = _cues(cue_text, ZH_KIND_CUES)
        if re.search(ZH_COUNT_FIRST, question) and "count" in kinds:
            kinds = ["count"] + [k for k in kinds if k != "count"]
            if not re.search(ZH_MONEY_ASKED, question) and asked < 2:
                # "有贷款余额的企业有多少户": the money noun describes what is counted
                kinds = [k for k in kinds if k != "money"]
        kinds = _growth_first(kinds, re.search(ZH_GROWTH_FIRST, question))
        if re.search(ZH_INTERROGATIVE, cue_text) and not re.search(ZH_FIGURE_ASKED, cue_text):
            kinds = []
        units = [u for cue, u in ZH_UNIT_CUES.items() if re.search(rf"(?:多少|几|数)(?:万|千|百)?{cue}(?!百分点)", cue_text)]
        if not units and "count" in kinds:  # "企业（及机构）数量": the noun's measure word
            units = [ZH_NOUN_UNITS[m.group(1)] for m in re.finditer(ZH_COUNTED_NOUN, question)][:1]
        compare = bool(re.search(COMPARE_CUES_ZH, question))
        terms = content_terms(question, userdict)
        concepts = (glossary.zh_terms_in(question) + glossary.zh_paraphrases_in(question)) if glossary else []
        for zh in concepts:
            if zh not in ZH_QUESTION_WORDS:  # 上海, 全年: in the glossary for names, not content
                terms.setdefault(zh, term_weight(zh) + 0.5)
                # the report's wording of a paraphrase (not measure words: 企业 ~ 家)
                if alt := [a for a in glossary.zh_synonyms(zh) if len(a) >= 2]:
                    synonyms[zh] = alt
    else:
        low = question.lower()
        kinds = _cues(low, EN_KIND_CUES)
        if re.search(r"\bhow many\b|\bnumber of\b", low) and "count" in kinds:
            kinds = ["count"] + [k for k in kinds if k != "count"]  # "grant credit to how many firms"
        kinds = _growth_first(kinds, re.search(EN_GROWTH_FIRST, low))
        units = _en_unit_hints(question)
        compare = bool(re.search(COMPARE_CUES_EN, low))
        terms = {}
        concepts = glossary.zh_terms_for(question) if glossary else []
        for zh in concepts:
            if zh in ZH_QUESTION_WORDS:
                continue
            terms[zh] = term_weight(zh) + 0.5
            for tok, w in content_terms(zh, userdict).items():
                terms.setdefault(tok, w * 0.5)
        terms.update({t: w for t, w in content_terms(question, userdict).items() if t not in terms})
        synonyms = glossary.synonyms_for(question) if glossary else {}
        if bridge is not None:
            # the dictionary bridge: Chinese words of the corpus for the question's English
            # words, weighted below the glossary's domain terms
            bridged = {zh: w for zh, w in bridge.terms(question).items() if zh not in terms}
            # a corpus word spelled in pinyin ("kechuang zhu li dai") is as good as written
            for zh in (bridge.romanized(question) if bridge.romanized is not None else {}):
                terms.setdefault(zh, term_weight(zh) + 0.5)
                bridged.pop(zh, None)
    latin = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9+\-]*", question) if w.isupper() and len(w) >= 2]
    # numbers the asker quotes ("account for 71%") point at the sentence that has them
    numbers = [n.replace(",", "") for n in re.findall(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])|(?<![\d.,])\d+(?:\.\d+)?(?![\d.,])", question)]
    numbers = [n for n in numbers if len(n) >= 2 and int(float(n)) not in years + unknown]  # "the 3,983 firms"
    if not kinds and re.search(ZH_ANY_FIGURE if lang == "zh" else EN_ANY_FIGURE, cue_text, re.I):
        kinds = ["any"]
    if not kinds and re.search(COMPARE_INTENT, question, re.I) and len(years) >= 2:
        # "Compare X in 2021 and 2023", "对比两年的X": a comparison is of figures, whatever the verb
        kinds = ["any"]
    compare = compare or len(years) >= 2
    if (len(years) >= 2 or ACROSS_YEARS.search(question)) and kinds[:1] == ["growth"] and len(kinds) > 1:
        # "两份报告的金额分别是多少，增长了多少": the change between the years is computed
        kinds, asked = kinds[1:], max(1, asked - 1)
    if compare and "growth" in kinds and not re.search(ZH_GROWTH_FIRST + "|" + EN_GROWTH_FIRST, question, re.I):
        # "how did X change from 2021 to 2023" compares values, it does not ask a growth rate
        kinds = [k for k in kinds if k != "growth"] or ["money", "count"]
    return Query(question, lang, years, unknown, kinds, units, compare, terms, latin, synonyms, numbers,
                 concepts, ordinals_in(question),
                 bool(re.search(ZH_NEW_ONLY if lang == "zh" else EN_NEW_ONLY, question, re.I)),
                 asked,
                 [c for c in concepts if glossary and c in glossary.places],
                 _counted(question, glossary) if lang == "en" and glossary else [],
                 answer_type(question, lang), bridged, [(y, w) for y, w, _ in relative], calendar_missing)
