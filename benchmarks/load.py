"""Load test of the web app's /ask API: N concurrent gradio_client clients × M questions.

    .venv/bin/python benchmarks/load.py                  # 8 clients × 25 questions, appends to RESULTS.md
    .venv/bin/python benchmarks/load.py --clients 4 --questions 10 --no-append

Starts ``python app.py`` in a subprocess (its own port, the given index), asks the questions
once sequentially (the reference answers and the unloaded latency), then has every client ask
all of them concurrently (each client starting at a different question). Checks every
concurrent answer equals the sequential one (the whole JSON but ``timings_ms``) and that there
were no errors; reports p50/p95/max latency, throughput and the server's peak RSS (psutil when
installed, else VmHWM from /proc/<pid>/status). Exit code 1 if any answer differed or failed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import machine  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pick_questions(gold: Path, n: int) -> list[dict]:
    """n questions spread evenly over the gold file (so both languages and all types)."""
    rows = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    step = max(1, len(rows) // n)
    return rows[::step][:n]


def start_app(index: str, port: int, log_path: Path) -> tuple[subprocess.Popen, str, float]:
    t0 = time.perf_counter()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    log = open(log_path, "w", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--index", index],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        m = re.search(r"Running on (http://\S+)", log_path.read_text(encoding="utf-8"))
        if m:
            return proc, m.group(1), time.perf_counter() - t0
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"app.py did not start:\n{log_path.read_text(encoding='utf-8')[-3000:]}")


def memory(pid: int) -> dict[str, float]:
    """Peak and current resident set size of the server, MiB."""
    try:
        import psutil  # type: ignore

        out = {"rss_mib": psutil.Process(pid).memory_info().rss / 2**20}
    except ImportError:
        out = {}
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        out.setdefault("peak_rss_mib", int(fields["VmHWM"].split()[0]) / 1024)
        out.setdefault("rss_mib", int(fields["VmRSS"].split()[0]) / 1024)
    return out


def strip(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "timings_ms"}


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--questions", type=int, default=25)
    ap.add_argument("--gold", default=str(ROOT / "eval" / "gold.jsonl"))
    ap.add_argument("--index", default=str(ROOT / "index"))
    ap.add_argument("--no-append", action="store_true", help="do not append to benchmarks/RESULTS.md")
    args = ap.parse_args()

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from gradio_client import Client

    questions = pick_questions(Path(args.gold), args.questions)
    langs = {q["lang"] for q in questions}
    log_path = Path(tempfile.mkdtemp(prefix="qa-load-")) / "app.log"
    proc, url, startup_s = start_app(args.index, free_port(), log_path)
    try:
        ref_client = Client(url, verbose=False)
        reference, seq_lat = {}, []
        for q in questions:
            t = time.perf_counter()
            reference[q["id"]] = strip(ref_client.predict(q["question"], api_name="/ask"))
            seq_lat.append(time.perf_counter() - t)
        mem_idle = memory(proc.pid)

        clients = [Client(url, verbose=False) for _ in range(args.clients)]
        latencies: list[float] = []
        engine_ms: list[float] = []
        errors: list[str] = []
        mismatches: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(args.clients)

        def worker(i: int) -> None:
            order = questions[i % len(questions):] + questions[: i % len(questions)]
            barrier.wait()
            for q in order:
                t = time.perf_counter()
                try:
                    d = clients[i].predict(q["question"], api_name="/ask")
                except Exception as exc:  # noqa: BLE001 — counted and reported
                    with lock:
                        errors.append(f"{q['id']}: {type(exc).__name__}: {exc}")
                    continue
                dt = time.perf_counter() - t
                with lock:
                    latencies.append(dt)
                    engine_ms.append(float(d.get("timings_ms", {}).get("total", 0.0)))
                    if strip(d) != reference[q["id"]]:
                        mismatches.append(q["id"])

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        mem = memory(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

    total = args.clients * len(questions)
    ms = [x * 1000 for x in latencies]
    seq_ms = [x * 1000 for x in seq_lat]
    result = {
        "requests": total, "ok": len(latencies), "errors": len(errors), "mismatches": len(mismatches),
        "wall_s": wall, "throughput_rps": len(latencies) / wall if wall else 0.0,
        "p50_ms": statistics.median(ms) if ms else None, "p95_ms": pct(ms, 95) if ms else None,
        "max_ms": max(ms) if ms else None,
        "engine_p50_ms": statistics.median(engine_ms) if engine_ms else None,
        "seq_p50_ms": statistics.median(seq_ms), "seq_p95_ms": pct(seq_ms, 95),
        "startup_s": startup_s, "rss_idle_mib": mem_idle.get("rss_mib"),
        "peak_rss_mib": mem.get("peak_rss_mib"), "rss_after_mib": mem.get("rss_mib"),
    }
    info = machine()
    print(json.dumps({**info, **result}, indent=2, ensure_ascii=False))
    for e in errors[:10]:
        print("error:", e, file=sys.stderr)
    if mismatches:
        print("answers differing from the sequential run:", sorted(set(mismatches)), file=sys.stderr)

    if not args.no_append:
        mem_src = "/proc VmHWM" if Path("/proc/self/status").exists() else "psutil, current"
        lines = [
            "",
            f"## Web app load test (`benchmarks/load.py`) — {info['date']}",
            "",
            f"- machine: {info['nproc']} cores ({info['cpu']}), {info['mem_total']} RAM, Python {info['python']}",
            f"- command: `{info['command']}`",
            f"- setup: `app.py` in a subprocess (index `{Path(args.index).name}/`), {args.clients} concurrent "
            f"gradio_client clients × {len(questions)} questions from `eval/gold.jsonl` "
            f"({', '.join(sorted(langs))}), `/ask` with no year filter; engine calls are serialised by a lock",
            "",
            "| requests | errors | answers ≠ sequential | p50 ms | p95 ms | max ms | throughput req/s "
            "| sequential p50 / p95 ms | engine p50 ms | server peak RSS MiB | startup s |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            f"| {total} | {len(errors)} | {len(mismatches)} | {result['p50_ms']:.0f} | {result['p95_ms']:.0f} "
            f"| {result['max_ms']:.0f} | {result['throughput_rps']:.1f} "
            f"| {result['seq_p50_ms']:.0f} / {result['seq_p95_ms']:.0f} | {result['engine_p50_ms']:.0f} "
            f"| {result['peak_rss_mib']:.0f} ({mem_src}) | {startup_s:.1f} |",
            "",
            "Latency is end to end through gradio_client (SSE queue); `engine` is the Answerer's own "
            "`timings_ms.total`. Clients and server share the machine's cores.",
            "",
        ]
        with open(ROOT / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write("\n".join(lines))
    return 0 if not errors and not mismatches and len(latencies) == total else 1


if __name__ == "__main__":
    sys.exit(main())
