# dnsfailover: developer and delivery entry points. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO          ?= go
FUZZTIME    ?= 10s
TEST_TIMEOUT ?= 45m

# Deploy settings (override on the command line or in the environment).
PROJECT         ?= $(shell gcloud config get-value project 2>/dev/null)
REGION          ?= europe-west1
ENVIRONMENT     ?= staging
SERVICE_ACCOUNT ?= dnsfailover-fn@$(PROJECT).iam.gserviceaccount.com
VPC_CONNECTOR   ?= dnsfailover
CLUSTER         ?= $(ENVIRONMENT)
OVERLAY         ?= $(ENVIRONMENT)-gke
IMAGE_REPO      ?= $(REGION)-docker.pkg.dev/$(PROJECT)/dnsfailover
IMAGE_TAG       ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo dev)
# What `make image` pushes (it prints the digest-pinned references as
# GATEWAY_IMAGE=... and PROBER_IMAGE=..., ready to pass to make deploy-cluster).
GATEWAY_IMAGE   ?= $(IMAGE_REPO)/gateway:$(IMAGE_TAG)
PROBER_IMAGE    ?= $(IMAGE_REPO)/prober:$(IMAGE_TAG)
KO_VERSION      ?= v0.18.1
DRY_RUN         ?=

dry_run_flag := $(if $(DRY_RUN),--dry-run,)
staticcheck := $(shell command -v staticcheck 2>/dev/null || echo "$$($(GO) env GOPATH)/bin/staticcheck")

.PHONY: help setup demo test e2e bench lint fuzz deploy-functions deploy-cluster deploy-gateway image

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][-a-z0-9]*:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Variables: PROJECT REGION ENVIRONMENT SERVICE_ACCOUNT VPC_CONNECTOR CLUSTER OVERLAY IMAGE_REPO IMAGE_TAG"
	@echo "           GATEWAY_IMAGE PROBER_IMAGE FUZZTIME DRY_RUN=1"

setup: ## Install Debian packages, kube-apiserver/etcd and staticcheck (scripts/dev-setup.sh)
	scripts/dev-setup.sh

demo: ## Run the local failover demo
	$(GO) run ./cmd/demo

test: ## Set up, then run every test (README's test command)
	assets="$$(scripts/dev-setup.sh | tail -n 1)"; \
	KUBEBUILDER_ASSETS="$$assets" $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

e2e: ## Run the end-to-end tests under test/
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./test/...

bench: ## Run the benchmarks of every package that has some
	scripts/go-bench.sh

lint: ## gofmt check, go vet, staticcheck, shellcheck
	@unformatted="$$(gofmt -l .)"; \
	if [[ -n "$$unformatted" ]]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(staticcheck) ./...
	shellcheck -x scripts/*.sh .ci/run

fuzz: ## Run each fuzz target for FUZZTIME (default 10s)
	FUZZTIME=$(FUZZTIME) scripts/go-fuzz.sh

deploy-functions: ## Deploy both Cloud Functions (scripts/deploy-functions.sh)
	scripts/deploy-functions.sh --project=$(PROJECT) --region=$(REGION) --environment=$(ENVIRONMENT) \
		--service-account=$(SERVICE_ACCOUNT) --vpc-connector=$(VPC_CONNECTOR) $(dry_run_flag)

image: ## Build and push the gateway and prober images with ko; prints GATEWAY_IMAGE=ref@digest PROBER_IMAGE=ref@digest
	@gateway="$$(KO_DOCKER_REPO=$(IMAGE_REPO)/gateway $(GO) run github.com/google/ko@$(KO_VERSION) build \
		--bare --tags=$(IMAGE_TAG) --platform=linux/amd64 ./cmd/gateway)"; \
	prober="$$(KO_DOCKER_REPO=$(IMAGE_REPO)/prober $(GO) run github.com/google/ko@$(KO_VERSION) build \
		--bare --tags=$(IMAGE_TAG) --platform=linux/amd64 ./cmd/prober)"; \
	echo "GATEWAY_IMAGE=$$gateway"; \
	echo "PROBER_IMAGE=$$prober"

deploy-cluster: ## Render OVERLAY with GATEWAY_IMAGE and PROBER_IMAGE, apply it to CLUSTER (scripts/deploy-cluster.sh)
	scripts/deploy-cluster.sh --overlay=$(OVERLAY) --gateway-image=$(GATEWAY_IMAGE) --prober-image=$(PROBER_IMAGE) \
		--project=$(PROJECT) --region=$(REGION) --cluster=$(CLUSTER) $(dry_run_flag)

deploy-gateway: deploy-cluster ## Same as deploy-cluster (the overlay holds the gateway and the prober)
