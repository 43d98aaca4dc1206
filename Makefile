# Every install step lives here: a fresh machine needs only Python 3.11, make and git.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROTO_SRC := $(wildcard proto/archive/v1/*.proto)
GEN_DIR   := node/rpc/generated

.PHONY: run test proto lint bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Start the local five-tier demo network and print a village service-point URL.
run: $(STAMP)
	$(BIN)/archive-node demo

## Run the whole test suite (the page tests need Chromium: see `browser`).
test: $(STAMP) browser
	$(BIN)/pytest -q

## Debian's Chromium for the page tests (tests/browser) and Debian's Noto CJK font for the
## printed certified copy (node/printout.py), each installed when root and missing.
## Elsewhere the page tests skip with a one-line reason (and fail under CI=true).
browser:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing=" chromium"; \
	ls /usr/share/fonts/opentype/noto/Noto*CJK-Regular.ttc >/dev/null 2>&1 || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing$$missing (apt-get) for the page tests and the printed copies"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

## Regenerate protobuf/gRPC code (committed; tests/rpc/test_generated.py checks it is current).
proto: $(STAMP)
	$(BIN)/python -m node.rpc.protogen

lint: $(STAMP)
	$(BIN)/ruff check node tests bench
	$(BIN)/ruff format --check node tests bench
	$(BIN)/mypy
	# the web tests' fake must keep implementing the services' Protocols
	$(BIN)/mypy tests/web/fake_service.py

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache
