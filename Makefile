# The two entry points of the README: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
MODEL  := models/tiny-nllb

.PHONY: install serve test lint bench clean

install: $(VENV)/.installed $(MODEL)/model.bin

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# The offline NLLB-style copy model: built here in about a second, never committed.
$(MODEL)/model.bin: $(VENV)/.installed
	$(BIN)/tafsiri build-test-model $(MODEL)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

serve: install
	$(BIN)/serve run serve_config.yaml

bench: install
	$(BIN)/python -m benchmarks.engine

clean:
	rm -rf $(VENV) models .pytest_cache .mypy_cache .ruff_cache
