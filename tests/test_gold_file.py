"""Checks on the hand-written gold question set eval/gold.jsonl.

Self-contained: only json/pathlib/re and conftest's seed file names, no project imports.
The gold set is written against the two seed reports, read by file name (with their manifest
entries) from corpus/: a report a user adds there is not part of it.
"""
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import SEED_REPORTS

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "eval" / "gold.jsonl"
CORPUS = ROOT / "corpus"

TYPES = {"figure", "multi_figure", "text", "year_specific", "cross_report", "unanswerable"}
LANGS = {"zh", "en"}
REQUIRED_KEYS = {"id", "lang", "type", "question", "year", "answers", "source"}
REPORT_YEARS = {2021, 2023}
WINDOW = 60  # chars either side of a quote in which an answer value must appear
MIN_TOTAL = 130
MIN_BY_TYPE = {
    "unanswerable": 12,
    "year_specific": 10,
    "cross_report": 8,
    "multi_figure": 10,
    "text": 10,
    "figure": 1,
}
MIN_PER_TYPE_AND_LANG = 3
CJK = re.compile(r"[\u4e00-\u9fff]")
CJK_NUMERALS = set("零一二三四五六七八九十百千万两")


def _load_lines():
    return GOLD.read_text(encoding="utf-8").splitlines()


def _records():
    return [json.loads(line) for line in _load_lines() if line.strip()]


def _docs():
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    return {
        d["doc_id"]: (CORPUS / d["file"]).read_text(encoding="utf-8")
        for d in manifest["documents"]
        if d["file"] in SEED_REPORTS
    }


RECORDS = _records()
DOCS = _docs()
IDS = [r.get("id", f"line{i}") for i, r in enumerate(RECORDS, 1)]


def _value_str(v):
    # JSON numbers come back as int or float; repr gives the shortest form
    # (92.70 in the text is stored as 92.7, still a prefix of "92.70").
    return str(v) if isinstance(v, int) else repr(v)


def _windows(rec):
    """Text windows (quote +/- WINDOW chars) for every occurrence of every quote."""
    out = []
    for s in rec["source"]:
        text = DOCS[s["doc"]]
        q = s["quote"]
        start = text.find(q)
        while start != -1:
            out.append(text[max(0, start - WINDOW): start + len(q) + WINDOW])
            start = text.find(q, start + 1)
    return out


def _strip_markup(text):
    return text.replace("**", "")


# ------------------------------------------------------------------ file level
def test_every_line_parses_and_is_object():
    lines = _load_lines()
    assert lines, "gold file is empty"
    for i, line in enumerate(lines, 1):
        assert line.strip(), f"blank line {i}"
        obj = json.loads(line)
        assert isinstance(obj, dict), f"line {i} is not a JSON object"


def test_utf8_not_ascii_escaped():
    raw = GOLD.read_text(encoding="utf-8")
    assert "\\u4e" not in raw and "\\u5" not in raw, "write with ensure_ascii=False"


def test_ids_unique_and_well_formed():
    ids = [r["id"] for r in RECORDS]
    assert len(ids) == len(set(ids)), [i for i, c in Counter(ids).items() if c > 1]
    for i in ids:
        assert re.fullmatch(r"q\d{3,}", i), i


def test_minimum_total():
    assert len(RECORDS) >= MIN_TOTAL


def test_counts_by_type():
    c = Counter(r["type"] for r in RECORDS)
    assert set(c) == TYPES, f"missing types: {TYPES - set(c)}"
    for t, n in MIN_BY_TYPE.items():
        assert c[t] >= n, f"{t}: {c[t]} < {n}"


def test_counts_by_type_and_language():
    c = Counter((r["type"], r["lang"]) for r in RECORDS)
    for t in TYPES:
        for lang in LANGS:
            assert c[(t, lang)] >= MIN_PER_TYPE_AND_LANG, f"{t}/{lang}: {c[(t, lang)]}"


def test_at_least_half_english():
    c = Counter(r["lang"] for r in RECORDS)
    assert c["en"] * 2 >= len(RECORDS), c


def test_questions_unique():
    qs = [r["question"].strip() for r in RECORDS]
    assert len(qs) == len(set(qs)), [q for q, n in Counter(qs).items() if n > 1]


def test_both_reports_covered():
    used = Counter(s["doc"] for r in RECORDS for s in r["source"])
    for doc in DOCS:
        assert used[doc] >= 30, f"{doc} only cited {used[doc]} times"


# ------------------------------------------------------------------ per record
@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_record_schema(rec):
    assert REQUIRED_KEYS <= set(rec), REQUIRED_KEYS - set(rec)
    assert rec["type"] in TYPES
    assert rec["lang"] in LANGS
    assert isinstance(rec["question"], str) and rec["question"].strip()
    assert isinstance(rec["answers"], list)
    assert isinstance(rec["source"], list)
    y = rec["year"]
    if rec["type"] == "unanswerable":
        # may name a year the reports do not cover (e.g. 2019, 2022)
        assert y is None or (isinstance(y, int) and 1990 <= y <= 2035)
    else:
        assert y is None or y in REPORT_YEARS, y


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_question_language(rec):
    q = rec["question"]
    if rec["lang"] == "zh":
        assert len(CJK.findall(q)) >= 4, q
    else:
        assert len(re.findall(r"[A-Za-z]+", q)) >= 4, q
        # English questions may cite a Chinese name, but must be mostly English
        assert len(CJK.findall(q)) <= 6, q


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_type_specific_shape(rec):
    t = rec["type"]
    ans, src = rec["answers"], rec["source"]
    values = [a for a in ans if "value" in a]
    docs = {s["doc"] for s in src}
    if t == "unanswerable":
        assert ans == [] and src == []
        return
    assert src, "answerable question without source"
    if t == "figure":
        assert len(ans) == 1 and len(values) == 1
    elif t == "multi_figure":
        assert len(values) >= 2
    elif t == "text":
        assert values == [], "text answers carry no numeric value"
    elif t == "year_specific":
        assert rec["year"] in REPORT_YEARS
        assert values
        assert docs == {f"sh-st-{rec['year']}"}, docs
    elif t == "cross_report":
        assert docs == set(DOCS), docs
        assert len(values) >= 2
        assert rec["year"] is None


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_answer_entries(rec):
    for a in rec["answers"]:
        assert isinstance(a, dict)
        assert isinstance(a.get("text"), str) and a["text"].strip(), a
        assert "**" not in a["text"]
        if "value" in a:
            v = a["value"]
            assert isinstance(v, (int, float)) and not isinstance(v, bool), a
            assert "unit" in a
            u = a["unit"]
            assert u is None or (isinstance(u, str) and u), a
            if u is not None:
                assert u in a["text"], f"unit {u!r} not in text {a['text']!r}"
            vs = _value_str(v)
            if vs not in a["text"]:
                # ranks / counts written with Chinese numerals: 第二, 四金
                assert CJK_NUMERALS & set(a["text"]), f"value {vs} not in {a['text']!r}"
        # the answer text is written as in the report (markup removed)
        docs_text = [_strip_markup(DOCS[s["doc"]]) for s in rec["source"]]
        assert any(a["text"] in d for d in docs_text), f"text {a['text']!r} not in its reports"


@pytest.mark.parametrize("rec", RECORDS, ids=IDS)
def test_quotes_are_exact_substrings(rec):
    for s in rec["source"]:
        assert set(s) >= {"doc", "quote"}
        assert s["doc"] in DOCS, s["doc"]
        q = s["quote"]
        assert "**" not in q, q
        assert 4 <= len(q) <= 60, f"quote length {len(q)}: {q!r}"
        assert q in DOCS[s["doc"]], f"quote not in {s['doc']}: {q!r}"


@pytest.mark.parametrize("rec", [r for r in RECORDS if r["answers"]],
                         ids=[r["id"] for r in RECORDS if r["answers"]])
def test_values_near_quotes(rec):
    windows = _windows(rec)
    assert windows
    for a in rec["answers"]:
        if "value" in a:
            vs = _value_str(a["value"])
            found = any(vs in w for w in windows)
            if not found and CJK_NUMERALS & set(a["text"]):
                found = any(a["text"] in _strip_markup(w) for w in windows)
            assert found, f"value {vs} ({a['text']}) not within {WINDOW} chars of a quote"
        else:
            # text answers: the answer text (or its core) sits next to the quote
            assert any(a["text"] in _strip_markup(w) for w in windows), a["text"]


# eval/dev.jsonl … dev5.jsonl: 60 questions each, written by someone who had not
# seen the system (independent checks of how answers generalise; dev2 is harder: heavy
# paraphrase, colloquial and mixed-script questions, close traps); same format, lighter rules.
@pytest.mark.parametrize("name", ["dev.jsonl", "dev2.jsonl", "dev3.jsonl", "dev4.jsonl", "dev5.jsonl"])
def test_dev_set_is_well_formed(name):
    recs = [json.loads(line) for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines()
            if line.strip()]
    assert len(recs) == 60 and len({r["id"] for r in recs}) == 60
    assert {r["lang"] for r in recs} == LANGS and {r["type"] for r in recs} == TYPES
    for r in recs:
        assert set(r) == REQUIRED_KEYS, r["id"]
        assert (r["type"] == "unanswerable") == (not r["answers"]), r["id"]
        for s in r["source"]:
            assert s["quote"] in DOCS[s["doc"]], (r["id"], s["quote"])
        if r["lang"] == "en":
            assert not CJK.search(r["question"]), r["id"]
