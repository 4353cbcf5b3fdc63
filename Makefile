# Two commands for a fresh machine:
#   make sandbox   start Synapse + Discord emulator + bridge and show messages crossing
#   make test      run the whole test suite (needs PostgreSQL on 127.0.0.1:5432)
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: sandbox test lint install clean catalogs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The browser tests drive Debian's chromium (Playwright's own browsers are not downloaded).
CHROMIUM ?= /usr/bin/chromium

install: $(STAMP) $(CHROMIUM)

$(CHROMIUM):
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "no $(CHROMIUM): install Debian's chromium (as root: apt-get install chromium);" \
			"the browser tests skip without it, and fail under CI=true"; \
	fi

sandbox: $(STAMP)
	$(VENV)/bin/python -m sandbox up $(ARGS)

test: $(STAMP)
	$(VENV)/bin/python -m pytest $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Messages: extract every tr._/ngettext/pgettext/N_ string of bridge/ and moderation/
# (babel.cfg) and merge it into each bridge/locale/<lang>/LC_MESSAGES/passerelle.po.
# Then translate the new (empty or "fuzzy") French entries; tests/test_i18n.py fails
# until every message is in every catalog, translated in French, none stale.
POT := build/passerelle.pot
catalogs: $(STAMP)
	mkdir -p build
	$(VENV)/bin/pybabel extract -F babel.cfg --no-location --sort-output \
		--project=passerelle --copyright-holder="Passerelle" -o $(POT) .
	$(VENV)/bin/pybabel update -i $(POT) -d bridge/locale -D passerelle \
		--ignore-obsolete --no-fuzzy-matching --no-wrap

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
