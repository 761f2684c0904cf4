# overdash — set up, render, test, benchmark.
#   make render IN=ride.mp4 OUT=ride-dash.mp4 [ARGS="--workers 4"]
#   make test | make bench | make perf-check
#   make lint (ruff) | make typecheck (mypy): `make test` runs both before pytest
#   make test ARGS="-m 'not e2e'"    select by marker (setup.cfg): e2e (real ffmpeg renders),
#                                    slow, gpu; e.g. ARGS="-m 'not slow and not gpu'"
#   OVERDASH_SHARED_DATA=/nonexistent make test   as a checkout without ../shared/data runs
#   (device-file tests skip naming the file; CI=true or OVERDASH_REQUIRE_DATA=1 fails them;
#   the editor's browser tests skip without chromium/chromedriver, CI=true or
#   OVERDASH_REQUIRE_BROWSER=1 fails them)
#   make setup [PIL=simd|pillow]      (simd: pillow-simd built from source, the default)
#   make setup RAY=1                  also the ray extra (render --ray, batch --ray); `make test` always adds it

PYTHON ?= python3
PIL ?= simd
RAY ?= 0
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-$(PIL)
RAY_STAMP := $(VENV)/.setup-ray
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# chromium + chromium-driver: the headless browser the `overdash edit` page tests drive (selenium).
APT_PACKAGES := ffmpeg build-essential python3-dev libjpeg-dev zlib1g-dev libfreetype-dev fonts-dejavu-core proj-data \
	chromium chromium-driver
# pillow-simd's build picks SSE4 by default; AVX2 when this CPU has it.
SIMD_CC := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo "cc -mavx2" || echo cc)
# imageio-ffmpeg wheels whose static ffmpeg the version tests run (4.2.2, 7.0.2, 9.0.2:
# tests/support/ffmpeg_builds.py); downloaded into $(VENV)/ffmpeg-builds, never installed.
FFMPEG_BUILDS := 0.4.9 0.6.0 0.8.1

.PHONY: setup apt ffmpeg-builds render demo test lint typecheck bench perf-check gpu-check clean docs fuzz soak

setup: $(STAMP) $(if $(filter 1,$(RAY)),$(RAY_STAMP))

# The optional Ray extra (~70 MB wheel): for users who ask (RAY=1), and always for the tests.
$(RAY_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[ray]'
	@touch $@

# The older and newer ffmpeg builds the tests render with (test-only: `make demo`/`render` skip them).
ffmpeg-builds: setup
	@mkdir -p $(VENV)/ffmpeg-builds
	@for v in $(FFMPEG_BUILDS); do \
	  ls $(VENV)/ffmpeg-builds/imageio_ffmpeg-$$v-*.whl >/dev/null 2>&1 || \
	  $(PY) -m pip download -q --no-deps --only-binary=:all: -d $(VENV)/ffmpeg-builds imageio-ffmpeg==$$v || exit 1; \
	done

$(STAMP): setup.cfg setup.py pyproject.toml Makefile overlay/_yuva.c
	@$(MAKE) --no-print-directory apt
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	@rm -f $(VENV)/.setup-*
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
ifeq ($(PIL),pillow)
	@$(PY) -m pip uninstall -q -y pillow-simd 2>/dev/null || true
	$(PY) -m pip install -q --force-reinstall 'pillow>=10'
else
	@if ! $(PY) -m pip show -q pillow-simd >/dev/null 2>&1; then \
	  $(PY) -m pip uninstall -q -y pillow 2>/dev/null || true; \
	  echo "building pillow-simd from source with CC='$(SIMD_CC)' (about a minute)"; \
	  CC="$(SIMD_CC)" $(PY) -m pip install -q --no-binary pillow-simd pillow-simd; \
	fi
endif
	@$(PY) -c "from PIL import ImageFont, features; assert features.check('freetype2'), 'Pillow built without FreeType: install libfreetype-dev and run make setup again'"
	@$(VENV)/bin/overdash --version
	@touch $@

# Installs only what is missing; sudo when not root.
apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	$(PYTHON) -c "import ensurepip" 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing with apt:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

render: setup
	@[ -n "$(IN)" ] && [ -n "$(OUT)" ] || { echo "usage: make render IN=video.mp4 OUT=out.mp4 [ARGS='...']"; exit 2; }
	$(VENV)/bin/overdash render "$(IN)" "$(OUT)" $(ARGS)

demo: setup
	$(VENV)/bin/overdash demo $(ARGS)

lint: setup
	$(PY) -m ruff check .

typecheck: setup
	$(PY) -m mypy

test: setup $(RAY_STAMP) ffmpeg-builds lint typecheck
	$(PY) -m pytest tests $(ARGS)

bench: setup
	@mkdir -p .benchmarks
	$(PY) -m pytest benchmarks --benchmark-only --benchmark-columns=min,median,max,rounds \
	  --benchmark-json=.benchmarks/last.json -p no:cacheprovider $(ARGS)
	$(PY) -m benchmarks.report .benchmarks/last.json

perf-check: setup
	$(PY) -m benchmarks.perf_check $(ARGS)

gpu-check: setup
	$(PY) -m benchmarks.gpu_check $(ARGS)

# Every parser against mutated files (fuzz/): 150,000 cases each by default, findings and their
# cases under /tmp/overdash-fuzz; e.g. ARGS="--cases 20000 --targets mp4,gpmf --seed 7".
# Then 20,000 damaged MP4s through the index probe, each it settles checked against ffprobe
# (fuzz/agree.py; AGREE=N for another count). Not part of `make test`, which runs a fixed-seed
# smoke of each (tests/test_fuzz_smoke.py, tests/encoders/test_mp4index.py).
AGREE ?= 20000
fuzz: setup
	$(PY) -m fuzz run $(ARGS)
	$(PY) -m fuzz agree --cases $(AGREE)

# Fault injection in a loop (tests/support/faults.py: children, main, disk, folder, tile server
# killed or broken at random frames) and a table of outcomes; e.g. make soak N=50 SEED=3.
# Not part of `make test`, which runs each case once (tests/pipeline/test_faults.py).
N ?= 200
SEED ?= 1
soak: setup
	$(PY) -m benchmarks.soak --runs $(N) --seed $(SEED) $(ARGS)

docs: setup
	$(PY) -m overlay.layout.vocabulary > docs/.layout-xml.md.partial && mv docs/.layout-xml.md.partial docs/layout-xml.md

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .benchmarks
