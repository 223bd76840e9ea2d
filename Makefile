# OrderFlow — `make run` starts everything locally; `make test` runs every test on a throwaway stack.
SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# librdkafka >= 2.6 may live in .deps (built by setup.sh): link with an rpath so binaries find it.
export SWIFT_BUILD_FLAGS ?= -Xlinker -rpath -Xlinker $(ROOT)/.deps/librdkafka/lib

.PHONY: help run test stop clean setup build stack-start stack-stop bench-kafka bench-relay bench-saga bench-gateway load demo sagas sagas-web crash revive fuzz contracts dlq manifests

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

run: ## Install what is missing, start the local stack and all five services, follow logs (Ctrl-C stops)
	@deploy/local/run.sh

test: ## Run every test against a throwaway local stack on free ports
	@deploy/local/test.sh

manifests: ## Static checks of docker-compose.yml, the Dockerfile and deploy/k8s against schemas and the code (no Docker needed; also in `make test`)
	@deploy/docker/check.sh

stop: ## Stop the services and the local stack started by `make run`
	@deploy/local/services.sh stop $(ROOT)/.run/stack
	@deploy/local/stack.sh stop $(ROOT)/.run/stack

setup: ## Install dependencies only (apt packages, librdkafka >= 2.6, Tansu)
	@deploy/local/setup.sh

build: setup ## Debug build of every target
	@source deploy/local/lib.sh && pkg_config_env && swift build $(SWIFT_BUILD_FLAGS)

stack-start: setup ## Start only Postgres, Redis and Tansu (.run/stack)
	@deploy/local/stack.sh start $(ROOT)/.run/stack

stack-stop: ## Stop the local stack
	@deploy/local/stack.sh stop $(ROOT)/.run/stack

bench-kafka: ## Benchmark the Kafka client against librdkafka's rdkafka_performance (same broker, same run)
	@deploy/loadtest/bench-kafka.sh

bench-relay: ## Benchmark the outbox relay against a bare producer (latency and drain rate, same run)
	@deploy/loadtest/bench-relay.sh

bench-saga: ## PlaceOrder sagas/s at saturation, p50/p99 at half rate, beside pgbench (same run)
	@deploy/loadtest/bench-saga.sh

bench-gateway: ## Same authenticated GET direct, via the gateway (JWT + rate limits on / off) and via nginx; ratios and added p50/p99
	@deploy/loadtest/bench-gateway.sh

load: ## wrk against the running `make run` gateway: authenticated GET and order-placing POST (req/s, percentiles, non-2xx)
	@deploy/loadtest/load.sh

demo: ## With `make run` up: two customers, deposits, approved / declined / cancelled orders, saga timelines as tables
	@deploy/demo/demo.sh

sagas: ## With `make run` up: the saga console, every order's sagas live (ARGS="ORDER_ID" for one timeline, "--once", "--status rejected")
	@python3 deploy/demo/sagas.py $(ARGS)

sagas-web: ## With `make run` up: the saga console in a browser on 127.0.0.1:8089 (open the address it prints): steps, time bars, a fault and order lab
	@python3 deploy/demo/sagas.py --web $(ARGS)

crash: ## With `make run` up: kill SERVICE=payments (or gateway, users, orders, notifications) with SIGKILL, as a crash
	@deploy/local/services.sh crash "$${STACK_DIR:-$(ROOT)/.run/stack}" "$(SERVICE)"

revive: ## With `make run` up: start again, on their own ports, the services that are not running
	@source deploy/local/lib.sh && pkg_config_env && bin="$$(swift build -c release $(SWIFT_BUILD_FLAGS) --show-bin-path)" \
	  && deploy/local/services.sh revive "$${STACK_DIR:-$(ROOT)/.run/stack}" "$$bin"

fuzz: ## schemathesis against a throwaway stack's gateway and /openapi.yaml (FUZZ_EXAMPLES per operation, default 200)
	@deploy/loadtest/fuzz.sh

dlq: ## Dead letters on the running stack: make dlq ARGS="list payments" or ARGS="replay payments 0:17" (or --all)
	@source deploy/local/lib.sh && pkg_config_env && swift build $(SWIFT_BUILD_FLAGS) --product orderflow-dlq >/dev/null 2>&1 \
	  && set -a && source "$${STACK_DIR:-.run/stack}/stack.env" && set +a \
	  && KAFKA_BROKERS="$$ORDERFLOW_KAFKA_BROKERS" "$$(swift build $(SWIFT_BUILD_FLAGS) --show-bin-path 2>/dev/null)/orderflow-dlq" $(ARGS)

contracts: ## Regenerate the JSON Schema snapshots and docs/asyncapi.yaml from the Swift contracts
	@source deploy/local/lib.sh && pkg_config_env && ORDERFLOW_UPDATE_CONTRACTS=1 swift test $(SWIFT_BUILD_FLAGS) --filter ContractsTests

clean: stop ## Stop everything, remove .run/ and build products (keeps .deps/)
	@rm -rf .run .build
