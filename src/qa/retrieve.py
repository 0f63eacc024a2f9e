"""Stage 5: hybrid retrieval — BM25 (jieba tokens) and dense (FAISS) fused by a convex
combination of normalised scores (or weighted RRF).

    >>> r = Retriever(load_index("index"))                           # doctest: +SKIP
    >>> [h.passage.section for h in r.search("2023年高企贷支持了多少家企业？", k=1)]  # doctest: +SKIP
    ['7.1 科技金融服务体系持续完善 › 科技信贷融资服务体系进一步优化 › 科技金融信贷产品持续优化']

Fusion (``RetrievalConfig.fusion``): the default ``"minmax"`` scores each candidate (the top
``candidates`` of either ranker) by ``α·dense' + (1-α)·bm25'``, where ``dense'`` is the dense
score min-max normalised over the candidates, ``bm25'`` the BM25 score divided by the best
one, and ``α = dense_weight / (dense_weight + bm25_weight)`` of the question's language. It
beats RRF on every benchmark we have (XQuAD, CMRC 2018, XQuAD-R and the gold questions;
see benchmarks/RESULTS.md) because it keeps *how much* better the first candidate is,
which RRF throws away. ``"rrf"`` is the previous weighted reciprocal rank fusion.

Dense score: ``(1-β)·cos(question, passage) + β·max cos(question, sentence)`` over the
passage's sentences (``sentence_weight`` β), so one sentence that answers the question is
not diluted by the rest of a long passage. This needs sentence vectors in the index
(``index.sentence_vectors``, see :func:`sentence_vectors`); an index without them is scored
with passage vectors only (β has no effect) — nothing is embedded at query time.

Why the weights differ by language: English questions are led by the dense ranking; BM25
only sees the Chinese terms that the domain glossary (``corpus/glossary.tsv``) finds in the
question — English words match nothing in Chinese reports.

A year written in the question (``2023年``, ``in 2021``) that names exactly one report year
narrows the search to that report; ``year=`` does the same explicitly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from qa.embed import Embedder, get_embedder
from qa.errors import QAError, QuestionError, UnknownYearError
from qa.index import DEFAULT_INDEX, Index, ensure_index
from qa.passages import Passage
from qa.tokenize import tokenize

MAX_QUESTION_CHARS = 2000
_CJK = re.compile(r"[\u4e00-\u9fff]")
# a 4-digit year, not part of a bigger number or an amount such as 2000万元
# a sentence-final full stop ends a year ("… in 2023."), a decimal point does not ("2023.5万")
_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?!\d|\.\d|\s*(?:万|亿|千|百|元|家|个|件|项|人|户|%|％))")


@dataclass(frozen=True)
class Reading:
    """What retrieval needs of a question that was already read (``Query.reading``), so that
    it never reads the question string again: its language, the report years it names and,
    for an English question, the Chinese terms it was bridged to (BM25 has nothing else)."""

    lang: str
    years: tuple[int, ...] = ()
    terms: tuple[str, ...] = ()


class Hit(NamedTuple):
    passage: Passage
    score: float
    rank: int  # 1-based
    dense_rank: int | None
    bm25_rank: int | None


@dataclass(frozen=True)
class RetrievalConfig:
    """All knobs of the fusion in one place (weights are per question language).

    With ``fusion="minmax"`` the two weights of a language only matter through their ratio:
    ``α = dense_weight / (dense_weight + bm25_weight)``.
    """

    rrf_k: int = 60  # only for fusion="rrf"
    zh_dense_weight: float = 1.0
    zh_bm25_weight: float = 1.0
    en_dense_weight: float = 1.0
    en_bm25_weight: float = 0.5  # BM25 over glossary-translated terms only (α_en = 2/3)
    candidates: int = 100  # per ranker, before fusion
    year_from_question: bool = True
    fusion: str = "minmax"  # "minmax" (normalised scores, convex combination) | "rrf"
    sentence_weight: float = 0.3  # β in (1-β)·passage + β·best-sentence dense score
    exact_dense_max: int = 20_000  # up to this many passages dense scores are exact (numpy),
    # which sentence scores need; above it the FAISS index alone ranks passages

    def __post_init__(self) -> None:
        if self.rrf_k <= 0 or self.candidates <= 0:
            raise ValueError("rrf_k and candidates must be positive")
        if min(self.zh_dense_weight, self.zh_bm25_weight, self.en_dense_weight, self.en_bm25_weight) < 0:
            raise ValueError("weights must be >= 0")
        if self.zh_dense_weight + self.zh_bm25_weight <= 0 or self.en_dense_weight + self.en_bm25_weight <= 0:
            raise ValueError("the two weights of a language must not both be 0")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}")
        if not 0.0 <= self.sentence_weight <= 1.0:
            raise ValueError("sentence_weight must be between 0 and 1")


FUSIONS = ("minmax", "rrf")


def is_chinese(text: str) -> bool:
    """Whether the question is read as Chinese — the one language decision, shared with the
    question analysis (``qa.question.detect_language``), so retrieval and answering agree."""
    return detect_language(text) == "zh"


_LATIN_WORD = re.compile(r"[A-Za-z]+")


def detect_language(text: str) -> str:
    """'zh' when Chinese characters outweigh Latin words, else 'en'.

    >>> detect_language("How much did 高企贷 lend in 2023?"), detect_language("2023年高企贷 loans 多少")
    ('en', 'zh')
    """
    cjk = len(_CJK.findall(text))
    words = len(_LATIN_WORD.findall(text))
    if cjk == 0:
        return "en"
    return "zh" if cjk >= 2 * words or (cjk >= 4 and words <= 2) else "en"


def years_in(text: str) -> list[int]:
    """Years written in a question, in order of appearance, without duplicates.

    >>> years_in("2023年比2021年增加了多少家？"), years_in("How much in 2021 and 2023."), years_in("2023.5万元")
    ([2023, 2021], [2021, 2023], [])
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


class QueryCache:
    """Question text → query vector, the oldest forgotten beyond ``size``. Safe to share
    between threads without a lock (the web app answers requests side by side): a get and a
    single insert of a dict are atomic in CPython, eviction reads a snapshot of the keys,
    and two threads evicting the same oldest key is not an error.

    >>> c = QueryCache(size=2)
    >>> for t in "abc":
    ...     _ = c.put(t, t.upper())
    >>> c.get("a"), c.get("c"), len(c)
    (None, 'C', 2)
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._d: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self._d)

    def get(self, text: str) -> Any:
        return self._d.get(text)

    def put(self, text: str, vector: Any) -> Any:
        while len(self._d) >= self.size:
            keys = list(self._d)  # a snapshot: another thread may insert meanwhile
            if not keys:
                break
            self._d.pop(keys[0], None)  # another thread may have evicted it already
        self._d[text] = vector
        return vector


def minmax_fusion(candidates: list[int], dense: np.ndarray, bm25: np.ndarray, alpha: float) -> dict[int, float]:
    """Convex combination ``alpha·dense' + (1-alpha)·bm25'`` over ``candidates``: dense scores
    min-max normalised over the candidates, BM25 scores divided by the best one (0 is their
    natural minimum). Without any BM25 match the ranking is the dense one.

    >>> f = minmax_fusion([0, 1, 2], np.array([0.9, 0.8, 0.7]), np.array([0.0, 6.0, 3.0]), 0.5)
    >>> max(f, key=f.get), round(f[0], 2), round(f[1], 2)
    (1, 0.5, 0.75)
    """
    if not candidates:
        return {}
    idx = np.asarray(candidates)
    d = dense[idx].astype(np.float64)
    lo, hi = d.min(), d.max()
    dn = (d - lo) / (hi - lo) if hi > lo else np.ones_like(d)
    b = np.maximum(bm25[idx].astype(np.float64), 0.0)
    if b.max() <= 0:
        fused = dn
    else:
        fused = alpha * dn + (1.0 - alpha) * b / b.max()
    return {int(i): float(v) for i, v in zip(idx, fused)}


def sentence_vectors(passages: list[Passage], embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    """Vectors of the sentences of every passage that has more than one, and the position of
    the passage each belongs to: ``(float32 (m, dim), int64 (m,))``. The index computes and
    stores these at build time (see :func:`qa.index.sentence_texts`); benchmarks call this
    to attach them to an index built without them."""
    from qa.index import sentence_texts

    texts, owner = sentence_texts(passages)
    vecs = embedder.embed_passages(texts) if texts else np.zeros((0, embedder.dim), dtype=np.float32)
    return np.asarray(vecs, dtype=np.float32), owner


class Retriever:
    """Hybrid retriever over one loaded :class:`~qa.index.Index`."""

    def __init__(self, index: Index, embedder: Embedder | None = None,
                 config: RetrievalConfig | None = None, glossary=None) -> None:
        self.index = index
        self.embedder = embedder or get_embedder(index.manifest["embedder"]["spec"])
        if self.embedder.id != index.embedder_id:
            raise ValueError(f"embedder {self.embedder.id} does not match index {index.embedder_id}")
        self.config = config or RetrievalConfig()
        # the corpus's own dictionary and glossary, stored with its index (never the repo's)
        self.userdict = index.data_file("userdict.txt") if hasattr(index, "data_file") else None
        if glossary is None:
            from qa.glossary import Glossary, load_glossary

            path = index.data_file("glossary.tsv") if hasattr(index, "data_file") else None
            glossary = load_glossary(path) if path else Glossary([])
        self.glossary = glossary
        self._year = np.array([p.year for p in index.passages])
        self._doc = np.array([p.doc_id for p in index.passages])
        self._position = {p.id: i for i, p in enumerate(index.passages)}
        # first row of each multi-sentence passage in index.sentence_vectors (rows are in order)
        owner = index.sentence_vectors[1] if index.sentence_vectors is not None else np.zeros(0, int)
        firsts, rows = np.unique(owner, return_index=True)
        self._first_sentence_row = dict(zip(firsts.tolist(), rows.tolist()))

    # -- filters --
    def resolve_year(self, question: str, year: int | None, reading: Reading | None = None) -> int | None:
        known = self.index.years
        year = check_year(year)
        if year is not None:
            if int(year) not in known:
                raise UnknownYearError(year, known)
            return int(year)
        if self.config.year_from_question:
            asked = [y for y in (reading.years if reading else years_in(question)) if y in known]
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
    def dense_scores(self, question: str, mask: np.ndarray | None = None) -> np.ndarray | None:
        """Dense score of every passage (see module docstring), or None for an index too big
        for exhaustive scoring (then :meth:`dense_ranking` uses the FAISS index alone).
        With ``mask``, only the passages it keeps are scored (the rest score -1): a filter
        that keeps at most ``exact_dense_max`` passages of a big index is scored exactly."""
        vectors = self.index.vectors
        n = len(self.index.passages)
        if len(vectors) != n:
            return None
        rows = None
        if n > self.config.exact_dense_max:
            rows = np.flatnonzero(mask) if mask is not None else None
            if rows is None or len(rows) > self.config.exact_dense_max:
                return None
        q = self.query_vector(question)
        if rows is None:
            scores = vectors @ q
        else:
            scores = np.full(n, -1.0, dtype=np.float32)
            scores[rows] = vectors[rows] @ q
        beta = self.config.sentence_weight
        sentences = getattr(self.index, "sentence_vectors", None)
        if beta > 0 and n and sentences is not None:
            svecs, owner = sentences
            srows = self._sentence_rows(rows) if rows is not None else slice(None)
            owner, svecs = owner[srows], svecs[srows]
            if len(owner):
                best = scores.copy()  # one-sentence passages: the passage vector
                _max_per_owner(best, owner, svecs @ q)
                scores = (1.0 - beta) * scores + beta * best
        return scores.astype(np.float32)

    def _sentence_rows(self, rows: np.ndarray) -> np.ndarray:
        """Rows of ``index.sentence_vectors`` that belong to the passages ``rows``."""
        starts = np.array([self._first_sentence_row.get(int(r), -1) for r in rows], dtype=np.int64)
        has = starts >= 0
        counts = np.array([len(self.index.passages[int(r)].sentences) for r in rows[has]], dtype=np.int64)
        if not len(counts):
            return np.zeros(0, dtype=np.int64)
        # starts[i], starts[i]+1, …, starts[i]+counts[i]-1 for every passage, without a loop
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return np.repeat(starts[has], counts) + offsets

    def dense_ranking(self, question: str, mask: np.ndarray | None, n: int) -> tuple[list[int], np.ndarray]:
        total = self.index.dense.ntotal
        if total == 0:
            return [], np.zeros(0)
        full = self.dense_scores(question, mask)
        if full is not None:
            s = full if mask is None else np.where(mask, full, -np.inf)
            return _top(s, np.isfinite(s), n), full
        q = self.query_vector(question)[None, :]
        params = bitmap = selector = None  # the bitmap and selector must live through the search
        if mask is not None:  # a filtered FAISS search, not a search of every passage
            import faiss

            bitmap = np.packbits(mask, bitorder="little")
            selector = faiss.IDSelectorBitmap(bitmap)
            hnsw = getattr(self.index.dense, "hnsw", None)
            params = (faiss.SearchParametersHNSW(sel=selector, efSearch=hnsw.efSearch) if hnsw is not None
                      else faiss.SearchParameters(sel=selector))
        scores, ids = self.index.dense.search(q, min(n, total), params=params)
        ranking = [int(i) for i in ids[0] if i >= 0 and (mask is None or mask[i])][:n]
        full = np.full(total, -1.0, dtype=np.float32)
        full[ids[0][ids[0] >= 0]] = scores[0][ids[0] >= 0]
        return ranking, full

    def sentence_scores(self, question: str, passages: list[Passage],
                        mix: str | None = None, mix_weight: float = 0.0) -> dict[tuple[str, int], float]:
        """Cosine of the question with each sentence of ``passages``, keyed (passage id,
        sentence start); a one-sentence passage scores with its passage vector."""
        index, qv = self.index, self.query_vector(question, mix, mix_weight)
        out: dict[tuple[str, int], float] = {}
        for p in passages:
            pos = self._position[p.id]
            sents = p.sentences or ((p.start, p.end),)
            row = self._first_sentence_row.get(pos)
            if row is None:
                score = float(index.vectors[pos] @ qv)
                out.update({(p.id, start): score for start, _ in sents})
            else:
                rows = index.sentence_vectors[0][row : row + len(sents)]
                out.update({(p.id, start): float(v @ qv) for (start, _), v in zip(sents, rows)})
        return out

    def query_vector(self, question: str, mix: str | None = None, mix_weight: float = 0.0) -> np.ndarray:
        """The question's embedding, (dim,); cached, since one answer searches up to once
        per report year and then scores sentences with the same vector.

        ``mix``: a second query (an English question's bridged Chinese terms) blended in with
        weight ``mix_weight``: cosines with the blend are the weighted cosines of the two."""
        vecs = self.prefetch([question, mix] if mix else [question])
        if not mix or not mix_weight:
            return vecs[question]
        return ((1 - mix_weight) * vecs[question] + mix_weight * vecs[mix]).astype(np.float32)

    def prefetch(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The query vectors of ``texts``, those not cached embedded in one call (an
        English question and its bridged Chinese terms: one call of two costs about 60-80%
        of two calls)."""
        cache = self.__dict__.setdefault("_qcache", QueryCache())
        found = {t: cache.get(t) for t in dict.fromkeys(texts) if t}
        missing = [t for t, v in found.items() if v is None]
        if missing:
            for t, v in zip(missing, self.embedder.embed_queries(missing)):
                found[t] = cache.put(t, v)
        return found

    def bm25_query_tokens(self, question: str, reading: Reading | None = None) -> list[str]:
        """BM25 tokens: the Chinese question's own; for English, the Chinese terms the
        question analysis found (glossary and dictionary bridge), else the glossary's."""
        terms = list(reading.terms) if reading else None
        if (reading.lang == "zh") if reading else is_chinese(question):
            return tokenize(question, self.userdict)
        if terms:
            return tokenize(" ".join(terms), self.userdict)
        terms = self.glossary.zh_terms_for(question) if self.glossary else []
        return tokenize(" ".join(terms), self.userdict) if terms else []

    def bm25_ranking(self, tokens: list[str], mask: np.ndarray | None, n: int) -> tuple[list[int], np.ndarray]:
        if not tokens:
            return [], np.zeros(len(self.index.passages))
        scores = np.asarray(self.index.bm25.get_scores(tokens), dtype=np.float32)
        keep = scores > 0 if mask is None else (scores > 0) & mask
        return _top(scores, keep, n), scores

    # -- public --
    def search(self, question: str, k: int = 5, *, year: int | None = None,
               doc_id: str | None = None, reading: Reading | None = None) -> list[Hit]:
        """Top ``k`` passages for ``question`` (see module docstring for the fusion).
        ``reading``: the question as the analysis read it (language, years, bridged terms for
        BM25); without it the string is read here. (Blending the bridged terms into the dense
        query too cost XQuAD en 0.06 figure accuracy: benchmarks/RESULTS.md.)"""
        question = check_question(question)
        k = check_k(k)
        cfg = self.config
        mask = self._mask(self.resolve_year(question, year, reading), doc_id)
        dense, dense_full = self.dense_ranking(question, mask, cfg.candidates)
        tokens = self.bm25_query_tokens(question, reading)
        bm25, bm25_full = self.bm25_ranking(tokens, mask, cfg.candidates)
        zh = reading.lang == "zh" if reading else is_chinese(question)
        w_dense = cfg.zh_dense_weight if zh else cfg.en_dense_weight
        w_bm25 = cfg.zh_bm25_weight if zh else cfg.en_bm25_weight
        if cfg.fusion == "rrf":
            fused = rrf([(dense, w_dense), (bm25, w_bm25)], cfg.rrf_k)
        else:
            pool = list(dict.fromkeys((dense if w_dense > 0 else []) + (bm25 if w_bm25 > 0 else [])))
            if len(dense_full) and len(pool) and np.any(dense_full[pool] < -0.999):
                dense_full = self._fill_dense(question, dense_full, pool)
            bm25_full = self._fill_bm25(tokens, bm25_full, pool)
            fused = minmax_fusion(pool, dense_full, bm25_full, w_dense / (w_dense + w_bm25))
        dense_pos = {i: r for r, i in enumerate(dense, start=1)}
        bm25_pos = {i: r for r, i in enumerate(bm25, start=1)}
        # ties (e.g. weight 0 on one side) break by dense rank, then bm25 rank
        order = sorted(fused, key=lambda i: (-fused[i], dense_pos.get(i, 10**9), bm25_pos.get(i, 10**9)))
        return [
            Hit(self.index.passages[i], round(fused[i], 6), r, dense_pos.get(i), bm25_pos.get(i))
            for r, i in enumerate(order[:k], start=1)
        ]

    def _fill_dense(self, question: str, full: np.ndarray, pool: list[int]) -> np.ndarray:
        """Exact dense scores for BM25 candidates that the (approximate) FAISS search missed."""
        full = full.copy()
        missing = [i for i in pool if full[i] < -0.999]
        q = self.query_vector(question)
        full[missing] = self.index.vectors[missing] @ q
        return full

    def _fill_bm25(self, tokens: list[str], full: np.ndarray, pool: list[int]) -> np.ndarray:
        """BM25 scores of the fused pool; bm25s scored every passage already (a backend that
        returns only its top hits, qa.milvus_store, fills in the others here)."""
        return full


def _max_per_owner(out: np.ndarray, owner: np.ndarray, values: np.ndarray) -> None:
    """``out[o] = max(values[owner == o])`` for every owner ``o`` present. The index stores
    sentences in passage order, so one ``maximum.reduceat`` over the runs does it (ufunc.at,
    element by element, cost about as much as the rest of the query at 1x the corpus)."""
    if len(owner) > 1 and np.any(owner[1:] < owner[:-1]):  # not in order: the general way
        out[np.unique(owner)] = -np.inf
        np.maximum.at(out, owner, values)
        return
    firsts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    out[owner[firsts]] = np.maximum.reduceat(values, firsts)


def _top(scores: np.ndarray, keep: np.ndarray, n: int) -> list[int]:
    """Positions of the ``n`` best ``scores`` among those ``keep`` allows, best first, ties
    in position order — what a stable sort of every score gives, without sorting (or
    looping in Python over) every passage of a big index.

    >>> _top(np.array([1.0, 3.0, 3.0, 0.0, 2.0]), np.array([True, True, True, False, True]), 3)
    [1, 2, 4]
    """
    if n <= 0:
        return []
    idx = np.flatnonzero(keep)
    s = scores[idx]
    if len(idx) > n:
        t = np.partition(s, len(s) - n)[len(s) - n]  # the n-th best score
        above = np.flatnonzero(s > t)
        ties = np.flatnonzero(s == t)[: n - len(above)]  # the first of equal scores, as a stable sort
        sel = np.concatenate([above, ties])
        idx, s = idx[sel], s[sel]
    return idx[np.lexsort((idx, -s))].tolist()


_RETRIEVERS: dict[str, Retriever] = {}


def get_retriever(index_dir: str | Path | None = None, embedder_spec: str | None = None,
                  backend: str | None = None, uri: str | None = None) -> Retriever:
    """One retriever per index folder (and backend) per process (the model and index load once).

    ``backend``: ``"local"`` (FAISS + bm25s) or ``"milvus"`` (at ``uri``, else the URI the
    index was built with); None: the backend the index was built with."""
    key = str(Path(index_dir or DEFAULT_INDEX).resolve())
    if backend or uri:
        key += f"|{backend}|{uri}"
    if key not in _RETRIEVERS:
        _RETRIEVERS[key] = make_retriever(ensure_index(index_dir or DEFAULT_INDEX, embedder_spec=embedder_spec),
                                          backend, uri)
    return _RETRIEVERS[key]


def make_retriever(index: Index, backend: str | None = None, uri: str | None = None) -> Retriever:
    """The retriever of ``backend`` (default: the index's own, from its manifest) over ``index``."""
    from qa.index import BACKENDS

    built = index.manifest.get("backend")
    backend = backend or (built.get("name") if isinstance(built, dict) else None) or ("milvus" if uri else "local")
    if backend not in BACKENDS:
        raise QAError(f"unknown backend {backend!r}; use one of: {', '.join(BACKENDS)}")
    if backend == "milvus":
        from qa.milvus_store import MilvusRetriever

        return MilvusRetriever(index, uri=uri)
    return Retriever(index)


MAX_K = 50  # passages per question: more is never useful and only slower


def check_k(k: object) -> int:
    """The number of passages as an int: 5 and "5" are fine; 0, -1, None, True, "five" and
    500 are a clean QuestionError, never a TypeError deep in retrieval.

    >>> check_k("5")
    5
    """
    if isinstance(k, bool) or not isinstance(k, (int, str)) or (isinstance(k, str) and not k.strip().isdigit()):
        raise QuestionError(f"k must be a whole number of passages from 1 to {MAX_K}; got {str(k)[:40]!r}")
    n = int(k)
    if not 1 <= n <= MAX_K:
        raise QuestionError(f"k must be from 1 to {MAX_K}; got {n}")
    return n


def check_year(year: object) -> int | None:
    """A report year as an int (2023 or "2023"), or None; True, 2023.5 or "last" are a clean
    QuestionError.

    >>> check_year("2023"), check_year(None)
    (2023, None)
    """
    if year is None:
        return None
    if isinstance(year, bool) or not isinstance(year, (int, str)) or (isinstance(year, str) and not year.strip().isdigit()):
        raise QuestionError(f"year must be a report year such as 2023; got {str(year)[:40]!r}")
    return int(year)


def search(question: str, *, year: int | None = None, k: int = 5,
           index_dir: str | Path | None = None) -> list[Hit]:
    return get_retriever(index_dir).search(question, k=k, year=year)
