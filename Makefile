# Two commands on a fresh machine:  make run   ·   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
HOST   ?= 127.0.0.1
PORT   ?= 7860

.PHONY: run test install index bench clean

install: $(STAMP)

# torch first and pinned: otherwise pip resolves sentence-transformers to a CUDA build (GBs)
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

index: install
	$(BIN)/qa index --if-needed

run: index
	$(BIN)/python app.py --host $(HOST) --port $(PORT)

CHROMIUM := /usr/bin/chromium
SUDO     := $(if $(filter 0,$(shell id -u)),,sudo)

test: install $(CHROMIUM)
	$(BIN)/python -m pytest -q

# Debian chromium for tests/test_browser.py (+ a small CJK font so screenshots show Chinese);
# `playwright install` cannot download browsers here
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei

bench: index
	$(BIN)/python benchmarks/retrieval_gold.py
	$(BIN)/python benchmarks/speed.py
	$(BIN)/qa eval eval/gold.jsonl --out eval/report.md
	$(BIN)/python benchmarks/load.py

clean:
	rm -rf $(VENV) index .pytest_cache
