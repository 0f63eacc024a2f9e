"""Stage 5: hybrid retrieval — BM25 (jieba tokens) and dense (FAISS) fused by weighted RRF.

    >>> r = Retriever(load_index("index"))                           # doctest: +SKIP
    >>> [h.passage.section for h in r.search("2023年高企贷支持了多少家企业？", k=1)]  # doctest: +SKIP
    ['7.1 科技金融服务体系持续完善 › 科技信贷融资服务体系进一步优化 › 科技金融信贷产品持续优化']

Why the weights differ by language: on XQuAD en→zh, fusing BM25 over Chinese tokens into an
English question's dense ranking drops R@1 from 0.72 to 0.24 — the English words match
nothing. English questions are therefore led by the dense ranking, and BM25 only sees the
Chinese terms that the domain glossary (``corpus/glossary.tsv``) finds in the question.

A year written in the question (``2023年``, ``in 2021``) that names exactly one report year
narrows the search to that report; ``year=`` does the same explicitly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from qa.embed import Embedder, get_embedder
from qa.errors import QuestionError, UnknownYearError
from qa.index import DEFAULT_INDEX, Index, ensure_index
from qa.passages import Passage
from qa.tokenize import tokenize

MAX_QUESTION_CHARS = 2000
_CJK = re.compile(r"[\u4e00-\u9fff]")
# a 4-digit year, not part of a bigger number or an amount such as 2000万元
_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?![\d.]|\s*(?:万|亿|千|百|元|家|个|件|项|人|户|%|％))")


class Hit(NamedTuple):
    passage: Passage
    score: float
    rank: int  # 1-based
    dense_rank: int | None
    bm25_rank: int | None


@dataclass(frozen=True)
class RetrievalConfig:
    """All knobs of the fusion in one place (weights are per question language)."""

    rrf_k: int = 60
    zh_dense_weight: float = 1.0
    zh_bm25_weight: float = 1.0
    en_dense_weight: float = 1.0
    en_bm25_weight: float = 0.5  # BM25 over glossary-translated terms only
    candidates: int = 100  # per ranker, before fusion
    year_from_question: bool = True

    def __post_init__(self) -> None:
        if self.rrf_k <= 0 or self.candidates <= 0:
            raise ValueError("rrf_k and candidates must be positive")
        if min(self.zh_dense_weight, self.zh_bm25_weight, self.en_dense_weight, self.en_bm25_weight) < 0:
            raise ValueError("weights must be >= 0")


def is_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def years_in(text: str) -> list[int]:
    """Years written in a question, in order of appearance, without duplicates.

    >>> years_in("2023年比2021年增加了多少家？"), years_in("How much in 2021?"), years_in("5000万元")
    ([2023, 2021], [2021], [])
    """
    out: list[int] = []
    for m in _YEAR.finditer(text):
        y = int(m.group(1))
        if y not in out:
            out.append(y)
    return out


def check_question(question: object) -> str:
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("the question is empty; type a question, e.g. 2023年高企贷支持了多少家企业？")
    q = question.strip()
    if len(q) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is {len(q)} characters long; the limit is {MAX_QUESTION_CHARS}, shorten it"
        )
    return q


def rrf(rankings: list[tuple[list[int], float]], k: int) -> dict[int, float]:
    """Weighted reciprocal rank fusion: sum of weight / (k + rank) over rankings.

    >>> rrf([([7, 3], 1.0), ([3], 1.0)], k=60)[3] > rrf([([7, 3], 1.0), ([3], 1.0)], k=60)[7]
    True
    """
    scores: dict[int, float] = {}
    for ranking, weight in rankings:
        if weight <= 0:
            continue
        for r, i in enumerate(ranking, start=1):
            scores[i] = scores.get(i, 0.0) + weight / (k + r)
    return scores


class Retriever:
    """Hybrid retriever over one loaded :class:`~qa.index.Index`."""

    def __init__(self, index: Index, embedder: Embedder | None = None,
                 config: RetrievalConfig | None = None, glossary=None) -> None:
        self.index = index
        self.embedder = embedder or get_embedder(index.manifest["embedder"]["spec"])
        if self.embedder.id != index.embedder_id:
            raise ValueError(f"embedder {self.embedder.id} does not match index {index.embedder_id}")
        self.config = config or RetrievalConfig()
        if glossary is None:
            from qa.glossary import load_glossary

            glossary = load_glossary()
        self.glossary = glossary
        self._year = np.array([p.year for p in index.passages])
        self._doc = np.array([p.doc_id for p in index.passages])

    # -- filters --
    def resolve_year(self, question: str, year: int | None) -> int | None:
        known = self.index.years
        if year is not None:
            if int(year) not in known:
                raise UnknownYearError(year, known)
            return int(year)
        if self.config.year_from_question:
            asked = [y for y in years_in(question) if y in known]
            if len(asked) == 1:
                return asked[0]
        return None

    def _mask(self, year: int | None, doc_id: str | None) -> np.ndarray | None:
        if year is None and doc_id is None:
            return None
        mask = np.ones(len(self.index.passages), dtype=bool)
        if year is not None:
            mask &= self._year == year
        if doc_id is not None:
            mask &= self._doc == doc_id
        return mask

    # -- rankers --
    def dense_ranking(self, question: str, mask: np.ndarray | None, n: int) -> tuple[list[int], np.ndarray]:
        q = self.embedder.embed_queries([question])
        total = self.index.dense.ntotal
        if total == 0:
            return [], np.zeros(0)
        depth = total if mask is not None else min(n, total)
        scores, ids = self.index.dense.search(q, depth)
        ranking = [int(i) for i in ids[0] if i >= 0 and (mask is None or mask[i])][:n]
        full = np.full(total, -1.0, dtype=np.float32)
        full[ids[0][ids[0] >= 0]] = scores[0][ids[0] >= 0]
        return ranking, full

    def bm25_query_tokens(self, question: str) -> list[str]:
        if is_chinese(question):
            return tokenize(question)
        terms = self.glossary.zh_terms_for(question) if self.glossary else []
        return tokenize(" ".join(terms)) if terms else []

    def bm25_ranking(self, tokens: list[str], mask: np.ndarray | None, n: int) -> tuple[list[int], np.ndarray]:
        if not tokens:
            return [], np.zeros(len(self.index.passages))
        scores = np.asarray(self.index.bm25.get_scores(tokens), dtype=np.float32)
        order = np.argsort(-scores, kind="stable")
        ranking = [int(i) for i in order if scores[i] > 0 and (mask is None or mask[i])][:n]
        return ranking, scores

    # -- public --
    def search(self, question: str, k: int = 5, *, year: int | None = None,
               doc_id: str | None = None) -> list[Hit]:
        """Top ``k`` passages for ``question`` (see module docstring for the fusion)."""
        question = check_question(question)
        if k <= 0:
            raise QuestionError("k must be a positive number of passages")
        cfg = self.config
        mask = self._mask(self.resolve_year(question, year), doc_id)
        dense, _ = self.dense_ranking(question, mask, cfg.candidates)
        bm25, _ = self.bm25_ranking(self.bm25_query_tokens(question), mask, cfg.candidates)
        zh = is_chinese(question)
        w_dense = cfg.zh_dense_weight if zh else cfg.en_dense_weight
        w_bm25 = cfg.zh_bm25_weight if zh else cfg.en_bm25_weight
        fused = rrf([(dense, w_dense), (bm25, w_bm25)], cfg.rrf_k)
        dense_pos = {i: r for r, i in enumerate(dense, start=1)}
        bm25_pos = {i: r for r, i in enumerate(bm25, start=1)}
        # ties (e.g. weight 0 on one side) break by dense rank, then bm25 rank
        order = sorted(fused, key=lambda i: (-fused[i], dense_pos.get(i, 10**9), bm25_pos.get(i, 10**9)))
        return [
            Hit(self.index.passages[i], round(fused[i], 6), r, dense_pos.get(i), bm25_pos.get(i))
            for r, i in enumerate(order[:k], start=1)
        ]


_RETRIEVERS: dict[str, Retriever] = {}


def get_retriever(index_dir: str | Path | None = None, embedder_spec: str | None = None) -> Retriever:
    """One retriever per index folder per process (the model and index load once)."""
    key = str(Path(index_dir or DEFAULT_INDEX).resolve())
    if key not in _RETRIEVERS:
        _RETRIEVERS[key] = Retriever(ensure_index(index_dir or DEFAULT_INDEX, embedder_spec=embedder_spec))
    return _RETRIEVERS[key]


def search(question: str, *, year: int | None = None, k: int = 5,
           index_dir: str | Path | None = None) -> list[Hit]:
    return get_retriever(index_dir).search(question, k=k, year=year)
