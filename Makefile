# The two set-up commands of the README, plus the pieces they are made of.
PYTHON ?= python3

.PHONY: install build-cluster build-image-base test demo lint bench

install:
	$(PYTHON) -m pip install -q -e '.[test]'

build-cluster:
	$(PYTHON) -m harness build

# The stand-in base image of tests/e2e/test_image.py (debootstrap, needs root), built here so its
# progress shows; where it cannot be built, that test fails naming the reason.
build-image-base:
	-$(PYTHON) -m harness build --only image-base

# lint-imports: the layers and no import cycle, function-local imports included ([tool.importlinter]
# in pyproject.toml); a new cycle or an upward import fails here.
lint:
	ruff check ksm_py harness tests $(wildcard bench)
	mypy ksm_py harness $(wildcard bench)
	lint-imports

# Everything: unit, table, golden, e2e against the local control plane, Prometheus, benchmarks smoke.
test: install build-cluster build-image-base lint
	KSM_PY_REQUIRE_E2E=1 $(PYTHON) -m pytest -q

demo: install build-cluster
	$(PYTHON) -m harness demo

bench: install build-cluster
	$(PYTHON) -m bench.render
