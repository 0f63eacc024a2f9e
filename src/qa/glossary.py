"""The zh↔en domain glossary ``corpus/glossary.tsv`` (columns ``zh, en, aliases_en, scope``).

``scope`` is empty; ``place`` for a place the reports report on (上海: "…5080亿元,其中上海近
1518亿元"); ``outside`` for a term the reports do not use (北京, 利率): a question naming
one asks about something the reports lack; or ``paraphrase`` for another Chinese wording of
a report term with the same English name (中小型科技企业): read in Chinese questions only.

Used to find Chinese search terms for an English question, and English names for Chinese
metrics in English answers — no translation service involved.

    >>> g = Glossary([("高企贷", "Gaoqidai (high-tech enterprise loans)", "HTE loans")])
    >>> g.zh_terms_for("How much did the high-tech enterprise loans program lend?")
    ['高企贷']
    >>> g.en_for("高企贷")
    'Gaoqidai (high-tech enterprise loans)'
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# The glossary of a corpus lives in its folder (corpus/glossary.tsv) and travels with its
# index, which passes it explicitly; load_glossary() without a path reads this (None: an
# empty glossary; the tests set the seed corpus's file).
DEFAULT_GLOSSARY: Path | None = None
_WORD = re.compile(r"[a-z0-9]+")


# words that never tell two terms apart: "applications have been accepted" and
# "applications accepted" name the same thing
_FILLER = frozenset("a an the have has had been be being is are was were do does did".split())
_BRITISH = {"programme": "program", "centre": "center", "licence": "license"}


def normalize_en(text: str) -> str:
    """Lower-case words without fillers, American spelling and a crude plural strip,
    space-joined and space-padded.

    >>> normalize_en("High-tech Enterprises' loans")
    ' high tech enterprise loan '
    >>> normalize_en("The applications have been accepted; commercialisation programmes")
    ' application accepted commercialization program '
    """
    words = []
    for w in _WORD.findall(text.lower()):
        if w in _FILLER:
            continue
        stem = w[:-1] if w.endswith("s") else w
        if stem in _BRITISH:  # programmes → programs
            w = _BRITISH[stem] + w[len(stem):]
        w = w.replace("isation", "ization")  # commercialisation → commercialization
        if len(w) > 3 and w.endswith("ies"):
            w = w[:-3] + "y"
        elif len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        words.append(w)
    return " " + " ".join(words) + " "


def _variants(en: str, aliases: str) -> list[str]:
    """The English term, its parts outside/inside parentheses, and its aliases."""
    out = [en]
    m = re.match(r"^(.*?)\s*\((.*)\)\s*$", en)
    if m:
        out += [m.group(1), m.group(2)]
    out += [a for a in aliases.split("|") if a.strip()]
    return [v.strip() for v in out if v.strip()]


@dataclass
class Glossary:
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    outside: frozenset[str] = frozenset()  # zh terms the reports do not use
    places: frozenset[str] = frozenset()  # places the reports report on
    paraphrases: list[tuple[str, str]] = field(default_factory=list)  # (zh, en): Chinese-side only

    def __post_init__(self) -> None:
        self._zh2en = {}
        for zh, en, _ in self.rows:
            self._zh2en.setdefault(zh, en)
        # (normalised english phrase, zh) longest first, so "patent grant" beats "patent"
        pairs = {(normalize_en(v), zh) for zh, en, al in self.rows for v in _variants(en, al)}
        self._en = sorted((p for p in pairs if p[0].strip()), key=lambda p: (-len(p[0]), p[1]))
        self._by_phrase: dict[str, list[str]] = {}
        for phrase, zh in self._en:
            self._by_phrase.setdefault(phrase, []).append(zh)
        self._zh_sorted = sorted(self._zh2en, key=len, reverse=True)
        # zh terms by their normalised English name, for zh_synonyms (once, not per term asked)
        self._zh_by_en: dict[str, list[str]] = {}
        for zh, en in self._zh2en.items():
            self._zh_by_en.setdefault(normalize_en(en), []).append(zh)

    def __len__(self) -> int:
        return len(self.rows)

    def english_words(self) -> set[str]:
        """Every English word of the glossary's names and aliases (never "corrected")."""
        return {w for _, en, al in self.rows for w in re.findall(r"[a-z]+", f"{en} {al}".lower())}

    def en_for(self, zh: str) -> str | None:
        return self._zh2en.get(zh)

    def _matches(self, question: str) -> list[tuple[str, str]]:
        """(English phrase, Chinese term) pairs found in ``question``, longest phrase first;
        a matched stretch is not matched again by a shorter phrase, nor the same phrase by
        another term that shares it (see :meth:`synonyms_for`)."""
        text = normalize_en(question)
        found = []
        for phrase, zh in self._en:
            if phrase in text:
                found.append((phrase, zh))
                text = text.replace(phrase, " | ")
        return found

    def zh_terms_for(self, question: str) -> list[str]:
        """Chinese terms whose English name or alias occurs in ``question``."""
        return list(dict.fromkeys(zh for _, zh in self._matches(question)))

    def synonyms_for(self, question: str) -> dict[str, list[str]]:
        """For each term of :meth:`zh_terms_for`, the other Chinese terms that share the
        English phrase it matched ("startups" → 创新创业企业, also 初创企业)."""
        out: dict[str, list[str]] = {}
        for phrase, zh in self._matches(question):
            out.setdefault(zh, []).extend(z for z in self._by_phrase[phrase] if z != zh)
        return out

    def zh_paraphrases_in(self, text: str) -> list[str]:
        """Paraphrase rows occurring in Chinese ``text``, longest first."""
        return [z for z, _ in sorted(self.paraphrases, key=lambda r: -len(r[0])) if z in text]

    def zh_synonyms(self, zh: str) -> list[str]:
        """Other Chinese terms with the same English name: a paraphrase row
        ("中小型科技企业 → technology-based SMEs") makes a Chinese question's wording match
        the report's (科技型中小企业).

        >>> g = Glossary([("科技型中小企业", "tech SMEs", "")], paraphrases=[("中小型科技企业", "tech SMEs")])
        >>> g.zh_paraphrases_in("中小型科技企业有多少户？"), g.zh_synonyms("中小型科技企业")
        (['中小型科技企业'], ['科技型中小企业'])
        """
        en = normalize_en(self._zh2en.get(zh) or dict(self.paraphrases).get(zh, ""))
        return [z for z in self._zh_by_en.get(en, []) if z != zh] if en.strip() else []

    def zh_terms_in(self, text: str) -> list[str]:
        """Glossary terms occurring in Chinese ``text``, longest first, non-overlapping."""
        found = []
        for zh in self._zh_sorted:
            if zh in text:
                found.append(zh)
                text = text.replace(zh, "|")
        return found

    def translate(self, zh: str) -> str:
        """Best-effort English for a Chinese phrase: glossary terms in order of appearance;
        parts without an entry are kept in Chinese, in brackets (never guessed).

        >>> Glossary([("授信企业", "enterprises granted credit", "")]).translate("高企授信企业")
        '[高企] enterprises granted credit'
        """
        out, i = [], 0
        while i < len(zh):
            match = next((t for t in self._zh_sorted if zh.startswith(t, i)), None)
            if match:
                out.append(self._zh2en[match])
                i += len(match)
            else:
                j = i + 1
                while j < len(zh) and not any(zh.startswith(t, j) for t in self._zh_sorted):
                    j += 1
                chunk = zh[i:j].strip(" ，,、的")
                if chunk:
                    out.append(f"[{chunk}]")
                i = j
        return " ".join(out)


def load_glossary(path: str | Path | None = None) -> Glossary:
    """Read the TSV (header row ``zh  en  aliases_en``); a missing file gives an empty glossary."""
    path = path or DEFAULT_GLOSSARY
    return _load_glossary(str(path) if path else "")


@lru_cache(maxsize=8)
def _load_glossary(path_str: str) -> Glossary:
    path = Path(path_str)
    if not path_str or not path.is_file():
        return Glossary([])
    rows, outside, places, paraphrases = [], set(), set(), []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if n == 0 or not line.strip() or line.startswith("#"):
            continue
        cols = [c.strip() for c in line.split("\t")] + ["", "", ""]
        zh, en, aliases, scope = cols[:4]
        if zh and en and scope == "paraphrase":
            paraphrases.append((zh, en))
        elif zh and en:
            rows.append((zh, en, aliases))
            if scope == "outside":
                outside.add(zh)
            elif scope == "place":
                places.add(zh)
    return Glossary(rows, frozenset(outside), frozenset(places), paraphrases)
