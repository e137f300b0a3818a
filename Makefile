# Training Deep Neural Networks from Scratch -- build, test and install targets.
#
#   make book       install (if needed) and build the website into _build/html
#   make test       install (if needed), lint, and run every test (chapters, grader, website, browsers)
#   make test-fast  lint and the tests not marked slow
#   make help       list all targets
#
# Everything is installed into ./.venv from the pinned lock (constraints.txt).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Interpreter used only to create the venv: python3.11 when present, else python3.
# (Evaluated before PATH below is changed, so it never picks the venv itself.)
BOOTSTRAP_PYTHON := $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)

VENV  := .venv
BIN   := $(CURDIR)/$(VENV)/bin
PY    := $(BIN)/python
PIP   := $(PY) -m pip
STAMP := $(VENV)/.installed

# Recipes (and notebook kernels they start) use the venv's tools first.
export PATH := $(BIN):$(PATH)
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
# Jupyter: use platformdirs paths (silences a DeprecationWarning in every run).
export JUPYTER_PLATFORM_DIRS := 1
# (MPLBACKEND is deliberately NOT set: notebook kernels must keep the inline
# backend so figures appear on the website; headless pytest falls back to Agg.)

# The chapter notebooks (for `make lab`'s usage message).
NOTEBOOKS := $(wildcard chapters/*.ipynb)

# Optional: PyTorch for the benchmarks only. Exactly this pin, never unpinned
# (an unpinned torch pulls several GB of CUDA packages).
TORCH_PIN := torch==2.13.0

.PHONY: help install book browser sandbox lint test test-fast bench bench-deps lock clean grade-demo lab

help:
	@echo "make book        install (if needed) and build the website (student edition) -> _build/html"
	@echo "                 and its Korean edition -> _build/html/ko (book/README.md, Translating the course)"
	@echo "                 make book EDITION=instructor: with solutions -> _build/instructor/html (and /ko)"
	@echo "make browser     install Debian's chromium (for the website tests) if it is missing"
	@echo "make sandbox     install Debian's bubblewrap (isolates the grader's kernels) if it is missing"
	@echo "make test        install (if needed) and run all tests (tests/ + chapter notebooks)"
	@echo "make test-fast   lint + the tests not marked slow (no notebook runs)"
	@echo "make lint        ruff (lint, format) and mypy on the code"
	@echo "make install     create .venv and install the pinned dependencies + this repo (editable)"
	@echo "make grade-demo  grade the bundled sample submissions (autograder/samples) and print the table"
	@echo "make lab CHAPTER=03_activations   open JupyterLab on a chapter's assignment, as a student sees it"
	@echo "make bench       run the benchmarks (bench/run_all.py)"
	@echo "make bench-deps  install the optional benchmark dependency $(TORCH_PIN) into .venv"
	@echo "make lock        re-resolve requirements.txt and rewrite constraints.txt"
	@echo "make clean       remove _build and caches (keeps .venv)"

# --- installation -----------------------------------------------------------

$(PY):
	@test -n "$(BOOTSTRAP_PYTHON)" || { echo "Makefile: no python3.11 or python3 on PATH" >&2; exit 1; }
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)

# Re-runs only when the dependency files change; otherwise `make install` is instant.
$(STAMP): pyproject.toml requirements.txt constraints.txt | $(PY)
	$(PIP) install --quiet -c constraints.txt pip setuptools wheel
	$(PIP) install --quiet -r requirements.txt -c constraints.txt
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	$(PIP) check
	@touch $@

install: $(STAMP)

# --- website ----------------------------------------------------------------

# book/build.py (book/README.md) executes each chapter once through jupyter-cache
# (_build/.jupyter_cache, keyed by the code cells and the library they import:
# prose edits do not re-execute), makes the student edition with nbgrader
# (solutions and hidden tests removed) or the instructor edition, and renders it
# with Jupyter Book and the Sphinx tag of the edition, strictly: any Sphinx
# warning (including broken references, -n) fails the build. It refuses to build
# when a file listed in _toc.yml is missing (BOOK_ALLOW_MISSING=1 builds a draft
# without it) or when a page or markdown cell holds a control character.
# Every language of book/locale/languages.yml is built too, from the same executed chapters:
#   make book                      student edition    -> _build/html, _build/html/ko
#   make book EDITION=instructor   instructor edition -> _build/instructor/html, _build/instructor/html/ko
EDITION ?= student
book: $(STAMP)
	$(PY) book/build.py --edition $(EDITION)$(if $(filter 1,$(BOOK_ALLOW_MISSING)), --allow-missing)

# The website's browser tests (tests/test_website.py) drive Debian's chromium
# through Playwright; never `playwright install` (it downloads a browser).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then \
		echo "chromium: $(CHROMIUM)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && apt-get install -y chromium fonts-nanum; \
	else \
		echo "make browser: $(CHROMIUM) is missing; install it with: sudo apt-get install chromium" >&2; exit 1; \
	fi

# The grader runs each student's kernel isolated with Debian's bubblewrap and
# util-linux's setpriv/prlimit (autograder/README.md, "Isolation"); without them
# `python -m autograder grade` refuses to run (unless --unsafe).
sandbox:
	@if command -v bwrap >/dev/null && command -v setpriv >/dev/null && command -v prlimit >/dev/null; then \
		echo "bubblewrap: $$(command -v bwrap)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && apt-get install -y bubblewrap util-linux; \
	else \
		echo "make sandbox: bubblewrap is missing; install it with: sudo apt-get install bubblewrap" >&2; exit 1; \
	fi

# --- tests ------------------------------------------------------------------

# Code checks: ruff (lint and format) and mypy, pinned in the lock (pyproject.toml configures them).
LINTED := solutions autograder book tests bench
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check solutions autograder
	$(BIN)/mypy solutions autograder

# All tests, on both cores (pytest-xdist, tests spread one by one), one BLAS thread per
# worker so the two workers do not fight over the cores. Each chapter runs once: its
# reference run (autograder/release/reference_run.py, kept in _build/.jupyter_cache) gives
# the website its outputs, the chapter tests their proof that it runs and validates, and the
# grader its expected values; whichever test needs it first runs it, the others wait.
# The slowest 15 tests are listed at the end.
TEST_ENV := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
test: $(STAMP) browser sandbox lint
	$(TEST_ENV) $(PY) -m pytest -n 2 --dist load --durations=15 tests
	@echo "Screenshots (website, student's path, formgrader): $(CURDIR)/_build/screenshots/"

test-fast: $(STAMP) lint
	$(TEST_ENV) $(PY) -m pytest -n 2 --durations=15 tests -m "not slow"

# --- grading (autograder/README.md) ----------------------------------------

# Grade the sample submissions of chapter 1 (reference, blank, partly wrong, a bug
# that throws, an infinite loop, a damaged file) and print the table. Exit status 1
# of the grader means "some submissions need attention": expected here (the damaged file).
DEMO_CHAPTER := 01_gradient_descent
grade-demo: $(STAMP) sandbox
	$(PY) -m autograder grade $(DEMO_CHAPTER) autograder/samples/$(DEMO_CHAPTER) --out _build/grade-demo \
		--workers 2 --cell-timeout 20 --time-limit 120 --table || test $$? -eq 1

# Open JupyterLab as a student sees it: the chapter's assignment folder (made in
# _build/lab/release/<chapter>/ by the course's release code, as in the zip students
# download) with its settings: nbgrader's Validate button, no instructor panels.
lab: $(STAMP)
	@test -n "$(CHAPTER)" || { echo "usage: make lab CHAPTER=03_activations  (chapters: $(basename $(notdir $(NOTEBOOKS))))" >&2; exit 2; }
	$(PY) -m autograder release $(CHAPTER) --out _build/lab
	cd _build/lab/release/$(CHAPTER) && $(BIN)/jupyter lab --config=jupyter_lab_config.py $(CHAPTER).ipynb

# --- benchmarks -------------------------------------------------------------

bench: $(STAMP)
	@if [ -f bench/run_all.py ]; then \
		echo "$(PY) bench/run_all.py"; $(PY) bench/run_all.py; \
	else \
		echo "make bench: bench/run_all.py does not exist yet; nothing to run" >&2; \
	fi

bench-deps: $(STAMP)
	$(PIP) install -c constraints.txt "$(TORCH_PIN)"
	$(PIP) check

# --- maintenance ------------------------------------------------------------

# Re-resolve requirements.txt in a throwaway venv (so optional extras such as
# torch in .venv never leak into the lock) and rewrite constraints.txt.
lock:
	@test -n "$(BOOTSTRAP_PYTHON)" || { echo "Makefile: no python3.11 or python3 on PATH" >&2; exit 1; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(BOOTSTRAP_PYTHON) -m venv "$$tmp/venv" && \
	"$$tmp/venv/bin/python" -m pip install --quiet --upgrade pip && \
	"$$tmp/venv/bin/python" -m pip install --quiet -r requirements.txt && \
	"$$tmp/venv/bin/python" -m pip check && \
	{ grep '^#' constraints.txt || true; \
	  "$$tmp/venv/bin/python" -m pip freeze --all --exclude-editable; } > "$$tmp/constraints.txt" && \
	mv "$$tmp/constraints.txt" constraints.txt && \
	echo "constraints.txt rewritten; review with: git diff constraints.txt"

clean:
	rm -rf _build .pytest_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 \
		| xargs -0 rm -rf
