"""Stage 8: the evaluation harness — ``qa eval GOLD.jsonl``.

Gold lines: ``{id, lang, type, question, year?, answers: [{value, unit, text}],
source: [{doc, quote}]}``; type is one of figure, multi_figure, text, year_specific,
cross_report, unanswerable.

Scores (micro-averaged):
  figure accuracy     each gold value, unit-normalised, within ±0.5 %, among the first
                      len(gold)+1 answer figures
  citation accuracy   each gold quote inside a cited passage of the right document
  text accuracy       each gold text answer (no value) inside the answer or a cited quote
  computed            each gold value marked ``computed`` matched by an answer figure that
                      is itself marked computed (a value the report does not state)
  answerability       precision / recall of "answerable" (and of "unanswerable")
  answer language     the answer is in the question's language
  English quality     English questions answered: no Chinese outside quotation marks and
                      brackets, and the lead line gives a figure in English form (issue 11)
  retrieval R@k       a gold quote's passage among the top-k passages
  latency             p50 / p95 of the whole ask() call

    $ qa eval eval/gold.jsonl --out eval/report.md --min-figure 0.9 --min-citation 0.9
"""
from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import GoldFileError
from qa.passages import strip_markup
from qa.question import detect_language
from qa.units import normalize_unit

TYPES = ("figure", "multi_figure", "text", "year_specific", "cross_report", "unanswerable", "computed")
TOLERANCE = 0.005


@dataclass
class Result:
    gold: dict
    answer: dict
    figure_hits: int = 0
    figure_total: int = 0
    citation_hits: int = 0
    citation_total: int = 0
    text_hits: int = 0
    text_total: int = 0
    computed_hits: int = 0  # gold computed values given by a figure the answer marks computed
    computed_total: int = 0
    retrieval_hit: bool | None = None
    language_ok: bool = True
    answerable_ok: bool = True
    english_ok: bool | None = None  # English answers only: English prose, figure in the lead
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.figure_hits == self.figure_total and self.citation_hits == self.citation_total
                and self.text_hits == self.text_total and self.language_ok and self.answerable_ok)


def load_gold(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise GoldFileError(f"gold file '{path}' does not exist")
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise GoldFileError(f"gold file '{path}' is not UTF-8; save it as UTF-8") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldFileError(f"{path}:{n} is not valid JSON ({exc.msg})") from None
        missing = [k for k in ("id", "lang", "type", "question", "answers", "source") if k not in row]
        if missing:
            raise GoldFileError(f"{path}:{n} lacks {', '.join(missing)}")
        if row["type"] not in TYPES:
            raise GoldFileError(f"{path}:{n} has unknown type '{row['type']}' (use one of {', '.join(TYPES)})")
        rows.append(row)
    if not rows:
        raise GoldFileError(f"gold file '{path}' has no questions")
    return rows


def _gold_norm(a: dict) -> tuple[float, str | None]:
    value = float(a["value"])
    unit = a.get("unit")
    if not unit:
        return value, None
    return normalize_unit(value, unit)


def figure_matches(gold: dict, fig: dict) -> bool:
    """A gold value matches an answer figure within ±0.5 % after unit normalisation."""
    value, base = _gold_norm(gold)
    if fig.get("base_unit") == "rank" and base in (None, "位", "名"):
        base = None  # 第5位 / 上升1位 are ranks however the gold writes the unit
    if base is None:  # a rank or bare number: compare as written
        target, got = value, float(fig["value"])
    else:
        if fig.get("base_unit") != base:
            return False
        target, got = value, float(fig["normalized_value"])
    if target == 0:
        return got == 0
    return abs(got - target) <= TOLERANCE * abs(target)


def score_one(gold: dict, answer: dict, k: int) -> Result:
    r = Result(gold, answer)
    expect_answerable = gold["type"] != "unanswerable"
    r.answerable_ok = answer.get("answerable") == expect_answerable
    r.language_ok = answer.get("language") == gold["lang"] and _text_language_ok(answer, gold["lang"])
    if gold["lang"] == "en" and answer.get("answerable"):
        r.english_ok = english_quality(answer, bool([a for a in gold["answers"] if a.get("value") is not None]))
    if not expect_answerable:
        return r
    figures = answer.get("figures", [])
    numeric = [a for a in gold["answers"] if a.get("value") is not None]
    shown = figures[: len(numeric) + 1]
    for a in numeric:
        r.figure_total += 1
        if any(figure_matches(a, f) for f in shown):
            r.figure_hits += 1
        else:
            r.notes.append(f"missing figure {a.get('text') or a['value']}")
        if a.get("computed"):
            r.computed_total += 1
            if any(f.get("computed") and figure_matches(a, f) for f in shown):
                r.computed_hits += 1
    cited = [(c["doc_id"], strip_markup(c["text"])) for c in answer.get("citations", [])]
    for s in gold["source"]:
        r.citation_total += 1
        # a gold quote may keep the report's **bold** markup; the comparison ignores it
        if any(doc == s["doc"] and strip_markup(s["quote"]) in text for doc, text in cited):
            r.citation_hits += 1
        else:
            r.notes.append(f"quote not cited: {s['quote']}")
    haystack = strip_markup(answer.get("answer", "")) + " ".join(strip_markup(c["quote"]) for c in answer.get("citations", []))
    for a in gold["answers"]:
        if a.get("value") is None and a.get("text"):
            r.text_total += 1
            if strip_markup(a["text"]) in haystack:
                r.text_hits += 1
            else:
                r.notes.append(f"text answer missing: {a['text']}")
    passages = [strip_markup(p["text"]) for p in answer.get("passages", [])[:k]]
    if gold["source"]:
        r.retrieval_hit = any(strip_markup(s["quote"]) in t for s in gold["source"] for t in passages)
    return r


_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|\[[^\]]*\]|（[^）]*）|\([^)]*\)")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
_EN_WORD = re.compile(r"[A-Za-z]{2,}")
MIN_ENGLISH_WORDS = 5  # "The 2023 report says" (4 words) is no answer of its own
# a figure straight after a label's colon: "credit support: RMB 1.5 billion", "In 2023: 68,000"
_LABEL_FIGURE = re.compile(r"(?<!\d):\s*(?:(?:over|nearly|about|under|no more than|at least|RMB|US\$)\s*)?\d")
_EN_FIGURE = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|first|second|third)\b", re.I)


def cjk_outside_quotes(text: str) -> bool:
    """Chinese left in English text outside quotation marks and brackets.

    >>> cjk_outside_quotes("The figure for “重点项目” was 10"), cjk_outside_quotes("授信企业: 233")
    (False, True)
    """
    return bool(_CJK_CHAR.search(_QUOTED.sub(" ", text)))


def english_quality(answer: dict, wants_figure: bool) -> bool:
    """An English answer a reader can use: no Chinese outside quotation marks and brackets;
    an English sentence of its own, not only a quote ('The 2023 report says: “…”' is not);
    and, when a figure is asked, a lead line that gives it in English form, outside quotes,
    in a sentence rather than after a label ('enterprises granted credit: 233' is not)."""
    text = strip_markup(answer.get("answer", ""))
    outside = _QUOTED.sub(" ", text)
    if cjk_outside_quotes(text) or len(_EN_WORD.findall(outside)) < MIN_ENGLISH_WORDS:
        return False
    if not wants_figure:
        return True
    lead = _QUOTED.sub(" ", text.split("\n", 1)[0])
    if _LABEL_FIGURE.search(lead):
        return False
    return bool(_EN_FIGURE.search(re.sub(r"\b(?:19|20)\d{2}\b", " ", lead)))


def _text_language_ok(answer: dict, lang: str) -> bool:
    text = answer.get("answer", "")
    head = text.split("“", 1)[0] if lang == "en" else text
    return detect_language(head) == lang if head.strip() else False


def _ratio(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def summarize(results: list[Result]) -> dict:
    def agg(rs: list[Result]) -> dict:
        pred_ans = [r for r in rs if r.answer.get("answerable")]
        true_ans = [r for r in rs if r.gold["type"] != "unanswerable"]
        pred_un = [r for r in rs if not r.answer.get("answerable")]
        true_un = [r for r in rs if r.gold["type"] == "unanswerable"]
        retr = [r for r in rs if r.retrieval_hit is not None]
        return {
            "n": len(rs),
            "figure_accuracy": _ratio(sum(r.figure_hits for r in rs), sum(r.figure_total for r in rs)),
            "citation_accuracy": _ratio(sum(r.citation_hits for r in rs), sum(r.citation_total for r in rs)),
            "text_accuracy": _ratio(sum(r.text_hits for r in rs), sum(r.text_total for r in rs)),
            "computed_exact": _ratio(sum(r.computed_hits for r in rs), sum(r.computed_total for r in rs)),
            "answerable_precision": _ratio(sum(r.gold["type"] != "unanswerable" for r in pred_ans), len(pred_ans)),
            "answerable_recall": _ratio(sum(bool(r.answer.get("answerable")) for r in true_ans), len(true_ans)),
            "unanswerable_precision": _ratio(sum(r.gold["type"] == "unanswerable" for r in pred_un), len(pred_un)),
            "unanswerable_recall": _ratio(sum(not r.answer.get("answerable") for r in true_un), len(true_un)),
            "language_accuracy": _ratio(sum(r.language_ok for r in rs), len(rs)),
            "retrieval_recall": _ratio(sum(bool(r.retrieval_hit) for r in retr), len(retr)),
            "all_correct": _ratio(sum(r.ok for r in rs), len(rs)),
            "english_quality": _ratio(sum(bool(r.english_ok) for r in rs if r.english_ok is not None),
                                      sum(r.english_ok is not None for r in rs)),
        }

    out = {"overall": agg(results), "by_language": {}, "by_type": {}, "by_category": {}}
    for lang in sorted({r.gold["lang"] for r in results}):
        out["by_language"][lang] = agg([r for r in results if r.gold["lang"] == lang])
    for t in TYPES:
        rs = [r for r in results if r.gold["type"] == t]
        if rs:
            out["by_type"][t] = agg(rs)
    # sets of messy questions say what makes each one hard ("typo", "relative", …)
    for c in dict.fromkeys(r.gold["category"] for r in results if r.gold.get("category")):
        out["by_category"][c] = agg([r for r in results if r.gold.get("category") == c])
    lat = sorted(r.answer.get("timings_ms", {}).get("total", 0.0) for r in results)
    out["latency_ms"] = {"p50": round(statistics.median(lat), 2),
                         "p95": round(lat[min(len(lat) - 1, int(0.95 * len(lat)))], 2)}
    return out


COLUMNS = [("n", "n"), ("figure_accuracy", "figure acc"), ("citation_accuracy", "citation acc"),
           ("text_accuracy", "text acc"), ("computed_exact", "computed"), ("answerable_precision", "ans. P"), ("answerable_recall", "ans. R"),
           ("unanswerable_precision", "unans. P"), ("unanswerable_recall", "unans. R"),
           ("language_accuracy", "language"), ("english_quality", "English"), ("retrieval_recall", "R@k"),
           ("all_correct", "all correct")]


def _row(name: str, d: dict) -> str:
    cells = ["–" if d.get(key) is None else (str(d[key]) if key == "n" else f"{d[key]:.3f}") for key, _ in COLUMNS]
    return f"| {name} | " + " | ".join(cells) + " |"


def report_markdown(summary: dict, results: list[Result], gold_path: str, k: int) -> str:
    head = "| | " + " | ".join(label for _, label in COLUMNS) + " |\n|---|" + "---|" * len(COLUMNS)
    lines = [f"# qa eval — {gold_path}", "", f"{time.strftime('%Y-%m-%d %H:%M')}, k={k}, "
             f"latency p50 {summary['latency_ms']['p50']} ms, p95 {summary['latency_ms']['p95']} ms", "",
             head, _row("**overall**", summary["overall"])]
    lines += [_row(lang, d) for lang, d in summary["by_language"].items()]
    lines += [_row(t, d) for t, d in summary["by_type"].items()]
    lines += [_row(f"_{c}_", d) for c, d in summary.get("by_category", {}).items()]
    failures = [r for r in results if not r.ok]
    lines += ["", f"## Failures ({len(failures)})", ""]
    for r in failures:
        g, a = r.gold, r.answer
        why = "; ".join(r.notes) or ("answerable mismatch" if not r.answerable_ok else "language")
        lines.append(f"- **{g['id']}** ({g['lang']}, {g['type']}) {g['question']}  \n"
                     f"  expected: {', '.join(str(x.get('text') or x.get('value')) for x in g['answers']) or 'unanswerable'}  \n"
                     f"  got: {a.get('answer', a.get('error', '')).replace(chr(10), ' ')[:300]}  \n"
                     f"  why: {why}")
    return "\n".join(lines) + "\n"


def evaluate(gold_path: str, answerer, k: int = 5) -> tuple[dict, list[Result]]:
    results = []
    for g in load_gold(gold_path):
        try:
            answer = answerer.ask(g["question"], k=k).to_dict()
        except Exception as exc:  # noqa: BLE001 — an error is a failed answer, not a crash
            answer = {"answerable": False, "language": None, "answer": "", "error": str(exc)}
        results.append(score_one(g, answer, k))
    return summarize(results), results


def run_eval(args) -> int:
    from qa.answer import Answerer
    from qa.retrieve import get_retriever

    answerer = Answerer(get_retriever(args.index, backend=getattr(args, "backend", None), uri=getattr(args, "uri", None)))
    summary, results = evaluate(args.gold, answerer, k=args.k)
    md = report_markdown(summary, results, args.gold, args.k)
    if args.out:
        Path(args.out).write_text(md, encoding="utf-8")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    print(md.split("\n## Failures")[0])
    o = summary["overall"]
    failed = []
    if (o["figure_accuracy"] or 0) < args.min_figure:
        failed.append(f"figure accuracy {o['figure_accuracy']} < {args.min_figure}")
    if (o["citation_accuracy"] or 0) < args.min_citation:
        failed.append(f"citation accuracy {o['citation_accuracy']} < {args.min_citation}")
    for msg in failed:
        print(f"qa eval: below threshold: {msg}", file=sys.stderr)
    return 1 if failed else 0
