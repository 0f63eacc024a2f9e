"""Typos in English questions ("patnet applicatons"), corrected with SymSpell against its
bundled English frequency dictionary, and said in the answer.

    >>> speller = Speller(known={"gaoqidai"})
    >>> speller.correct("how many patnet applicatons did gaoqidai back in 2023?")
    ('how many patent applications did gaoqidai back in 2023?', [('patnet', 'patent'), ('applicatons', 'applications')])

Only lower-case words of four letters or more are touched (names are capitalised; short
words are too ambiguous), and never a word the system knows another way: an English word of
CC-CEDICT's glosses or of the corpus's glossary (relending, rediscount, cyber), or an
inflection of one.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from qa.errors import QAError
from qa.memo import remember

MIN_LENGTH = 4
MAX_EDIT = 2
# word-forming prefixes: "rebranded", "subsectors", "indecomposable" are words, not typos
PREFIXES = ("anti", "counter", "inter", "multi", "over", "under", "non", "pre", "post", "sub", "dis", "mis",
            "un", "in", "im", "re", "de", "co")
_WORD = re.compile(r"[A-Za-z]+")


@lru_cache(maxsize=1)
def _symspell():
    try:
        from symspellpy import SymSpell
    except ModuleNotFoundError as exc:
        raise QAError("English typo correction needs symspellpy: pip install symspellpy") from exc
    sym = SymSpell(max_dictionary_edit_distance=MAX_EDIT)
    path = resources.files("symspellpy").joinpath("frequency_dictionary_en_82_765.txt")
    sym.load_dictionary(str(path), term_index=0, count_index=1)
    return sym


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The words of symspellpy's frequency dictionary: what ``_symspell().words`` holds,
    read without building the index of deletions SymSpell makes from them (about 3 s at
    every start of a process), which only correcting a typo needs."""
    try:
        path = resources.files("symspellpy").joinpath("frequency_dictionary_en_82_765.txt")
        lines = path.read_text(encoding="utf-8").splitlines()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise QAError("English typo correction needs symspellpy: pip install symspellpy") from exc
    return frozenset(parts[0] for line in lines if len(parts := line.split(" ")) >= 2 and int(parts[1]) >= 1)


@lru_cache(maxsize=1)
def _bigrams() -> dict[str, int]:
    """How often two English words follow each other (symspellpy's bundled bigram counts)."""
    path = resources.files("symspellpy").joinpath("frequency_bigramdictionary_en_243_342.txt")
    out: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        a, b, n = line.split(" ")
        out[f"{a} {b}"] = int(n)
    return out


@lru_cache(maxsize=1)
def gloss_words() -> frozenset[str]:
    """Every English word of CC-CEDICT's glosses (domain words such as "cyber")."""
    from qa.bridge import STOP_EN, cedict_index

    return frozenset({w for gloss in cedict_index() for w in re.findall(r"[a-z]+", gloss)} | STOP_EN)


class Speller:
    """``known``: more words never to correct (the corpus glossary's English)."""

    def __init__(self, known: set[str] = frozenset()) -> None:
        self.known = {w.lower() for w in known}
        self._cache: dict[str, str | None] = {}

    def _is_known(self, word: str) -> bool:
        from qa.bridge import _lemmas

        def known(w: str) -> bool:
            return any(f in self.known or f in gloss_words() for f in _lemmas(w)) or w in english_words()

        if known(word):
            return True
        # a known word with a word-forming prefix
        return any(word.startswith(p) and len(word) - len(p) >= MIN_LENGTH and known(word[len(p):]) for p in PREFIXES)

    @staticmethod
    def _derivation(word: str, fixed: str) -> bool:
        """spectrophotometric ~ spectrophotometry: another form of the same stem, not a typo."""
        common = 0
        for a, b in zip(word, fixed):
            if a != b:
                break
            common += 1
        return min(len(word), len(fixed)) >= 8 and common >= min(len(word), len(fixed)) - 2

    def fix(self, word: str, before: str = "") -> str | None:
        """The word ``word`` was meant as, or None. ``before``: the word before it, which
        breaks ties between equally close words by how often the two go together
        ("how mnay" → "how many", not the more frequent "may")."""
        if len(word) < MIN_LENGTH or not word.islower():
            return None
        if (word, before) not in self._cache:
            from symspellpy import Verbosity

            fixed = None
            if not self._is_known(word):  # (the SymSpell index is built only for an unknown word)
                sym = _symspell()
                # two edits only for long words: "plastome" is no typo of "playtime"
                found = sym.lookup(word, Verbosity.CLOSEST, max_edit_distance=MAX_EDIT if len(word) >= 9 else 1)
                if found:
                    pairs = _bigrams()
                    best = max(found[:5], key=lambda s: (pairs.get(f"{before.lower()} {s.term}", 0), s.count)) \
                        if before else found[0]
                    fixed = best.term if best.term != word else None
                if fixed and self._derivation(word, fixed):
                    fixed = None
                if fixed is None and len(word) >= 2 * MIN_LENGTH:
                    fixed = self._split(word)
            return remember(self._cache, (word, before), fixed)
        return self._cache[(word, before)]

    def _split(self, word: str) -> str | None:
        """Words typed together ("patentgrants" → "patent grants"), when every part is a
        known word of four letters or more."""
        seg = _symspell().word_segmentation(word, max_edit_distance=0)
        parts = seg.corrected_string.split()
        if len(parts) >= 2 and seg.distance_sum == len(parts) - 1 and all(
                len(p) >= MIN_LENGTH and self._is_known(p) for p in parts):
            return " ".join(parts)
        return None

    def correct(self, question: str, keep: set[str] = frozenset()) -> tuple[str, list[tuple[str, str]]]:
        """The question with its typos corrected, and the (typo, correction) pairs;
        ``keep``: lower-case words never to touch (names the corpus spells otherwise)."""
        fixes: list[tuple[str, str]] = []

        def sub(m: re.Match[str]) -> str:
            if m.group(0).lower() in keep:
                return m.group(0)
            before = _WORD.findall(question[: m.start()])
            fixed = self.fix(m.group(0), before[-1] if before else "")
            if fixed is None:
                return m.group(0)
            fixes.append((m.group(0), fixed))
            return fixed

        return _WORD.sub(sub, question), fixes
