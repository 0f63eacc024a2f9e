"""qa.memo.remember: every memo of the answer stage stays bounded in a server."""
import qa.memo as memo
from qa.bridge import Bridge
from qa.spelling import Speller


def test_a_full_memo_is_cleared_before_the_next_entry(monkeypatch):
    monkeypatch.setattr(memo, "MEMO_SIZE", 2)
    m = {}
    for i in range(3):
        memo.remember(m, i, i)
    assert m == {0: 0, 1: 1, 2: 2}
    assert memo.remember(m, 3, "x") == "x" and m == {3: "x"}


def test_the_bridge_and_speller_memos_stay_bounded(monkeypatch):
    monkeypatch.setattr(memo, "MEMO_SIZE", 3)
    bridge = Bridge(in_corpus=lambda zh: False)
    speller = Speller()
    for w in ["population", "companies", "patents", "loans", "credit", "grants", "firms"]:
        bridge._lookup(w)
        speller.fix(w)
    assert 0 < len(bridge._cache) <= 4 and 0 < len(speller._cache) <= 4
