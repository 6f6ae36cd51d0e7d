# The two entry points of the README: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
MODEL  := models/tiny-nllb

.PHONY: install lexicon system-deps web-deps serve test lint bench clean

install: $(VENV)/.installed $(MODEL)/model.bin lexicon

# The SDK (client/, its own distribution) and the server, which requires it, in one resolve:
# the server's requirement is met by this checkout's SDK, not looked up in an index.
$(VENV)/.installed: pyproject.toml client/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ./client -e '.[dev]'
	touch $@

# The offline NLLB-style copy model: built here in about a second, never committed.
$(MODEL)/model.bin: $(VENV)/.installed
	$(BIN)/tafsiri build-test-model $(MODEL)

# The detector's word lists, built from simplemma's data into ~/.cache/tafsiri (once; a no-op
# when they are there).
lexicon: $(VENV)/.installed
	$(BIN)/tafsiri build-lexicon

# The tests run a real redis-server (the Redis job store, rate limits, GCS fault tolerance)
# the web page in Chromium, and npm for Lighthouse: installed from Debian's packages when
# missing.
SYSTEM_DEPS := redis-server:redis-server chromium:chromium chromedriver:chromium-driver npm:npm
system-deps:
	@missing=""; for pair in $(SYSTEM_DEPS); do \
	    command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends $$missing >/dev/null; \
	fi

# Lighthouse, which tests/serve/test_web.py runs against the web page: the versions pinned in
# tests/web/package-lock.json, installed there (node_modules is never committed).
WEB := tests/web
web-deps: $(WEB)/node_modules/.installed

$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json | system-deps
	npm ci --prefix $(WEB) --no-audit --no-fund
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint system-deps web-deps
	$(BIN)/python -m pytest

# Fetches the real models first (once, with progress; later starts find them in the Hugging
# Face cache). Offline this fails fast and the service falls back, loudly, to the bundled ones.
serve: install
	-$(BIN)/tafsiri models pull
	$(BIN)/tafsiri serve serve_config.yaml

bench: install
	$(BIN)/python -m benchmarks.engine

clean:
	rm -rf $(VENV) models .pytest_cache .mypy_cache .ruff_cache $(WEB)/node_modules
