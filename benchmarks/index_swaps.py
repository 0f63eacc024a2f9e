"""Concurrent index builds and readers on one index folder (issue 12, reliability).

    .venv/bin/python benchmarks/index_swaps.py [--corpus corpus] [--writers 4] [--builds 10] [--readers 2]

Writers rebuild the same folder (the "fake" embedder, so the run measures the swap, not the
model) while readers load it in a loop. Reports failed builds, failed loads among all loads,
and what is left beside the folder (only the lock file should be).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, add_repo_to_path  # noqa: E402

add_repo_to_path()
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def writer(corpus: str, index: str, n: int) -> int:
    from qa.index import build_index

    fails = 0
    for _ in range(n):
        try:
            build_index(corpus, index, "fake", log=lambda m: None)
        except Exception as exc:  # noqa: BLE001 — counted, that is the measurement
            fails += 1
            print(f"build failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    return fails


def reader(index: str, seconds: float) -> tuple[int, int]:
    from qa.index import load_index

    bad = ok = 0
    t0 = time.time()
    while time.time() - t0 < seconds:
        try:
            load_index(index)
            ok += 1
        except Exception as exc:  # noqa: BLE001
            bad += 1
            print(f"load failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    return bad, ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(ROOT / "corpus"))
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--builds", type=int, default=10)
    ap.add_argument("--readers", type=int, default=2)
    args = ap.parse_args()
    from qa.index import build_index

    with tempfile.TemporaryDirectory() as tmp:
        index = str(Path(tmp) / "index")
        build_index(args.corpus, index, "fake", log=lambda m: None)
        t0 = time.time()
        with mp.Pool(args.writers + args.readers) as pool:
            ws = [pool.apply_async(writer, (args.corpus, index, args.builds)) for _ in range(args.writers)]
            time.sleep(0.5)
            seconds = 30.0
            rs = [pool.apply_async(reader, (index, seconds)) for _ in range(args.readers)]
            failed = sum(w.get() for w in ws)
            loads = [r.get() for r in rs]
        print(f"{args.writers} writers × {args.builds} builds: {failed} failed; "
              f"{args.readers} readers: {sum(b for b, _ in loads)} failed loads of {sum(b + o for b, o in loads)}; "
              f"{time.time() - t0:.0f} s; left beside the index: {sorted(p.name for p in Path(tmp).iterdir() if p.name != 'index')}")


if __name__ == "__main__":
    main()
