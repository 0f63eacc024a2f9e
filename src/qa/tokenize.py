"""Stage 3a: tokens for BM25 — jieba with the domain dictionary ``corpus/userdict.txt``,
plus the character bigrams of every run of Chinese characters.

    >>> tokenize("2023年高企贷支持了多少家企业？", bigrams=False)
    ['2023', '年', '高企', '高企贷', '支持', '家', '企业']
    >>> tokenize("高企贷支持")
    ['高企', '高企贷', '支持', '高企', '企贷', '贷支', '支持']

English words are lower-cased and kept, numbers are kept whole (``3534.78``), punctuation,
whitespace, ``**`` markup and a short list of Chinese function words are dropped.

Why bigrams: jieba does not always cut a question and the passage that answers it the same
way (names, transliterations, terms missing from the dictionaries); overlapping bigrams still
match there, while the whole words keep their weight. On the public benchmarks they raise
BM25 R@1 on CMRC 2018 from 0.965 to 0.973 and hybrid XQuAD zh→zh R@1 by about 0.01; on the
gold questions zh BM25 R@1 from 0.926 to 0.938 (benchmarks/RESULTS.md).
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

import jieba

# The product never relies on this: a corpus's own userdict.txt comes with its index
# (Retriever.userdict) and is passed explicitly. A caller with no corpus at hand gets plain
# jieba, or whatever it sets here (the tests set the seed corpus's dictionary).
DEFAULT_USERDICT: Path | None = None
_DEFAULT = object()

# Function words that only add noise to BM25 (language, not domain knowledge).
STOPWORDS = frozenset(
    "的 了 和 与 及 等 在 为 对 是 向 从 其中 以 并 共 个 之 中 上 其 这 那 也 都 而 或 被 把 由 于 将 已 "
    "什么 哪些 哪个 多少 几 吗 呢 啊 请问 一下 是否 有 有没有 怎么 如何 "
    "比 the a an of in on for to and or is are was were be been by with what which how many much "
    "did does do at as from that this it its their there".split()
)
_TOKEN = re.compile(r"[\u4e00-\u9fff]|[A-Za-z][A-Za-z0-9+\-]*|\d+(?:\.\d+)?")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")  # a run of 2+ Chinese characters
BIGRAMS = True  # add character bigrams of Chinese runs (an index must be built the same way)


@lru_cache(maxsize=4)
def _tokenizer(userdict: str | None) -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)  # why: jieba prints "Building prefix dict" to stderr
    tk = jieba.Tokenizer()
    tk.initialize()
    if userdict and Path(userdict).is_file():
        tk.load_userdict(userdict)
    return tk


def get_tokenizer(userdict: str | Path | None | object = _DEFAULT) -> jieba.Tokenizer:
    if userdict is _DEFAULT:
        userdict = DEFAULT_USERDICT
    return _tokenizer(str(userdict) if userdict else None)


def keep_tokens(pieces) -> list[str]:
    """Lower-case jieba pieces, dropping blanks, punctuation and stopwords; numbers lose
    their thousands separators."""
    out: list[str] = []
    for piece in pieces:
        piece = piece.strip().lower()
        if not piece or piece in STOPWORDS:
            continue
        if _NUMBER.fullmatch(piece):
            out.append(piece.replace(",", ""))
        elif _TOKEN.search(piece):
            out.append(piece)
    return out


def tokenize(text: str, userdict: str | Path | None | object = _DEFAULT, *, bigrams: bool | None = None) -> list[str]:
    """Search-mode jieba tokens (words plus their sub-words), lower-cased, filtered; then,
    with ``bigrams`` (default: the module's ``BIGRAMS``), every character bigram of each run
    of Chinese characters."""
    text = text.replace("**", "")
    out = keep_tokens(get_tokenizer(userdict).cut_for_search(text))
    use_bigrams = BIGRAMS if bigrams is None else bigrams  # read at call time (benchmarks flip it)
    return out + cjk_bigrams(text) if use_bigrams else out


def cjk_bigrams(text: str) -> list[str]:
    """Every character bigram of each run of Chinese characters, stop words left out.

    >>> cjk_bigrams("高企贷支持，其中")
    ['高企', '企贷', '贷支', '支持']
    """
    text = text.replace("**", "")
    return [bg for run in CJK_RUN.findall(text) for bg in (run[i : i + 2] for i in range(len(run) - 1))
            if bg not in STOPWORDS]
