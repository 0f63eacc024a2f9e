"""Retrieval on big indexes (issue 12, the scale curve): the ranking shortcuts give exactly
what a full sort gives, and a year filter on an index too big for exact scoring neither
searches every passage nor loses the filter."""
import numpy as np
import pytest

from qa.index import build_index, load_index
from qa.retrieve import RetrievalConfig, Retriever, _top


def _reference_top(scores: np.ndarray, keep: np.ndarray, n: int) -> list[int]:
    """The previous code: a stable sort of every score, then a filter."""
    order = np.argsort(-scores, kind="stable")
    return [int(i) for i in order if keep[i]][:n]


@pytest.mark.parametrize("seed", range(30))
def test_top_equals_a_stable_full_sort(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 400))
    scores = rng.integers(0, 6, size).astype(np.float32)  # many ties, zeros
    keep = (scores > 0) & (rng.random(size) < 0.8)
    for n in (1, 3, 10, 100, 500):
        assert _top(scores, keep, n) == _reference_top(scores, keep, n)


def test_top_of_nothing():
    assert _top(np.array([1.0, 2.0]), np.array([False, False]), 5) == []
    assert _top(np.array([1.0, 2.0]), np.array([True, True]), 0) == []


@pytest.fixture(scope="module")
def exact(fake_index):
    return Retriever(load_index(fake_index))


def test_filtered_big_index_scores_the_filtered_passages_exactly(fake_index, exact):
    """exact_dense_max below the index size but above the 2021 report's passage count: the
    year filter is scored exactly (sentences included), as on a small index."""
    n21 = sum(p.year == 2021 for p in exact.index.passages)
    assert n21 < len(exact.index.passages)
    big = Retriever(load_index(fake_index), config=RetrievalConfig(exact_dense_max=n21))
    assert big.dense_scores("科创助力贷") is None  # unfiltered: too big for exact scores
    for q in ("2021年科创助力贷授信企业", "2021年高企贷支持了多少家企业？"):
        mask = exact._mask(2021, None)
        want, want_full = exact.dense_ranking(q, mask, 10)
        got, got_full = big.dense_ranking(q, mask, 10)
        assert got == want
        assert np.allclose(got_full[mask], want_full[mask])
        assert [h.passage.id for h in big.search(q, k=5)] == [h.passage.id for h in exact.search(q, k=5)]


def test_filtered_faiss_search_keeps_the_filter(seed_corpus, tmp_path):
    """A filter wider than exact_dense_max goes to FAISS with an ID selector (HNSW here):
    only filtered passages come back, as many as asked, and no search of every passage."""
    idx = build_index(seed_corpus, tmp_path / "ix", "fake", hnsw_threshold=10, log=lambda m: None)
    assert idx.manifest["dense"]["type"] == "IndexHNSWFlat"
    r = Retriever(load_index(tmp_path / "ix"), config=RetrievalConfig(exact_dense_max=1))
    calls = []
    search = r.index.dense.search
    r.index.dense.search = lambda q, k, **kw: calls.append(k) or search(q, k, **kw)
    mask = r._mask(2023, None)
    ranking, full = r.dense_ranking("2023年PCT专利申请受理量", mask, 5)
    assert len(ranking) == min(5, int(mask.sum()))
    assert all(mask[i] for i in ranking)
    assert calls == [5]  # not the size of the index
    exact = Retriever(load_index(tmp_path / "ix"), config=RetrievalConfig(sentence_weight=0.0))
    want = exact.dense_ranking("2023年PCT专利申请受理量", mask, 5)[0]
    assert ranking[0] == want[0]
    hits = r.search("2023年PCT专利申请受理量", k=3)
    assert hits and {h.passage.year for h in hits} == {2023}


@pytest.mark.parametrize("shuffled", [False, True])
def test_max_per_owner_equals_ufunc_at(shuffled):
    from qa.retrieve import _max_per_owner

    rng = np.random.default_rng(3)
    owner = np.sort(rng.integers(0, 50, 400))
    if shuffled:
        owner = rng.permutation(owner)
    values = rng.normal(size=400).astype(np.float32)
    want = rng.normal(size=60).astype(np.float32)
    got = want.copy()
    want[np.unique(owner)] = -np.inf
    np.maximum.at(want, owner, values)
    _max_per_owner(got, owner, values)
    assert np.array_equal(got, want)
