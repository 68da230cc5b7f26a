# claimscan: `make demo` and `make test` work on a fresh Debian machine; each target sets up what it needs.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/claimscan/target
# Tesseract's OpenMP: one thread per engine (6x faster on 2 cores); must be set before the process starts.
export OMP_THREAD_LIMIT := 1
CARGO ?= cargo
BIN := $(CARGO_TARGET_DIR)/release/claimscan

.PHONY: setup services build release demo test lint unit training-data bench bench-worker train eval-layout eval-claims bench-engagement eval-engagement eval-engagement-sim match-bench match-eval fuzz

setup:
	@bash scripts/setup.sh

services:
	@bash scripts/services.sh

build: setup
	$(CARGO) build --workspace

release: setup
	$(CARGO) build --release -p claimscan-cli

demo: release
	@bash scripts/demo.sh "$(BIN)"

lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit: setup services
	$(CARGO) test --workspace
	@if [ -x training-data/test.sh ]; then bash training-data/test.sh; fi

test: lint unit

training-data: setup
	@bash training-data/make.sh

bench: release
	@bash benches/extract.sh "$(BIN)"

# Layout models: rebuild models/layout-gbdt{,-cord} from generated data (~30 min on 2 cores), and
# compare readers on held-out distributors.
train: setup
	@bash pipelines/layout/train.sh

LAYOUT_DATA ?= $(HOME)/.cache/claimscan/layout-work/set-a
eval-layout: setup
	$(CARGO) run --release -p claimscan-cli -- model eval rules models/layout-gbdt models/layout-gbdt-cord --data $(LAYOUT_DATA)/docs --split heldout

# What partners would be paid: a generated set (seed 73, made once), its held-out invoices read,
# matched and decided as the worker does (`claimscan model claims`).
CLAIMS_DATA ?= $(HOME)/.cache/claimscan/claims-data
eval-claims: setup
	@bash training-data/make.sh --venv-only
	@test -f $(CLAIMS_DATA)/catalog.csv || bash training-data/make.sh --docs-only --docs 400 --seed 73 --out $(CLAIMS_DATA)
	$(CARGO) run --release -p claimscan-cli -- model claims models/layout-gbdt-cord --data $(CLAIMS_DATA)/docs --split heldout --catalog $(CLAIMS_DATA)/catalog.csv --read-cache $(CLAIMS_DATA)/read

# --workspace (not -p): the same feature unification as the test build, so polars is not rebuilt.
bench-worker: setup services
	$(CARGO) bench --workspace --bench worker

bench-engagement: setup
	@bash benches/engagement.sh 1000000 730

eval-engagement: setup
	@bash pipelines/engagement/eval.sh

eval-engagement-sim: setup
	@bash pipelines/engagement/eval.sh sim

MATCH_DATA ?= $(HOME)/.cache/claimscan/matching-data

match-bench: setup
	@bash pipelines/matching/bench.sh

match-eval: setup
	@bash training-data/make.sh --venv-only
	training-data/.venv/bin/python pipelines/matching/gen_lines.py --docs 6000 --out $(MATCH_DATA)
	$(CARGO) run --release -p claimscan-matching --example match-cli -- match eval --catalog $(MATCH_DATA)/catalog.csv --lines $(MATCH_DATA)/lines.csv

fuzz: setup
	@bash fuzz/run.sh
