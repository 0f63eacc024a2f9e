"""A development set for the reader that is neither a measuring set nor in-sample: the DRCD
test articles that ``qa train`` does not read (it takes the first ``--max-drcd``/2 questions of
each DRCD file), converted to Simplified characters, scored exactly like
``benchmarks/reader_public.py`` scores XQuAD and CMRC 2018 dev.

    .venv/bin/python benchmarks/reader_dev.py --articles 40          # build, index, ask, score

Use it to decide about a change to the reader; use reader_public.py only to measure.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reader_public as rp  # noqa: E402  (the same corpus building, CLI runs and scoring)


def load_drcd_rest(data: Path, max_drcd: int, articles: int, skip: int = 0) -> rp.Dataset:
    """DRCD test articles after the ones training reads, in Simplified characters."""
    import opencc

    from qa.train import drcd_articles_read

    t2s = opencc.OpenCC("t2s").convert
    raw = rp._read(data, "drcd/DRCD_test.json")
    first_unused = drcd_articles_read(raw, max_drcd)  # the articles qa train reads come first
    rest = raw[first_unused + skip:first_unused + skip + articles]
    for art in rest:
        art["title"] = t2s(art.get("title", ""))
        for p in art["paragraphs"]:
            ctx = p["context"]
            p["context"] = t2s(ctx)
            for q in p["qas"]:
                q["question"] = t2s(q["question"])
                for a in q["answers"]:
                    a["text"] = t2s(a["text"])
    arts, zh = rp._questions(rest, "drcd", "zh")
    return rp.Dataset("drcd-rest", "DRCD test (Delta Research Center), CC BY-SA 3.0, t2s", arts, {"zh": zh})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=40)
    ap.add_argument("--skip", type=int, default=0, help="start this many unused articles later "
                    "(qa train --referee reads articles 30-59; the dev set is 0-29)")
    ap.add_argument("--max-drcd", type=int, default=2000, help="as given to qa train")
    ap.add_argument("--data", type=Path, default=rp.DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=rp.OUT / "reader-dev")
    ap.add_argument("--qa", default=f"{shlex.quote(sys.executable)} -m qa.cli")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--embedder", default=None)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--baseline-chunks", type=int, default=2, help="as in reader_public.py")
    ap.add_argument("--no-resume", action="store_true")
    args = ap.parse_args(argv)
    args.out = args.out.resolve()
    if not args.no_baseline:
        rp.add_repo_to_path()
    t0 = time.perf_counter()
    result = rp.run_set(load_drcd_rest(args.data, args.max_drcd, args.articles, args.skip), args, shlex.split(args.qa))
    print(rp.tables([result]))
    (args.out / "reader_dev.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
