# make run   — the main job on the embedded broker: build, start everything, load the synthetic year, show results
# make test  — install what is missing, build, run every test (unit and integration against a real broker process)
# make up / make down — start the stack in the background (no data) / stop it and remove its state
# make format — lay out the Swift sources as .swift-format says (make test checks it with `make lint`)
SHELL := /bin/bash
SWIFT_BUILD := swift build

.PHONY: deps build test up down run bench contracts compose-check format lint

deps:
	@missing=""; \
	pkg-config --exists rdkafka 2>/dev/null || missing="$$missing librdkafka-dev pkg-config"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v kcat >/dev/null || missing="$$missing kcat"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	python3 -c 'import jsonschema' 2>/dev/null || missing="$$missing python3-jsonschema"; \
	python3 -c 'import yaml' 2>/dev/null || missing="$$missing python3-yaml"; \
	python3 -m pip --version >/dev/null 2>&1 || missing="$$missing python3-pip"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@# Standard validators for the OpenAPI documents and the AsyncAPI document (contracts/check.py says why these).
	@python3 -c 'import openapi_spec_validator, yaml' 2>/dev/null && python3 -c 'import importlib.metadata as m; m.version("xstate-statemachine")' 2>/dev/null || \
	  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q openapi-spec-validator==0.9.0 xstate-statemachine==0.11.0 pyyaml
	@# An independent JSON-stat reader for the publisher's datasets (scripts/check_publication.py).
	@python3 -c 'import pyjstat' 2>/dev/null || PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q pyjstat==2.4.0 pandas==3.1.1

build: deps
	$(SWIFT_BUILD)

contracts:
	python3 contracts/check.py
	python3 deploy/check.py

# The toolchain's swift-format: layout, import order and a few rules it can apply itself (.swift-format).
SWIFT_SOURCES := Package.swift Shared Services Tests
format:
	swift format format --in-place --recursive --parallel $(SWIFT_SOURCES)

lint:
	swift format lint --strict --recursive --parallel $(SWIFT_SOURCES) && echo "swift format: clean"

compose-check:
	docker-compose -f compose.yaml config -q && echo "compose.yaml: valid"

# Unit tests first, then the integration tests on their own: CPU-bound property tests running beside them
# would hold the test process's few cooperative threads and starve the integration tests' HTTP waits.
test: deps lint contracts compose-check
	$(SWIFT_BUILD) --build-tests
	swift test --skip-build --skip IntegrationTests
	swift test --skip-build --filter IntegrationTests

up: build
	scripts/stack.sh up

down:
	scripts/stack.sh down

# Release build: the services carry a national year in about two minutes (a debug build is 10–50× slower
# per message); the first build of the dependencies takes longest.
run: deps
	swift build -c release
	scripts/run-demo.sh

# Engine cores and the Kafka binding, then the whole stack through HTTP: one national year and the six-year
# national history, each against DuckDB over the same messages (scripts/national_bench.py; installs duckdb).
bench: deps
	swift build -c release
	python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb
	bin=$$(swift build -c release --show-bin-path); $$bin/npr-bench all && $$bin/npr-bench mortality && $$bin/npr-bench kafka --messages 100000
	bin=$$(swift build -c release --show-bin-path); $$bin/npr-bench national --years 1 --out .run-bench/year && python3 scripts/national_bench.py .run-bench/year --bin $$bin
	bin=$$(swift build -c release --show-bin-path); $$bin/npr-bench national --years 6 --out .run-bench/national && python3 scripts/national_bench.py .run-bench/national --bin $$bin
