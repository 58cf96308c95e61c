# Ereveld: `make run` serves the app, `make test` runs the whole suite.
# Both set everything up on a fresh machine: virtualenv, Python packages (pinned by
# constraints.txt), system libraries through apt-get, translations, database.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := app
# WeasyPrint's libraries and the fonts that cover Dutch, Russian and Kazakh.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core
# What the tests drive or read with: a real browser, pdftotext, an IMAP server, and zbar
# (reads the QR codes off printed letters), and libical with its GObject bindings for the
# system Python (tests/libical_parse.py reads every VTIMEZONE as Evolution would).
TEST_SYSTEM_PACKAGES := chromium poppler-utils dovecot-imapd zbar-tools python3-gi gir1.2-ical-3.0
# What the benchmarks load the server with.
BENCH_SYSTEM_PACKAGES := wrk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
MO_FILES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

.PHONY: run test test-sqlite test-postgres lint setup dev-setup system test-system bench-system test-js \
	translations extract-messages bench letter-fonts clean

run: setup system translations
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	@echo
	@echo "Ereveld runs at http://127.0.0.1:$(PORT)/"
	@$(BIN)/flask users dev-login
	@echo
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: dev-setup system test-system translations test-js test-sqlite test-postgres

# Two workers (pytest-xdist): SQLite files are per test; on PostgreSQL each worker makes
# its own database beside TEST_DATABASE_URL's (tests/conftest.py).
PYTEST_WORKERS ?= 2

test-sqlite:
	env -u TEST_DATABASE_URL $(BIN)/pytest -n $(PYTEST_WORKERS)

test-postgres:
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(BIN)/pytest -n $(PYTEST_WORKERS); \
	else echo "TEST_DATABASE_URL not set: PostgreSQL run skipped."; fi

lint: dev-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check app tests benchmarks
	$(BIN)/mypy
	$(BIN)/bandit -q -r app

bench: dev-setup system bench-system translations
	$(BIN)/python -m benchmarks

setup: $(VENV)/.installed
dev-setup: $(VENV)/.dev-installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $@

# Installs only what is missing; on a machine that has them all, apt-get never runs.
# "install ok installed", not dpkg -s alone: a removed package whose configuration is left
# still answers dpkg -s.
define install-missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	  | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "Installing system packages:" $$missing; \
	$(SUDO) apt-get update -qq && \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
endef

system:
	$(call install-missing,$(SYSTEM_PACKAGES))

test-system:
	$(call install-missing,$(TEST_SYSTEM_PACKAGES))

bench-system:
	$(call install-missing,$(BENCH_SYSTEM_PACKAGES))

# Mozilla's ical.js, the independent parser the calendar tests read feeds with.
test-js: tests/js/node_modules/.package-lock.json

tests/js/node_modules/.package-lock.json: tests/js/package.json tests/js/package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
	touch $@

translations: setup $(MO_FILES)

%.mo: %.po
	$(BIN)/pybabel compile -f -i $< -o $@

# After wrapping new strings: refresh the catalogue, translate, commit the .po files.
# --ignore-dirs: by default pybabel skips folders starting with "_", so templates/_macros
# (the form error box every form shows) was never translated.
extract-messages: setup
	$(BIN)/pybabel extract -F babel.cfg -k _l --ignore-dirs=".* node_modules" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

# The letters' fonts in static/fonts/ (committed): Debian's Noto Serif 2.004 without
# hinting and with Latin, Greek and Cyrillic only, so that each letter's PDF subsets less
# than half of the font. Other scripts fall back to the installed fonts. Rebuild after a
# new fonts-noto-core, then look at the letters again (tests/test_letters.py).
LETTER_FONT_RANGES := U+0000-036F,U+0370-03FF,U+0400-052F,U+1C80-1C8F,U+1E00-1EFF,U+2000-214F,U+2190-21FF,U+2200-22FF,U+25A0-25FF,U+FB00-FB06,U+FFFD
letter-fonts: setup system
	for face in Regular Bold Italic; do \
	  $(BIN)/pyftsubset /usr/share/fonts/truetype/noto/NotoSerif-$$face.ttf \
	    --unicodes='$(LETTER_FONT_RANGES)' --layout-features='*' --no-hinting \
	    --name-IDs='*' --name-languages='*' --output-file=static/fonts/NotoSerifLGC-$$face.ttf; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
