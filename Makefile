# `make demo` and `make test` build .venv by themselves from the package registries.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: venv demo test lint clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# the tests also run the transformers backend on a tiny model: torch (CPU) + transformers
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,test-hf]'
	touch $(TEST_STAMP)

demo: venv
	$(BIN)/execeval run --dataset humaneval --model reference

lint: venv
	$(BIN)/ruff check src tests benchmarks

test: venv $(TEST_STAMP) lint
	$(BIN)/python -m pytest -q --durations=15

clean:
	rm -rf $(VENV)
