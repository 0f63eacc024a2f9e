"""The referee: which reading answers when both the report-figure rules and the learned
reader have an answer — a logistic regression over how sure each is, fitted by
``qa train --referee`` on questions where exactly one of them was right.

    >>> f = referee_features(0.8, 0.3, 0.1, 0.9, False, "zh", "count")
    >>> f["g_margin"], f["r_missing"], f["r_prob"]
    (0.5, 0.0, 0.1)
"""
from __future__ import annotations

REFEREE_FEATURES = ("g_prob", "g_margin", "r_prob", "r_missing", "r_ineligible", "r_conf", "english", "typed",
                    "glossary")


def referee_features(g_prob: float, threshold: float, r_prob: float | None, r_conf: float, same: bool,
                     lang: str, answer_type: str, glossary_terms: int = 0) -> dict:
    """What the referee sees: the learned reader's probability and its margin over its
    threshold; the learned model's probability for the rules' answer (missing: the rules'
    sentence was not read; 0: it holds no candidate of the type asked) and the rules' own
    confidence; whether the corpus's glossary names terms of the question (the rules lean on
    domain data where a corpus has it)."""
    return {
        "g_prob": round(g_prob, 4),
        "g_margin": round(g_prob - threshold, 4),
        "r_prob": round(r_prob, 4) if r_prob is not None else 0.0,
        "r_missing": 1.0 if r_prob is None else 0.0,
        "r_ineligible": 1.0 if r_prob == 0.0 else 0.0,
        "r_conf": round(min(max(r_conf, -1.0), 2.0), 4),
        "english": 1.0 if lang == "en" else 0.0,
        "typed": 0.0 if answer_type in ("number", "text") else 1.0,
        "glossary": 1.0 if glossary_terms else 0.0,
        "same": same,
    }
