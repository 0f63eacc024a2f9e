"""Stage 7: cited answers in the asker's language, composed from retrieved sentences and
extracted figures — nothing is generated, so nothing can be invented.

    >>> a = ask("2023年高企贷支持了多少家企业？")          # doctest: +SKIP
    >>> a.answer                                            # doctest: +SKIP
    '据2023年报告：“高企贷”共为9729家高企提供信贷支持3534.78亿元…[1]'

Pipeline: analyse the question (language, years, kind of figure, terms) → retrieve per year
asked → score every figure of every retrieved sentence against the question (term coverage
near the figure, kind and unit asked, retrieval rank) → pick the figures, one block per
year → compose (Chinese: the source clause; English: glossary metric names + English units,
then the Chinese quote) → comparison arithmetic marked as computed → grounding check: every
number in the answer text must come from a cited figure or a computed value.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from functools import cached_property, partial

from qa.arith import verify
from qa.bridge import STOP_EN, Bridge
from qa.calc_answer import answer_computed, stated_directly
from qa.compute import plan as compute_plan
from qa.several import split as split_several
from qa.config import RULES as W
from qa.config import AnswerConfig
from qa.cues import cue
from qa.errors import QAError
from qa.general import GeneralPick, read, render_span_en, sentence_views
from qa.qtype import type_agreement
from qa.reader import BRIDGE_SIM_SHARE, GeneralReader, asked_measure_word, pseudo_question
from qa.referee import referee_features
from qa.scorer import load_models
from qa.script import to_simplified, to_traditional
from qa.corpus_text import CorpusText, from_bm25, joined_text
from qa.memo import remember
from qa.pinyin import Pinyin
from qa.tokenize import get_tokenizer
from qa.spelling import Speller
from qa.figures import Figure
from qa.glossary import Glossary
from qa.passages import SECTION_SEP, Passage, continuation_leads, is_enumerated_heading, strip_markup
from qa.question import (COMPARE_CUES_EN, COMPARE_CUES_ZH, ZH_KIND_CUES, Query, analyze, content_terms,
                         is_content_term, names, ordinals_in)
from qa.retrieve import (MAX_QUESTION_CHARS, Hit, Retriever, check_k, check_question, check_year,
                         detect_language, get_retriever)
from qa.english import describe, join_en, text_opening
from qa.units import format_number_en, is_limit, normalize_unit, render_en, render_zh, scale_en

# hand-set values live in qa.config.AnswerConfig, with their reasons; kept as names here
# for the tests and callers that import them
MIN_CONFIDENCE = AnswerConfig().min_confidence
ZH_TEXT_SIM = AnswerConfig().zh_text_sim
# figure kinds that are never an answer to "how many/how much" (dates, editions, years)
NON_ANSWER_KINDS = {"year", "date", "ordinal"}
CLAUSE_SPLIT = re.compile(r"[，,；;。：:]")
MAX_QUOTE_CHARS = 160
SHORT_SENTENCE = 16  # characters; shorter sentences are quoted with the next one


@dataclass
class Citation:
    n: int
    doc_id: str
    title: str
    year: int
    section: str
    passage_id: str
    text: str  # the full passage text
    quote: str  # the cited sentence, exactly source[start:end] (markup included)
    start: int
    end: int

    def to_dict(self) -> dict:
        """JSON form: ``quote`` is what a reader sees (the report's ``**`` bold markers
        removed); ``exact`` is the span itself, so ``source[start:end] == exact`` always."""
        d = asdict(self)
        d["exact"] = self.quote
        d["quote"] = strip_markup(self.quote)
        return d


@dataclass
class Answer:
    question: str
    language: str
    answerable: bool
    answer: str
    figures: list[dict] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    passages: list[dict] = field(default_factory=list)
    computed: list[dict] = field(default_factory=list)
    timings_ms: dict = field(default_factory=dict)
    id: object = None
    figure_objs: list = field(default_factory=list, repr=False)  # the Figures behind `figures`
    noted_years: list = field(default_factory=list, repr=False)  # years a note says are not answered
    reader: dict = field(default_factory=dict)  # which reading answered, and its probability
    allowed_renderings: list = field(default_factory=list, repr=False)  # English renderings of spans

    def to_dict(self) -> dict:
        d = {
            "id": self.id, "question": self.question, "language": self.language,
            "answerable": self.answerable, "answer": self.answer, "figures": self.figures,
            "citations": [c.to_dict() for c in self.citations], "passages": self.passages,
            "timings_ms": self.timings_ms,
        }
        if self.computed:
            d["computed"] = self.computed
        if self.reader:
            d["reader"] = self.reader
        return d

    def to_text(self) -> str:
        lines = [self.answer, ""]
        for c in self.citations:
            lines.append(f"[{c.n}] {c.title} · {c.section}")
            lines.append(f"    {quote_en(strip_markup(c.quote))} (chars {c.start}–{c.end})")
        return "\n".join(lines).rstrip()


# --- evidence ------------------------------------------------------------------------------

@dataclass
class Candidate:
    figure: Figure
    hit: Hit
    sentence: tuple[int, int]
    score: float
    coverage: float  # share of the question's term weight found in the sentence and section
    context: str = ""  # what describes the figure: its clause, metric, section (and subject)
    clause: str = ""  # the figure's own clause and metric only


def _coverage(terms: dict[str, float], text: str, synonyms: dict[str, list[str]] | None = None) -> float:
    """Share of the question's term weight found in ``text``; a term also counts when one
    of its glossary synonyms is there."""
    total = sum(terms.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in terms.items() if names(text, t, synonyms)) / total


def _filled(own: float, with_context: float, discount: float = W.context_discount) -> float:
    """Coverage where the terms only the context supplies count ``discount`` times:
    _filled(0.5, 1.0) == 0.85."""
    return own + discount * max(0.0, with_context - own)


def _figure_window(passage: Passage, sentence: tuple[int, int], fig: Figure, others: list[Figure]) -> str:
    """The clause around a figure: from the previous figure (or clause start) to the next
    one (or clause end) — Chinese puts the measured noun before or right after the number."""
    s, e = sentence
    text = passage.span(s, e)
    lo, hi = fig.start - s, fig.end - s
    left = max([m.end() for m in CLAUSE_SPLIT.finditer(text, 0, lo)] + [0])
    right = min([m.start() for m in CLAUSE_SPLIT.finditer(text, hi)] + [len(text)])
    for o in others:
        if o is fig:
            continue
        if o.end - s <= lo:
            left = max(left, o.end - s)
        elif o.start - s >= hi:
            right = min(right, o.start - s + 0)
    return strip_markup(text[left:right])


def _subset_score(q: Query, passage: Passage, sentence: tuple[int, int], fig: Figure) -> float:
    """A figure after "其中" (of which) is a part of the headline figure before it: it
    answers only when the question names the part ("…1557家,其中24家企业成功登陆科创板" for
    "how many made it onto the STAR Market": a specific term only the part has).
    The part runs to the sentence end: "其中中小企业8890家,贷款金额1988.04亿元"."""
    before = strip_markup(passage.span(sentence[0], fig.start))
    at = before.rfind("其中")
    if at < 0:
        return 0.0
    head, part = before[:at], strip_markup(passage.span(sentence[0], sentence[1]))[at:]
    # a specific term, or a place the question names ("Shanghai": "…5080亿元,其中上海近1518亿元")
    named = (any(q.says(part, t) and not q.says(head, t) and not _measure_term(t, fig.kind) for t in q.key_terms)
             or any(c in part and c not in head for c in q.places))
    return W.part_named if named else W.part_unnamed


def _measure_term(term: str, kind: str) -> bool:
    """A term that says how a figure of this kind is measured (贷款金额 for money: a kind
    cue, data/question_cues.tsv), not which part it is about: "the Gaoqidai loan amounts"
    asks for the total, even when only the part's clause writes 贷款金额."""
    return any(k == kind and re.search(pattern, term) for pattern, k in ZH_KIND_CUES)


def _how_terms(q: Query) -> set[str]:
    """The question's terms that say how an asked kind is measured (see _measure_term)."""
    terms = set(q.terms) | set(q.key_terms) | set(q.concepts)
    return {t for t in terms if any(_measure_term(t, k) for k in q.kinds)}


# "共/合计" after a list totals it ("共同/共享" are other words)
AGGREGATE = re.compile(cue("AGGREGATE"))


def _aggregate_score(q: Query, passage: Passage, sentence: tuple[int, int], fig: Figure) -> float:
    """"A、B共为81家…" or "A、B及C领域企业占比71%" totals several items: it does not answer
    a question naming only some of them (that part is usually given next:
    "为22家…出具产品责任保险保单")."""
    before = strip_markup(passage.span(sentence[0], fig.start))
    marks = list(AGGREGATE.finditer(before))
    if marks:
        # the total's scope runs to the sentence end ("…共为81家…,承保风险12.61亿元")
        listed = CLAUSE_SPLIT.split(before[: marks[-1].start()])[-1]
    else:  # a list right before the figure, in its clause
        listed = CLAUSE_SPLIT.split(before)[-1]
    if "、" not in listed:
        return 0.0
    items = [i for i in listed.split("、") if i.strip()]
    items[0] = items[0].rsplit("的", 1)[-1]  # "X的A、B": X belongs to every item, not the first
    items[-1:] = re.split(r"以及|及|和|与", items[-1], maxsplit=1)  # "B及C"
    # the list's head noun trails its last item ("…及人工智能领域企业占比"): cut it to
    # the others' length (conservative: a cut item is named less often, never more)
    if len(items) < 2:  # "、" only at an edge ("A、"): no list to total
        return 0.0
    items[-1] = items[-1][: max(len(i) for i in items[:-1])]

    def named(item: str) -> bool:
        # a question term that tells this item from the others
        return sum(w for t, w in q.terms.items()
                   if t in item and not all(t in other for other in items)) >= 1.0

    n = sum(named(i) for i in items)
    return W.total_over_named_part if 0 < n < len(items) else 0.0


def _part_penalties(q: Query, hits: list[Hit], figures: dict[str, list[Figure]]) -> dict[str, float]:
    """A paragraph under a sub-heading the question does not name ("… › 仪器共享服务") is a
    part of what its parent section's own paragraph reports in total: when that paragraph
    was retrieved too, with a figure of the kind asked, the part should not answer."""
    def has_asked_figure(p: Passage) -> bool:
        return any(q.wants(f.kind) for f in figures.get(p.id, [])) if q.kinds else bool(figures.get(p.id))

    parents = {h.passage.section for h in hits if has_asked_figure(h.passage)}
    out: dict[str, float] = {}
    for h in hits:
        parent, sep, heading = h.passage.section.rpartition(SECTION_SEP)
        if sep and parent in parents and _coverage(q.terms, heading, q.synonyms) == 0:
            out[h.passage.id] = W.sub_heading_part
    return out


def _kind_score(q: Query, fig: Figure) -> float:
    if not q.kinds:
        return 0.0
    if fig.kind in q.kinds:
        return W.kind_exact - W.kind_step * q.kinds.index(fig.kind)
    if q.wants(fig.kind):  # a figure of no particular kind was asked for
        return W.kind_any
    if fig.kind == "growth" and "percent" in q.kinds:
        return W.kind_growth_for_share
    return W.kind_other


# how people ask about a limit rather than a result (language, not domain)
THRESHOLD_CUES = re.compile(cue("THRESHOLD_CUES"), re.I)


def _qualifier_score(q: Query, fig: Figure) -> float:
    """"销售规模5000万元以下" is an eligibility threshold, not a result, unless the
    question asks about a limit; a running total ("累计完成255个") does not answer a
    question about the year's new ones."""
    if _running_total_for_new(q, fig):
        return W.running_total_for_new
    if not is_limit(fig.qualifier):
        return 0.0
    return W.limit_asked if THRESHOLD_CUES.search(q.text) else W.limit_not_asked


def _running_total_for_new(q: Query, fig: Figure | None) -> bool:
    return bool(q.new_only and fig is not None and fig.qualifier and "cumulative" in fig.qualifier)


# measure words that count the same things: projects are 个 or 项, patents 件 or 项
SAME_MEASURE = {"个": ("个", "项"), "项": ("项", "个"), "件": ("件", "项")}


def _unit_score(q: Query, fig: Figure) -> float:
    if not q.unit_hints or fig.kind not in ("count",):
        return 0.0
    units = {v for u in q.unit_hints for v in SAME_MEASURE.get(u, (u,))}
    return W.unit_match if any(fig.base_unit.startswith(u) or fig.unit.endswith(u) for u in units) else W.unit_other


def _number_score(q: Query, text: str) -> float:
    """Share of the numbers quoted in the question ("account for 71%") found in ``text``."""
    if not q.numbers:
        return 0.0
    return sum(1 for n in q.numbers if re.search(rf"(?<![\d.]){re.escape(n)}(?![\d])", text)) / len(q.numbers)


def _latin_score(q: Query, text: str) -> float:
    if not q.latin:
        return 0.0
    low = text.lower()
    return sum(1 for w in q.latin if w.lower() in low) / len(q.latin)


def candidates(q: Query, hits: list[Hit], figures: dict[str, list[Figure]],
               sims: dict[tuple[str, int], float] | None = None,
               leads: dict[str, Passage] | None = None) -> list[Candidate]:
    """Every figure of every retrieved sentence, scored against the question.

    Coverage is measured on the sentence and, slightly discounted, on its whole passage
    (why: "加大对“高企贷”支持力度。全年…3983家…" names the product only in the first sentence)
    and, more discounted, with the lead of a subject-less paragraph (``leads``, see
    ``passages.continuation_leads``).
    """
    out: list[Candidate] = []
    sims = sims or {}
    leads = leads or {}
    lo, hi = (min(sims.values()), max(sims.values())) if sims else (0.0, 0.0)
    # why: English questions share no words with the Chinese text, so the embedding's
    # view of which sentence answers matters most for them
    # (less so when the glossary found the question's specific terms)
    has_key = bool(q.key_terms)
    sim_weight = W.sim_zh if q.lang == "zh" else (W.sim_en_key if has_key else W.sim_en)
    parts = _part_penalties(q, hits, figures)
    for hit in hits:
        p = hit.passage
        figs = [f for f in figures.get(p.id, []) if f.kind not in NON_ANSWER_KINDS or f.kind in q.kinds]
        section = p.section
        passage_cov = _coverage(q.terms, p.clean_text + section, q.synonyms)
        first = (p.sentences or ((p.start, p.end),))[0]
        topic = strip_markup(p.span(*first))
        lead = leads.get(p.id)
        if lead is not None:
            # "为59家企业…出具保单" takes its subject from the paragraph before
            topic = strip_markup(lead.span(*lead.sentences[-1]) if lead.sentences else lead.text)

        for sent in p.sentences or ((p.start, p.end),):
            s_text = strip_markup(p.span(*sent))
            if is_enumerated_heading(s_text):
                continue  # "一、综合" names a section; it answers nothing
            in_sent = [f for f in figs if sent[0] <= f.start < sent[1]]
            cov = max(_coverage(q.terms, s_text + section, q.synonyms), W.passage_coverage * passage_cov, _latin_score(q, s_text))
            if lead is not None:  # what only the lead names counts, discounted
                cov = _filled(cov, _coverage(q.terms, topic + s_text + section, q.synonyms))
            prior = W.rank_prior / hit.rank + W.number_prior * _number_score(q, s_text)
            if sims and hi > lo:
                prior += sim_weight * (sims.get((p.id, sent[0]), lo) - lo) / (hi - lo)
            if not in_sent:
                # a figure was asked for and this sentence has none
                penalty = W.no_figure if q.kinds else 0.0
                out.append(Candidate(None, hit, sent, cov + prior - penalty, cov))  # type: ignore[arg-type]
                continue
            if not q.kinds:
                # "what/which" asks for the sentence: its figures neither help nor hurt it
                score = cov + prior + W.latin * _latin_score(q, s_text) - parts.get(p.id, 0.0)
                out += [Candidate(f, hit, sent, score, cov) for f in in_sent]
                continue
            for f in in_sent:
                window = _figure_window(p, sent, f, in_sent)
                local = _coverage(q.terms, window + " " + f.metric, q.synonyms)
                context = f"{window} {f.metric} {section}"
                if q.kinds and (sent != first or lead is not None):
                    # a later sentence of a bullet inherits its first sentence's subject:
                    # "加大对“高企贷”支持力度。全年…为3983家…提供…1521.63亿元"
                    local = _filled(local, _coverage(q.terms, topic + window, q.synonyms))
                    context += " " + topic
                score = (cov + W.local_coverage * local + _kind_score(q, f) + _unit_score(q, f) + _qualifier_score(q, f)
                         + _subset_score(q, p, sent, f) + _aggregate_score(q, p, sent, f) + prior
                         - parts.get(p.id, 0.0)
                         + W.latin * _latin_score(q, window))
                out.append(Candidate(f, hit, sent, score, cov, context, f"{window} {f.metric}"))
    _parts_yield_to_totals(q, out)
    out.sort(key=lambda c: -c.score)
    return out


def _parts_yield_to_totals(q: Query, cands: list[Candidate]) -> None:
    """A part the question does not name ("其中中小企业8890家,贷款金额1988.04亿元") is never a
    better answer than the total of the same kind before "其中" in its sentence (3534.78亿元),
    even when the part's clause happens to repeat a word of the question (贷款金额)."""
    measures = _how_terms(q)
    by_sentence: dict[tuple[str, int], list[Candidate]] = {}
    for c in cands:
        if c.figure is not None:
            by_sentence.setdefault((c.hit.passage.id, c.sentence[0]), []).append(c)
    for group in by_sentence.values():
        for c in group:
            p, sent, f = c.hit.passage, c.sentence, c.figure
            if _subset_score(q, p, sent, f) >= 0:
                continue
            raw = p.span(sent[0], f.start)
            cut = sent[0] + raw.rfind("其中")  # the raw text: offsets stay the source's
            head, part = strip_markup(raw[:raw.rfind("其中")]), strip_markup(p.span(cut, sent[1]))
            if any(t in part and t not in head for t in q.terms
                   if not any(t in m for m in measures)):
                continue  # the question says what only the part says ("成功登陆科创板")
            totals = [t.score for t in group if t.figure.end <= cut and t.figure.kind == f.kind
                      and t.figure.base_unit == f.base_unit]
            if totals and c.score >= max(totals):
                c.score = max(totals) - W.part_yield


# --- composition ---------------------------------------------------------------------------

def _clause_for(p: Passage, sent: tuple[int, int], figs: list[Figure]) -> str:
    """The cited sentence, trimmed to the clauses holding the chosen figures when long."""
    raw = p.span(*sent)
    text = strip_markup(raw).strip()
    if len(text) <= MAX_QUOTE_CHARS or not figs:
        return text
    lo = min(f.start for f in figs) - sent[0]
    hi = max(f.end for f in figs) - sent[0]
    left = max([m.end() for m in CLAUSE_SPLIT.finditer(raw, 0, lo)] + [0])
    right = min([m.end() for m in CLAUSE_SPLIT.finditer(raw, hi)] + [len(raw)])
    return "…" + strip_markup(raw[left:right]).strip() + "…"


def _figure_en(fig: Figure) -> str:
    text = render_en(fig)
    if fig.kind == "growth" and fig.growth is not None and fig.growth < 0:
        return f"down {text}"
    return text


def _figure_dict(fig: Figure, n: int) -> dict:
    return {"text": strip_markup(fig.text), "value": fig.value, "unit": fig.unit,
            "normalized_value": fig.normalized_value, "base_unit": fig.base_unit,
            "metric": fig.metric, "year": fig.year, "qualifier": fig.qualifier,
            "kind": fig.kind, "start": fig.start, "end": fig.end, "citation": n}


@dataclass
class Block:
    """The evidence chosen for one report year."""

    year: int
    hit: Hit
    sentence: tuple[int, int]
    figures: list[Figure]
    confidence: float


def _other_ordinal(q: Query, text: str) -> bool:
    """Whether ``text`` names another member of a series the question names one of."""
    found = ordinals_in(text)
    return any(any(s == series for _, s in found) and (n, series) not in found for n, series in q.ordinals)


def _distance(a: Figure, b: Figure) -> int:
    """Characters between two figures of one sentence (0 when they touch or overlap)."""
    return max(0, a.start - b.end, b.start - a.end)


def _pick_block(q: Query, cands: list[Candidate]) -> Block | None:
    """The best candidate's sentence as the evidence, its figures most relevant first, and
    how confident we are that it answers (see :func:`_confidence`)."""
    if not cands:
        return None
    best = cands[0]
    sent_cands = [c for c in cands if c.hit.passage.id == best.hit.passage.id and c.sentence == best.sentence and c.figure]
    figs: list[Figure] = []
    if best.figure is not None:
        # the sentence is the evidence: its other figures follow, most relevant first
        figs.append(best.figure)
        limit = max(3, len(q.kinds) + 2)
        # a second figure asked for sits next to the first ("53项,投融资金额3.5亿元"):
        # nearness breaks near-ties between the sentence's other figures
        sent_cands.sort(key=lambda c: -(c.score + W.near_second * max(0.0, 1 - _distance(c.figure, best.figure) / W.near_chars)))
        for c in sent_cands:
            if c.figure not in figs and len(figs) < limit:
                figs.append(c.figure)
    p = best.hit.passage
    sentence = best.sentence if q.kinds else _with_next_if_short(p, best.sentence)
    return Block(p.year, best.hit, sentence, figs, _confidence(q, best, figs))


def _confidence(q: Query, best: Candidate, figs: list[Figure]) -> float:
    """How well the best evidence answers: its term coverage, less what contradicts the
    question (calibrated with MIN_CONFIDENCE on eval/gold.jsonl)."""
    confidence = best.coverage
    # a measure term (贷款金额 for money) says how, not what: its absence is no contradiction
    how = _how_terms(q)  # once: a long question has hundreds of key terms
    key = [t for t in q.key_terms if t not in how]
    p = best.hit.passage
    if key and not any(t in p.clean_text or t in p.section for t in key):
        confidence -= W.conf_key_absent  # e.g. a metric only the other year's report gives
    if q.kinds:  # a figure was asked for: the evidence must hold one of that kind
        if best.figure is None:
            confidence -= W.conf_no_figure
        elif not q.wants(best.figure.kind):
            confidence -= W.conf_kind_other  # count and money are easily asked one for the other
        else:
            confidence += W.conf_kind_ok
        primary = {"growth": {"growth"}, "percent": {"percent", "growth"}, "rank": {"rank"}}.get(q.kinds[0])
        if primary and all(f.kind not in primary for f in figs):
            confidence -= W.conf_primary_absent  # a growth rate, share or rank asked for first, and none found
    counted = [t for t in q.counted if t in key]  # specific ones only
    if best.figure is not None and counted and not any(q.says(best.context, t) for t in counted):
        confidence -= W.conf_counted_absent  # "how many partner banks" answered with a count of enterprises
    if best.figure is not None and _aggregate_score(q, p, best.sentence, best.figure) < 0:
        confidence -= W.conf_total_only  # only a total over more than was asked ("AI companies alone")
    if _running_total_for_new(q, best.figure):
        confidence -= W.conf_contradiction  # "当年新增多少" is never answered by "累计完成255个"
    if _other_ordinal(q, strip_markup(p.span(*best.sentence))):
        confidence -= W.conf_contradiction  # "第二期的规模" is never answered by "首期规模10亿元"
    if q.kinds and best.figure is not None and best.context:
        # the figure's own clause must be about what was asked, not only its sentence:
        # "有效期内高新技术企业数突破2万家;发布科技小巨人工程实施办法" does not count Little Giants
        confidence = min(confidence, _coverage(q.terms, best.context, q.synonyms) + W.conf_clause_slack)
    return confidence


def _with_next_if_short(p: Passage, sentence: tuple[int, int]) -> tuple[int, int]:
    """A heading-like lead sentence ("加大对“高企贷”支持力度。") says little alone as the
    answer to a "what/which" question: quote it with the sentence after it (still one
    exact span of the source). Figure answers keep the figure's own sentence."""
    spans = list(p.sentences)
    if sentence in spans and len(strip_markup(p.span(*sentence))) < SHORT_SENTENCE:
        i = spans.index(sentence)
        if i + 1 < len(spans):
            return sentence[0], spans[i + 1][1]
    return sentence


def _overlap(a: str, b: str) -> float:
    """Shared characters of two metrics (Jaccard): "高新技术企业" ~ "高企贷 高企" > "试点合作银行"."""
    x, y = set(a.replace(" ", "")), set(b.replace(" ", ""))
    return len(x & y) / len(x | y) if x | y else 0.0


def _align_years(blocks: list[Block]) -> None:
    """Answers over several years compare like with like: each other year leads with its
    figure (same kind and unit) whose metric is closest to the most confident year's lead
    ("3983家高新技术企业" for "9729家高企", not "8家试点合作银行" of the same sentence)."""
    firsts = [b for i, b in enumerate(blocks) if b.figures and all(x.year != b.year for x in blocks[:i])]
    if len({b.year for b in firsts}) < 2:
        return
    anchor = max(firsts, key=lambda b: b.confidence)
    fa = anchor.figures[0]
    for b in firsts:
        same = [f for f in b.figures if f.kind == fa.kind and f.base_unit == fa.base_unit]
        if b is anchor or not same:
            continue
        best = max(same, key=lambda f: _overlap(f.metric, fa.metric))  # first of equals wins
        if _overlap(best.metric, fa.metric) > _overlap(b.figures[0].metric, fa.metric):
            b.figures.remove(best)
            b.figures.insert(0, best)


def _asks_years(q: Query) -> bool:
    """Whether the question compares or spans the reports' years; "分别/各" alone may be
    about several items of one year ("科技小巨人和国家高企分别占多大比重")."""
    if q.spans_years:
        return True
    return q.compare and bool(re.search(COMPARE_CUES_ZH + "|" + COMPARE_CUES_EN, MULTI_ITEMS.sub("", q.text), re.I))


def _context(b: Block) -> str:
    p = b.hit.passage
    return p.clean_text + p.section


# a question asking two things: "有多少户？贷款余额一共多少？", "…, and what's the value"
# (or two figures asked for in so many words: Query.asked ≥ 2)
MULTI_ASKS = re.compile(cue("MULTI_ASKS"), re.I)
# …or one thing for several items: "科技小巨人和国家高企分别占多大比重" (when the question
# is about several years, "分别/各" is about the years instead)
MULTI_ITEMS = re.compile(cue("MULTI_ITEMS"), re.I)
MULTI_AND = re.compile(cue("MULTI_AND"), re.I)


def _more_parts(q: Query, cands: list[Candidate], main: Block, limit: int = 2,
                leads: dict[str, Passage] | None = None) -> list[Block]:
    """For a question asking several things, the best figures of other sentences (same
    report) whose own clauses name question terms the sentences so far leave out, or an
    asked kind they lack; [] when nothing is left out or no other sentence names it
    ("科技小巨人和国家高企分别占了多大比重": two rows; "patent grants and PCT applications")."""
    several = q.asked >= 2 or MULTI_ASKS.search(q.text) or (MULTI_ITEMS.search(q.text) and not q.spans_years)
    if not (q.kinds and main.figures):
        return []
    parts = [main]
    while len(parts) <= limit:
        said = "".join(strip_markup(b.hit.passage.span(*b.sentence)) + b.hit.passage.section
                       + (strip_markup(leads[b.hit.passage.id].text) if leads and b.hit.passage.id in leads else "")
                       for b in parts)  # what a part says includes the subject its lead gives it
        rest = {t: w for t, w in q.terms.items() if not q.says(said, t)}
        # "A and B" with B a glossary term no sentence so far names is a second thing asked
        # (not across years: there "A与B" pairs one year's wording with the other's)
        joined = MULTI_AND.search(q.text) and not q.spans_years and any(t in q.concepts for t in rest)
        if not (several or joined):
            break
        # an asked kind no sentence so far has a figure of ("有多少户？贷款余额一共多少？")
        missing = [k for k in q.kinds if k != "any" and all(f.kind != k for b in parts for f in b.figures)]
        nxt = _next_part(q, cands, parts, rest, missing) if rest or missing else None
        if nxt is None:
            break
        parts.append(nxt)
    return parts[1:]


def _next_part(q: Query, cands: list[Candidate], parts: list[Block], rest: dict[str, float],
               missing: list[str]) -> Block | None:
    taken = {(b.hit.passage.id, b.sentence) for b in parts}
    for c in cands:
        if (c.figure is None or (c.hit.passage.id, c.sentence) in taken
                or c.hit.passage.year != parts[0].year or not q.wants(c.figure.kind)):
            continue  # another sentence of the same report, with a figure of an asked kind
        if c.score < cands[0].score - W.next_part_gap:
            return None  # nothing close enough to the best evidence
        named = sum(w for t, w in rest.items() if q.says(c.clause, t))
        if c.figure.kind in missing or named >= 1.0:
            same = [x for x in cands if (x.hit.passage.id, x.sentence) == (c.hit.passage.id, c.sentence)]
            part = _pick_block(q, same)
            return Block(part.year, part.hit, part.sentence, part.figures, parts[0].confidence)
    return None


class Answerer:
    """Answers questions over one retriever (the model and index load once)."""

    def __init__(self, retriever: Retriever | None = None, glossary: Glossary | None = None,
                 min_confidence: float | None = None, config: AnswerConfig | None = None) -> None:
        self.config = config or AnswerConfig()
        self.retriever = retriever or get_retriever()
        if glossary is None:  # the corpus's own, stored with its index
            glossary = getattr(self.retriever, "glossary", None) or Glossary([])
        self.glossary = glossary
        self.min_confidence = self.config.min_confidence if min_confidence is None else min_confidence

    @cached_property
    def bridge(self) -> Bridge:
        """English words → the Chinese words this corpus uses (CC-CEDICT, read lazily)."""
        return Bridge(in_corpus=self._in_corpus, romanized=lambda q: self.pinyin.romanized(q))

    @cached_property
    def pinyin(self) -> Pinyin:
        """The corpus's words by sound: Chinese homophone typos, names spelled in pinyin."""
        vocabulary = getattr(self.retriever.index, "vocabulary", None)
        if vocabulary is not None:  # cut and counted when the index was built
            words, counts = {w for w in vocabulary if is_content_term(w)}, dict(vocabulary)
        else:
            words, counts = set(content_terms(self.corpus_text, self.retriever.userdict)), None
        if self.glossary is not None:
            found = set(self.glossary.zh_terms_in(self.corpus_text))
            if counts is not None:
                counts.update({w: self.corpus_text.count(w) for w in found - counts.keys()})
            words |= found
        index = self.retriever.index
        return Pinyin(words, self.corpus_text, contains=self.corpus.__contains__, counts=counts,
                      stream=getattr(index, "sounds", None), keys=getattr(index, "sound_keys", None))

    @cached_property
    def speller(self) -> Speller:
        """English typos, never touching a word the corpus's glossary uses."""
        return Speller(self.glossary.english_words())

    @cached_property
    def reader(self) -> GeneralReader:
        return GeneralReader(load_models(self.config.model_path))

    @property
    def figures(self) -> dict[str, list[Figure]]:
        return self.retriever.index.figures

    @cached_property
    def corpus_text(self) -> str:
        return joined_text(self.retriever.index.passages)

    @cached_property
    def corpus(self) -> CorpusText:
        """``s in corpus`` without a scan of the whole text (qa.corpus_text), when the
        index's BM25 tokens hold the character bigrams it relies on."""
        index = self.retriever.index
        bigrams = "character bigrams" in str(index.manifest.get("bm25", {}).get("tokenizer", ""))
        postings = from_bm25(getattr(index, "bm25", None)) if bigrams else None
        return CorpusText(index.passages, postings, text=lambda: self.corpus_text)

    @cached_property
    def _corpus_lower(self) -> str:
        return self.corpus_text.lower()  # once, not on every question

    @cached_property
    def _found(self) -> dict[tuple[bool, str], bool]:
        """Whether the corpus text (or its lower case) holds a string, remembered: the text
        never changes, and a scan of it per term per question grows with the corpus."""
        return {}

    def _in_corpus(self, s: str, lower: bool = False) -> bool:
        found = self._found.get((lower, s))
        if found is None:
            found = remember(self._found, (lower, s), s in (self._corpus_lower if lower else self.corpus))
        return found

    def _lacks_latin(self, q: Query, b: Block) -> bool:
        """The question names a Latin term the reports use (PCT, ARJ21) and b's passage
        does not ("STAR", "IPO" appear in no report, so they do not count)."""
        used = [w.lower() for w in q.latin if self._in_corpus(w.lower(), lower=True)]
        return bool(used) and not any(w in b.hit.passage.clean_text.lower() for w in used)

    def unknown_concepts(self, q: Query) -> list[str]:
        """Terms of the question the glossary marks as outside the reports and that no
        passage mentions (nor a synonym of them): 北京, 利率.
        (Not every glossary term missing from the text: 金奖 is written 四金 there.)"""
        return [c for c in q.concepts if c in self.glossary.outside
                and not any(map(self._in_corpus, [c, *q.synonyms.get(c, ())]))]  # q.says, remembered

    @cached_property
    def leads(self) -> dict[str, Passage]:
        return continuation_leads(self.retriever.index.passages)

    def _searcher(self, q: Query, k: int) -> Callable[[int | None], list[Hit]]:
        """Search for one year (or all), once per question: the rules read the top ``k``
        passages, the learned reader ``config.reader_passages`` of the same ranking (the
        fused ranking does not depend on how many are taken, so the top ``k`` is a prefix)."""
        depth, done = max(k, self.config.reader_passages), {}

        def search(year: int | None) -> list[Hit]:
            if year not in done:
                done[year] = self.retriever.search(q.text, k=depth, year=year, reading=q.reading)
            return done[year]
        return search

    def _block(self, q: Query, k: int, year: int | None,
               search: Callable[[int | None], list[Hit]]) -> tuple[list[Hit], list[Block]]:
        """Retrieve for one year (or all) and pick the evidence: one block, or up to three
        for a question that asks several things answered in several sentences."""
        hits = search(year)[:k]
        sims = self.retriever.sentence_scores(q.text, [h.passage for h in hits])
        cands = candidates(q, hits, self.figures, sims, self.leads)
        main = _pick_block(q, cands)
        if main is None:
            return hits, []
        if self._lacks_latin(q, main):
            main.confidence -= W.conf_contradiction  # "PCT申请" is never answered from a passage that never says PCT
        said = strip_markup(main.hit.passage.span(*main.sentence))
        if (not q.kinds and q.lang == "zh" and not _other_ordinal(q, said)
                and sims.get((main.hit.passage.id, main.sentence[0]), 0.0) >= self.config.zh_text_sim):
            # a Chinese "what/which" question in other words than the report's: the
            # embedding vouches for the sentence where shared terms are few (never for
            # another member of a series: "第15届" is not "第14届")
            main.confidence = max(main.confidence, self.min_confidence)
        return hits, [main] + _more_parts(q, cands, main, leads=self.leads)

    def _blocks(self, q: Query, k: int, year: int | None,
                search: Callable[[int | None], list[Hit]]) -> tuple[list[Block], list[Hit]]:
        known = self.retriever.index.years
        if q.years:
            years = list(dict.fromkeys(q.years))
        elif year is not None:
            years = [year]
        else:
            years = [None]
        blocks, all_hits = [], []
        for y in years:
            hits, found = self._block(q, k, y, search)
            all_hits += [h for h in hits if h not in all_hits]
            blocks += found
        if years == [None] and blocks:
            # no year asked: a metric reported in several years is given for each, each cited
            first = blocks[0]
            for other in known:
                if other == first.year:
                    continue
                hits, found = self._block(q, k, other, search)
                if found and self._same_metric(q, first, found[0]):
                    blocks += found
                    all_hits += [h for h in hits if h not in all_hits]
        blocks.sort(key=lambda b: b.year)  # stable: a year's second part stays after its first
        return blocks, all_hits

    def _same_metric(self, q: Query, a: Block, b: Block) -> bool:
        """Whether block b reports the same thing as block a, for another year: confident
        enough when the question compares years; otherwise nearly as confident as a, or
        naming every specific term of the question that a names (the other report may word
        the rest differently: 授信金额 vs 信贷支持)."""
        if b.confidence < self.min_confidence:
            return False
        if _asks_years(q):  # "in each of the two years", "how did it change": every year is asked
            return True
        if b.confidence < W.same_metric_share * a.confidence:
            in_a = [t for t in q.key_terms if t in _context(a)]
            if not in_a or any(t not in _context(b) for t in in_a):
                return False
        if not q.kinds or not a.figures or not b.figures:  # a "what/which" question: one answer
            return False
        fa, fb = a.figures[0], b.figures[0]
        return fa.kind == fb.kind and fa.base_unit == fb.base_unit

    def ask(self, question: str, *, year: int | None = None, k: int = 5) -> Answer:
        t0 = time.perf_counter()
        asked = check_question(question)
        k, year = check_k(k), check_year(year)  # "5" and "2023" are fine; None, True, "five" are not
        # matched in the reports' script; the asker's own wording is what the answer shows
        question = to_simplified(asked)
        traditional = question != asked
        typos: list[tuple[str, str]] = []
        lang = detect_language(question)
        if lang == "en":
            # names in pinyin ("kechuang zhu li dai") are names, not English typos
            names = {w.lower() for spelled in self.pinyin.romanized(question).values() for w in spelled.split()}
            question, typos = self.speller.correct(question, keep=names)
        else:
            # "高企代" sounds like 高企贷
            cut = partial(get_tokenizer(self.retriever.userdict).cut, HMM=False)
            question, typos = self.pinyin.correct_zh(question, cut)
        if len(question) > MAX_QUESTION_CHARS:
            # corrections ("patentgrants" → "patent grants") made a question at the limit longer
            # than retrieval takes: it is read as typed rather than refused
            question, typos = to_simplified(asked), []
        if year is not None:
            self.retriever.resolve_year(question, year)  # raises UnknownYearError
        answer = self._ask(question, year, k, t0)
        if typos and lang == "en":
            answer.answer += "\n(Read " + ", ".join(f"“{a}” as “{b}”" for a, b in typos) + ".)"
        elif typos:
            answer.answer += "\n（" + "，".join(f"“{a}”按“{b}”理解" for a, b in typos) + "。）"
        if question != asked:
            answer.question = asked
        if traditional:
            answer.answer = _in_traditional(answer.answer)
        return answer

    def _ask(self, question: str, year: int | None, k: int, t0: float, whole: bool = True) -> Answer:
        index = self.retriever.index
        q = analyze(question, index.years, self.glossary, year,
                    userdict=self.retriever.userdict, bridge=self.bridge, this_year=self.config.this_year)
        parts = split_several(question, q.lang) if whole else []
        if len(parts) >= 2:
            # several things asked at once: each answered on its own, the missing ones named
            return merge_answers(q, [(p, self._ask(p, year, k, t0, whole=False)) for p in parts], t0, self.glossary)
        plan = compute_plan(q.text, q.lang, q.years or ([year] if year else []), index.years) if self.config.compute else None
        if plan is None:
            return self._answer(q, question, year, k, t0)
        # a value the report may state itself ("户均", "占比", "为木星的8.65倍") is taken as stated
        direct = self._answer(q, question, year, k, t0) if plan.op in ("average", "share", "ratio") and not plan.over_years else None
        stated = direct is not None and stated_directly(plan, direct)
        answer = answer_computed(self, q, plan, k)
        if answer is None:
            return direct if direct is not None else self._answer(q, question, year, k, t0)
        if stated and {c.passage_id for c in direct.citations} & {c.passage_id for c in answer.citations}:
            # the report states the value beside the operands themselves: as stated
            # (a stated share elsewhere, "科技小巨人企业占比超70%", is about something else)
            return direct
        self._note_relative(q, answer)
        answer.timings_ms = {"total": round((time.perf_counter() - t0) * 1000, 2)}
        return answer

    def _answer(self, q: Query, question: str, year: int | None, k: int, t0: float) -> Answer:
        """The answer that reads the figures as stated (the rules and the learned reader)."""
        # a year no report covers is content the evidence must name ("1901年华沙的人口"),
        # unless the question also names a report year ("2019年和2023年…": a note says so)
        content_years = [str(y) for y in q.unknown_years] if not q.years else []
        if not q.terms and not q.latin and not q.bridged and not _proper_names(q):
            # nothing in the question names anything the reports (or the glossary) know:
            # embeddings alone cannot tell "hello" from a real question here
            return self._unanswerable(q, self.retriever.search(question, k=k, year=year, reading=q.reading), t0)
        if q.lang == "en" and hasattr(self.retriever, "prefetch"):
            # the question and its bridged Chinese terms (see _general) embed in one call
            self.retriever.prefetch([q.text, pseudo_question({**q.bridged, **q.terms})])
        search = self._searcher(q, k)
        blocks, hits = self._blocks(q, k, year, search)
        unknown = self.unknown_concepts(q)
        if unknown:
            # the question names something no report mentions (北京, an interest rate):
            # the nearest figure is about something else
            for b in blocks:
                b.confidence -= W.conf_contradiction
        for b in blocks:
            if content_years and not any(y in b.hit.passage.text for y in content_years):
                b.confidence -= W.conf_contradiction  # "1901年…" is not answered from a passage about another time
        t1 = time.perf_counter()
        best = max((b.confidence for b in blocks), default=0.0)
        # once one year answers confidently, another year the question names explicitly
        # needs less evidence (its report may name the metric differently: 高企 vs 高新技术企业)
        floor = W.second_year_floor * self.min_confidence if len(q.years) >= 2 and best >= self.min_confidence else self.min_confidence
        blocks = [b for b in blocks if b.confidence >= floor]
        picks = self._general(q, year, content_years, search)
        if unknown:
            picks = []  # the question names what no report mentions: nothing answers it
        picks = [p for p in picks if not self._contradicts(q, p)]
        choice, feats = self._referee(q, blocks, picks)
        if choice == "general":
            answer = self._compose_general(q, picks[0], hits)
            answer.reader["referee"] = feats
            self._note_relative(q, answer)
            answer.timings_ms = {"retrieve": round((t1 - t0) * 1000, 2),
                                 "total": round((time.perf_counter() - t0) * 1000, 2)}
            return answer
        if not blocks or choice == "none":
            answer = self._unanswerable(q, hits, t0)
            answer.reader = {"chosen_by": "none", "referee": feats}
            return answer
        answer = self._compose(q, blocks, hits)
        answer.reader = {"chosen_by": "rules", "probability": self._rules_prob(q, blocks, picks), "referee": feats}
        self._note_missing_years(q, blocks, answer)
        self._note_relative(q, answer)
        answer.timings_ms = {"retrieve": round((t1 - t0) * 1000, 2),
                             "total": round((time.perf_counter() - t0) * 1000, 2)}
        return answer

    @staticmethod
    def _note_relative(q: Query, answer: Answer) -> None:
        """Say which report a relative mention was read as: "“上一份报告”即2021年的报告"; and
        that "去年" (2025) has no report, the answer being from the reports' own years."""
        if not answer.answerable:
            return
        if q.calendar_missing:
            _add_note(answer, q.lang, q.calendar_missing,
                      lambda ms: "；".join(f"“{w}”是{y}年" for y, w in ms) + "，没有该年的报告；以上是报告所载年份的数据",
                      lambda ms: "; ".join(f"“{w}” is {y}" for y, w in ms)
                      + ", which no report covers; the figures above are for the reports' own years")
        if q.relative:
            _add_note(answer, q.lang, q.relative, lambda ms: "；".join(f"“{w}”即{y}年的报告" for y, w in ms),
                      lambda ms: "; ".join(f"“{w}” is the {y} report" for y, w in ms))

    def _note_missing_years(self, q: Query, blocks: list[Block], answer: Answer) -> None:
        """Say which asked years are not answered, instead of leaving them out silently:
        "2019年和2023年…" → a 2023 answer plus "no report covers 2019"."""
        unanswered = [y for y in q.years if y not in {b.year for b in blocks}]
        if not (q.unknown_years or unanswered) or not answer.answerable:
            return
        if q.lang == "zh":
            notes = ([f"（没有{'、'.join(map(str, q.unknown_years))}年的报告。）"] if q.unknown_years else []) + \
                    ([f"（{'、'.join(map(str, unanswered))}年的报告中没有找到这一数据。）"] if unanswered else [])
        else:
            notes = ([f"(No report covers {' or '.join(map(str, q.unknown_years))}.)"] if q.unknown_years else []) + \
                    ([f"(The {' and '.join(map(str, unanswered))} report does not give this.)"] if unanswered else [])
        answer.answer += "\n" + "\n".join(notes)
        answer.noted_years = q.unknown_years + unanswered

    # -- composing --
    def _citation(self, n: int, block: Block, lang: str) -> Citation:
        p = block.hit.passage
        doc = self.retriever.index.document(p.doc_id)
        title = doc.get("title_en" if lang == "en" else "title_zh", p.doc_id)
        s, e = block.sentence
        return Citation(n, p.doc_id, title, p.year, p.section, p.id, p.text,
                        p.span(s, e), s, e)

    def _compose(self, q: Query, blocks: list[Block], hits: list[Hit]) -> Answer:
        _align_years(blocks)
        citations, parts = [], []
        leads = [(n, f) for n, b in enumerate(blocks, start=1) for f in self._lead(q, b)]
        rest = [(n, f) for n, b in enumerate(blocks, start=1) for f in b.figures if (n, f) not in leads]
        figures = [_figure_dict(f, n) for n, f in leads + rest]  # the answer's own figures first
        for n, b in enumerate(blocks, start=1):
            citations.append(self._citation(n, b, q.lang))
            clause = _clause_for(b.hit.passage, b.sentence, b.figures)
            if q.lang == "zh":
                clause = clause.rstrip("。；;，, ")
                lead = "、".join(render_zh(f) for f in self._lead(q, b)) if q.kinds else ""
                parts.append(f"{b.year}年：{lead}。原文：{clause}[{n}]" if lead
                             else f"据{b.year}年报告：{clause}[{n}]")
            else:
                parts.append(self._english_part(q, b, n, clause))
        # arithmetic only when we know what kind of figure is compared
        computed = self._comparison(q, blocks) if len(blocks) >= 2 and q.kinds else []
        text = ("\n" if q.lang == "en" else "；\n").join(parts)
        if q.lang == "zh" and not text.endswith(("。", "…")):
            text += "。"
        if computed:
            text += "\n" + self._comparison_text(q, computed)
        answer = Answer(q.text, q.lang, True, text, figures, citations,
                        [_hit_dict(h) for h in hits[: max(5, len(blocks))]], computed,
                        figure_objs=[f for b in blocks for f in b.figures])
        return ground(answer, self.glossary)

    @staticmethod
    def _lead(q: Query, b: Block) -> list[Figure]:
        """The figures the answer leads with: the best one, plus others of another asked kind,
        or of the same kind when the question asks for more figures than kinds ("how many
        firms, how many projects, and what sum": two counts and a sum)."""
        if not b.figures:
            return []
        lead = [b.figures[0]]
        for f in b.figures[1:]:
            if len(lead) >= max(len(q.kinds), q.asked):
                break
            if f.kind in q.kinds and (f.kind not in {x.kind for x in lead} or q.asked > len(q.kinds)):
                lead.append(f)
        return lead

    def _english_part(self, q: Query, b: Block, n: int, clause: str) -> str:
        lead = self._lead(q, b) if q.kinds else []  # "what/which" questions: the sentence answers
        if lead:
            p = b.hit.passage
            sentence = describe(lead, b.year, self.glossary, p.text, q.concepts, b.figures, offset=p.start)
            return f"{sentence} [{n}]. Source: {quote_en(clause)}"
        p = b.hit.passage
        s, e = b.sentence
        figs = [f for f in b.figures if s <= f.start < e]
        opening = text_opening(b.year, p.section, strip_markup(p.span(s, e)), self.glossary, figs, n)
        return f"{opening} Quote: {quote_en(clause)}"

    def _comparison(self, q: Query, blocks: list[Block]) -> list[dict]:
        """Difference and ratio between the two years' leading figures of the same kind/unit."""
        first = [b for b in blocks if b.figures]
        if len(first) < 2:
            return []
        a = first[0]
        b = next((x for x in first if x.year != a.year), None)  # not a second part of a's year
        if b is None:
            return []
        fa = a.figures[0]
        fb = next((f for f in b.figures if f.kind == fa.kind and f.base_unit == fa.base_unit), None)
        if fb is None or fa.kind not in ("count", "money", "percent") or not fa.normalized_value:
            return []
        if any(is_limit(f.qualifier) for f in (fa, fb)):
            return []  # a limit ("5000万元以下") is not a quantity to subtract
        # the thing compared: a specific term or a glossary concept of the question (not a
        # measure term such as 贷款金额, which says how, not what) named in both contexts
        how = _how_terms(q)
        named = [t for t in dict.fromkeys(q.key_terms + q.concepts) if t not in how]
        if _overlap(fa.metric, fb.metric) < W.metric_overlap_min and not any(t in _context(a) and t in _context(b) for t in named):
            return []  # two figures about different things: no arithmetic between them
        na, nb = blocks.index(a) + 1, blocks.index(b) + 1
        diff = fb.normalized_value - fa.normalized_value
        ratio = fb.normalized_value / fa.normalized_value
        return [
            {"op": "difference", "value": diff, "base_unit": fa.base_unit, "from_year": a.year,
             "to_year": b.year, "inputs": [na, nb], "computed": True},
            {"op": "ratio", "value": round(ratio, 4), "from_year": a.year, "to_year": b.year,
             "inputs": [na, nb], "computed": True},
        ]

    def _comparison_text(self, q: Query, computed: list[dict]) -> str:
        diff, ratio = computed
        ya, yb = diff["from_year"], diff["to_year"]
        na, nb = diff["inputs"]
        value, unit = _scaled(diff["value"], diff["base_unit"], q.lang)
        if q.lang == "zh":
            verb = "增加" if diff["value"] >= 0 else "减少"
            return (f"（计算值）{yb}年比{ya}年{verb}{value}{unit}，"
                    f"为{ya}年的{format_number_en(ratio['value'])}倍[{na}][{nb}]。")
        verb = "up" if diff["value"] >= 0 else "down"
        return (f"Computed: from {ya} to {yb}, {verb} {value}{unit} "
                f"({format_number_en(ratio['value'])}× the {ya} figure) [{na}][{nb}].")

    # -- the learned general reader --
    def _general(self, q: Query, year: int | None, content_years: list[str],
                 search: Callable[[int | None], list[Hit]]) -> list[GeneralPick]:
        """The learned reader's candidates over the wider retrieval, best first."""
        hits = [h for y in (q.years or [year]) for h in search(y)]
        terms = {**q.bridged, **q.terms}
        # an English question's sentences are also scored with its bridged Chinese terms
        mix = pseudo_question(terms) if q.lang == "en" else ""
        sims = self.retriever.sentence_scores(q.text, [h.passage for h in hits], mix=mix or None,
                                              mix_weight=BRIDGE_SIM_SHARE)
        return read(self.reader, q.text, q.lang, terms, q.answer_type, sentence_views(hits, sims), content_years)

    def _contradicts(self, q: Query, pick: GeneralPick) -> bool:
        """The evidence checks the rules apply, for the learned reader's candidates too:
        another member of a series ("第15届" asked, "第14届" found), or a Latin term the
        corpus uses that the passage lacks (PCT)."""
        p = pick.hit.passage
        if _other_ordinal(q, strip_markup(p.span(*pick.sentence))):
            return True
        used = [w.lower() for w in q.latin if self._in_corpus(w.lower(), lower=True)]
        return bool(used) and not any(w in p.clean_text.lower() for w in used)

    def _threshold(self, q: Query) -> float:
        return self.reader.models.threshold("sentence" if q.answer_type == "text" else "span", q.lang)

    def _rules_prob(self, q: Query, blocks: list[Block], picks: list[GeneralPick]) -> float | None:
        """The learned model's probability for the rules' own answer: its lead figure's span
        (quantity questions) or its sentence (text questions)."""
        if not blocks or not picks:
            return None
        b = blocks[0]
        pid = b.hit.passage.id
        same = [p for p in picks if p.hit.passage.id == pid and p.sentence[0] <= b.sentence[0] < p.sentence[1] + 1]
        if q.answer_type == "text":
            return max((p.prob for p in same), default=None)
        if not b.figures:
            return 0.0 if same else None  # a quantity asked, and the rules quote no figure
        f = b.figures[0]
        if not _figure_fits(q, f):
            return 0.0  # a type or measure word the question does not ask for
        return max((p.prob for p in same if p.covers(f)), default=None)

    def _referee(self, q: Query, blocks: list[Block], picks: list[GeneralPick]) -> tuple[str, dict]:
        """'rules', 'general' or 'none': which reading answers, and the referee's features.

        Fixed by construction: no rules answer → the learned reader's if it clears its
        threshold; a question over several years or items → the rules (the learned reader
        answers one thing from one sentence); a type the rules were not written for → the
        learned reader's. Otherwise the learned referee (qa.referee, fitted by ``qa train
        --referee``) weighs the two readings."""
        g = picks[0] if picks else None
        threshold = self._threshold(q)
        g_ok = g is not None and g.prob >= threshold
        p_rules = self._rules_prob(q, blocks, picks)
        b = blocks[0] if blocks else None
        same = bool(b and g and b.figures and g.hit.passage.id == b.hit.passage.id and g.covers(b.figures[0]))
        feats = referee_features(g.prob if g else 0.0, threshold, p_rules,
                                 b.confidence if b else 0.0, same, q.lang, q.answer_type, len(q.concepts))
        # several years or several things asked: the learned reader answers one thing only
        several = bool(q.spans_years or q.compare or q.asked >= 2 or len(blocks) >= 2 or MULTI_ASKS.search(q.text))
        # whether the learned referee decides this one (the fixed cases below do not)
        feats["consulted"] = bool(blocks and g_ok and not same and p_rules != 0.0
                                  and q.answer_type in self.config.rules_types and not several)
        mode = self.config.reading
        if mode != "auto":
            choice = {"rules": "rules" if blocks else "none", "learned": "general" if g_ok else "none"}[mode]
            return choice, feats
        if not blocks:
            return ("general" if g_ok else "none"), feats
        if several:
            return "rules", feats
        if q.answer_type not in self.config.rules_types:
            if g_ok or (p_rules == 0.0 and g is not None and g.sentence == blocks[0].sentence):
                # the rules hold no figure of the type asked; the learned reader's best one
                # in the rules' own sentence is the better answer even when it is unsure
                return "general", feats
            return "rules", feats
        if not g_ok or same:
            return "rules", feats
        if p_rules == 0.0:
            feats["consulted"] = False
            return "general", feats  # the rules' figure is of a type or measure word not asked
        referee = self.reader.models.referee
        if referee is not None:
            p = float(referee.predict_proba([[feats[n] for n in referee.names_]])[0])
            feats["p_learned_better"] = round(p, 4)
            return ("general" if p > 0.5 else "rules"), feats
        if p_rules is None:
            return "rules", feats
        return ("general" if g.prob - p_rules > self.config.referee_margin else "rules"), feats

    def _compose_general(self, q: Query, pick: GeneralPick, hits: list[Hit]) -> Answer:
        p = pick.hit.passage
        s, e = pick.sentence
        doc = self.retriever.index.document(p.doc_id)
        citation = Citation(1, p.doc_id, doc.get("title_en" if q.lang == "en" else "title_zh", p.doc_id),
                            p.year, p.section, p.id, p.text, p.span(s, e), s, e)
        quote = strip_markup(p.span(s, e)).strip()
        span = pick.scored.span
        figures, allowed, figure_objs = [], [], []
        if span is None:
            if q.lang == "zh":
                text = f"据《{citation.title}》：{quote}[1]"
            else:
                figure_objs = [f for f in self.figures.get(p.id, []) if s <= f.start < e]
                opening = text_opening(p.year, p.section, quote, self.glossary, figure_objs, 1)
                text = f"{opening} Quote: {quote_en(quote)}"
        else:
            a, b = pick.span_abs
            normalized, base = normalize_unit(span.value, span.unit) if span.unit else (span.normalized, "")
            figures.append({"text": strip_markup(span.text), "value": span.value, "unit": span.unit,
                            "normalized_value": normalized, "base_unit": base, "metric": "",
                            "year": p.year, "qualifier": span.qualifier or None, "kind": span.type,
                            "start": a, "end": b, "citation": 1, "probability": round(pick.prob, 4)})
            # the report's year leads, as in the rules' answers ("2023年：9729家。原文：…")
            if q.lang == "zh":
                text = f"{p.year}年：{strip_markup(span.text).strip()}。原文：{quote}[1]"
            else:
                rendered = render_span_en(span)
                allowed.append(rendered)
                fig = next((f for f in self.figures.get(p.id, []) if f.start <= a < f.end), None)
                if fig is not None and fig.metric and _figure_type(fig) == span.type:
                    # the rules know this figure's metric: the sentence names what it measures
                    lead = describe([fig], p.year, self.glossary, p.text, q.concepts, offset=p.start)
                    figure_objs.append(fig)
                else:
                    lead = f"In {p.year}, the report gives {rendered} in the sentence quoted below"
                text = f"{lead} [1]. Source: {quote_en(quote)}"
        answer = Answer(q.text, q.lang, True, text, figures, [citation],
                        [_hit_dict(h) for h in hits[:5]], [], figure_objs=figure_objs)
        answer.reader = {"chosen_by": "learned", "probability": round(pick.prob, 4),
                         "answer_type": q.answer_type}
        answer.allowed_renderings = allowed
        return ground(answer, self.glossary)

    def _unanswerable(self, q: Query, hits: list[Hit], t0: float) -> Answer:
        years = "、".join(str(y) for y in self.retriever.index.years)
        years_en = join_en([str(y) for y in self.retriever.index.years])
        asked = "、".join(map(str, q.unknown_years))
        if q.lang == "zh":
            text = (f"抱歉，报告中没有找到能回答这个问题的内容（现有报告年份：{years}）。"
                    + (f"没有{asked}年的报告，报告中也没有提到{asked}年的这一数据。" if asked else "")
                    + ("以下是最接近的段落，供参考。" if hits else ""))
        else:
            text = (f"Sorry, the reports ({years_en}) do not answer this question."
                    + (f" No report covers {' or '.join(map(str, q.unknown_years))}, and none gives this for it."
                       if asked else "")
                    + (" The closest passages are listed below." if hits else ""))
        return Answer(q.text, q.lang, False, text, [], [], [_hit_dict(h) for h in hits[:5]], [],
                      {"total": round((time.perf_counter() - t0) * 1000, 2)})


# the rules' figure kinds as the learned reader's answer types
FIGURE_TYPES = {"count": "count", "money": "money", "percent": "percent", "rank": "rank",
                "year": "date", "ordinal": "rank"}


def quote_en(text: str) -> str:
    """A quotation inside English text: double marks outside, the report's own double marks
    inside become single ones, as English nests them (“高企贷”共为… → “‘高企贷’共为…”), so
    the marks are never doubled. The JSON citation keeps the exact source span.

    >>> quote_en("“高企贷”共为 9729 家高企提供信贷支持")
    '“‘高企贷’共为 9729 家高企提供信贷支持”'
    """
    return "“" + text.replace("“", "‘").replace("”", "’") + "”"


def _add_note(answer: Answer, lang: str, mentions: list, zh: Callable[[list], str], en: Callable[[list], str]) -> None:
    """Append "（…。）" / "(….)" about the (year, words) ``mentions``; their years are allowed."""
    answer.answer += f"\n（{zh(mentions)}。）" if lang == "zh" else f"\n({en(mentions)}.)"
    answer.noted_years = list(answer.noted_years) + [y for y, _ in mentions]


def _figure_type(f: Figure) -> str:
    """A rules figure's kind as the learned reader's answer type (a change in % is a percent)."""
    if f.kind == "growth":
        return "percent" if f.base_unit in ("%", "pp") else "count"
    return FIGURE_TYPES.get(f.kind, "count")


def _figure_fits(q: Query, f: Figure) -> bool:
    """Whether a rules figure is of a type the question can take, with the measure word it
    asks for ("多少张床位" is not answered in 人次)."""
    kind = _figure_type(f)
    if type_agreement(q.answer_type, kind) <= 0 and q.answer_type != "text":
        return False
    unit = asked_measure_word(q.text) if q.lang == "zh" else ""
    return not unit or any(f.unit.endswith(u) or f.base_unit.startswith(u) for u in SAME_MEASURE.get(unit, (unit,)))


def _proper_names(q: Query) -> list[str]:
    """Capitalised English words past the first ("When did Tesla, Lane and Vail …"): names
    the dictionary cannot bridge, which the multilingual embedding may still place."""
    if q.lang != "en":
        return []
    words = re.findall(r"[A-Za-z][\w'-]*", q.text)
    return [w for w in words[1:] if w[0].isupper() and w.lower() not in STOP_EN]


def _in_traditional(text: str) -> str:
    """An answer for a question asked in Traditional characters: its own words in
    Traditional script, every quotation of the report left exactly as the report has it."""
    parts = re.split(r"(“[^”]*”|原文：[^\n\[]*)", text)
    return "".join(p if p.startswith(("“", "原文：")) else to_traditional(p) for p in parts)


def _scaled(value: float, base_unit: str, lang: str) -> tuple[str, str]:
    """A computed difference in readable magnitude, without its sign:
    2013150000000 元 → ('2013.15', '亿元')."""
    value = abs(value)
    if base_unit == "元":
        if lang == "zh":
            if abs(value) >= 1e8:
                return format_number_en(value / 1e8).replace(",", ""), "亿元"
            if abs(value) >= 1e4:
                return format_number_en(value / 1e4).replace(",", ""), "万元"
            return format_number_en(value).replace(",", ""), "元"
        number, _, word = scale_en(value).partition(" ")  # the same digits as the figures: 201.315 billion
        return "RMB " + number, f" {word}" if word else ""
    if base_unit == "%":
        return format_number_en(value), (" percentage points" if lang == "en" else "个百分点")
    num = format_number_en(value)
    return (num.replace(",", ""), base_unit) if lang == "zh" else (num, "")


def _hit_dict(h: Hit) -> dict:
    p = h.passage
    return {"rank": h.rank, "score": h.score, "passage_id": p.id, "doc_id": p.doc_id,
            "year": p.year, "section": p.section, "text": p.text, "start": p.start, "end": p.end}


# --- grounding -----------------------------------------------------------------------------

_NUM = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _num_key(s: str) -> str:
    s = s.replace(",", "")
    return s.rstrip("0").rstrip(".") if "." in s else s


def ungrounded_numbers(answer: Answer, glossary: Glossary | None = None) -> list[str]:
    """Numbers in the answer text that no cited passage, figure or computed value supports.

    Citation markers ``[n]``, the citations' years and the years a note says are not
    answered are allowed; everything else must appear in a cited passage or be a rendering
    of a cited/computed figure.
    """
    allowed: set[str] = set()
    for c in answer.citations:
        allowed |= {_num_key(m) for m in _NUM.findall(strip_markup(c.text))}
        allowed.add(str(c.year))
        for term in (glossary.zh_terms_in(strip_markup(c.text)) if glossary else []):
            # English names of cited terms may hold numbers: 每万人口 → per 10,000 population
            allowed |= {_num_key(m) for m in _NUM.findall(glossary.en_for(term) or "")}
    allowed |= {str(y) for y in answer.noted_years}  # "no report covers 2019"
    for rendered in answer.allowed_renderings:  # English renderings of cited spans (50万 → 500,000)
        allowed |= {_num_key(m) for m in _NUM.findall(rendered)}
    for f in answer.figure_objs:
        for rendered in (render_en(f), _figure_en(f), render_zh(f), f.text):
            allowed |= {_num_key(m) for m in _NUM.findall(rendered)}
    for c in answer.computed:
        if "operand_values" in c:
            # a computed value counts only if it is what its cited operands give
            if not verify(c):
                return [c.get("text", "?")]
            for key in ("text", "text_en", "formula", "formula_en"):
                allowed |= {_num_key(m) for m in _NUM.findall(c.get(key, ""))}
            continue
        for lang in ("zh", "en"):
            val, _ = _scaled(c["value"], c.get("base_unit", ""), lang)
            allowed |= {_num_key(m) for m in _NUM.findall(val)}
    text = re.sub(r"\[\d+\]", " ", answer.answer)
    return [m for m in _NUM.findall(text) if _num_key(m) not in allowed]


def ground(answer: Answer, glossary: Glossary | None = None) -> Answer:
    """Refuse to ship an answer with an unsupported number: downgrade it to the verbatim
    cited sentences (which are grounded by construction)."""
    bad = ungrounded_numbers(answer, glossary)
    if not bad:
        return answer
    quotes = "\n".join(f"“{strip_markup(c.quote)}”[{c.n}]" for c in answer.citations)
    answer.answer = quotes
    answer.figures, answer.figure_objs, answer.computed = [], [], []
    return answer


def _shift(text: str, by: int) -> str:
    return re.sub(r"\[(\d+)\]", lambda m: f"[{int(m.group(1)) + by}]", text)


def merge_answers(q: Query, parts: list[tuple[str, Answer]], t0: float, glossary: Glossary | None) -> Answer:
    """One answer from the answers to each thing asked: citations renumbered, each part's
    leading figure first (then the others), and the things not found named."""
    found = [(p, a) for p, a in parts if a.answerable]
    missing = [p for p, a in parts if not a.answerable]
    if not found:
        return parts[0][1]
    texts, citations, lead, rest, objs, computed, passages, noted = [], [], [], [], [], [], [], []
    for _, a in found:
        by = len(citations)
        for c in a.citations:
            citations.append(Citation(c.n + by, c.doc_id, c.title, c.year, c.section, c.passage_id,
                                      c.text, c.quote, c.start, c.end))
        texts.append(_shift(a.answer, by))
        figs = [dict(f, citation=(f["citation"] + by if isinstance(f.get("citation"), int) else f.get("citation")),
                     **({"operands": [n + by for n in f["operands"]]} if f.get("operands") else {}))
                for f in a.figures]
        lead += figs[:1]
        rest += figs[1:]
        objs += a.figure_objs
        for c in a.computed:
            c = dict(c)
            if c.get("operands"):
                c["operands"] = [n + by for n in c["operands"]]
            if c.get("operand_values"):
                c["operand_values"] = [dict(v, citation=v["citation"] + by) for v in c["operand_values"]]
            if c.get("inputs"):
                c["inputs"] = [n + by for n in c["inputs"]]
            computed.append(c)
        passages += [h for h in a.passages if h not in passages]
        noted += list(a.noted_years)
    text = "\n".join(texts)
    if missing:
        text += ("\n（报告中没有找到：" + "；".join(missing) + "）" if q.lang == "zh"
                 else "\n(Not found in the reports: " + "; ".join(missing) + ")")
    answer = Answer(q.text, q.lang, True, text, lead + rest, citations, passages[:5], computed,
                    figure_objs=objs)
    answer.noted_years = noted
    answer.allowed_renderings = [r for _, a in found for r in a.allowed_renderings]
    answer.reader = {"chosen_by": "several", "parts": [a.reader for _, a in parts]}
    answer.timings_ms = {"total": round((time.perf_counter() - t0) * 1000, 2)}
    return ground(answer, glossary)


_ANSWERER: dict[str, Answerer] = {}


def ask(question: str, *, year: int | None = None, k: int = 5, index_dir: str | None = None) -> Answer:
    """Python API: answer one question from the default (or given) index."""
    key = str(index_dir)
    if key not in _ANSWERER:
        _ANSWERER[key] = Answerer(get_retriever(index_dir))
    return _ANSWERER[key].ask(question, year=year, k=k)
