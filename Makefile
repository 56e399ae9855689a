# make run   — the main job on the embedded broker: build, start everything, load the synthetic year, show results
# make test  — install what is missing, build, run every test (unit and integration against a real broker process)
# make up / make down — start the stack in the background (no data) / stop it and remove its state
SHELL := /bin/bash
SWIFT_BUILD := swift build
SYNTHETIC_PATIENTS ?= 3000

.PHONY: deps build test up down run bench contracts compose-check

deps:
	@missing=""; \
	pkg-config --exists rdkafka 2>/dev/null || missing="$$missing librdkafka-dev pkg-config"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v kcat >/dev/null || missing="$$missing kcat"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	python3 -c 'import jsonschema' 2>/dev/null || missing="$$missing python3-jsonschema"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT_BUILD)

contracts:
	python3 contracts/check.py
	python3 scripts/check-catalogue.py

compose-check:
	docker-compose -f compose.yaml config -q && echo "compose.yaml: valid"

test: deps contracts compose-check
	$(SWIFT_BUILD) --build-tests
	swift test --skip-build

up: build
	scripts/stack.sh up

down:
	scripts/stack.sh down

run: build
	scripts/run-demo.sh $(SYNTHETIC_PATIENTS)

bench: deps
	swift build -c release --product kafka-dev-broker && swift build -c release --product npr-bench
	bin=$$(swift build -c release --show-bin-path); $$bin/npr-bench all && $$bin/npr-bench mortality && $$bin/npr-bench kafka --messages 100000
