"""The general reader's answers: candidates from the retrieved passages, scored by the learned
models (qa.reader), composed into a cited answer in the asker's language.

    >>> render_span_en(find_spans("近50万人")[0]), render_span_en(find_spans("2013年5月")[0])
    ('nearly 500,000 people', 'May 2013')

This is what answers questions the report-figure rules were not written for — a date, a
duration, an age, a length, a number without a unit, a text answer on any report — and it
referees the rules' own answers (see ``Answerer.ask``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from qa.features import SentenceView
from qa.passages import is_enumerated_heading
from qa.reader import GeneralReader, Scored, question_view
from qa.spans import Span, find_spans
from qa.units import MONTHS, format_number_en, ordinal_en, qualifier_words, split_magnitude, units_en

# qualifier word → English, longest first (data/qualifiers.tsv): 不超过 is 'no more than', not 'over'
_QUAL_EN = {w.zh: w.en for w in qualifier_words()}


def _qualifier_en(span: Span) -> str:
    words = [w for q, w in _QUAL_EN.items() if q and q in span.qualifier and w]
    return words[0] + " " if words else ""


def render_span_en(span: Span) -> str:
    """A span in English words and digits; a unit with no English name keeps the Chinese
    original in quotes rather than a guess."""
    text = re.sub(r"\s+", "", span.text)
    if span.type == "date":
        m = re.search(r"(\d{3,4})年(?:(\d{1,2})月)?(?:(\d{1,2})日)?", text)
        if m:
            year, month, day = m.group(1), m.group(2), m.group(3)
            if month and 1 <= int(month) <= 12:
                return f"{int(day)} {MONTHS[int(month) - 1]} {year}" if day else f"{MONTHS[int(month) - 1]} {year}"
            return year
        if (m := re.search(r"(\d+)世纪", text)):
            return f"the {ordinal_en(int(m.group(1)))} century"
        if (m := re.search(r"(\d+)年代", text)):
            return f"the {m.group(1)}s"
        return format_number_en(span.value).replace(",", "")
    base = split_magnitude(span.unit)[1]  # 万人 → 人; whole units (千克, 个百分点) stay
    number = format_number_en(span.normalized)
    if span.type == "ratio":
        return text
    qual = _qualifier_en(span)
    if span.type == "rank":
        return f"{qual}{ordinal_en(span.value)}"
    if not base:
        return qual + number
    if base in ("%", "％"):
        return f"{qual}{number}%"
    names = units_en().get(base)
    if names is None:
        return f"{qual}{number} (“{text}”)"
    if base in ("元",):
        return f"{qual}RMB {number}"
    word = names[0] if span.normalized == 1 else names[1]
    return f"{qual}{number} {word}"


@dataclass
class GeneralPick:
    """The general reader's best candidate for one question."""

    scored: Scored
    hit: object  # qa.retrieve.Hit
    sentence: tuple[int, int]  # absolute offsets of the cited sentence

    @property
    def prob(self) -> float:
        return self.scored.prob

    @property
    def span_abs(self) -> tuple[int, int] | None:
        sp = self.scored.span
        return None if sp is None else (self.sentence[0] + sp.start, self.sentence[0] + sp.end)

    def covers(self, figure) -> bool:
        """Whether this candidate's span overlaps ``figure`` (anything with start/end)."""
        span = self.span_abs
        return span is not None and span[0] < figure.end and figure.start < span[1]


def sentence_views(hits, sims: dict[tuple[str, int], float]) -> list[SentenceView]:
    """Every sentence of the retrieved passages, with its dense similarity to the question."""
    views = []
    for hit in hits:
        p = hit.passage
        for s, e in p.sentences or ((p.start, p.end),):
            if is_enumerated_heading(p.span(s, e)):
                continue  # "一、综合" names a section; it answers nothing
            views.append(SentenceView(p.span(s, e), sims.get((p.id, s), 0.0), 0.0, hit.rank, offset=s,
                                      meta={"hit": hit, "sentence": (s, e)}))
    return views


def read(reader: GeneralReader, text: str, lang: str, terms: dict[str, float], atype: str,
         views: list[SentenceView], must_mention: list[str] = ()) -> list[GeneralPick]:
    """Candidates scored best first. ``must_mention``: strings the passage must hold (a year
    the question asks about that is no report's year: "1901年华沙的人口")."""
    if must_mention:
        views = [v for v in views if any(m in v.meta["hit"].passage.text for m in must_mention)]
    qv = question_view(text, lang, terms, atype)
    scored = reader.sentences(qv, views) if atype == "text" else reader.spans(qv, views)
    return [GeneralPick(s, s.sentence.meta["hit"], s.sentence.meta["sentence"]) for s in scored]


__all__ = ["GeneralPick", "read", "render_span_en", "sentence_views"]
