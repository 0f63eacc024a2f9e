"""The hand-set values that decide answers, in one place, each with its reason.

Weights that rank candidates are learned (``qa train``, see qa.scorer); what is left here are
decisions a person made and can defend in one line.

    >>> AnswerConfig().referee_margin
    0.5
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
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
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.reading not in ("auto", "rules", "learned"):
            raise ValueError("reading is one of auto, rules, learned")
        if not 0.0 <= self.referee_margin <= 1.0:
            raise ValueError("referee_margin is a probability difference in [0, 1]")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["model_path"] = str(self.model_path) if self.model_path else None
        return d
