# The README's commands. Only python3 and make are needed on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE := data/online_retail_sample.csv.gz

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Trains on the bundled sample when no model is promoted yet, then serves it on
# http://127.0.0.1:8000 (RECSYS_* variables configure it; see README).
run: install
	@test -e models/current || $(BIN)/recsys train --orders $(SAMPLE) --preset online-retail
	$(BIN)/recsys serve

test: install
	$(BIN)/ruff check recsys tests benchmarks
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check recsys tests benchmarks

bench: install
	$(BIN)/python benchmarks/evaluate.py
	$(BIN)/python benchmarks/forecast.py
	$(BIN)/python benchmarks/serve_load.py
	$(BIN)/python benchmarks/scale.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
