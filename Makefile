# Two entry points on a fresh machine: `make demo` and `make test`. Both create the
# virtual environment and install qualcode first. `make test` is what CI runs: the linters,
# the whole test suite, then the distribution check (sdist → wheel → a clean venv outside
# the checkout runs init, import, autocode and a report). `make pytest` runs the suite alone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO ?= demo

.PHONY: demo test lint pytest check-wheel install clean benchmark

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO)
	$(BIN)/qualcode init $(DEMO)
	$(BIN)/qualcode --project $(DEMO) run
	$(BIN)/qualcode --project $(DEMO) report chain --proposed
	$(BIN)/qualcode --project $(DEMO) docs list
	$(BIN)/qualcode --project $(DEMO) codebook show
	$(BIN)/qualcode --project $(DEMO) evaluate --gold corpus/gold/heldout.csv --status proposed
	@echo "The browser workspace on the demo project (prints its URL with the access token):"
	@echo "  $(BIN)/qualcode --project $(DEMO) serve --open"

test: lint pytest check-wheel

lint: $(STAMP)
	$(BIN)/ruff check qualcode tests benchmarks
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

check-wheel: $(STAMP)
	bash scripts/check-wheel $(BIN)/python

# make benchmark SIZE=10000: that many interviews (default 1,000); PG=auto starts a throwaway
# PostgreSQL server (scripts/pg-test-server) for the same steps, PG= skips it, PG=URL uses a server
SIZE ?= 1000
PG ?= auto
benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py --interviews $(SIZE) $(if $(PG),--postgres $(PG))

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache build dist
