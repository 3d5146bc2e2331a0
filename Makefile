# gnssaug: the two commands of the Quick start, and a few helpers.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install kernels rtklib lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

## kernels: compile the numba kernels ahead of time for the current sources (quick when already built)
kernels: $(STAMP)
	@$(BIN)/gnssaug kernels build || echo "warning: ahead-of-time kernels not built; kernels run just in time"

install: $(STAMP) kernels

## demo: install, then run the caster with the Nagoya base and rover replayed as live stations (Ctrl-C stops);
## the caster needs no solver kernels, so the demo does not wait for the ahead-of-time build
demo: $(STAMP)
	$(BIN)/gnssaug serve --demo

## rtklib: RTKLIB's command-line tools, the independent peers of the integration tests
rtklib:
	@command -v rnx2rtkp >/dev/null 2>&1 && command -v str2str >/dev/null 2>&1 && command -v convbin >/dev/null 2>&1 \
	  || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	         (apt-get install -y -qq rtklib >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq rtklib >/dev/null)) \
	           || echo "warning: could not install rtklib; its integration tests will be skipped"; \
	       else echo "warning: rtklib is missing and cannot be installed here; its integration tests will be skipped"; fi; }

## test: install, then run the whole test suite
test: install rtklib
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

bench: install
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
