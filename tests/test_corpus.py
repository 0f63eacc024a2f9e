import json

import pytest

from qa.corpus import corpus_fingerprint, load_corpus
from qa.errors import CorpusError


def test_loads_both_reports(docs):
    assert [(d.doc_id, d.year) for d in docs] == [("sh-st-2021", 2021), ("sh-st-2023", 2023)]
    assert all(d.text.strip() and len(d.sha256) == 64 for d in docs)
    assert "高企贷" in docs[1].text and docs[1].title_en.startswith("Shanghai")


def _manifest(corpus):
    return json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))


def _write_manifest(corpus, data):
    (corpus / "manifest.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_gbk_file_is_named_with_fix(corpus_copy):
    path = corpus_copy / "shanghai-st-progress-2023-ch7.txt"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk", errors="ignore"))
    with pytest.raises(CorpusError, match=r"shanghai-st-progress-2023-ch7.txt' is not UTF-8 \(it looks like GBK\); convert"):
        load_corpus(corpus_copy)


def test_empty_file(corpus_copy):
    (corpus_copy / "shanghai-st-progress-2021-ch3.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(CorpusError, match="is empty"):
        load_corpus(corpus_copy)


def test_file_missing_from_folder(corpus_copy):
    (corpus_copy / "shanghai-st-progress-2021-ch3.txt").unlink()
    with pytest.raises(CorpusError, match="listed in manifest.json but missing"):
        load_corpus(corpus_copy)


def test_extra_file_not_in_manifest(corpus_copy):
    (corpus_copy / "new-report.md").write_text("# 新报告\n\n内容", encoding="utf-8")
    with pytest.raises(CorpusError, match="new-report.md' is not in manifest.json; add an entry"):
        load_corpus(corpus_copy)


def test_adding_a_report_needs_only_file_and_entry(corpus_copy):
    (corpus_copy / "new-report.md").write_text("1.1 新章节\n\n全年新增企业**12家**。\n", encoding="utf-8")
    data = _manifest(corpus_copy)
    data["documents"].append({"doc_id": "new", "title_zh": "新", "title_en": "New", "year": 2024,
                              "language": "zh", "file": "new-report.md", "source": "test"})
    _write_manifest(corpus_copy, data)
    assert [d.year for d in load_corpus(corpus_copy)] == [2021, 2023, 2024]


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["documents"][0].pop("year"), "lacks year"),
    (lambda d: d["documents"][0].update(year="2021"), "year must be a four-digit year"),
    (lambda d: d["documents"][0].update(year=True), "year must be a four-digit year"),  # issue 12
    (lambda d: d["documents"][0].update(file=None), "file must be a non-empty string"),
    (lambda d: d["documents"][0].update(file="../../etc/passwd"), "file name inside the corpus folder"),
    (lambda d: d["documents"][0].update(title_en=""), "title_en must be a non-empty string"),
    (lambda d: d["documents"].append(dict(d["documents"][0])), "listed twice"),
    (lambda d: d.update(documents=[]), "non-empty"),
])
def test_bad_manifest(corpus_copy, mutate, message):
    data = _manifest(corpus_copy)
    mutate(data)
    _write_manifest(corpus_copy, data)
    with pytest.raises(CorpusError, match=message):
        load_corpus(corpus_copy)


def test_manifest_not_json(corpus_copy):
    (corpus_copy / "manifest.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(CorpusError, match="not valid UTF-8 JSON"):
        load_corpus(corpus_copy)


def test_missing_folder(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")


def test_crlf_and_bom_are_normalised(corpus_copy):
    path = corpus_copy / "shanghai-st-progress-2021-ch3.txt"
    original = path.read_text(encoding="utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + original.replace("\n", "\r\n").encode("utf-8"))
    doc = load_corpus(corpus_copy)[0]
    assert doc.text == original


def test_fingerprint_tracks_data_files(corpus_copy):
    before = corpus_fingerprint(corpus_copy)
    with open(corpus_copy / "userdict.txt", "a", encoding="utf-8") as f:
        f.write("新词 10 n\n")
    after = corpus_fingerprint(corpus_copy)
    assert before != after and before["manifest.json"] == after["manifest.json"]
