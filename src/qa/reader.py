"""The general reader: score every candidate of the retrieved sentences with the learned
models and return them best first.

    >>> view = question_view("1901年华沙的人口有多少？", "zh", {"华沙": 1.5, "人口": 1.0})
    >>> view.atype, view.numbers
    ('count', (1901.0,))

For a quantity question the candidates are the spans of :mod:`qa.spans` (scored by the span
model); for a "what/which/why" question, the sentences themselves (the sentence model).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from qa.features import (SPAN_FEATURES, SENTENCE_FEATURES, QuestionView, SentenceView, char_bigrams,
                         coverage, sentence_features, span_features, vector)
from qa.qtype import answer_type, type_agreement
from qa.scorer import ReaderModels
from qa.spans import Span, find_spans, measure_words


@lru_cache(maxsize=1)
def _asked_unit() -> re.Pattern[str]:
    units = "|".join(map(re.escape, measure_words()))
    return re.compile(rf"(?:多少|几)(?:万|千|百|亿)?({units})")


# the general classifier: "几个金奖" may be counted "四金" in the text
GENERIC_MEASURE_WORDS = frozenset("个")


def asked_measure_word(text: str) -> str:
    """The measure word a Chinese question counts in ("多少张床位" → 张), or "" (none, or
    only the general classifier 个).

    >>> asked_measure_word("全市有多少张床位？"), asked_measure_word("拿到了几个金奖？")
    ('张', '')
    """
    m = _asked_unit().search(text)
    return m.group(1) if m and m.group(1) not in GENERIC_MEASURE_WORDS else ""


def question_view(text: str, lang: str, terms: dict[str, float], atype: str | None = None) -> QuestionView:
    """Everything the features need from a question. For English questions the character
    bigrams come from the Chinese terms the bridge found (there is no Chinese wording).
    ``atype``: the answer type when the question analysis has read it already."""
    unit = asked_measure_word(text) if lang == "zh" else ""
    grams = char_bigrams(text) if lang == "zh" else char_bigrams(" ".join(terms))
    numbers = tuple(sorted({s.value for s in find_spans(text)} | {float(n.replace(",", "")) for n in
                                                                  re.findall(r"\d[\d,]*(?:\.\d+)?", text)}))
    return QuestionView(terms, grams, atype or answer_type(text, lang), unit, numbers, lang)


def pseudo_question(terms: dict[str, float]) -> str:
    """The Chinese terms of a question, weightiest first: what an English question "says" in
    Chinese through the bridge. Its embedding meets Chinese sentences in one language, which
    a small multilingual model does better than across languages.

    >>> pseudo_question({"人口": 1.0, "华沙": 1.5})
    '华沙 人口'
    """
    return " ".join(sorted(terms, key=lambda t: (-terms[t], t)))


# an English question's similarity to a sentence: half its own, half its pseudo-question's
BRIDGE_SIM_SHARE = 0.5


@dataclass
class Scored:
    sentence: SentenceView
    span: Span | None  # None: the sentence is the answer
    prob: float


def prepare(view: QuestionView, sentences: list[SentenceView]) -> None:
    """Fill in the per-question reference values (best similarity and coverage)."""
    if not sentences:
        return
    best_sim = max(s.sim for s in sentences)
    best_cov = max(coverage(view, s.text) for s in sentences)
    for s in sentences:
        s.best_sim, s.best_cov = best_sim, best_cov


class GeneralReader:
    """Learned scoring of candidates; ``models`` come from ``qa train`` (see qa.train)."""

    def __init__(self, models: ReaderModels) -> None:
        self.models = models

    def spans(self, view: QuestionView, sentences: list[SentenceView]) -> list[Scored]:
        prepare(view, sentences)
        rows, owners = [], []
        for s, span in self.eligible(view, sentences):
            rows.append(vector(span_features(view, s, span), self.models.span.names_))
            owners.append((s, span))
        if not rows:
            return []
        probs = self.models.span.predict_proba(rows)
        out = [Scored(s, span, float(p)) for (s, span), p in zip(owners, probs)]
        return sorted(out, key=lambda c: -c.prob)

    @staticmethod
    def eligible(view: QuestionView, sentences: list[SentenceView]) -> list[tuple[SentenceView, Span]]:
        """Candidates that can answer at all: of a type the question can take (a date is
        never the answer to "what share"), and, when the question counts with a measure word
        that some candidate carries ("多少张床位"), one with that measure word."""
        pairs = [(s, sp) for s in sentences for sp in s.spans if type_agreement(view.atype, sp.type) > 0]
        if view.unit:
            same = [(s, sp) for s, sp in pairs if sp.unit.endswith(view.unit)]
            pairs = same or pairs
        return pairs

    def sentences(self, view: QuestionView, sentences: list[SentenceView]) -> list[Scored]:
        prepare(view, sentences)
        if not sentences:
            return []
        rows = [vector(sentence_features(view, s), self.models.sentence.names_) for s in sentences]
        probs = self.models.sentence.predict_proba(rows)
        return sorted((Scored(s, None, float(p)) for s, p in zip(sentences, probs)), key=lambda c: -c.prob)


__all__ = ["GeneralReader", "Scored", "question_view", "prepare", "SPAN_FEATURES", "SENTENCE_FEATURES"]
