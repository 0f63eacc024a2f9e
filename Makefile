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
	@if [ -f app.py ] && $(BIN)/python -c "import qa.web" 2>/dev/null; then \
		$(BIN)/python app.py --host $(HOST) --port $(PORT); \
	else \
		$(BIN)/qa ask "2023年高企贷支持了多少家企业？" ; \
		$(BIN)/qa ask "How many PCT applications did Shanghai file in 2023?" ; \
	fi

test: install
	$(BIN)/python -m pytest -q

bench: index
	$(BIN)/python benchmarks/retrieval_gold.py
	$(BIN)/python benchmarks/speed.py

clean:
	rm -rf $(VENV) index .pytest_cache
