# goalforms — the two commands that matter: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SYSLOG := build/system-deps.log

# The setup steps print one line each; their output goes to a log, and only a failure shows it
# (its last 30 lines) and stops make. Usage: $(QUIETLY) LOG COMMAND ARGS…
QUIETLY = quietly() { log=$$1; shift; "$$@" >>"$$log" 2>&1 || { status=$$?; \
  echo "failed: $$*" >&2; tail -n 30 "$$log" >&2; echo "(full log: $$log)" >&2; exit $$status; }; }; quietly

.PHONY: demo test test-fast lint typecheck unit bench expected samples system-deps clean ocr-model

# System packages, installed from Debian's packages when missing: Chromium (browser tests),
# LibreOffice Writer and Calc with CJK fonts and poppler (samples; .doc/.odt conversion), PostgreSQL
# (a throwaway server for the tests), python3-venv (fresh Debian images ship python3 without it).
system-deps:
	@mkdir -p build
	@echo "checking system packages (chromium, LibreOffice, CJK fonts, poppler, PostgreSQL, python3-venv)…"
	@test -x /usr/bin/chromium || { \
	  echo "installing system packages: chromium (browser tests) (log: $(SYSLOG))…"; \
	  $(QUIETLY) $(SYSLOG) sh -c 'apt-get update -qq && apt-get install -y -qq chromium'; }
	@command -v soffice >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 && \
	  test -e /usr/lib/libreoffice/program/libsclo.so || { \
	  echo "installing system packages: LibreOffice Writer and Calc, CJK fonts, poppler (log: $(SYSLOG))…"; \
	  $(QUIETLY) $(SYSLOG) sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	    libreoffice-writer-nogui libreoffice-calc-nogui fonts-noto-cjk fonts-wqy-zenhei poppler-utils'; }
	@command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  echo "installing system packages: postgresql (PostgreSQL tests) (log: $(SYSLOG))…"; \
	  $(QUIETLY) $(SYSLOG) sh -c 'apt-get update -qq && apt-get install -y -qq postgresql'; }
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || { \
	  echo "installing system packages: python3-venv (log: $(SYSLOG))…"; \
	  $(QUIETLY) $(SYSLOG) sh -c 'apt-get update -qq && apt-get install -y -qq python3-venv python3-pip'; }

$(STAMP): pyproject.toml | system-deps
	@echo "creating $(VENV)…"
	@$(QUIETLY) $(SYSLOG) $(PYTHON) -m venv $(VENV)
	@echo "installing goalforms and its dependencies (log: $(VENV)/install.log)…"
	@$(QUIETLY) $(VENV)/install.log $(BIN)/pip install --upgrade pip
	@$(QUIETLY) $(VENV)/install.log $(BIN)/pip install -e '.[dev]'
	@touch $(STAMP)
	@echo "installed; next: importing samples/"

# Import the embedded samples into SQLite goalforms.db and print the summary.
demo: $(STAMP)
	@echo "importing samples/ into goalforms.db…"
	@$(BIN)/goalforms import samples --db goalforms.db

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check goalforms pipeline parsers schema tests samples

typecheck: $(STAMP)
	$(BIN)/mypy goalforms pipeline parsers schema

unit: $(STAMP)
	$(BIN)/python -m pytest

# The quick loop (about a minute and a half on two idle cores): lint, types, and every test that
# needs no OCR, browser, PostgreSQL, LibreOffice or worker pool (markers registered in
# pyproject.toml). `make test` runs them all.
FAST := not scan and not browser and not pg and not libreoffice and not workers
# Two workers (pytest-xdist), each test file in one of them so module fixtures are built once.
test-fast: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m "$(FAST)"

# Word, PDF, layout-text and spreadsheet versions of the sample forms (needs LibreOffice; the results are
# committed, so the tests do not).
samples: $(STAMP)
	$(BIN)/python samples/make_samples.py
	$(BIN)/python samples/make_scans.py
	$(BIN)/python samples/make_spreadsheets.py
	$(BIN)/python samples/make_html.py
	$(BIN)/python samples/make_flowing.py
	$(BIN)/python samples/make_siblings.py

# The int8 copy of the OCR recognition model, derived again from the rapidocr wheel's model and
# calibrated on samples/scan (parsers/readers/ocr_quantise.py says which parts and why; about a
# minute). The copy and its record are committed: run this only after changing rapidocr's version
# or the scan reader's crops, then check the scans (tests/bench_ocr.py) before committing.
ocr-model: $(STAMP)
	@$(QUIETLY) $(VENV)/install.log $(BIN)/pip install -e '.[dev,ocr-model]'
	$(BIN)/python -m goalforms.parsers.readers.ocr_quantise parsers/readers/ocr_rec_int8.onnx

# Every figure of issue 16 in one report (tests/bench.py runs tests/bench_scale.py and
# tests/bench_ocr.py as its last parts): start-up, parse speed, PDF import beside pdfplumber, loading
# at scale, OCR beside raw RapidOCR, with the machine, load averages and peak memory. Prints figures;
# asserts nothing (some minutes). BENCH_PARTS=startup,parse,pdf,samples,scale,ocr chooses parts;
# BENCH_BASELINE=/path/to/other/.venv/bin/goalforms measures another build side by side; the
# scale and OCR knobs (BENCH_TEXT_FILES, BENCH_PDF_FILES, BENCH_DASK, BENCH_OCR_PAGES, …) are in
# those scripts' docstrings.
bench: $(STAMP)
	$(BIN)/python -m tests.bench

# Rewrites samples/**/*.expected.json from the current parser, so that a change shows as a
# diff to review by eye against the source. Never commit it unread.
expected: $(STAMP)
	$(BIN)/python -m tests.regenerate_expected

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
