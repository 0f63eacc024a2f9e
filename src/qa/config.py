"""The hand-set values that decide answers, in one place, each with its reason.

Weights that rank candidates are learned (``qa train``, see qa.scorer); what is left here are
decisions a person made and can defend in one line.

    >>> AnswerConfig().referee_margin
    0.5
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class AnswerConfig:
    # below this, the report-figure rules' best evidence does not answer (swept on the
    # development sets: the plateau is 0.45–0.50, answerable recall falls from 0.55)
    min_confidence: float = 0.45
    # zh question ↔ zh sentence cosine above which a "what/which" question is answered with
    # few shared terms (every answerable zh text question of eval/*.jsonl scores ≥ 0.898)
    zh_text_sim: float = 0.9
    # without a fitted referee (qa train --referee), the learned reader overrides a rules
    # answer only when it is this much surer of another candidate
    referee_margin: float = 0.5
    # which reading answers: "auto" (the referee decides), "rules" or "learned" only (for
    # measuring each reading alone, and for fitting the referee)
    reading: str = "auto"
    # answer types the report-figure rules were written for; other types (dates, durations,
    # ages, lengths, ratios) are the learned reader's alone
    rules_types: tuple[str, ...] = ("count", "money", "percent", "rank", "number", "text")
    # the learned reader's model file; None = the one shipped in the package
    model_path: Path | None = None
    # retrieved passages the learned reader reads (more than the rules' 5: it ranks sentences
    # itself, and a wider net costs ~1 ms per passage)
    reader_passages: int = 8
    # answer "平均每户多少", "加起来", "占比", "增长了百分之几 (2021→2023)" by computing from cited
    # figures (qa.compute); off only to measure what the plain reading does with them
    compute: bool = True
    # the year "去年"/"last year" counts back from; None = the clock's (set for tests and for
    # answering as of another date)
    this_year: int | None = None

    def __post_init__(self) -> None:
        if self.reading not in ("auto", "rules", "learned"):
            raise ValueError("reading is one of auto, rules, learned")
        if not 0.0 <= self.referee_margin <= 1.0:
            raise ValueError("referee_margin is a probability difference in [0, 1]")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["model_path"] = str(self.model_path) if self.model_path else None
        return d


@dataclass(frozen=True)
class RulesWeights:
    """The report-figure rules' hand-set weights (qa.answer), named, each with the reason it
    exists. They were set on the Shanghai chapters (eval/gold.jsonl and the dev sets); on other
    reports the learned reader and the referee decide instead (qa.reader, qa.referee)."""

    # candidate score: how a figure's evidence adds up
    local_coverage: float = 0.8  # question terms in the figure's own clause count almost as much as in its sentence
    context_discount: float = 0.7  # terms only the paragraph's lead or topic names count less
    passage_coverage: float = 0.85  # a passage naming the terms vouches for its sentences, a little less
    rank_prior: float = 0.25  # divided by the retrieval rank: a tie-breaker, not a verdict
    number_prior: float = 0.6  # a number the asker quotes ("account for 71%") points at its sentence
    sim_zh: float = 0.3  # dense similarity matters less where the words are shared (zh question)
    sim_en_key: float = 0.4  # … more for English with glossary terms
    sim_en: float = 0.8  # … most for English without them (no shared words at all)
    no_figure: float = 0.6  # a figure was asked for and the sentence has none
    latin: float = 0.5  # a Latin term of the question (PCT) next to the figure
    part_named: float = 0.3  # an "其中" part the question names
    part_unnamed: float = -0.3  # an "其中" part the question does not name yields to the headline
    part_yield: float = 0.01  # ... and ranks just below the total of its kind before 其中
    total_over_named_part: float = -0.8  # a total over a list when the question names only some items
    sub_heading_part: float = 0.6  # a paragraph under a sub-heading the question does not name
    kind_exact: float = 1.0  # the figure is of the kind asked (first kind)
    kind_step: float = 0.15  # … less for each later kind the question may want
    kind_any: float = 0.7  # a figure of no particular kind was asked
    kind_growth_for_share: float = 0.3  # a growth rate where a share was asked: related, not the same
    kind_other: float = -0.6  # a figure of another kind
    running_total_for_new: float = -0.6  # a cumulative figure where the year's new one is asked
    limit_asked: float = 0.5  # a limit ("5000万元以下") when the question asks for one
    limit_not_asked: float = -1.0  # … when it does not: an eligibility threshold is not a result
    unit_match: float = 0.4  # the measure word asked ("多少户")
    unit_other: float = -0.2  # another measure word
    near_second: float = 0.3  # a second asked figure sits next to the first …
    near_chars: int = 60  # … within this many characters
    next_part_gap: float = 1.5  # a second part of the answer is at most this far below the best
    # confidence: how far the best evidence answers (compared with AnswerConfig.min_confidence)
    conf_key_absent: float = 0.25  # the passage lacks the question's specific terms
    conf_no_figure: float = 0.3  # a figure was asked and none was found
    conf_kind_other: float = 0.15  # count and money are easily asked one for the other
    conf_kind_ok: float = 0.15  # the figure is of a kind asked
    conf_primary_absent: float = 0.6  # a growth rate, share or rank asked first, and none found
    conf_counted_absent: float = 0.4  # "how many X" answered with a count of something else
    conf_total_only: float = 0.5  # only a total over more than was asked
    conf_contradiction: float = 1.0  # evidence that contradicts the question (another series member, running total …)
    conf_clause_slack: float = 0.3  # the figure's own clause must be about what was asked, within this
    # several years
    same_metric_share: float = 0.85  # another year's block nearly as confident reports the same metric
    second_year_floor: float = 0.6  # share of min_confidence a second named year needs once one answers
    metric_overlap_min: float = 0.2  # no arithmetic between figures whose metrics share less than this


RULES = RulesWeights()
