# goalforms — the two commands that matter: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench expected samples system-deps clean

# System packages: only Python's venv module is needed so far; installed from Debian's
# packages when the interpreter lacks it (fresh Debian images ship python3 without venv).
system-deps:
	@test -x /usr/bin/chromium || { \
	  echo "installing chromium (browser tests; Playwright's own browser download does not work here)"; \
	  apt-get update -qq && apt-get install -y -qq chromium; }
	@command -v soffice >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 && \
	  test -e /usr/lib/libreoffice/program/libsclo.so || { \
	  echo "installing LibreOffice Writer and Calc, CJK fonts and poppler (samples, .doc conversion)"; apt-get update -qq && \
	  apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui libreoffice-calc-nogui \
	    fonts-noto-cjk fonts-wqy-zenhei poppler-utils; }
	@command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  echo "installing postgresql (server for the PostgreSQL tests)"; apt-get update -qq && apt-get install -y -qq postgresql; }
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || { \
	  echo "installing python3-venv"; apt-get update -qq && apt-get install -y -qq python3-venv python3-pip; }

$(STAMP): pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Import the embedded samples into SQLite goalforms.db and print the summary.
demo: $(STAMP)
	$(BIN)/goalforms import samples --db goalforms.db

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check goalforms pipeline parsers schema tests samples

typecheck: $(STAMP)
	$(BIN)/mypy goalforms pipeline parsers schema

unit: $(STAMP)
	$(BIN)/python -m pytest

# Word, PDF, layout-text and spreadsheet versions of the sample forms (needs LibreOffice; the results are
# committed, so the tests do not).
samples: $(STAMP)
	$(BIN)/python samples/make_samples.py
	$(BIN)/python samples/make_scans.py
	$(BIN)/python samples/make_spreadsheets.py
	$(BIN)/python samples/make_html.py
	$(BIN)/python samples/make_flowing.py

# Prints figures; asserts nothing.
bench: $(STAMP)
	$(BIN)/python -m tests.bench
	$(BIN)/python -m tests.bench_scale
	$(BIN)/python -m tests.bench_ocr

# Rewrites samples/**/*.expected.json from the current parser, so that a change shows as a
# diff to review by eye against the source. Never commit it unread.
expected: $(STAMP)
	$(BIN)/python -m tests.regenerate_expected

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
