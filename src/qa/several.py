"""Questions that ask several things at once, split into one plain question per thing
(cues in ``data/several_cues.tsv``); the answerer answers each and says which is missing.

    >>> split("2023 patents: total granted, invention granted and PCT filed?", "en")
    ['2023 patents: total granted?', '2023 patents: invention granted?', '2023 patents: PCT filed?']
    >>> split("2023年PCT专利申请受理量和发明专利授权量分别是多少？", "zh")
    ['2023年PCT专利申请受理量是多少？', '2023年发明专利授权量是多少？']
    >>> split("2023年高企贷支持了多少家企业？", "zh")
    []
"""
from __future__ import annotations

import re

from qa.cues import language_patterns
from qa.compute import en_list, zh_list


def _cue(lang: str, name: str) -> re.Pattern[str] | None:
    return next((p for l, n, p in language_patterns("several_cues.tsv") if (l, n) == (lang, name)), None)


def split(question: str, lang: str) -> list[str]:
    """One question per thing asked, or [] when it asks one thing (or several years of one
    thing, which the ordinary reading answers)."""
    q = question.strip()
    years = re.findall(r"(?<!\d)(?:19|20)\d{2}(?!\d)", q)
    if lang == "zh":
        return _split_zh(q, years)
    return _split_en(q)


def _split_zh(q: str, years: list[str]) -> list[str]:
    each = _cue("zh", "each")
    if each is None or not each.search(q):
        return []
    m = each.search(q)
    found = zh_list(q[: m.start()], commas=False)
    if not found:
        return []
    head, items, tail = found
    if len(items) < 2 or any(re.search(r"\d{4}年?", i) for i in items):
        return []  # "2021年和2023年分别…": the years of one thing
    attribute = _cue("zh", "attribute")
    if attribute is not None and all(attribute.search(i) for i in items):
        return []  # measures of one thing: answered together
    rest = tail + q[m.end():]
    ask = re.sub(r"^[是为有]?", "", rest).rstrip("？?。") or "多少"
    lead = re.match(r"^(\d{4}年(?:的)?)", head + items[0])
    out = []
    for i, item in enumerate(items):
        stem = head + item
        if lead and not stem.startswith(lead.group(1)):
            stem = lead.group(1) + stem
        out.append(f"{stem}{'是' if not re.match(r'[是为有]', ask) and ask.startswith('多少') else ''}{ask}？")
    return out


def _split_en(q: str) -> list[str]:
    body = q.rstrip(" ?.!")
    wh = _cue("en", "second_wh")
    if wh is not None and (m := wh.search(body)):
        first, second = body[: m.start()], body[m.start():].lstrip(", ").removeprefix("and ").strip()
        lead = re.match(r"^(.*?)\b(?:how|what|which)\b", first, re.I)
        context = lead.group(1).strip() if lead else ""
        second = f"{context} {second}".strip() if context and context.lower() not in second.lower() else second
        return [first.strip() + "?", second + "?"]
    colon = body.find(":")
    if colon > 0:
        head, rest = body[: colon + 1], body[colon + 1:].strip()
        found = en_list(rest)
        if found:
            pre, items, post = found
            if len(items) >= 2 and not all(re.fullmatch(r"(?:19|20)\d{2}", i) for i in items):
                return [f"{head} {' '.join(x for x in (pre, item, post) if x)}?" for item in items]
    return []
