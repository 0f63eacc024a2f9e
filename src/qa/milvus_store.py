"""Stage 4b/5b: a Milvus backend behind the same retriever (``--backend milvus --uri URI``).

    $ qa index --backend milvus --uri ./qa.db            # Milvus Lite: an embedded local file
    $ qa ask "2023年高企贷支持了多少家企业？"               # the manifest remembers backend and URI
    $ qa index --backend milvus --uri http://milvus:19530  # a Milvus server: the same client

What lives where. Milvus holds what is *searched*: one collection of passages (position,
doc_id, year, the dense passage vector, and our own BM25 tokens in a VARCHAR that a Milvus
``BM25`` function turns into a sparse vector) and one collection of sentence vectors (for the
best-sentence part of the dense score). The index folder keeps what the reader needs next to
it — passages, figures, passage and sentence vectors — and its manifest records
``backend: {name: milvus, uri, collection, sentence_collection}``. So Milvus finds the
candidates; their exact dense scores are recomputed from the local vectors, which keeps the
ranking identical to the default FAISS + bm25s backend (see :class:`MilvusRetriever`).

Why BM25 gets our tokens and not a Milvus analyzer: the same tokens (jieba search mode with
the corpus's userdict, character bigrams, our stopwords) make Milvus's BM25 the same function
as bm25s's (k1 1.2, b 0.75, Lucene IDF), so fusion sees the same scores. Milvus Lite 3.2 has
only the ``standard`` (``\\w+``) and ``jieba`` analyzers — no ``whitespace`` — so each token
is written as the hex of its UTF-8 bytes: one ``[0-9a-f]+`` word per token for any analyzer
that splits on non-word characters, on Milvus Lite and a server alike. Milvus multiplies BM25
by ``k1 + 1`` and Milvus Lite returns it negated as a distance; :meth:`MilvusStore.search_bm25`
undoes both.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from qa.errors import QAError
from qa.index import BM25_B, BM25_K1, Index
from qa.retrieve import Retriever

INSTALL_HINT = "pip install 'qa[milvus]'"
INSERT_BATCH = 256  # rows per insert call: well under the gRPC message limit for 1,200-char passages
MAX_TOPK = 16_384  # the largest limit a Milvus search accepts
DENSE_DEPTH = 2  # first dense search depth, in multiples of the candidates asked for
BM25_TIE_MARGIN = 20  # extra BM25 hits fetched so that ties at the cut break by position, as bm25s
SCORE_EPS = 1e-5  # Milvus and numpy round dot products differently; a bound must clear this
MAX_TOKENS_CHARS = 65_535  # the longest VARCHAR Milvus stores


class MilvusBackendError(QAError):
    """The Milvus backend cannot be used: package missing, URI unreachable, collection gone."""


# --- connection ----------------------------------------------------------------------------

_CLIENTS: dict[str, Any] = {}


def _pymilvus():
    try:
        import pymilvus
    except ImportError:
        raise MilvusBackendError(f"the Milvus backend needs pymilvus and milvus-lite: {INSTALL_HINT}") from None
    return pymilvus


def normalize_uri(uri: str | None) -> str:
    """``uri`` with a local Milvus Lite file made absolute (the manifest records it, and a
    question asked from another folder must open the same file); a server URI as given."""
    if not isinstance(uri, str) or not uri.strip():
        raise MilvusBackendError("the Milvus backend needs --uri: a local file such as ./qa.db, "
                                 "or a server such as http://localhost:19530")
    uri = uri.strip()
    return str(Path(uri).expanduser().resolve()) if "://" not in uri and uri.endswith(".db") else uri


def connect(uri: str | None) -> Any:
    """A MilvusClient for ``uri`` (a local ``.db`` file opens Milvus Lite in this process),
    one per URI per process; an unreachable URI is a one-line error naming it."""
    uri = normalize_uri(uri)
    if uri not in _CLIENTS:
        pymilvus = _pymilvus()
        if uri.endswith(".db"):
            try:
                import milvus_lite  # noqa: F401 — pymilvus opens .db files with it
            except ImportError:
                raise MilvusBackendError(f"a local Milvus file ({uri}) needs milvus-lite: {INSTALL_HINT}") from None
        try:
            _CLIENTS[uri] = pymilvus.MilvusClient(uri=uri, timeout=10)
        except Exception as exc:  # noqa: BLE001 — any failure to open means the same thing
            raise MilvusBackendError(f"cannot reach Milvus at '{uri}' ({_reason(exc)}); check --uri "
                                     "(a local file such as ./qa.db, or http://host:19530)") from None
    return _CLIENTS[uri]


def _reason(exc: Exception) -> str:
    msg = getattr(exc, "message", None) or str(exc)
    return " ".join(str(msg).split())[:160]


# --- tokens and names ----------------------------------------------------------------------

def encode_tokens(tokens: Iterable[str]) -> str:
    """Our BM25 tokens as one string Milvus's analyzer splits back into exactly these tokens:
    each token becomes the hex of its UTF-8 bytes (``[0-9a-f]+``), so ``3534.78`` or ``covid-19``
    stay one token under a ``\\w+`` analyzer, and distinct tokens stay distinct.

    >>> encode_tokens(["高企", "3534.78"])
    'e9ab98e4bc81 333533342e3738'
    """
    return " ".join(t.encode("utf-8").hex() for t in tokens)


def collection_base(index_dir: Path) -> str:
    """A collection name for the index at ``index_dir``: its folder name (made safe) and a hash
    of its absolute path, so two indexes can share one Milvus; a build adds a generation."""
    path = str(Path(index_dir).resolve())
    stem = re.sub(r"[^A-Za-z0-9_]", "_", Path(path).name)[:40] or "index"
    return f"qa_{stem}_{hashlib.sha1(path.encode('utf-8')).hexdigest()[:8]}"


# --- the store -----------------------------------------------------------------------------

class MilvusStore:
    """The two collections of one index in one Milvus: passages (dense + BM25) and sentences."""

    def __init__(self, uri: str, collection: str, sentence_collection: str) -> None:
        self.uri, self.collection, self.sentence_collection = normalize_uri(uri), collection, sentence_collection
        self.client = connect(uri)

    # -- build --
    @classmethod
    def create(cls, uri: str, base: str, index: Index, tokens: list[list[str]],
               log: Callable[[str], None] = lambda msg: None) -> "MilvusStore":
        """New collections ``<base>_<generation>`` (and ``..._s``) filled from ``index``."""
        generation = format(time.time_ns(), "x")
        store = cls(uri, f"{base}_{generation}", f"{base}_{generation}_s")
        dim = index.vectors.shape[1] if index.vectors.ndim == 2 else index.manifest["embedder"]["dim"]
        try:
            store._create_passages(dim)
            store._create_sentences(dim)
            store._fill(index, tokens)
        except MilvusBackendError:
            store.drop()
            raise
        except Exception as exc:  # noqa: BLE001 — a failed fill leaves no half collection behind
            store.drop()
            raise MilvusBackendError(f"Milvus at '{uri}' refused the index ({_reason(exc)})") from None
        log(f"milvus: {len(index.passages)} passages and {store._sentence_count(index)} sentences "
            f"in collections {store.collection} / {store.sentence_collection} at {uri}")
        return store

    def _schema(self):
        pymilvus = _pymilvus()
        return pymilvus.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False), pymilvus.DataType

    def _create_passages(self, dim: int) -> None:
        from pymilvus import Function, FunctionType

        schema, DataType = self._schema()
        schema.add_field("pos", DataType.INT64, is_primary=True)  # the passage's place in passages.jsonl
        schema.add_field("year", DataType.INT64)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("tokens", DataType.VARCHAR, max_length=MAX_TOKENS_CHARS, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard"})
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["tokens"], output_field_names=["sparse"]))
        params = self.client.prepare_index_params()
        params.add_index("vector", index_type="FLAT", metric_type="IP")  # exact, as FAISS IndexFlatIP
        # nested under "params": Milvus Lite reads BM25 parameters only from there (a server too)
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                         params={"params": {"bm25_k1": BM25_K1, "bm25_b": BM25_B}})
        self.client.create_collection(self.collection, schema=schema, index_params=params,
                                      consistency_level="Strong")

    def _create_sentences(self, dim: int) -> None:
        schema, DataType = self._schema()
        schema.add_field("row", DataType.INT64, is_primary=True)
        schema.add_field("pos", DataType.INT64)  # the passage the sentence belongs to
        schema.add_field("year", DataType.INT64)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        params = self.client.prepare_index_params()
        params.add_index("vector", index_type="FLAT", metric_type="IP")
        self.client.create_collection(self.sentence_collection, schema=schema, index_params=params,
                                      consistency_level="Strong")

    @staticmethod
    def _sentence_count(index: Index) -> int:
        return 0 if index.sentence_vectors is None else len(index.sentence_vectors[1])

    def _fill(self, index: Index, tokens: list[list[str]]) -> None:
        passages = index.passages
        rows = []
        for i, (p, toks) in enumerate(zip(passages, tokens)):
            text = encode_tokens(toks)
            if len(text) > MAX_TOKENS_CHARS:
                raise MilvusBackendError(f"passage {p.id} has too many BM25 tokens for a Milvus VARCHAR")
            rows.append({"pos": i, "year": int(p.year), "doc_id": p.doc_id,
                         "vector": index.vectors[i].tolist(), "tokens": text})
        self._insert(self.collection, rows)
        if index.sentence_vectors is not None:
            svecs, owner = index.sentence_vectors
            self._insert(self.sentence_collection, [
                {"row": r, "pos": int(o), "year": int(passages[o].year), "doc_id": passages[o].doc_id,
                 "vector": svecs[r].tolist()} for r, o in enumerate(owner.tolist())])
        # one flush after all rows: Milvus Lite keeps BM25 statistics per segment, so the
        # whole collection in one segment scores with the corpus-wide IDF and average length
        for name in (self.collection, self.sentence_collection):
            self.client.flush(name)
            self.client.load_collection(name)

    def _insert(self, name: str, rows: list[dict]) -> None:
        for b in range(0, len(rows), INSERT_BATCH):
            self.client.insert(name, rows[b : b + INSERT_BATCH])

    def drop(self) -> None:
        for name in (self.collection, self.sentence_collection):
            try:
                if self.client.has_collection(name):
                    self.client.drop_collection(name)
            except Exception:  # noqa: BLE001 — dropping is cleanup; a leftover is harmless
                pass

    def to_manifest(self) -> dict:
        return {"name": "milvus", "uri": self.uri, "collection": self.collection,
                "sentence_collection": self.sentence_collection,
                "bm25": {"k1": BM25_K1, "b": BM25_B, "tokens": "qa.tokenize, hex-encoded", "analyzer": "standard"}}

    # -- check --
    def check(self, index: Index) -> None:
        """The collection must exist and hold one row per passage of ``index``."""
        try:
            exists = self.client.has_collection(self.collection)
            rows = int(self.client.get_collection_stats(self.collection).get("row_count", -1)) if exists else 0
        except Exception as exc:  # noqa: BLE001
            raise MilvusBackendError(f"cannot read Milvus at '{self.uri}' ({_reason(exc)})") from None
        if not exists:
            raise MilvusBackendError(f"Milvus at '{self.uri}' has no collection {self.collection}; "
                                     f"rebuild with: qa index --backend milvus --uri {self.uri}")
        if rows != len(index.passages):
            raise MilvusBackendError(f"Milvus collection {self.collection} at '{self.uri}' holds {rows} passages, "
                                     f"the index {len(index.passages)}; rebuild with: qa index --backend milvus "
                                     f"--uri {self.uri}")

    # -- search --
    def _search(self, name: str, data: list, field: str, limit: int, expr: str | None,
                params: dict, key: str) -> list[tuple[int, float]]:
        if limit <= 0:
            return []
        try:
            res = self.client.search(name, data=data, anns_field=field, limit=min(limit, MAX_TOPK),
                                     filter=expr or "", output_fields=[key], search_params=params)
        except Exception as exc:  # noqa: BLE001
            raise MilvusBackendError(f"Milvus search at '{self.uri}' failed ({_reason(exc)})") from None
        return [(int(h["entity"][key]), float(h["distance"])) for h in res[0]]

    def search_dense(self, q: np.ndarray, limit: int, expr: str | None) -> list[tuple[int, float]]:
        """(passage position, inner product) of the ``limit`` best passages, best first."""
        return self._search(self.collection, [q.tolist()], "vector", limit, expr, {"metric_type": "IP"}, "pos")

    def search_sentences(self, q: np.ndarray, limit: int, expr: str | None) -> list[tuple[int, float]]:
        """(owning passage position, inner product) of the ``limit`` best sentences, best first."""
        return self._search(self.sentence_collection, [q.tolist()], "vector", limit, expr,
                            {"metric_type": "IP"}, "pos")

    def search_bm25(self, tokens: list[str], limit: int, expr: str | None) -> list[tuple[int, float]]:
        """(passage position, BM25 score as bm25s computes it) of the best ``limit`` passages.

        Milvus scores are ``(k1 + 1)`` times bm25s's (its TF part keeps the factor) and Milvus
        Lite returns them negated (a distance: smaller is better), a server as they are; the
        absolute value over ``k1 + 1`` is bm25s's score either way (BM25 with Lucene IDF is
        never negative)."""
        hits = self._search(self.collection, [encode_tokens(tokens)], "sparse", limit, expr, {"params": {}}, "pos")
        return [(pos, abs(d) / (BM25_K1 + 1.0)) for pos, d in hits if d != 0.0]


# --- build hooks (called by qa.index under its build lock) ----------------------------------

def publish(index: Index, index_dir: Path, uri: str, tokens: list[list[str]],
            log: Callable[[str], None] = lambda msg: None) -> MilvusStore:
    """Fill new collections for ``index`` and record them in its manifest (the manifest is
    written after this returns: readers switch to the new collections with the folder swap)."""
    store = MilvusStore.create(uri, collection_base(index_dir), index, tokens, log)
    index.manifest["backend"] = store.to_manifest()
    return store


def retire(old: dict, keep: dict | None, log: Callable[[str], None] = lambda msg: None) -> None:
    """Drop the collections of a previous build (``old``: its manifest's ``backend``), unless
    they are the ones kept; an unreachable Milvus only leaves them behind, with a notice."""
    if not isinstance(old, dict) or old.get("name") != "milvus":
        return
    keep = keep or {}
    if old.get("uri") == keep.get("uri") and old.get("collection") == keep.get("collection"):
        return
    try:
        MilvusStore(str(old.get("uri")), str(old.get("collection")), str(old.get("sentence_collection"))).drop()
    except MilvusBackendError as exc:
        log(f"notice: the previous Milvus collections were not dropped: {exc}")


# --- retrieval -----------------------------------------------------------------------------

class MilvusRetriever(Retriever):
    """The hybrid retriever with both rankers answered by Milvus; fusion, filters, the reader
    and everything downstream are :class:`~qa.retrieve.Retriever`'s own.

    Dense: Milvus returns the best passages by passage vector and the best sentences by
    sentence vector; the union is scored exactly as the default backend scores every passage,
    ``(1-β)·cos(passage) + β·max cos(sentence)``, from the index's own vectors. A passage
    Milvus returned in neither list scores at most ``(1-β)·p_last + β·max(s_last, p_last)``
    (the last scores returned); while the n-th best candidate does not beat that bound, both
    searches go twice as deep — so the top ``n`` is the exact one, not an approximation.

    BM25: Milvus's BM25 over our own tokens (module docstring) with the same k1 and b, so the
    scores are bm25s's; a fused candidate outside Milvus's top hits gets its score from a
    second search restricted to those passages.
    """

    def __init__(self, index: Index, uri: str | None = None, embedder=None, config=None, glossary=None,
                 store: MilvusStore | None = None) -> None:
        super().__init__(index, embedder, config, glossary)
        self.store = store or store_for(index, uri)
        self.store.check(index)
        owner = index.sentence_vectors[1] if index.sentence_vectors is not None else np.zeros(0, int)
        firsts, counts = np.unique(owner, return_counts=True)
        self._sentence_count = dict(zip(firsts.tolist(), counts.tolist()))

    # -- filters as Milvus expressions --
    def _filter(self, mask: np.ndarray | None) -> tuple[str | None, int]:
        """The Milvus filter of a passage mask and how many passages pass it: by year and
        doc_id when the mask is exactly that (the usual case), else by position."""
        if mask is None:
            return None, len(self.index.passages)
        allowed = int(mask.sum())
        years = sorted({int(y) for y in self._year[mask]})
        docs = sorted({str(d) for d in self._doc[mask]})
        if allowed and np.array_equal(mask, np.isin(self._year, years) & np.isin(self._doc, docs)):
            return f"year in {years} and doc_id in {json.dumps(docs, ensure_ascii=False)}", allowed
        return f"pos in {np.flatnonzero(mask).tolist()}", allowed

    # -- dense --
    def _exact(self, allowed: int) -> bool:
        """Whether dense scores are exact (with the best sentence), as Retriever.dense_scores
        decides: the index, or the passages a filter keeps, within ``exact_dense_max``."""
        n = len(self.index.passages)
        return len(self.index.vectors) == n and min(n, allowed) <= self.config.exact_dense_max

    def _dense_exact(self, q: np.ndarray, ids: list[int]) -> np.ndarray:
        """The default backend's dense score (Retriever.dense_scores) of passages ``ids``."""
        idx = np.asarray(ids, dtype=np.int64)
        scores = self.index.vectors[idx] @ q
        beta = self.config.sentence_weight
        if beta > 0 and self.index.sentence_vectors is not None and self._sentence_count:
            svecs = self.index.sentence_vectors[0]
            best = scores.copy()  # one-sentence passages: the passage vector
            for j, pos in enumerate(idx.tolist()):
                row = self._first_sentence_row.get(pos)
                if row is not None:
                    best[j] = (svecs[row : row + self._sentence_count[pos]] @ q).max()
            scores = (1.0 - beta) * scores + beta * best
        return scores.astype(np.float32)

    def dense_ranking(self, question: str, mask: np.ndarray | None, n: int) -> tuple[list[int], np.ndarray]:
        total = len(self.index.passages)
        full = np.full(total, -1.0, dtype=np.float32)  # -1: not scored (search() fills the pool's)
        expr, allowed = self._filter(mask)
        if total == 0 or allowed == 0:
            return [], full
        q = self.query_vector(question)
        exact = self._exact(allowed)
        sentences = (exact and self.config.sentence_weight > 0 and bool(self._sentence_count))
        beta = self.config.sentence_weight if sentences else 0.0
        depth = min(max(n, 1) * DENSE_DEPTH, allowed)
        while True:
            hits = self.store.search_dense(q, depth, expr)
            found = {pos: s for pos, s in hits}
            p_last = hits[-1][1] if hits and len(hits) >= depth and depth < allowed else -np.inf
            s_last = -np.inf
            if sentences:
                s_hits = self.store.search_sentences(q, 2 * depth, expr)
                found.update({pos: found.get(pos, s) for pos, s in s_hits})
                s_last = s_hits[-1][1] if len(s_hits) >= 2 * depth else -np.inf
            ids = sorted(found)
            full[ids] = self._dense_exact(q, ids) if exact else [found[i] for i in ids]
            order = sorted(ids, key=lambda i: (-full[i], i))[:n]
            if not exact or p_last == -np.inf and s_last == -np.inf or depth >= MAX_TOPK:
                break
            bound = (1.0 - beta) * p_last + beta * max(s_last, p_last)
            if len(order) >= min(n, allowed) and full[order[-1]] > bound + SCORE_EPS:
                break
            depth = min(depth * 2, allowed, MAX_TOPK)
        return order, full

    def _fill_dense(self, question: str, full: np.ndarray, pool: list[int]) -> np.ndarray:
        full = full.copy()
        missing = [i for i in pool if full[i] < -0.999]
        q = self.query_vector(question)
        # exact whenever the vectors are here; only an unfiltered index above exact_dense_max
        # differs from the default backend (which fills passage cosines there)
        exact = len(self.index.vectors) == len(self.index.passages)
        full[missing] = self._dense_exact(q, missing) if exact else self.index.vectors[missing] @ q
        return full

    # -- BM25 --
    def bm25_ranking(self, tokens: list[str], mask: np.ndarray | None, n: int) -> tuple[list[int], np.ndarray]:
        total = len(self.index.passages)
        if not tokens:
            return [], np.zeros(total)
        full = np.full(total, -1.0, dtype=np.float32)  # -1: not known yet (see _fill_bm25)
        expr, allowed = self._filter(mask)
        if allowed == 0:
            return [], np.zeros(total)
        limit = min(n + BM25_TIE_MARGIN, allowed)
        hits = self.store.search_bm25(tokens, limit, expr)
        for pos, s in hits:
            full[pos] = s
        if len(hits) < limit:  # every passage that matches a token was returned: the rest score 0
            full[full < 0] = 0.0
        order = sorted((pos for pos, _ in hits), key=lambda i: (-full[i], i))[:n]
        return order, full

    def _fill_bm25(self, tokens: list[str], full: np.ndarray, pool: list[int]) -> np.ndarray:
        missing = [i for i in pool if full[i] < 0]
        if not missing:
            return full
        full = full.copy()
        full[missing] = 0.0
        if tokens:
            for pos, s in self.store.search_bm25(tokens, len(missing), f"pos in {missing}"):
                full[pos] = s
        return full


def store_for(index: Index, uri: str | None = None) -> MilvusStore:
    """The Milvus collections of ``index`` (from its manifest), at ``uri`` if given (the same
    collections reached another way), else at the URI the index was built with."""
    backend = index.manifest.get("backend")
    if not isinstance(backend, dict) or backend.get("name") != "milvus" or not backend.get("collection"):
        where = f" --uri {uri}" if uri else " --uri URI"
        raise MilvusBackendError(f"the index at '{index.path}' has no Milvus collection; "
                                 f"build one with: qa index --backend milvus{where}")
    return MilvusStore(uri or str(backend.get("uri")), str(backend["collection"]),
                       str(backend.get("sentence_collection")))
