"""The corpus's words by their sound (pypinyin): Chinese typos that sound like a word of the
reports ("高企代" → 高企贷, "5G鸡站" → 5G基站) and Chinese names spelled in Latin letters in
English questions ("kechuang zhu li dai" → 科创助力贷, "linjiang" → 临江).

    >>> p = Pinyin(["高企贷", "科创助力贷", "临江", "5G基站", "科技支行"], "高企贷 科创助力贷 临江 5G基站 科技支行")
    >>> p.correct_zh("2023年高企代支持了多少家企业？")
    ('2023年高企贷支持了多少家企业？', [('高企代', '高企贷')])
    >>> p.romanized("numbr of compnaies that got kechuang zhu li dai credit in linjiang")
    {'科创助力贷': 'kechuang zhu li dai', '临江': 'linjiang'}

Only words of the corpus are ever produced; a question's word that the corpus or jieba's
dictionary has is never changed (it is a word, not a typo).
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache, partial

from qa.errors import QAError
from qa.memo import remember

# interrogatives and question particles: what the asker typed on purpose (哪年, 啥, 谁)
QUESTION_CHARS = re.compile(r"[哪啥谁几怎吗呢么]")
RARE_CHAR = 10_000  # jieba counts: a single character rarer than this may be a typo (代: 6,666; 是: 796,991)
MIN_KEY = 5  # letters: shorter romanizations ("li", "dai") are too ambiguous
MAX_WORDS = 5  # Latin words one name may take ("ke chuang zhu li dai")
MAX_STREAM_CHARS = 2_000_000  # characters read by sound beyond the vocabulary (memory, start-up)
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_LATIN = re.compile(r"[A-Za-z]+")


@lru_cache(maxsize=4096)
def key(word: str) -> str:
    """Toneless pinyin without spaces: 科创助力贷 → 'kechuangzhulidai'."""
    try:
        from pypinyin import lazy_pinyin
    except ModuleNotFoundError as exc:  # pragma: no cover - a declared dependency
        raise QAError("matching by sound needs pypinyin: pip install pypinyin") from exc
    return "".join(lazy_pinyin(word)).lower().replace("ü", "v")


@lru_cache(maxsize=1)
def _jieba_freq() -> dict[str, int]:
    """jieba's dictionary counts (a word jieba knows has a count above 0), loaded quietly."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)  # its start-up chatter is not the user's business
    jieba.initialize()
    return jieba.dt.FREQ


def _is_word(text: str) -> bool:
    return _jieba_freq().get(text, 0) > 0


class Pinyin:
    """``words``: the corpus's vocabulary (2+ Chinese characters); ``text``: its text."""

    def __init__(self, words: Iterable[str], text: str, contains: Callable[[str], bool] | None = None,
                 counts: dict[str, int] | None = None,
                 stream: tuple[str, list[tuple[str, ...]]] | None = None,
                 keys: dict[str, str] | None = None) -> None:
        self.text = text
        self._given_stream = stream  # sound_stream(text), when the index stored it
        self._contains = contains  # a faster ``s in text`` (qa.corpus_text), when there is one
        self.by_key: dict[str, list[str]] = defaultdict(list)
        keys = keys or {}  # key() of words, made when the index was built (pypinyin: ~50 µs a word)
        for w in set(words):
            if len(w) >= 2 and _CJK_RUN.fullmatch(w):
                self.by_key[keys.get(w) or key(w)].append(w)
        # homophones: most frequent in the text first, ties by word (which one a typo is read as);
        # counted in one scan of the text, and only for the words that share a sound
        if counts is None:  # counts the index stored (qa.index: vocabulary) save this scan
            counts = occurrences({w for ws in self.by_key.values() if len(ws) > 1 for w in ws}, text)
        for ws in self.by_key.values():
            ws.sort(key=lambda w: (-counts.get(w, 0), w))
        self._stream: tuple[str, list[tuple[str, ...]], dict[str, list[int]]] | None = None
        self._pairs: dict[str, list[int]] = {}  # two readings, joined → where they start
        self._spoken_memo: dict[tuple[str, int | None], str | None] = {}
        self._in_text_memo: dict[str, bool] = {}

    def _in_text(self, s: str) -> bool:
        """``s in self.text``, remembered: the text never changes, questions repeat words."""
        found = self._in_text_memo.get(s)
        if found is None:
            found = remember(self._in_text_memo, s, self._contains(s) if self._contains else s in self.text)
        return found

    def _sounds(self) -> tuple[str, list[tuple[str, ...]], dict[str, list[int]]]:
        """The corpus's characters ("#" between runs), every reading of each (polyphones:
        行 is xing or hang), and where each reading occurs (and, in ``_pairs``, where each two
        readings of neighbouring characters occur, so a walk starts only where two syllables
        of the letters do)."""
        if self._stream is None:
            chars, readings = self._given_stream or sound_stream(self.text)
            where: dict[str, list[int]] = defaultdict(list)
            pairs: dict[str, list[int]] = defaultdict(list)
            for i, rs in enumerate(readings):
                for r in rs:
                    where[r].append(i)
                if rs and i + 1 < len(readings):
                    for joined in dict.fromkeys(r + r2 for r in rs for r2 in readings[i + 1]):
                        pairs[joined].append(i)
            self._pairs = dict(pairs)
            self._stream = ("".join(chars), readings, dict(where))
            self._given_stream = None
        return self._stream

    def _spoken(self, letters: str, n_chars: int | None = None) -> str | None:
        """The most frequent run of corpus characters that can be read exactly as ``letters``
        (remembered per letters: the corpus does not change)."""
        memo = (letters, n_chars)
        if memo not in self._spoken_memo:
            return remember(self._spoken_memo, memo, self._walk_spoken(letters, n_chars))
        return self._spoken_memo[memo]

    def _walk_spoken(self, letters: str, n_chars: int | None) -> str | None:
        chars, readings, where = self._sounds()
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

        for i in sorted(self._starts(letters, where)):
            walk(i, 0, i)
        return max(seen, key=lambda w: (seen[w], -len(w))) if seen else None

    def _starts(self, letters: str, where: dict[str, list[int]]) -> set[int]:
        """Where a reading of ``letters`` can start: a character read as all of them, or two
        neighbours whose readings spell their beginning. Any other start of a reading (of
        ``where[letters[:k]]``) ends without one, so walking only these finds the same runs,
        in the same order, whatever the corpus's size (readings are at most 6 letters)."""
        starts = set(where.get(letters, ()))
        for k in range(2, min(12, len(letters)) + 1):
            starts.update(self._pairs.get(letters[:k], ()))
        return starts

    def _sounds_like(self, window: str, suspect: set[int]) -> str | None:
        """The corpus word ``window`` was meant as: a word of the vocabulary of three
        characters or more that sounds the same and differs in one character only, a
        character of the token that looks mistyped (高企|代 → 高企贷; never 潘淑|是 → 潘淑时:
        是 is no typo). Interrogatives are never read as something else (哪年 is no 那年)."""
        if len(window) < 3 or self._in_text(window) or _is_word(window):
            return None
        if QUESTION_CHARS.search(window):
            return None
        for w in self.by_key.get(key(window), ()):
            diff = [i for i, (a, b) in enumerate(zip(w, window)) if a != b]
            if len(w) == len(window) and len(diff) == 1 and diff[0] in suspect:
                return w
        return None

    def correct_zh(self, question: str, cut: Callable[[str], Iterable[str]] | None = None
                   ) -> tuple[str, list[tuple[str, str]]]:
        """The question with each run of whole words that no text has, holding a word that
        looks mistyped (one jieba does not know, or a rare single character: 高企|代, 鸡站),
        and that sounds like a run of the corpus, replaced by that run (longest first).
        ``cut``: the corpus's word segmenter, without new-word guessing (jieba's HMM would
        make "潘淑是" one unknown "word" and every character of it suspect)."""
        if cut is None:
            import jieba

            _jieba_freq()  # initialised quietly
            cut = partial(jieba.cut, HMM=False)
        tokens = list(cut(question))
        fixes: list[tuple[str, str]] = []
        out, i = question, 0
        while i < len(tokens):
            for n in range(min(4, len(tokens) - i), 0, -1):
                group = tokens[i:i + n]
                window = "".join(group)
                if not (2 <= len(window) <= 8 and _CJK_RUN.fullmatch(window)
                        and any(_suspect(t) and (len(t) == 1 or not self._in_text(t)) for t in group)):
                    continue
                at, suspect = 0, set()
                for t in group:
                    if _suspect(t) and (len(t) == 1 or not self._in_text(t)):
                        suspect |= set(range(at, at + len(t)))
                    at += len(t)
                fixed = self._sounds_like(window, suspect)
                if fixed:
                    fixes.append((window, fixed))
                    out = out.replace(window, fixed, 1)
                    i += n - 1
                    break
            i += 1
        return out, fixes

    def romanized(self, question: str) -> dict[str, str]:
        """Corpus words spelled in Latin letters in the question → the letters that spell them."""
        words = [(m.group(0), m.start(), m.end()) for m in _LATIN.finditer(question)]
        found: dict[str, str] = {}
        i = 0
        while i < len(words):
            for n in range(min(MAX_WORDS, len(words) - i), 0, -1):
                span = words[i:i + n]
                if question[span[0][1]:span[-1][2]].count(" ") != n - 1 and n > 1:
                    continue  # the words must follow each other: "zhu li dai", not "zhu, li"
                letters = "".join(w for w, _, _ in span).lower()
                if len(letters) < MIN_KEY or (n == 1 and _is_english(letters)):
                    continue  # "changes", "dining": English words that happen to spell pinyin
                zh = self.by_key[letters][0] if letters in self.by_key else self._spoken(letters)
                if zh is None or len(zh) < 2:
                    continue
                found.setdefault(zh, question[span[0][1]:span[-1][2]])
                i += n - 1
                break
            i += 1
        return found


def sound_stream(text: str) -> tuple[str, list[tuple[str, ...]]]:
    """The characters of the Chinese runs of ``text`` (up to MAX_STREAM_CHARS; "#" ends each
    run) and every reading of each as pypinyin gives it in its run (polyphones: 行 is xing or
    hang). pypinyin reads about 100 k characters a second here, so an index stores this
    (qa.index) rather than a process making it before its first English question.

    >>> sound_stream("在银行，行走")
    ('在银行#行走#', [('zai',), ('yin',), ('hang',), (), ('xing',), ('zou',), ()])
    """
    from pypinyin import Style, pinyin

    chars: list[str] = []
    readings: list[tuple[str, ...]] = []
    for m in _CJK_RUN.finditer(text[:MAX_STREAM_CHARS]):
        for ch, rs in zip(m.group(0), pinyin(m.group(0), style=Style.NORMAL, heteronym=True)):
            chars.append(ch)
            readings.append(tuple(dict.fromkeys(r.lower().replace("ü", "v") for r in rs)))
        chars.append("#")
        readings.append(())
    return "".join(chars), readings


def pack_stream(stream: tuple[str, list[tuple[str, ...]]]) -> tuple[dict, list[int]]:
    """({"chars", "table"}, codes): each position's readings as an index into the table of
    distinct reading tuples (a few thousand), for storing a :func:`sound_stream`."""
    chars, readings = stream
    table: dict[tuple[str, ...], int] = {}
    codes = [table.setdefault(rs, len(table)) for rs in readings]
    return {"chars": chars, "table": [list(rs) for rs in table]}, codes


def unpack_stream(head: dict, codes: Iterable[int]) -> tuple[str, list[tuple[str, ...]]]:
    """The inverse of :func:`pack_stream`."""
    table = [tuple(rs) for rs in head["table"]]
    return head["chars"], [table[c] for c in codes]


def occurrences(words: set[str], text: str) -> dict[str, int]:
    """``text.count(w)`` for every word (Chinese characters only, 2 or more), in one scan of
    the text rather than one per word: at each position, the words that begin with its two
    characters. Counted as str.count does (leftmost first, not overlapping: 哈哈 is in 哈哈哈
    once)."""
    lengths: dict[str, set[int]] = defaultdict(set)
    for w in words:
        lengths[w[:2]].add(len(w))
    counts: dict[str, int] = {}
    free: dict[str, int] = {}  # where the next counted occurrence of a word may start
    for m in _CJK_RUN.finditer(text):  # a word of Chinese characters lies inside one run
        run, base = m.group(0), m.start()
        for i in range(len(run) - 1):
            for n in lengths.get(run[i:i + 2], ()):
                w = run[i:i + n]
                if len(w) == n and w in words and base + i >= free.get(w, 0):
                    counts[w] = counts.get(w, 0) + 1
                    free[w] = base + i + n
    return counts


def _suspect(token: str) -> bool:
    """A token that may be a typo: a "word" jieba does not know (鸡站, 专立) or a rare single
    character (代 for 贷, 卷 for 券), never a common one (是, 了, 的)."""
    if not _CJK_RUN.fullmatch(token) and not (len(token) == 1 and "\u4e00" <= token <= "\u9fff"):
        return False
    freq = _jieba_freq()
    if len(token) == 1:
        return freq.get(token, 0) < RARE_CHAR
    return freq.get(token, 0) == 0


@lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    from qa.spelling import english_words

    return english_words()


def _is_english(word: str) -> bool:
    return word in _english()
