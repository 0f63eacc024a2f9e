"""The report-figure rules' cue words, read from ``data/question_cues.tsv`` (language
knowledge kept as data, not code).

    >>> "多少" in cue("ZH_ASKED"), cue_list("ZH_KIND_CUES")[0][1]
    (True, 'count')
"""
from __future__ import annotations

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
