"""Traditional and Simplified Chinese: questions are matched in Simplified characters (the
script of the reports), converted with OpenCC; the asker's own text is kept for display.

    >>> to_simplified("2021年上海科創板上市企業有多少家？")
    '2021年上海科创板上市企业有多少家？'
"""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _converter(config: str):
    try:
        import opencc
    except ModuleNotFoundError:  # pragma: no cover - a declared dependency
        return None
    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """``text`` in Simplified characters (unchanged if OpenCC is missing)."""
    conv = _converter("t2s")
    return conv.convert(text) if conv is not None else text


def to_traditional(text: str) -> str:
    conv = _converter("s2t")
    return conv.convert(text) if conv is not None else text
