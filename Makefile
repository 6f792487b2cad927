# Two entry points for a fresh machine (Python 3.11+ and make):
#   make demo   set up .venv, run the demo county end to end (SQLite database and notices in demo-output/),
#               then serve it on http://127.0.0.1:8000 (SERVE=0: do not serve)
#   make test   set up .venv with the test extras and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test check setup setup-dev bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

setup-dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'

SERVE ?= 1

demo: setup
	$(BIN)/inspect demo --out demo-output
ifeq ($(SERVE),1)
	@echo "serving the demo database on http://127.0.0.1:8000 (the accounts above; Ctrl-C stops)"
	$(BIN)/inspect --db demo-output/inspect.db serve --port 8000
endif

check: setup-dev
	$(BIN)/ruff format --check inspect_kit tests benchmarks registries
	$(BIN)/ruff check inspect_kit tests benchmarks registries
	PYTHON=$(BIN)/python bash scripts/check-types

test: setup-dev
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: setup-dev
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_tickets.py
	$(BIN)/python benchmarks/bench_import.py --rows 300000
	$(BIN)/python benchmarks/bench_import.py --rows 1000000
	$(BIN)/python benchmarks/bench_draw.py --entities 1000000 10000000
	$(BIN)/python benchmarks/bench_assign.py
	$(BIN)/python benchmarks/bench_notice.py --rows 10000

clean:
	rm -rf $(VENV) demo-output .pytest_cache build *.egg-info
