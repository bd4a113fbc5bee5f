# make run   set up, materialize every asset on the landing data, publish the reports
# make ui    the Dagster UI (http://127.0.0.1:3000) on the same instance and warehouse
# make test  set up and run the tests
# Honoured: OUTCOMES_LANDING, OUTCOMES_WAREHOUSE, OUTCOMES_REPORTS, OUTCOMES_TIMEZONE, DAGSTER_HOME.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DAGSTER_HOME := $(abspath $(DAGSTER_HOME))
UI_HOST ?= 127.0.0.1
UI_PORT ?= 3000
SIZES ?= 10000 100000 1000000
BENCH_SEED ?= 20261123
BENCH_REPEATS ?= 1

.PHONY: run ui test lint check-defs sample clean bench

# The venv is (re)built when missing or older than the dependency pins.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: assets/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	@test -f $@ && ! cmp -s $< $@ && echo "note: keeping your $@ (differs from assets/dagster.yaml)" || cp $< $@

run: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dg launch --job nightly_refresh
	@$(BIN)/python -m pipeline.reporting.locations

ui: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dg dev --host $(UI_HOST) --port $(UI_PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

# Generated landings and scratch runs go to benchmarks/out/ (git-ignored); results to benchmarks/results/.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.refresh --sizes $(SIZES) --seed $(BENCH_SEED) --repeats $(BENCH_REPEATS)

lint: $(STAMP)
	$(BIN)/ruff check .

check-defs: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dg check defs

# Regenerate the committed sample (deterministic).
sample: $(STAMP)
	rm -rf sample_data/landing
	$(BIN)/python -m sample_data.generate --patients 2000 --seed 20261123 --parquet-sites SITE05 \
		--landing sample_data/landing --truth sample_data/truth.json

clean:
	rm -rf data reports/site .dagster_home
