# Two commands for a newcomer: `make run` and `make test`. Both bootstrap .venv first.
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bootstrap migration-reset clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $(STAMP)

bootstrap: $(STAMP)

run: $(STAMP)
	$(BIN)/mimamori db upgrade
	$(BIN)/mimamori serve

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

# Before the first release there is one migration; regenerate it after changing core/models.py.
migration-reset: $(STAMP)
	rm -f migrations/versions/0001_initial_schema.py var/migration-reset.db
	DATABASE_URL=sqlite:///var/migration-reset.db $(BIN)/alembic revision --autogenerate -m "initial schema" --rev-id 0001
	rm -f var/migration-reset.db*

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
