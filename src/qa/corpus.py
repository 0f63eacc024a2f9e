"""Stage 1: the report corpus — a folder of UTF-8 texts described by ``manifest.json``.

    corpus/
      manifest.json          {"documents": [{"doc_id", "title_zh", "title_en", "year",
                                             "language", "file", "source"}, ...]}
      shanghai-st-progress-2023-ch7.txt
      userdict.txt, glossary.tsv   (data files, not reports)

    >>> docs = load_corpus("corpus")                    # doctest: +SKIP
    >>> docs[1].doc_id, docs[1].year, docs[1].text[:6]  # doctest: +SKIP
    ('sh-st-2023', 2023, '\\n7.1 科技')

Adding a report = dropping its file here, adding a manifest entry, running ``qa index``.
Offsets everywhere in the project index ``Document.text`` (line endings normalised to \\n).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from qa.errors import CorpusError

MANIFEST = "manifest.json"
REPORT_SUFFIXES = {".txt", ".md"}
# Files of ours that live beside the reports and are not reports themselves.
DATA_FILES = {"userdict.txt", "stopwords.txt", "readme.md"}
REQUIRED_KEYS = ("doc_id", "title_zh", "title_en", "year", "language", "file", "source")
MAX_REPORT_BYTES = 20_000_000


@dataclass(frozen=True)
class Document:
    doc_id: str
    title_zh: str
    title_en: str
    year: int
    language: str
    file: str
    source: str
    text: str
    sha256: str

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(corpus_dir: Path) -> list[dict]:
    path = corpus_dir / MANIFEST
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder '{corpus_dir}' does not exist; pass --corpus DIR")
    if not path.is_file():
        raise CorpusError(f"'{path}' is missing; create it with a \"documents\" list (see README)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(f"'{path}' is not valid UTF-8 JSON ({exc}); fix the file") from None
    entries = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise CorpusError(f"'{path}' needs a non-empty \"documents\" list")
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        missing = [k for k in REQUIRED_KEYS if not isinstance(entry, dict) or k not in entry]
        if missing:
            raise CorpusError(f"'{path}' entry {i + 1} lacks {', '.join(missing)}; add them")
        where = f"'{path}' entry {i + 1}"
        for key in ("doc_id", "file", "title_zh", "title_en", "language", "source"):
            if not isinstance(entry[key], str) or not entry[key].strip():
                raise CorpusError(f"{where}: {key} must be a non-empty string; got {str(entry[key])[:40]!r}")
        year = entry["year"]
        if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
            raise CorpusError(f"{where} ({entry['doc_id']}): year must be a four-digit year such as 2023; got {year!r}")
        name = entry["file"]
        if Path(name).name != name or name.startswith(".") or "\\" in name:
            # a report lives in the corpus folder itself: "../../etc/passwd" is never read
            raise CorpusError(f"{where} ({entry['doc_id']}): file must be a file name inside the corpus folder; got {name[:60]!r}")
        if entry["doc_id"] in seen:
            raise CorpusError(f"'{path}': doc_id '{entry['doc_id']}' is listed twice")
        seen.add(entry["doc_id"])
    return entries


def decode_report(path: Path) -> str:
    """Read a report as UTF-8 (BOM tolerated), normalising line endings to \\n."""
    raw = path.read_bytes()
    if len(raw) > MAX_REPORT_BYTES:
        raise CorpusError(f"'{path}' is over {MAX_REPORT_BYTES // 1_000_000} MB; split it")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        hint = " (it looks like GBK)" if _is_gbk(raw) else ""
        raise CorpusError(
            f"'{path}' is not UTF-8{hint}; convert it, e.g. iconv -f GBK -t UTF-8 in > out"
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise CorpusError(f"'{path}' is empty; add the report text or remove its manifest entry")
    return text


def _is_gbk(raw: bytes) -> bool:
    try:
        raw.decode("gbk")
        return True
    except UnicodeDecodeError:
        return False


def load_corpus(corpus_dir: str | Path) -> list[Document]:
    """Validate the manifest against the folder and load every report."""
    corpus_dir = Path(corpus_dir)
    entries = read_manifest(corpus_dir)
    listed = {e["file"] for e in entries}
    for path in sorted(corpus_dir.iterdir()):
        if (
            path.is_file()
            and path.suffix.lower() in REPORT_SUFFIXES
            and path.name.lower() not in DATA_FILES
            and path.name not in listed
        ):
            raise CorpusError(
                f"'{path}' is not in {MANIFEST}; add an entry for it or move it out of the corpus"
            )
    docs = []
    for e in entries:
        path = corpus_dir / e["file"]
        if not path.is_file():
            raise CorpusError(
                f"'{path}' is listed in {MANIFEST} but missing; add the file or remove its entry"
            )
        docs.append(
            Document(
                doc_id=e["doc_id"], title_zh=e["title_zh"], title_en=e["title_en"],
                year=e["year"], language=e["language"], file=e["file"], source=e["source"],
                text=decode_report(path), sha256=file_sha256(path),
            )
        )
    return docs


def corpus_fingerprint(corpus_dir: str | Path) -> dict[str, str]:
    """sha256 of every file the index depends on (reports, manifest, data files).

    Cheap (no parsing), so loading an index can tell at once whether it is stale.
    """
    corpus_dir = Path(corpus_dir)
    names = [MANIFEST] + [e["file"] for e in read_manifest(corpus_dir)]
    names += sorted(n for n in ("userdict.txt", "glossary.tsv") if (corpus_dir / n).is_file())
    out = {}
    for name in names:
        path = corpus_dir / name
        out[name] = file_sha256(path) if path.is_file() else "missing"
    return out
