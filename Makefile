# Shortcuts; the README's two commands are the source of truth and work without make.
PY ?= python3
VENV ?= .venv

.PHONY: setup sample test lint
setup:
	$(PY) -m venv $(VENV) && $(VENV)/bin/pip install -q -e '.[dev]'

sample:
	$(PY) -m venv $(VENV) && $(VENV)/bin/pip install -q -e . && $(VENV)/bin/curate run recipes/openr1-math-45k.yaml --source sample --allow-smaller

test:
	$(PY) -m venv $(VENV) && $(VENV)/bin/pip install -q -e '.[dev]' && $(VENV)/bin/ruff check . && $(VENV)/bin/pytest -q

lint:
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
