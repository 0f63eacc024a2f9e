"""Pinyin at scale (issue 12): homophones ordered by one scan of counts, readings of Latin
letters found from an index of syllable pairs — the same results as the plain ways."""
import random
from collections import defaultdict

import pytest

from qa.pinyin import Pinyin, key, occurrences

# polyphones (行 xing/hang, 长 chang/zhang, 重 zhong/chong), homophones (贷/代, 期/企, 西/希),
# one-letter syllables (阿 a, 额 e) and repeated characters (哈哈哈: counted without overlap)
ALPHABET = "行长重贷代高企期西安希先哈阿额科创技支"


def _text(seed: int, n: int = 3000) -> str:
    rnd = random.Random(seed)
    runs = ["".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(1, 30))) for _ in range(n // 15)]
    return "".join(r + rnd.choice([" ", "，", "A1", "\n"]) for r in runs)


def _words(text: str, seed: int) -> set[str]:
    rnd = random.Random(seed)
    words = set()
    for _ in range(300):
        i = rnd.randrange(len(text) - 5)
        words.add(text[i:i + rnd.randint(2, 5)])
    return words | {"行长", "长行", "哈哈", "哈哈哈", "西安", "先", "ab", "高企贷", "高期代"}


def _spoken_reference(p: Pinyin, letters: str, n_chars: int | None = None) -> str | None:
    """The walk as first written: from every character whose reading starts the letters."""
    chars, readings, where = p._sounds()
    seen: dict[str, int] = {}

    def walk(i: int, j: int, start: int) -> None:
        if j == len(letters):
            word = chars[start:i]
            if n_chars is None or len(word) == n_chars:
                seen[word] = seen.get(word, 0) + 1
            return
        if i >= len(readings) or (n_chars is not None and i - start >= n_chars):
            return
        for r in readings[i]:
            if letters.startswith(r, j):
                walk(i + 1, j + len(r), start)

    starts = {i for k in range(1, min(6, len(letters)) + 1) for i in where.get(letters[:k], ())}
    for i in sorted(starts):
        walk(i, 0, i)
    return max(seen, key=lambda w: (seen[w], -len(w))) if seen else None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_occurrences_are_str_count(seed):
    text = _text(seed)
    words = {w for w in _words(text, seed) if len(w) >= 2 and all("\u4e00" <= c <= "\u9fff" for c in w)}
    counts = occurrences(words, text)
    assert {w: text.count(w) for w in words if text.count(w)} == counts
    assert occurrences({"哈哈"}, "哈哈哈，哈哈哈哈") == {"哈哈": 3}  # as str.count: no overlap


@pytest.mark.parametrize("seed", [1, 2])
def test_homophones_are_ordered_as_by_counting_each(seed):
    text = _text(seed)
    words = _words(text, seed)
    reference: dict[str, list[str]] = defaultdict(list)
    for w in sorted(words, key=lambda w: (-text.count(w), w)):
        if len(w) >= 2 and all("\u4e00" <= c <= "\u9fff" for c in w):
            reference[key(w)].append(w)
    got = Pinyin(words, text).by_key
    assert dict(got) == dict(reference)
    assert any(len(ws) > 1 for ws in reference.values())  # the order was put to the test


class _NoCount(str):
    def count(self, *args):  # the scan of old: one pass over the text per word
        raise AssertionError("str.count called")


def test_construction_does_not_count_per_word():
    text = _text(4)
    p = Pinyin(_words(text, 4), _NoCount(text))
    assert p.by_key


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_spoken_is_the_plain_walk(seed):
    text = _text(seed)
    p = Pinyin(_words(text, seed), text)
    rnd = random.Random(seed)
    syllables = sorted({r for rs in p._sounds()[1] for r in rs})
    tries = [m for m in ("xinghang", "changzhang", "zhongchong", "gaoqidai", "xian", "xiana",
                         "hahaha", "aeae", "kechuangji", "zhixing", "qqqqq", "")]
    tries += ["".join(rnd.choice(syllables) for _ in range(rnd.randint(1, 4))) for _ in range(150)]
    found = 0
    for letters in tries:
        for n in (None, 1, 2, 3):
            want = _spoken_reference(p, letters, n)
            assert p._spoken(letters, n) == want, (letters, n)
            assert p._spoken(letters, n) == want  # remembered
            found += want is not None
    assert found > 100

