"""The report-figure rules' cue words, read from ``data/question_cues.tsv`` (language
knowledge kept as data, not code).

    >>> "多少" in cue("ZH_ASKED"), cue_list("ZH_KIND_CUES")[0][1]
    (True, 'count')
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _rows() -> list[tuple[str, str, str]]:
    text = resources.files("qa").joinpath("data/question_cues.tsv").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            name, key, pattern = line.split("\t", 2)
            rows.append((name, key, pattern))
    return rows


def cue(name: str) -> str:
    """The single pattern called ``name``."""
    found = [p for n, _, p in _rows() if n == name]
    if len(found) != 1:
        raise KeyError(f"question_cues.tsv has {len(found)} rows named {name}")
    return found[0]


def cue_list(name: str) -> list[tuple[str, str]]:
    """(pattern, key) rows called ``name``, in file order."""
    return [(p, k) for n, k, p in _rows() if n == name]


def cue_map(name: str) -> dict[str, str]:
    return {k: p for n, k, p in _rows() if n == name}


def cue_words(name: str) -> set[str]:
    return set(cue(name).split())


@lru_cache(maxsize=None)
def language_rows(filename: str) -> tuple[tuple[str, str, str], ...]:
    """(lang, name, pattern) rows of a cue file ``data/<filename>`` in file order: the shape of
    compute_cues.tsv, several_cues.tsv and relative_reports.tsv (comments start with #)."""
    text = resources.files("qa").joinpath("data", filename).read_text(encoding="utf-8")
    return tuple(tuple(line.split("\t", 2)) for line in text.splitlines()  # type: ignore[misc]
                 if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=None)
def language_patterns(filename: str) -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """:func:`language_rows` with each pattern compiled (English ones case-insensitive)."""
    return tuple((lang, name, re.compile(pattern, re.I if lang == "en" else 0))
                 for lang, name, pattern in language_rows(filename) if lang != "any")
