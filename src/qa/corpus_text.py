"""Whether a string occurs in the corpus text, answered from the BM25 index's postings
instead of a scan of the whole text.

The answer stage asks this for many short strings per question (the dictionary bridge's
Chinese renderings of an English word, glossary terms, a question's words that may be
typos). A scan of the joined text costs about 1 ms per 5 M characters and per string, so
at 50 M characters an English question's few hundred checks took seconds. A Chinese
string of two or more characters occurs only in passages whose BM25 tokens hold every
character bigram of it (the index adds the bigrams of every run of Chinese characters):
the rarest of those bigrams names the few passages to look in, and a bigram the index
lacks settles it at once.

    >>> from qa.passages import Passage
    >>> ps = [Passage("a", "d", 2023, "科技金融", "高企贷支持9729家", 0, 10),
    ...       Passage("b", "d", 2023, "知识产权", "PCT专利申请6185件", 10, 22)]
    >>> text = CorpusText(ps, bm25_vocabulary([["高企", "贷支", "企贷", "支持", "科技", "技金", "金融"],
    ...                                         ["pct", "专利", "利申", "申请", "知识", "识产", "产权"]]))
    >>> "高企贷" in text, "企贷支持" in text, "专利高企" in text, "知识产权" in text
    (True, True, False, True)
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property

import numpy as np

from qa.passages import Passage
from qa.tokenize import CJK_RUN, STOPWORDS


def passage_text(p: Passage) -> str:
    """A passage as the corpus text holds it: its section path, a line break, its text."""
    return f"{p.section}\n{p.clean_text}"


def joined_text(passages: Sequence[Passage]) -> str:
    """The corpus text: every passage's :func:`passage_text`, one after another."""
    return "\n".join(map(passage_text, passages))


def bm25_vocabulary(token_lists: Sequence[Sequence[str]]) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """(token → column, indptr, indices): postings in the layout of a bm25s index's
    ``scores`` (column j's passages are ``indices[indptr[j]:indptr[j + 1]]``), built from
    token lists; for tests and for callers without a bm25s index."""
    vocab: dict[str, int] = {}
    postings: list[list[int]] = []
    for row, tokens in enumerate(token_lists):
        for tok in dict.fromkeys(tokens):
            col = vocab.setdefault(tok, len(vocab))
            if col == len(postings):
                postings.append([])
            postings[col].append(row)
    indptr = np.cumsum([0] + [len(p) for p in postings])
    indices = np.asarray([r for p in postings for r in p], dtype=np.int64)
    return vocab, indptr, indices


def from_bm25(bm25: object) -> tuple[dict[str, int], np.ndarray, np.ndarray] | None:
    """The postings of a bm25s index (None when it is not one)."""
    scores, vocab = getattr(bm25, "scores", None), getattr(bm25, "vocab_dict", None)
    if not isinstance(scores, dict) or not isinstance(vocab, dict) or "indptr" not in scores:
        return None
    return vocab, scores["indptr"], scores["indices"]


class CorpusText:
    """``s in corpus_text`` for the joined text of ``passages`` (:func:`passage_text` of
    each, one per line), without reading all of it for Chinese strings.

    ``postings``: (token → column, indptr, indices) of an index whose tokens include the
    character bigrams of every Chinese run of each passage's search text (qa.tokenize with
    bigrams), None to scan. ``text``: the joined text, built on first need (the fallback
    for other strings and for single characters)."""

    def __init__(self, passages: Sequence[Passage],
                 postings: tuple[dict[str, int], np.ndarray, np.ndarray] | None,
                 text: Callable[[], str] | None = None) -> None:
        self.passages = passages
        self.postings = postings
        self._make_text = text or (lambda: joined_text(passages))

    @cached_property
    def text(self) -> str:
        return self._make_text()

    def __contains__(self, s: str) -> bool:
        rows = self._candidates(s)
        if rows is None:
            return s in self.text
        return any(s in passage_text(self.passages[i]) for i in rows)

    def _candidates(self, s: str) -> np.ndarray | None:
        """The passages that may hold ``s`` (from its rarest bigram), or None when the
        postings cannot tell (no postings, not a Chinese string, only stop-word bigrams)."""
        if self.postings is None or not CJK_RUN.fullmatch(s):
            return None
        vocab, indptr, indices = self.postings
        best = None
        for i in range(len(s) - 1):
            gram = s[i:i + 2]
            if gram in STOPWORDS:  # never indexed as a bigram: says nothing
                continue
            col = vocab.get(gram)
            if col is None:
                return indices[:0]  # a bigram no passage has
            n = int(indptr[col + 1] - indptr[col])
            if best is None or n < best[0]:
                best = (n, col)
        if best is None:
            return None
        return indices[indptr[best[1]]:indptr[best[1] + 1]]
