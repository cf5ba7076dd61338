# `make demo` and `make test` build .venv by themselves from the package registries.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: venv
	$(BIN)/execeval run --dataset humaneval --model reference

lint: venv
	$(BIN)/ruff check src tests benchmarks

test: venv lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV)
