"""Stage 2: parse a report into structure-aware passages with exact character spans.

A passage never crosses a section, and ``doc.text[p.start:p.end] == p.text`` always holds,
so a citation can highlight the very characters of the report.

    >>> from qa.corpus import Document
    >>> doc = Document("d", "报告", "Report", 2023, "zh", "d.txt", "", 
    ...     "7.1 科技金融\\n\\n» 科技信贷\\n\\n- 科创助力贷授信企业 411 家;授信金额 10.72 亿元\\n", "")
    >>> [(p.section, p.text) for p in parse_document(doc)]
    [('7.1 科技金融 › 科技信贷', '- 科创助力贷授信企业 411 家;授信金额 10.72 亿元')]

Markup handled (see shared/reports/README.md): numbered section headings (``3.1 …``),
sub-headings marked ``◆ » □`` or a short line alone, ``-`` / ``- ◆`` bullets with
continuation lines, blank-line paragraphs, qualifier lines such as ``(1—9月)`` (attached to
the passage before them), tab-separated table rows (kept with the paragraph that introduces
them), ``**bold**`` markup (kept in ``text``, removed by :func:`strip_markup`).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field

from qa.corpus import Document

PARSER_VERSION = 2  # 2: hard cap on sentence length (HARD_MAX_CHARS)
MAX_CHARS = 300  # soft limit; passages are split at sentence ends beyond it
# hard limit: a "sentence" longer than this (a 1 MB report on one line, a table dumped without
# stops) is cut at the last clause mark or space before it, else at the limit itself (never
# inside a number), so no passage costs the embedder minutes or hundreds of MB
HARD_MAX_CHARS = 1200
_SOFT_BREAKS = "，,、：:；;）)」』 \t"
SECTION_SEP = " › "

NUMBERED_HEADING = re.compile(r"^(\d+(?:\.\d+)+)\s+\S")
MARKER_HEADING = re.compile(r"^[◆»□■●]\s*")
ITEM_START = re.compile(r"^\s*(?:[-•·□◆■]\s*)+")
QUALIFIER_LINE = re.compile(r"^[(（][^()（）\n]{1,24}[)）]$")
FIGURE_LIKE = re.compile(r"\d[\d.,]*\s*(?:万|亿|千|百|家|个|件|项|人|元|%|％|户|位|次|倍)")
HEADING_PUNCT = set("，,。；;：:！!？?、")
SENTENCE_END = set("。；！？!?")
LEVEL_MARKER, LEVEL_SHORT = 10, 20
MAX_HEADING_CHARS = 30


@dataclass(frozen=True)
class Passage:
    """A retrievable span of one report; ``text`` is exactly ``source[start:end]``."""

    id: str
    doc_id: str
    year: int
    section: str
    text: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...] = ()  # absolute spans, markers trimmed
    kind: str = "paragraph"  # paragraph | bullet | table
    note: str = ""  # a qualifier line such as (1—9月) that applies to the passage
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def clean_text(self) -> str:
        return strip_markup(self.text)

    def span(self, start: int, end: int) -> str:
        """The source text between absolute offsets ``start`` and ``end`` (inside the passage)."""
        return self.text[start - self.start : end - self.start]

    def sentence_texts(self) -> list[str]:
        return [self.span(s, e) for s, e in self.sentences]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sentences"] = [list(s) for s in self.sentences]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Passage":
        d = dict(d)
        d["sentences"] = tuple(tuple(s) for s in d.get("sentences", ()))
        return cls(**d)


def strip_markup(text: str) -> str:
    """Remove markdown bold markers: ``'**1521.63亿元**'`` → ``'1521.63亿元'``."""
    return text.replace("**", "")


def search_text(p: Passage) -> str:
    """What the embedder and BM25 see: the section path (why: bullets alone often lack
    their subject, e.g. '授信企业 411 家') followed by the passage without markup."""
    path = SECTION_SEP.join(NUMBERED_HEADING.sub(lambda m: m.group(0)[-1], s, count=1)
                            for s in p.section.split(SECTION_SEP))
    return f"{path}\n{p.clean_text}"


def passage_id(doc_id: str, text: str, salt: int = 0) -> str:
    key = f"{doc_id}\x00{text}" + (f"\x00{salt}" if salt else "")
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


# --- lines and blocks -------------------------------------------------------------------

@dataclass
class _Line:
    start: int
    end: int  # exclusive, without the newline
    text: str


@dataclass
class _Unit:
    kind: str
    section: str
    start: int
    end: int
    note: str = ""


def _lines(text: str) -> list[_Line]:
    out, pos = [], 0
    for raw in text.split("\n"):
        out.append(_Line(pos, pos + len(raw), raw))
        pos += len(raw) + 1
    return out


def _blocks(lines: list[_Line]) -> list[list[_Line]]:
    blocks: list[list[_Line]] = []
    current: list[_Line] = []
    for line in lines:
        if line.text.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _trimmed(line: _Line) -> tuple[int, int]:
    """Span of the line without surrounding whitespace."""
    lead = len(line.text) - len(line.text.lstrip())
    return line.start + lead, line.start + len(line.text.rstrip())


# A numbered heading of a Chinese official document (一、综合 / （一）经济总量 / 第二章 …):
# short, no sentence punctuation, no figure. Kept in the passage text (the parser's passages
# are unchanged), but never quoted as the answer to a question.
_CN_NUM = "一二三四五六七八九十百零〇"
ENUMERATED_HEADING = re.compile(
    rf"^(?:第[{_CN_NUM}\d]+[章节篇]|[{_CN_NUM}]+[、．]|[（(][{_CN_NUM}\d]+[)）]|\d{{1,2}}[、．])"
    r"\s*[^，,。；;：:！!？?、\n]{1,30}$")


def is_enumerated_heading(text: str) -> bool:
    """Whether a line is only a numbered heading.

    >>> is_enumerated_heading("一、综合"), is_enumerated_heading("（二）床位"), is_enumerated_heading("一、加强统筹，推进改革。")
    (True, True, False)
    """
    s = text.strip()
    return bool(ENUMERATED_HEADING.match(s)) and not FIGURE_LIKE.search(s)


def heading_level(line: str) -> int | None:
    """Level of a heading line, or None for content.

    >>> heading_level("7.1 科技金融服务体系持续完善"), heading_level("» 科技信贷"), heading_level("仪器共享服务")
    (1, 10, 20)
    >>> heading_level("- 科创助力贷授信企业 411 家") is None
    True
    """
    s = line.strip()
    m = NUMBERED_HEADING.match(s)
    if m:
        return m.group(1).count(".")
    if s.startswith("-") or "\t" in s or "**" in s or QUALIFIER_LINE.match(s):
        return None
    marker = MARKER_HEADING.match(s)
    body = s[marker.end():] if marker else s
    if not (2 <= len(body) <= MAX_HEADING_CHARS):
        return None
    if any(c in HEADING_PUNCT for c in body) or FIGURE_LIKE.search(body):
        return None
    return LEVEL_MARKER if marker else LEVEL_SHORT


# --- sentences --------------------------------------------------------------------------

def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` (absolute, i.e. shifted by ``offset``).

    Ends at 。；！？ and at ``;`` outside numbers; at line breaks before a bullet or a
    table row. Leading bullet markers and surrounding blanks are trimmed.

    >>> t = "共为9729家提供支持;其中中小企业8890家。\\n- 另一条"
    >>> [t[s:e] for s, e in sentence_spans(t)]
    ['共为9729家提供支持;', '其中中小企业8890家。', '另一条']
    """
    cuts = []
    for i, ch in enumerate(text):
        nxt = text[i + 1] if i + 1 < len(text) else ""
        prev = text[i - 1] if i else ""
        if ch in SENTENCE_END:
            cuts.append(i + 1)
        elif ch == ";" and not (prev.isdigit() and nxt.isdigit()):
            cuts.append(i + 1)
        elif ch == "\n":
            rest = text[i + 1 :]
            if ITEM_START.match(rest) or "\t" in rest.split("\n", 1)[0] or "\t" in text[:i].rsplit("\n", 1)[-1]:
                cuts.append(i + 1)
    spans, begin = [], 0
    for cut in cuts + [len(text)]:
        s, e = begin, cut
        # a slice, not match(text, pos): "^" only anchors at the start of the string
        m = ITEM_START.match(text[s:e]) if s < e else None
        s += m.end() if m else 0
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s + offset, e + offset))
        begin = cut
    return spans


# --- parsing ----------------------------------------------------------------------------

def _units(doc: Document) -> list[_Unit]:
    """Walk the blocks, tracking the heading path, and emit content units."""
    stack: list[tuple[int, str]] = []
    units: list[_Unit] = []

    def section() -> str:
        return SECTION_SEP.join(title for _, title in stack)

    for block in _blocks(_lines(doc.text)):
        i = 0
        while i < len(block):
            line = block[i]
            s = line.text.strip()
            level = heading_level(s)
            if level is not None and (len(block) == 1 or level < LEVEL_SHORT):
                title = MARKER_HEADING.sub("", s) if level >= LEVEL_MARKER else s
                stack = [(lv, t) for lv, t in stack if lv < level] + [(level, title)]
                i += 1
                continue
            if QUALIFIER_LINE.match(s) and units and units[-1].section == section():
                units[-1].end = _trimmed(line)[1]
                units[-1].note = s
                i += 1
                continue
            if "\t" in line.text:
                j = i
                while j < len(block) and "\t" in block[j].text:
                    j += 1
                start, end = _trimmed(block[i])[0], _trimmed(block[j - 1])[1]
                prev = units[-1] if units else None
                if prev and prev.section == section() and prev.kind != "table":
                    units.pop()  # keep the table with the paragraph that introduces it
                    start = prev.start
                units.append(_Unit("table", section(), start, end))
                i = j
                continue
            # content: a bullet item with its continuation lines, or a paragraph
            j = i + 1
            is_item = bool(ITEM_START.match(line.text))
            while j < len(block):
                nxt = block[j].text
                if ITEM_START.match(nxt) or "\t" in nxt or (
                    heading_level(nxt) is not None and heading_level(nxt) < LEVEL_SHORT
                ):
                    break
                j += 1
            kind = "bullet" if is_item else "paragraph"
            units.append(_Unit(kind, section(), _trimmed(line)[0], _trimmed(block[j - 1])[1]))
            i = j
    return units


def _capped(spans: list[tuple[int, int]], text: str, offset: int, cap: int = HARD_MAX_CHARS) -> list[tuple[int, int]]:
    """Sentence spans with none longer than ``cap`` (see HARD_MAX_CHARS).

    >>> _capped([(0, 10)], "甲乙丙，丁戊己庚辛壬癸", 0, cap=5)
    [(0, 4), (4, 9), (9, 10)]
    """
    out = []
    for s, e in spans:
        while e - s > cap:
            piece = text[s - offset:s - offset + cap]
            cut = max(piece.rfind(c) for c in _SOFT_BREAKS) + 1
            if cut <= cap // 2:  # no break in the second half: cut at the cap, not inside a number
                cut = cap
                while cut > cap // 2 and (piece[cut - 1].isdigit() or piece[cut - 1] in ".,"):
                    cut -= 1
            out.append((s, s + cut))
            s += cut
        out.append((s, e))
    return out


def _pack(spans: list[tuple[int, int]], max_chars: int) -> list[list[tuple[int, int]]]:
    groups: list[list[tuple[int, int]]] = []
    for span in spans:
        if groups and span[1] - groups[-1][0][0] <= max_chars:
            groups[-1].append(span)
        else:
            groups.append([span])
    return groups


def parse_document(doc: Document, max_chars: int = MAX_CHARS) -> list[Passage]:
    """Split one report into passages (see module docstring)."""
    passages: list[Passage] = []
    seen: set[str] = set()
    for unit in _units(doc):
        body = doc.text[unit.start : unit.end]
        spans = _capped(sentence_spans(body, unit.start) or [(unit.start, unit.end)], body, unit.start)
        groups = [spans] if unit.end - unit.start <= max_chars else _pack(spans, max_chars)
        for gi, group in enumerate(groups):
            start = unit.start if gi == 0 else group[0][0]
            end = unit.end if gi == len(groups) - 1 else group[-1][1]
            text = doc.text[start:end]
            pid, salt = passage_id(doc.doc_id, text), 0
            while pid in seen:
                salt += 1
                pid = passage_id(doc.doc_id, text, salt)
            seen.add(pid)
            passages.append(Passage(
                id=pid, doc_id=doc.doc_id, year=doc.year, section=unit.section or doc.title_zh,
                text=text, start=start, end=end, sentences=tuple(group), kind=unit.kind,
                note=unit.note,
            ))
    return passages


def parse_corpus(docs: list[Document], max_chars: int = MAX_CHARS) -> list[Passage]:
    return [p for doc in docs for p in parse_document(doc, max_chars)]


# a paragraph opening with a bare preposition has dropped its subject ("为59家企业的209项临床
# 试验出具保单"): the subject is in the paragraph before it
CONTINUATION_START = re.compile(r"^[\s\-•·□◆■]*(?:为|向|对)(?=\*{0,2}\d|[\u4e00-\u9fff])")


def continuation_leads(passages: list[Passage]) -> dict[str, Passage]:
    """Map each subject-less paragraph to the passage before it in the same section.

    >>> lead = Passage("a", "d", 2021, "S", "全年两种保险共为**81家企业**出具保单。", 0, 22)
    >>> part = Passage("b", "d", 2021, "S", "为**59家企业**的**209项**临床试验出具保单", 23, 48)
    >>> continuation_leads([lead, part])["b"].id
    'a'
    """
    leads: dict[str, Passage] = {}
    for prev, p in zip(passages, passages[1:]):
        # bullets are siblings in a list, not continuations of each other
        if (prev.doc_id, prev.section) == (p.doc_id, p.section) and p.kind == "paragraph" \
                and CONTINUATION_START.match(p.text):
            leads[p.id] = leads.get(prev.id, prev)  # a run of continuations shares one lead
    return leads
