# `make demo` and `make test` build .venv by themselves from the package registries.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: venv demo test lint tools clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# the tests also run the transformers backend on a tiny model (torch CPU + transformers) and
# grade on a local Ray cluster
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,test-hf,ray]'
	touch $(TEST_STAMP)

# the report and viewer tests drive Debian's headless chromium, the human-feedback test a real
# terminal (tmux): installed when missing and this is a Debian machine we may install on;
# elsewhere those tests say why they skip (in CI, CI=true, they fail instead)
tools:
	@command -v chromium >/dev/null 2>&1 && command -v tmux >/dev/null 2>&1 || { \
	  [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && (apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium tmux) >/dev/null 2>&1 \
	  || echo "make: chromium and tmux could not be installed; their tests will skip"; }

demo: venv
	$(BIN)/execeval run --dataset humaneval --model reference

# style, the layer contracts of pyproject.toml (import-linter) and the types (mypy)
lint: venv
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/lint-imports
	$(BIN)/mypy

test: venv $(TEST_STAMP) tools lint
	$(BIN)/python -m pytest -q --durations=15

clean:
	rm -rf $(VENV)
