"""Memos for a process that answers questions without end (the web app): remembered answers
about a text that never changes, forgotten all at once when there are too many.

    >>> m = {}
    >>> remember(m, "高企贷", True)
    True
    >>> m
    {'高企贷': True}
"""
from __future__ import annotations

from typing import Any, Hashable

MEMO_SIZE = 50_000  # entries per memo before it is cleared (a server runs on)


def remember(memo: dict, key: Hashable, value: Any) -> Any:
    """``memo[key] = value``, clearing the memo first when it holds more than MEMO_SIZE."""
    if len(memo) > MEMO_SIZE:
        memo.clear()
    memo[key] = value
    return value
