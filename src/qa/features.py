"""Features of a candidate answer that mean the same on any text.

A candidate is a span (a quantity or date, see ``qa.spans``) in a retrieved sentence, or the
sentence itself for a "what/why/how" question. Every feature is about how the question and
the text relate — similarity, shared words, where they sit relative to the span, whether the
span is of the type asked — never about what a particular report says.

    >>> ctx = QuestionView(terms={"华沙": 1.0, "人口": 1.0}, grams=char_bigrams("华沙的人口有多少"),
    ...                    atype="count", unit="", numbers=(), lang="zh")
    >>> s = SentenceView("1901年华沙人口为71万人。", sim=0.8, best_sim=0.8, rank=1, best_cov=1.0)
    >>> f = span_features(ctx, s, s.spans[1])
    >>> f["type_agree"], round(f["near_terms"], 2)
    (1.0, 0.82)
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property

from qa.qtype import type_agreement
from qa.spans import Span, find_spans

_CJK = re.compile(r"[\u4e00-\u9fff]")
# characters too common to say that two texts share content
_COMMON = set("的了是在有和与及或为于被把将对从以由之其这那个年月日多少几什么哪谁何时")

SENTENCE_FEATURES = (
    "sim_gap", "cov", "cov_gap", "grams", "rank_inv", "len_log",
)
SPAN_FEATURES = SENTENCE_FEATURES + (
    "type_agree", "type_exact", "unit_agree", "in_question", "near_terms", "left_grams",
    "right_grams", "position", "spans_inv", "has_unit", "qualified", "is_year",
    "type_x_near", "type_x_sim", "type_x_left", "clause_cov", "clause_grams", "adjacent_term",
    "type_x_clause", "english",
)
# what ends the clause a figure belongs to
_CLAUSE_END = "，,；;。：:！？!?\n（）()"


def char_bigrams(text: str) -> frozenset[str]:
    """Chinese character bigrams without the commonest function characters.

    >>> sorted(char_bigrams("华沙的人口"))
    ['人口', '华沙']
    """
    runs = re.findall(r"[\u4e00-\u9fff]+", text)
    return frozenset(r[i:i + 2] for r in runs for i in range(len(r) - 1)
                     if not (r[i] in _COMMON and r[i + 1] in _COMMON) and r[i] not in _COMMON and r[i + 1] not in _COMMON)


@dataclass(frozen=True)
class QuestionView:
    """What the features need to know about a question."""

    terms: dict[str, float]  # Chinese content term → weight (English: through the bridge)
    grams: frozenset[str]  # Chinese character bigrams of the question (empty for English)
    atype: str  # answer type (qa.qtype)
    unit: str  # measure word asked ("多少家" → 家), or ""
    numbers: tuple[float, ...]  # numbers written in the question
    lang: str


@dataclass
class SentenceView:
    """One retrieved sentence with its retrieval signals."""

    text: str
    sim: float  # dense cosine with the question
    best_sim: float  # best cosine over all candidate sentences of the question
    rank: int  # retrieval rank of its passage (1-based)
    best_cov: float = 0.0  # best term coverage over all candidate sentences
    offset: int = 0  # where ``text`` starts in its source
    meta: dict = field(default_factory=dict)

    @cached_property
    def spans(self) -> list[Span]:
        return find_spans(self.text)


def coverage(q: QuestionView, text: str) -> float:
    total = sum(q.terms.values())
    return sum(w for t, w in q.terms.items() if t in text) / total if total else 0.0


def _gram_share(q: QuestionView, text: str) -> float:
    if not q.grams:
        return 0.0
    return len(q.grams & char_bigrams(text)) / len(q.grams)


def sentence_features(q: QuestionView, s: SentenceView) -> dict[str, float]:
    cov = coverage(q, s.text)
    return {
        "sim": s.sim,
        "sim_gap": s.sim - s.best_sim,  # 0 for the closest sentence of the question
        "cov": cov,
        "cov_gap": cov - s.best_cov,
        "grams": _gram_share(q, s.text),
        "rank_inv": 1.0 / s.rank,
        "len_log": math.log1p(len(s.text)) / 6.0,
    }


def _near_terms(q: QuestionView, text: str, span: Span) -> float:
    """Weighted closeness of the question's terms to the span: a term right next to the
    figure counts fully, one 10 characters away about 1/e."""
    total = sum(q.terms.values())
    if not total:
        return 0.0
    got = 0.0
    for term, w in q.terms.items():
        best = 0.0
        for m in re.finditer(re.escape(term), text):
            d = max(0, span.start - m.end(), m.start() - span.end)
            best = max(best, math.exp(-d / 10.0))
        got += w * best
    return got / total


def _clause(text: str, span: Span) -> str:
    """The clause around a span: "…，注册护士18.74万人，…" → "注册护士18.74万人"."""
    left = max(text.rfind(c, 0, span.start) for c in _CLAUSE_END) + 1
    ends = [i for i in (text.find(c, span.end) for c in _CLAUSE_END) if i >= 0]
    return text[left:min(ends, default=len(text))]


def _adjacent_term(q: QuestionView, text: str, span: Span) -> float:
    """Weight share of question terms that end at most 4 characters before the span or
    start right after it ("注册护士18.74万人", "18.74万名注册护士")."""
    total = sum(q.terms.values())
    if not total:
        return 0.0
    before, after = text[max(0, span.start - 4 - 12):span.start], text[span.end:span.end + 4 + 12]
    got = sum(w for t, w in q.terms.items()
              if before.rfind(t) >= 0 and len(before) - (before.rfind(t) + len(t)) <= 4
              or 0 <= after.find(t) <= 4)
    return got / total


def span_features(q: QuestionView, s: SentenceView, span: Span) -> dict[str, float]:
    f = sentence_features(q, s)
    clause = _clause(s.text, span)
    clause_cov = coverage(q, clause)
    agree = type_agreement(q.atype, span.type)
    near = _near_terms(q, s.text, span)
    left = _gram_share(q, s.text[max(0, span.start - 14):span.start])
    unit_ok = 1.0 if q.unit and span.unit.endswith(q.unit) else (0.0 if q.unit else 0.5)
    in_q = 1.0 if any(abs(v - span.value) < 1e-9 or abs(v - span.normalized) < 1e-9 for v in q.numbers) else 0.0
    f.update({
        "type_agree": agree,
        "type_exact": 1.0 if q.atype == span.type else 0.0,
        "unit_agree": unit_ok,
        "in_question": in_q,
        "near_terms": near,
        "left_grams": left,
        "right_grams": _gram_share(q, s.text[span.end:span.end + 10]),
        "position": s.spans.index(span) / max(1, len(s.spans) - 1) if span in s.spans else 0.0,
        "spans_inv": 1.0 / max(1, len(s.spans)),
        "has_unit": 1.0 if span.unit else 0.0,
        "qualified": 1.0 if span.qualifier else 0.0,
        "is_year": 1.0 if span.type == "date" else 0.0,
        "type_x_near": agree * near,
        "type_x_sim": agree * (s.sim - s.best_sim),
        "type_x_left": agree * left,
        "clause_cov": clause_cov,
        "clause_grams": _gram_share(q, clause),
        "adjacent_term": _adjacent_term(q, s.text, span),
        "type_x_clause": agree * clause_cov,
        "english": 1.0 if q.lang == "en" else 0.0,
    })
    return f


def vector(f: dict[str, float], names: tuple[str, ...]) -> list[float]:
    return [float(f[n]) for n in names]
