"""Report years named relatively — "上一份报告", "the latest report", "the year before the 2023
report" — resolved against the corpus's report years (cues in ``data/relative_reports.tsv``).

    >>> relative_years("上一份报告里，高企贷支持了多少家企业？", "zh", [2021, 2023])
    [(2021, '上一份报告')]
    >>> relative_years("In the year before the 2023 report, how many firms?", "en", [2019, 2021, 2023])
    [(2021, 'the year before the 2023 report')]
"""
from __future__ import annotations

import re

from qa.cues import language_patterns


def _cues() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    return language_patterns("relative_reports.tsv")


def relative_years(question: str, lang: str, report_years: list[int]) -> list[tuple[int, str]]:
    """(report year, the words that named it) for each relative mention a report answers."""
    return [(y, words) for y, words, _ in relative_mentions(question, lang, report_years)]


def relative_mentions(question: str, lang: str, report_years: list[int]) -> list[tuple[int, str, int | None]]:
    """(report year, the words that named it, the year it was named relative to, if any)."""
    years = sorted(set(report_years))
    found: list[tuple[int, str, int | None]] = []
    if len(years) < 2:
        return found  # one report year: "the first edition" of something is content, not a report
    for cue_lang, which, pattern in _cues():
        if cue_lang != lang or which.startswith("calendar"):
            continue
        for m in pattern.finditer(question):
            anchor = next((int(g) for g in m.groups() if g), None)
            if which == "latest":
                year = years[-1]
            elif which == "earliest":
                year = years[0]
            else:
                before = [y for y in years if y < (anchor if anchor is not None else years[-1])]
                if not before:
                    continue
                year = before[-1]
            if all(y != year for y, _, _ in found):
                found.append((year, m.group(0), anchor))
    return found


def calendar_mentions(question: str, lang: str, this_year: int) -> list[tuple[int, str]]:
    """Years named relative to the current one: (year, the words) — "去年" in 2026 is 2025.

    >>> calendar_mentions("去年高企贷支持了多少家企业？", "zh", 2026), calendar_mentions("比去年增长多少", "zh", 2026)
    ([(2025, '去年')], [])
    """
    found: list[tuple[int, str]] = []
    for cue_lang, which, pattern in _cues():
        if cue_lang == lang and which.startswith("calendar-"):
            back = int(which.split("-", 1)[1])
            for m in pattern.finditer(question):
                if all(y != this_year - back for y, _ in found):
                    found.append((this_year - back, m.group(0)))
    return found
