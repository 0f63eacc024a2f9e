"""`qa train` end to end on a tiny SQuAD-format data folder (fake embedder): it writes a model
the reader loads, records its training data's hash, and is reproducible."""
from __future__ import annotations

import json

import pytest


def _squad(paragraphs: list[tuple[str, list[tuple[str, str]]]]) -> dict:
    data = []
    for a, (context, qas) in enumerate(paragraphs):
        items = [{"id": f"{a}-{i}", "question": q, "answers": [{"text": ans, "answer_start": context.index(ans)}]}
                 for i, (q, ans) in enumerate(qas)]
        data.append({"title": f"t{a}", "paragraphs": [{"context": context, "qas": items},
                                                     {"context": "其他段落没有答案，只是干扰。", "qas": []}]})
    return {"version": "1", "data": data}


@pytest.fixture
def bench_data(tmp_path):
    root = tmp_path / "bench"
    (root / "drcd").mkdir(parents=True)
    (root / "cmrc2018").mkdir()
    trad = [("華沙證券交易所於1817年建立，1901年有員工120人。", [("華沙證券交易所是哪一年建立的？", "1817年"),
                                                  ("1901年交易所有多少員工？", "120人")]),
            ("該市人口為71萬，面積為517平方公里。", [("該市人口有多少？", "71萬"), ("該市面積是多少？", "517平方公里")])]
    simp = [("临江港始建于1861年，1952年改建，年吞吐量3000万吨。", [("临江港始建于哪一年？", "1861年"),
                                                    ("临江港年吞吐量是多少？", "3000万吨")]),
            ("全市共有医院86所，床位6.8万张。", [("全市有多少所医院？", "86所"), ("全市有多少张床位？", "6.8万张")])]
    for name in ("DRCD_dev.json", "DRCD_test.json"):
        (root / "drcd" / name).write_text(json.dumps(_squad(trad), ensure_ascii=False), encoding="utf-8")
    (root / "cmrc2018" / "cmrc2018_trial.json").write_text(json.dumps(_squad(simp * 3), ensure_ascii=False),
                                                             encoding="utf-8")
    return root


def test_train_writes_a_loadable_reproducible_model(bench_data, tmp_path):
    from qa.features import SENTENCE_FEATURES, SPAN_FEATURES
    from qa.scorer import ReaderModels
    from qa.train import train

    out1, out2 = tmp_path / "m1.json", tmp_path / "m2.json"
    train(bench_data, out1, embedder="fake", max_drcd=100, cache_dir=tmp_path / "cache", log=lambda m: None)
    train(bench_data, out2, embedder="fake", max_drcd=100, cache_dir=tmp_path / "cache", log=lambda m: None)
    m = ReaderModels.load(out1)
    assert m.span.names_ == SPAN_FEATURES and m.sentence.names_ == SENTENCE_FEATURES
    assert set(m.span_threshold) == {"zh", "en"}
    assert len(m.meta["training_data_sha256"]) == 64 and m.meta["questions"] == 20  # 4 + 4 DRCD, 12 CMRC
    assert out1.read_text() == out2.read_text()  # same data, same seed: the same file


def test_train_names_a_missing_data_folder(tmp_path):
    from qa.cli import main

    assert main(["train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.json")]) == 2
