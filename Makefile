# Two commands on a fresh machine: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
SAMEN := $(VENV)/bin/samen
SAMEN_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
export SAMEN_TEST_POSTGRES_URL

.PHONY: install run test system-deps forms migration

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(SAMEN) init --default-project "SAMEN" --forms forms
	$(SAMEN) serve

# Debian packages the tests drive: Chromium for the console, poppler for rendering the PDF report, and the
# Pango and fonts WeasyPrint draws with. Only missing ones are installed (CI and set-up run as root).
DEBIAN_PACKAGES := chromium poppler-utils libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
system-deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test: install system-deps
	$(SAMEN) forms build --check
	$(PY) -m pytest -q

forms: install
	$(SAMEN) forms build

# Regenerate the initial migration from the models (before the first release only).
# Hand-written later migrations (0002_*: triggers) step aside meanwhile: they name 0001 as their parent.
migration: install
	rm -rf server/samen/migrations/versions/0001_initial_schema.py /tmp/samen-migration.db /tmp/samen-later-migrations
	mkdir /tmp/samen-later-migrations && find server/samen/migrations/versions -maxdepth 1 -name '*.py' ! -name '0001_*' -exec mv {} /tmp/samen-later-migrations/ \;
	$(PY) -c "from alembic.config import Config; from alembic import command; \
	c = Config(); c.set_main_option('script_location', 'server/samen/migrations'); \
	c.set_main_option('sqlalchemy.url', 'sqlite:////tmp/samen-migration.db'); \
	command.revision(c, message='initial schema', autogenerate=True, rev_id='0001')"
	mv /tmp/samen-later-migrations/*.py server/samen/migrations/versions/
