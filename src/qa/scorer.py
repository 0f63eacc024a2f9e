"""The learned scorer: logistic regression over :mod:`qa.features`, shipped as a small JSON
file with its feature list, the hash of its training data and its format version.

    >>> m = ReaderModel(names=("a", "b")).fit([[0, 1], [1, 0], [0, 0.9], [1, 0.1]], [0, 1, 0, 1])
    >>> bool(m.predict_proba([[1, 0]])[0] > 0.5), m.names_
    (True, ('a', 'b'))

Why logistic regression rather than boosting: its probabilities are well calibrated (the
answer/refuse threshold is a probability), it trains in seconds on CPU, and a dozen weights
in JSON can be read, diffed and reviewed — no pickle bound to one library version.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.errors import QAError

FORMAT = "qa-reader-model"
FORMAT_VERSION = 2  # 2: thresholds per question language


@dataclass
class ReaderModel:
    """Standardise → logistic regression. Hyper-parameters in the constructor, fitted state
    with a trailing underscore (scikit-learn style)."""

    names: tuple[str, ...]
    C: float = 1.0
    class_weight: str | None = None
    mean_: np.ndarray | None = None
    scale_: np.ndarray | None = None
    coef_: np.ndarray | None = None
    intercept_: float = 0.0
    meta: dict = field(default_factory=dict)

    @property
    def names_(self) -> tuple[str, ...]:
        return tuple(self.names)

    def fit(self, X, y) -> "ReaderModel":
        from sklearn.linear_model import LogisticRegression  # training only

        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        self.scale_ = np.where(X.std(axis=0) > 1e-9, X.std(axis=0), 1.0)
        lr = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000)
        lr.fit((X - self.mean_) / self.scale_, np.asarray(y))
        self.coef_, self.intercept_ = lr.coef_[0].copy(), float(lr.intercept_[0])
        return self

    def decision(self, X) -> np.ndarray:
        if self.coef_ is None:
            raise QAError("the reader model is not fitted; run: qa train")
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        return ((X - self.mean_) / self.scale_) @ self.coef_ + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.decision(X)))

    def to_dict(self) -> dict:
        return {"names": list(self.names), "C": self.C, "class_weight": self.class_weight,
                "mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
                "coef": self.coef_.tolist(), "intercept": self.intercept_, "meta": self.meta}

    @classmethod
    def from_dict(cls, d: dict) -> "ReaderModel":
        return cls(tuple(d["names"]), d.get("C", 1.0), d.get("class_weight"), np.array(d["mean"]),
                   np.array(d["scale"]), np.array(d["coef"]), float(d["intercept"]), d.get("meta", {}))


@dataclass
class ReaderModels:
    """The two models the reader uses and the answer/refuse threshold of each."""

    span: ReaderModel  # P(this quantity/date is the answer)
    sentence: ReaderModel  # P(this sentence holds the answer)
    # answer when the best candidate's probability reaches this, per question language
    # (English questions share fewer words with Chinese text, so their scores run lower)
    span_threshold: dict[str, float]
    sentence_threshold: dict[str, float]
    meta: dict = field(default_factory=dict)
    referee: ReaderModel | None = None  # P(the learned reading is right where the rules are not)

    def threshold(self, kind: str, lang: str) -> float:
        table = self.span_threshold if kind == "span" else self.sentence_threshold
        return table.get(lang, table.get("zh", 0.5))

    def save(self, path: str | Path) -> None:
        doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "meta": self.meta,
               "span_threshold": self.span_threshold, "sentence_threshold": self.sentence_threshold,
               "span": self.span.to_dict(), "sentence": self.sentence.to_dict(),
               "referee": self.referee.to_dict() if self.referee is not None else None}
        Path(path).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "ReaderModels":
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise QAError(f"cannot read the reader model {path}: {exc}; rebuild it with: qa train") from exc
        if doc.get("format") != FORMAT or doc.get("format_version") != FORMAT_VERSION:
            raise QAError(f"{path} is not a reader model of format version {FORMAT_VERSION}; rebuild it with: qa train")
        return cls(ReaderModel.from_dict(doc["span"]), ReaderModel.from_dict(doc["sentence"]),
                   {k: float(v) for k, v in doc["span_threshold"].items()},
                   {k: float(v) for k, v in doc["sentence_threshold"].items()}, doc.get("meta", {}),
                   ReaderModel.from_dict(doc["referee"]) if doc.get("referee") else None)


def default_model_path() -> Path:
    """The model shipped inside the package (``qa/data/reader_model.json``)."""
    from importlib import resources

    return Path(str(resources.files("qa").joinpath("data/reader_model.json")))


_LOADED: dict[str, ReaderModels] = {}


def load_models(path: str | Path | None = None) -> ReaderModels:
    key = str(path or default_model_path())
    if key not in _LOADED:
        _LOADED[key] = ReaderModels.load(key)
    return _LOADED[key]
