"""qa.corpus_text (``s in corpus`` from the BM25 postings) and the vocabulary an index keeps
for matching by sound: both must give exactly what a scan of the whole text gives."""
import copy
import random

import pytest

from qa.answer import Answerer
from qa.corpus_text import CorpusText, from_bm25, joined_text
from qa.index import load_index
from qa.pinyin import occurrences
from qa.question import content_terms
from qa.retrieve import Retriever


@pytest.fixture(scope="module")
def index(fake_index):
    return load_index(fake_index)


def probes(text: str, n: int = 1500, seed: int = 3) -> list[str]:
    """Substrings of the text (present) and the same with one character changed or two
    pieces joined (mostly absent), Chinese and not."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        i, k = rng.randrange(len(text) - 8), rng.randint(1, 6)
        s = text[i:i + k]
        out.append(s)
        j = rng.randrange(len(text) - 8)
        out.append(s + text[j:j + rng.randint(1, 3)])
        out.append(s[:-1] + rng.choice("贷企业科技金融的一中"))
    return out + ["高企贷", "科创助力贷", "北京", "利率", "其中", "什么", "PCT", "", "高企贷 支持"]


def test_postings_answer_as_a_scan_does(index):
    text = joined_text(index.passages)
    corpus = CorpusText(index.passages, from_bm25(index.bm25))
    assert corpus.postings is not None
    checked = probes(text)
    assert [s in corpus for s in checked] == [s in text for s in checked]
    assert sum(s in text for s in checked) > 500 and sum(s not in text for s in checked) > 500


def test_a_bigram_the_index_lacks_settles_it_without_the_text(index):
    corpus = CorpusText(index.passages, from_bm25(index.bm25), text=lambda: pytest.fail("the text was read"))
    assert "贷企科专" not in corpus  # 贷企 is in no passage
    assert "高企贷" in corpus


def test_without_postings_it_scans(index):
    corpus = CorpusText(index.passages, None)
    assert "高企贷" in corpus and "北京大学" not in corpus


def test_the_stored_vocabulary_is_the_corpus_cut_by_jieba_with_its_counts(index):
    text = joined_text(index.passages)
    chinese = lambda w: len(w) >= 2 and all("\u4e00" <= c <= "\u9fff" for c in w)  # noqa: E731
    words = {w for w in content_terms(text, index.data_file("userdict.txt")) if chinese(w)}
    assert words and words <= set(index.vocabulary)
    assert all(chinese(w) for w in index.vocabulary)
    sample = sorted(index.vocabulary)[::7]
    counts = occurrences(set(sample), text)
    assert all(index.vocabulary[w] == counts.get(w, 0) == text.count(w) > 0 for w in sample)


def test_sound_matching_is_the_same_from_the_stored_vocabulary_as_from_a_scan(index):
    fresh = Answerer(Retriever(index))
    old = copy.copy(index)
    old.vocabulary, old.sounds, old.sound_keys = None, None, None
    scanned = Answerer(Retriever(old))
    scanned.__dict__["corpus"] = scanned.corpus_text  # plain `in` over the text
    assert dict(fresh.pinyin.by_key) == dict(scanned.pinyin.by_key)
    for q in ["2023年高企代支持了多少家企业？", "科创注力贷授信企业有多少家？"]:
        assert fresh.pinyin.correct_zh(q) == scanned.pinyin.correct_zh(q)
    for q in ["how much gaoqidai lending", "kechuang zhu li dai credit in linjiang", "keji zhihang"]:
        assert fresh.pinyin.romanized(q) == scanned.pinyin.romanized(q)
    assert fresh.pinyin._stream == scanned.pinyin._stream and fresh.pinyin._pairs == scanned.pinyin._pairs


def test_the_stored_sound_stream_is_the_corpus_read_by_pypinyin(index):
    from qa.pinyin import key, sound_stream

    assert index.sounds is not None and index.sounds == sound_stream(joined_text(index.passages))
    assert index.sound_keys is not None and set(index.sound_keys) == set(index.vocabulary)
    assert all(index.sound_keys[w] == key(w) for w in sorted(index.sound_keys)[::5])
