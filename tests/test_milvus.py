"""The Milvus backend (qa.milvus_store), run for real against Milvus Lite (a local .db file):
the same hits and answers as the default FAISS + bm25s backend, filters, clean errors, and a
rebuild that replaces the collections."""
from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest

pytest.importorskip("pymilvus", reason="the Milvus backend needs pymilvus: pip install 'qa[milvus]'")
pytest.importorskip("milvus_lite", reason="the Milvus backend tests need milvus-lite: pip install 'qa[milvus]'")

from qa.cli import main  # noqa: E402
from qa.index import build_index, load_index  # noqa: E402
from qa.retrieve import RetrievalConfig, Retriever, make_retriever  # noqa: E402

QUESTIONS = [
    "2023年高企贷支持了多少家企业？",
    "How many PCT applications did Shanghai file in 2023?",
    "科技金融",
    "研发投入占比是多少",
    "专利授权量",
]
QUIET = {"log": lambda msg: None}


@pytest.fixture(scope="module")
def milvus_index(seed_corpus, tmp_path_factory):
    """The fixture corpus indexed with the fake embedder, searched through Milvus Lite."""
    root = tmp_path_factory.mktemp("milvus")
    build_index(seed_corpus, root / "index", "fake", backend="milvus", uri=str(root / "m.db"), **QUIET)
    return root


@pytest.fixture(scope="module")
def pair(milvus_index):
    index = load_index(milvus_index / "index")
    return Retriever(index), make_retriever(index)


def _hits(retriever, question, **kw):
    return [(h.passage.id, h.rank, h.dense_rank, h.bm25_rank) for h in retriever.search(question, k=20, **kw)]


def test_the_manifest_names_the_backend_and_the_retriever_follows_it(milvus_index, pair):
    backend = load_index(milvus_index / "index").manifest["backend"]
    assert backend["name"] == "milvus" and backend["uri"].endswith("m.db") and backend["collection"]
    assert type(pair[1]).__name__ == "MilvusRetriever" and type(pair[0]) is Retriever


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("filters", [{}, {"year": 2021}, {"doc_id": "sh-st-2023"}])
def test_same_hits_in_the_same_order(pair, question, filters):
    local, milvus = pair
    got = _hits(milvus, question, **filters)
    assert got == _hits(local, question, **filters) and got
    if filters:
        key, value = next(iter(filters.items()))
        assert {getattr(h.passage, key) for h in milvus.search(question, k=20, **filters)} == {value}


def test_same_hits_when_the_dense_search_must_go_deeper(milvus_index):
    """Few candidates: the first Milvus searches cannot prove the top n, so they deepen."""
    index = load_index(milvus_index / "index")
    config = RetrievalConfig(candidates=2)
    local = Retriever(index, config=config)
    milvus = make_retriever(index)
    milvus.config = config
    for q in QUESTIONS:
        assert _hits(milvus, q) == _hits(local, q)
        assert milvus.dense_ranking(q, None, 2)[0] == local.dense_ranking(q, None, 2)[0]


def test_a_filter_small_enough_is_scored_exactly_in_a_big_index(milvus_index):
    """Above exact_dense_max the default backend still scores a small filter exactly; so does Milvus's."""
    index = load_index(milvus_index / "index")
    config = RetrievalConfig(exact_dense_max=len(index.passages) - 1)
    local, milvus = Retriever(index, config=config), make_retriever(index)
    milvus.config = config
    for q in QUESTIONS:
        assert _hits(milvus, q, year=2021) == _hits(local, q, year=2021)


def test_bm25_scores_are_bm25s_scores(pair):
    """Milvus multiplies BM25 by k1+1 and Milvus Lite negates it: both are undone."""
    local, milvus = pair
    tokens = local.bm25_query_tokens("2023年高企贷支持了多少家企业？")
    ranking, scores = milvus.bm25_ranking(tokens, None, 10)
    expected, full = local.bm25_ranking(tokens, None, 10)
    assert ranking == expected
    assert np.allclose(scores[ranking], full[ranking], rtol=1e-5) and scores[ranking[0]] > 0


def test_same_answers(pair):
    from qa.answer import Answerer

    local, milvus = (Answerer(r) for r in pair)
    for q in QUESTIONS:
        a, b = local.ask(q).to_dict(), milvus.ask(q).to_dict()
        for key in ("answer", "figures", "citations", "answerable"):
            assert a[key] == b[key], (q, key)


def test_cli_search_through_milvus_and_the_unknown_year_error(capsys, milvus_index):
    index = milvus_index / "index"
    assert main(["search", QUESTIONS[0], "--json", "--index", str(index), "--backend", "milvus"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert main(["search", QUESTIONS[0], "--json", "--index", str(index), "--backend", "local"]) == 0
    assert hits == json.loads(capsys.readouterr().out)["hits"]
    assert main(["search", "高企贷", "--year", "2019", "--index", str(index)]) == 2
    assert "no report for year 2019" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["search", "高企贷", "--uri", "http://127.0.0.1:1"], "cannot reach Milvus at 'http://127.0.0.1:1'"),
    (["search", "高企贷", "--backend", "milvus", "--uri", "/nonexistent/dir/m.db"],
     "cannot reach Milvus at '/nonexistent/dir/m.db'"),
    (["search", "高企贷", "--backend", "local", "--uri", "x.db"], "--uri is for --backend milvus"),
])
def test_a_bad_uri_is_one_line(capsys, milvus_index, argv, message):
    code = main([*argv, "--index", str(milvus_index / "index")])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("qa: error: ") and message in err


def test_milvus_on_a_local_index_and_without_a_uri_are_one_line(capsys, fake_index, corpus_copy, tmp_path):
    assert main(["search", "高企贷", "--backend", "milvus", "--index", str(fake_index)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no Milvus collection" in err and "qa index --backend milvus" in err
    assert main(["index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "i"), "--embedder", "fake",
                 "--backend", "milvus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs --uri" in err
    assert not (tmp_path / "i").exists()  # said before any embedding, nothing written


def test_missing_pymilvus_says_what_to_install(monkeypatch):
    import qa.milvus_store as ms

    monkeypatch.setitem(sys.modules, "pymilvus", None)
    monkeypatch.setattr(ms, "_CLIENTS", {})
    with pytest.raises(ms.MilvusBackendError, match=r"pip install 'qa\[milvus\]'"):
        ms.connect("other.db")


def test_reindexing_replaces_the_collections_and_a_rebuild_keeps_the_backend(capsys, seed_corpus, tmp_path):
    from qa.milvus_store import connect

    corpus, index, db = tmp_path / "corpus", tmp_path / "index", str((tmp_path / "r.db").resolve())
    shutil.copytree(seed_corpus, corpus)
    assert main(["index", "--corpus", str(corpus), "--index", str(index), "--embedder", "fake",
                 "--backend", "milvus", "--uri", "r.db"]) == 0  # relative to the working folder
    first = load_index(index).manifest["backend"]
    assert first["uri"] == db  # recorded absolute: a question from elsewhere opens the same file
    client = connect(db)
    assert set(client.list_collections()) == {first["collection"], first["sentence_collection"]}
    # a rebuild without --backend (as a stale index is rebuilt) stays in the same Milvus
    build_index(corpus, index, "fake", **QUIET)
    second = load_index(index).manifest["backend"]
    assert second["uri"] == db and second["collection"] != first["collection"]
    assert set(client.list_collections()) == {second["collection"], second["sentence_collection"]}
    # the new collection holds every passage of the new build
    n = len(load_index(index).passages)
    assert int(client.get_collection_stats(second["collection"])["row_count"]) == n
    # back to the local backend: the collections go
    build_index(corpus, index, "fake", backend="local", **QUIET)
    assert "backend" not in load_index(index).manifest and client.list_collections() == []
    capsys.readouterr()
