"""Start-up and per-question cost of qa.pinyin at scale (issue 12).

Builds a large Chinese text from the public reading-comprehension contexts (CMRC 2018 dev,
DRCD dev: measuring data, nothing is fitted here), its vocabulary as the product does
(``content_terms``), then times ``Pinyin(words, text)`` (homophones ordered by frequency), the
first ``_sounds()`` (the sound stream, built on the first English question) and
``romanized`` on every English question of eval/ (letters tried as pinyin), cold (first
time each) and warm (asked again). Run it against any checkout with PYTHONPATH:

    PYTHONPATH=src python benchmarks/pinyin_speed.py --data ../shared/bench-data --eval eval
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path


def contexts(data: Path, chars: int) -> str:
    seen: dict[str, None] = {}
    for f in (data / "cmrc2018/cmrc2018_dev.json", data / "drcd/DRCD_dev.json"):
        for article in json.loads(f.read_text(encoding="utf-8"))["data"]:
            for para in article["paragraphs"]:
                seen[para["context"]] = None
    return "\n".join(seen)[:chars]


def english_questions(eval_dir: Path) -> list[str]:
    qs: list[str] = []
    for f in sorted(eval_dir.glob("*.jsonl")) + sorted(eval_dir.glob("other/*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line)
                if q.get("lang") == "en":
                    qs.append(q["question"])
    return list(dict.fromkeys(qs))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--eval", type=Path, default=Path("eval"))
    ap.add_argument("--chars", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    from qa.pinyin import Pinyin, _english, _jieba_freq
    from qa.question import content_terms

    text = contexts(args.data, args.chars)
    words = set(content_terms(text))
    _jieba_freq(), _english()  # dictionaries load once per process, not part of what is timed
    t0 = time.perf_counter()
    p = Pinyin(words, text)
    init_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    p._sounds()
    stream_s = time.perf_counter() - t0
    qs = english_questions(args.eval)
    lat: dict[str, list[float]] = {"cold": [], "warm": []}
    answers = []
    for phase in ("cold", "warm"):
        for q in qs:
            t0 = time.perf_counter()
            found = p.romanized(q)
            lat[phase].append((time.perf_counter() - t0) * 1000)
            if phase == "cold":
                answers.append(found)
    result = {
        "chars": len(text), "vocabulary": len(words), "init_s": round(init_s, 2),
        "stream_s": round(stream_s, 2), "english_questions": len(qs),
        **{f"romanized_{ph}_ms_{stat}": round(fn(v), 2) for ph, v in lat.items()
           for stat, fn in (("p50", statistics.median), ("mean", statistics.fmean), ("max", max))},
        "romanized_total_cold_s": round(sum(lat["cold"]) / 1000, 2),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(result, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps({"result": result, "answers": answers, "by_key": p.by_key},
                                       ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
