# Two entry points a new user needs: `make demo` and `make test`. Each builds its own virtualenv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint schema bench clean

# uv installs in 10-25 s what pip takes ~35 s for. It comes from the package registry into
# the venv itself, so a fresh machine needs nothing but python3; if it cannot be had, pip does the job.
# Bytecode is compiled at install, as pip does: where PYTHONDONTWRITEBYTECODE is set nothing caches it
# later, and each smsops process the tests start would compile the SDKs again (validate 0.42 s vs 0.15 s).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv \
	  && $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]' \
	  || { $(BIN)/pip install --quiet --upgrade pip && $(BIN)/pip install --quiet -e '.[dev]'; }
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/smsops demo sms-config

# pytest-xdist, a test file per worker at a time: module-scoped fixtures (the workflow run, the
# history repository) are then built once. (--dist loadgroup would split finer, but its xdist_group
# marks have no effect with pytest 9.2 and xdist 3.8.) Files go out in collection order, which
# tests/conftest.py starts with the longest files, rather than most tests first.
# Two workers per core: many tests wait on subprocesses (sops, git, smsops itself) and loopback I/O.
# compileall: our own modules' bytecode too (only changed files are compiled), for the same reason.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))
test: $(STAMP)
	$(BIN)/python -m compileall -q reconciler >/dev/null
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests benchmarks
	$(BIN)/ruff format --check reconciler tests benchmarks
	$(BIN)/mypy reconciler

schema: $(STAMP)
	$(BIN)/smsops schema

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
