"""Domain exceptions. Every error a user can cause is one of these; the CLI
and the web app turn them into one-line messages (never a traceback).

Each message names the problem *and* what to do about it, e.g.

    >>> str(IndexMissingError("index"))
    "no index found at 'index'; build it with: qa index"
"""
from __future__ import annotations


class QAError(Exception):
    """Base class for all errors meant to be shown to a user as one line."""


class CorpusError(QAError):
    """The corpus folder or its manifest is unusable (bad encoding, missing file, ...)."""


class IndexMissingError(QAError):
    def __init__(self, path: object) -> None:
        super().__init__(f"no index found at '{path}'; build it with: qa index")


class IndexStaleError(QAError):
    """The index was built from another corpus, embedder or format version."""


class IndexCorruptError(QAError):
    """The index files are unreadable; rebuilding fixes it."""


class QuestionError(QAError):
    """The question is empty, too long, or otherwise not a question."""


class UnknownYearError(QAError):
    def __init__(self, year: object, known: list[int]) -> None:
        years = ", ".join(str(y) for y in known)
        super().__init__(f"no report for year {year}; known years: {years}")


class EmbedderError(QAError):
    """An embedding backend cannot be loaded (missing package, no offline weights)."""


class GoldFileError(QAError):
    """An evaluation gold file line is malformed."""
