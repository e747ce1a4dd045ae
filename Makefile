# Face GAN Lab: `make run` serves the app, `make test` runs every test. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# pip runs again only when requirements.txt changes (the stamp is named by its hash)
REQ_HASH := $(shell sha1sum requirements.txt | cut -c1-12)
STAMP := .stamps/requirements-$(REQ_HASH)

.PHONY: setup run test lint browser data bench fuzz clean

setup: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@rm -rf .stamps && mkdir -p .stamps && touch $@

# a fixed mmap threshold: glibc hands big freed tensors back to the system instead of keeping them in
# one arena per thread (20 visitors at once: ~55-65 MiB more resident instead of ~220; tests/e2e/test_load.py)
run: setup
	MALLOC_MMAP_THRESHOLD_=131072 $(BIN)/streamlit run app.py --server.port $(PORT)

# Debian's chromium for the real-browser tests (Playwright drives it; no browser download)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: chromium missing and cannot be installed here; browser tests will be skipped"; fi; }

lint: setup
	$(BIN)/ruff check .

test: setup browser lint
	$(BIN)/python -m pytest -q

data: setup
	$(BIN)/python -m train.prepare_data

# the upload fuzzing with a large budget and fresh random inputs (make test runs 60 derandomized examples each)
fuzz: setup
	FUZZ_EXAMPLES=3000 FUZZ_RANDOM=1 $(BIN)/python -m pytest -q tests/e2e/test_fuzz_uploads.py

# the speed and memory figures quoted in the README, as one table, also written to bench/results.json
# (training throughput needs the data cache: `make data`; the cold start needs chromium: `make browser`)
bench: setup data browser
	$(BIN)/python -m bench.run_all --json bench/results.json

clean:
	rm -rf .stamps .pytest_cache .ruff_cache tests/artifacts
