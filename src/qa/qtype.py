"""What a question asks for — its answer type — read from cue words in a data file.

    >>> answer_type("铁木真何时被选为蒙古可汗?", "zh"), answer_type("How many tackles did he make?", "en")
    ('date', 'count')
    >>> answer_type("维多利亚州议会是靠什么文件形成的？", "zh")
    'text'

The cues (``data/answer_types.tsv``) are language knowledge — how people ask for a date, a
count, a share — and hold nothing about any report. The first row of the file that matches
decides: rows run from the most specific type to the most generic, so "人口中新教徒的比例是
多少" asks a share although 人口 (a count noun) comes first, and "多少钱" is money, not "多少".
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

TYPES = ("date", "duration", "age", "percent", "ratio", "rank", "money", "length", "count", "number", "text")
QUANTITY_TYPES = frozenset(TYPES) - {"text"}


@lru_cache(maxsize=1)
def _cues() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    text = resources.files("qa").joinpath("data/answer_types.tsv").read_text(encoding="utf-8")
    out: dict[str, list[tuple[str, re.Pattern[str]]]] = {"zh": [], "en": []}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lang, kind, pattern = line.split("\t", 2)
        if kind not in TYPES:
            raise ValueError(f"answer_types.tsv: unknown type {kind!r}")
        out[lang].append((kind, re.compile(pattern, re.I if lang == "en" else 0)))
    return out


def answer_type(question: str, lang: str) -> str:
    """The answer type of ``question`` (one of :data:`TYPES`); 'text' when no cue matches."""
    for kind, pattern in _cues().get(lang, []):
        if pattern.search(question):
            return kind
    return "text"


# which span types can answer which question type (beyond an exact match), and how well
COMPATIBLE: dict[str, dict[str, float]] = {
    "number": {"count": 0.8, "money": 0.6, "length": 0.6, "percent": 0.4, "ratio": 0.4, "duration": 0.4,
               "date": 0.3, "age": 0.4, "rank": 0.3},
    "count": {"number": 0.6},
    "money": {"number": 0.4, "count": 0.2},
    "length": {"number": 0.5, "count": 0.3},
    "date": {"number": 0.3, "age": 0.3, "duration": 0.3},  # "何时…" → "25岁时", "三年后"
    "duration": {"number": 0.3, "date": 0.2},
    "age": {"number": 0.5, "duration": 0.5},
    "percent": {"number": 0.3, "ratio": 0.5},
    "ratio": {"number": 0.5},
    "rank": {"number": 0.3},
}


def type_agreement(asked: str, found: str) -> float:
    """1 for the type asked, a partial score for a compatible one, 0 otherwise.

    >>> type_agreement("count", "count"), type_agreement("number", "count"), type_agreement("date", "money")
    (1.0, 0.8, 0.0)
    """
    if asked == found:
        return 1.0
    return COMPATIBLE.get(asked, {}).get(found, 0.0)
