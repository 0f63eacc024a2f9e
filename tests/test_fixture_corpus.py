"""The fixture corpus is the two seed reports only: a report a user adds to corpus/ (README,
"Adding a report") must not reach the tests."""
import json
import shutil

from qa.corpus import load_corpus
from qa.index import load_index

from conftest import REPO, REPO_CORPUS, SEED_DATA_FILES, SEED_REPORTS, SEED_YEARS, make_seed_corpus

EXTRA = "fixture-test-extra-2022.txt"
EXTRA_TEXT = "1.1 科技金融\n\n2022年,“高企贷”共为**5120家**高新技术企业提供信贷支持。全市研发经费支出占GDP的4.2%。\n"


def _live_corpus_with_a_third_report(folder):
    """A stand-in for the repo's corpus/ after a user followed "Adding a report"."""
    shutil.copytree(REPO_CORPUS, folder)
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["documents"].append({
        "doc_id": "fixture-test-extra-2022", "title_zh": "统计公报 2022", "title_en": "Statistical Bulletin 2022",
        "year": 2022, "language": "zh", "file": EXTRA, "source": "made up for this test"})
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    (folder / EXTRA).write_text(EXTRA_TEXT, encoding="utf-8")
    return folder


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_fixture_corpus_is_the_seed_reports_outside_the_repo(seed_corpus, docs):
    assert _files(seed_corpus) == sorted(("manifest.json",) + SEED_REPORTS + SEED_DATA_FILES)
    assert [d.year for d in docs] == SEED_YEARS
    assert [d.doc_id for d in docs] == ["sh-st-2021", "sh-st-2023"]
    assert REPO not in seed_corpus.resolve().parents


def test_a_report_added_to_the_live_corpus_stays_out_of_the_fixture(tmp_path):
    live = _live_corpus_with_a_third_report(tmp_path / "live")
    assert 2022 in [d.year for d in load_corpus(live)]  # a valid corpus of three reports or more

    fixture = make_seed_corpus(tmp_path / "fixture", source=live)
    assert [d.year for d in load_corpus(fixture)] == SEED_YEARS
    assert EXTRA not in _files(fixture)
    live_entries = json.loads((live / "manifest.json").read_text(encoding="utf-8"))["documents"]
    seed_entries = json.loads((fixture / "manifest.json").read_text(encoding="utf-8"))["documents"]
    assert seed_entries == [e for e in live_entries if e["file"] in SEED_REPORTS]
    for name in SEED_REPORTS + SEED_DATA_FILES:
        assert (fixture / name).read_bytes() == (live / name).read_bytes()


def test_session_indexes_are_built_from_the_fixture_corpus(seed_corpus, fake_index, real_index):
    for folder in (fake_index, real_index):
        index = load_index(folder)
        assert index.years == SEED_YEARS
        # staleness checks (ensure_index, the CLI, app.py) compare against this folder, not corpus/
        assert index.manifest["corpus_dir"] == str(seed_corpus.resolve())
        assert set(index.manifest["corpus"]) == {"manifest.json", *SEED_REPORTS, *SEED_DATA_FILES}
