# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install install-test ingest eval browser a11y clean corpus-eval

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

# torch first, pinned: the local CPU wheel; an unpinned torch would pull a multi-GB CUDA build.
$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,st]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

ingest: install
	$(BIN)/iurc ingest corpus

run: ingest
	@echo 'chat UI on http://127.0.0.1:7860 (also: $(BIN)/iurc ask "What did Kamakura and Umeå work on?")'
	$(BIN)/iurc serve --host 127.0.0.1 --port 7860

# Headless Chromium for the end-to-end test, and a Japanese font so screenshots show text.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list | grep -qi ipa || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium chromium-driver fonts-ipafont-gothic >/dev/null; }

# axe-core (MPL-2.0) for the accessibility scan (tests/test_ui_a11y.py), pinned by tests/a11y/package-lock.json.
AXE := tests/a11y/node_modules/axe-core/axe.min.js
$(AXE): tests/a11y/package.json tests/a11y/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    nodejs npm >/dev/null; }
	cd tests/a11y && npm ci --no-audit --no-fund --silent
	touch $@

a11y: $(AXE)

# The evaluation corpus (PPTX, PDF, DOCX, HTML, cp932 text) is generated from eval/corpus_src/.
corpus-eval: install-test browser
	$(BIN)/python -m eval.build_corpus

# The evaluation gate: every run of eval/runs.yaml (seed, unseen, unseen without the glossary), each
# in a fresh store, every metric of every split against eval/thresholds.yaml.
test: install-test browser a11y corpus-eval
	$(BIN)/python -m pytest -q
	rm -rf .iurc/eval
	$(BIN)/iurc eval --gate --report tests/output/eval

eval: corpus-eval
	$(BIN)/iurc eval

clean:
	rm -rf $(VENV) .iurc
