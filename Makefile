# Two commands for a fresh machine (see README): `make demo` and `make test`.
# Each creates .venv if needed and installs robrew non-editably, so what runs is
# exactly what `pip install .` ships.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Meta-World pins mujoco 3.3.0: its integration test runs in a venv of its own, which holds
# only what differs (mujoco 3.3.0, metaworld) and reads everything else (torch, ...) from
# $(VENV) through a .pth file, so the second venv costs ~100 MB instead of another ~7 GB.
MW_VENV ?= .venv-metaworld
SITE = $(1)/lib/python$(shell $(PYTHON) -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')/site-packages
export MUJOCO_GL ?= egl

.PHONY: demo test test-main test-metaworld install dev bench clean

# The dependencies (~7 GB with torch's CUDA libraries) are installed by uv, which unpacks them in
# parallel (~20 s here against pip's ~55 s), from wherever pip is configured to install from
# (scripts/uv_sources.py); where uv cannot be had or fails, pip does it. Neither byte-compiles
# on install: compileall does it on all cores. The .pyc files are needed: with
# PYTHONDONTWRITEBYTECODE set (as on CI here) every process would compile torch's modules again.
# Left out: the packages' own test suites and transformers' ~2,600 per-model modules (a quarter
# of the files; the text encoder's few are compiled when imported). A few files written for
# newer Pythons do not compile (pip skips them the same way), hence `|| true`.
UV_SOURCES = $(shell $(PYTHON) scripts/uv_sources.py)
$(VENV)/.deps: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	($(PY) -m pip install -q uv && $(VENV)/bin/uv pip install -q --python $(PY) $(UV_SOURCES) ".[test]") \
		|| $(PY) -m pip install -q --no-compile ".[test]"
	$(PY) -m compileall -q -j 0 -x '/(tests?|transformers/models)/' $(call SITE,$(VENV)) > /dev/null || true
	touch $@

# robrew itself: by uv where the install above got it (its .pyc compiled), else by pip.
UV = $(wildcard $(VENV)/bin/uv)
PIP_INSTALL = $(if $(UV),$(UV) pip install -q --python $(PY) --compile-bytecode,$(PY) -m pip install -q)
REINSTALL = $(if $(UV),--reinstall-package robrew,--force-reinstall)

# (after install, which removes build/ that this install builds in)
$(MW_VENV)/.deps: pyproject.toml $(VENV)/.deps | install
	$(PYTHON) -m venv --clear $(MW_VENV)
	echo "$(abspath $(call SITE,$(VENV)))" > $(call SITE,$(MW_VENV))/zz_robrew_main_venv.pth
	$(MW_VENV)/bin/python -m pip install -q --no-compile ".[metaworld,test]"
	$(MW_VENV)/bin/python -m compileall -q -j 0 $(call SITE,$(MW_VENV)) > /dev/null || true
	touch $@

# build/ is removed first: setuptools builds in it and would ship modules deleted since.
install: $(VENV)/.deps
	rm -rf build
	$(PIP_INSTALL) --no-deps $(REINSTALL) .

# The development loop: an editable install, so pytest tests the modules as you edit them
# (make test / make demo reinstall non-editably, as users get it).
dev: $(VENV)/.deps
	rm -rf build
	$(PIP_INSTALL) --no-deps -e .

demo: install
	cd /tmp && $(abspath $(VENV))/bin/robrew-rabc hydra.run.dir=$(abspath runs)/rabc/hydra out_dir=$(abspath runs)/rabc

# The Meta-World venv is made and its test run while the main suite runs (mostly pip waiting on
# disk and a 12 s test: ~20 s off the wall time on 2 cores).
test: $(VENV)/.deps
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory -j2 test-main test-metaworld

test-main: install
	$(VENV)/bin/pytest -n 2 --dist worksteal --durations=20 tests

test-metaworld: install $(MW_VENV)/.deps
	rm -rf build && $(MW_VENV)/bin/python -m pip install -q --no-deps --force-reinstall .
	$(MW_VENV)/bin/python -P -m pytest -p no:cacheprovider -q tests/integrations/test_metaworld.py

bench: install
	$(PY) scripts/bench_render.py
	$(PY) scripts/bench_reward.py
	$(PY) scripts/bench_rabc.py

clean:
	rm -rf build *.egg-info runs outputs
