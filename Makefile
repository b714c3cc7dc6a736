# secrets-orchestrator — every target runs the pinned Deno.
# A fresh clone needs only `make test`: Deno is taken from PATH when it is the pinned
# version, else the pinned `deno` npm package is installed into .tools/ (git-ignored).

DENO_VERSION := 2.9.6
TOOLS := $(CURDIR)/.tools
TOOLS_DENO := $(TOOLS)/bin/deno
PATH_DENO := $(shell command -v deno 2>/dev/null)
PATH_DENO_VERSION := $(if $(PATH_DENO),$(word 2,$(shell $(PATH_DENO) --version 2>/dev/null | head -n 1)))
ifeq ($(PATH_DENO_VERSION),$(DENO_VERSION))
DENO := $(PATH_DENO)
DENO_DEP :=
else
DENO := $(TOOLS_DENO)
DENO_DEP := $(TOOLS_DENO)
endif
export DENO_NO_UPDATE_CHECK := 1
export NO_COLOR := 1

# The flags `deno run` and `deno compile` share (tests/support/run_tool.ts RUN_FLAGS must match).
RUN_FLAGS := -q -P --no-prompt --v8-flags=--max-semi-space-size=1,--heap-growing-percent=30
TARGET ?=
OUT ?= dist/secrets-orchestrator
SOURCES := main.ts lib providers tests bench examples

.PHONY: test check fmt demo build dist run test-binary bench clean deno

deno: $(DENO_DEP)
	@$(DENO) --version | head -n 1

$(TOOLS_DENO):
	@echo "installing deno $(DENO_VERSION) from the npm registry into .tools/" >&2
	@mkdir -p $(TOOLS)/bin
	@npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error deno@$(DENO_VERSION) >&2
	@real=$$(ls $(TOOLS)/node_modules/@deno/*/deno 2>/dev/null | head -n 1); \
	  if [ -z "$$real" ]; then real=$(TOOLS)/node_modules/deno/deno; fi; \
	  test -x "$$real" || { echo "no deno binary for this platform in the npm package" >&2; exit 1; }; \
	  ln -sf "$$real" $@
	@$@ --version | head -n 1 | grep -q " $(DENO_VERSION) " || { echo "installed deno is not $(DENO_VERSION)" >&2; exit 1; }

test: $(DENO_DEP)
	$(DENO) test --frozen --allow-all --no-prompt tests/

check: $(DENO_DEP)
	$(DENO) fmt --check
	$(DENO) lint
	$(DENO) check --frozen main.ts lib/ providers/ tests/ bench/

fmt: $(DENO_DEP)
	$(DENO) fmt

# The load benchmark (not part of `make test`): about 6 minutes on 2 cores. Overrides:
# BENCH_SIZES=100,1000,10000 BENCH_LATENCY_MS=10 BENCH_BACKENDS=sm,ssm,ssm-higher,kv,vault,custom
# BENCH_NAIVE_MAX=1000 BENCH_TARGET_LATENCIES=10,20 BENCH_RELOADS=20000+0,24000+1
# BENCH_SCALE_MAX=100000 (0: no scale rows) BENCH_SCALE_BACKENDS=custom,vault
# BENCH_OUT=bench/RESULTS.md; then `run`'s mask (bench/mask_stream.ts: BENCH_MASK_MB=64
# BENCH_RUN_MB=100). `deno run -A bench/key_vault_bare.ts` times the
# Key Vault request pattern with a bare client (the harness without the tool).
bench: $(DENO_DEP)
	$(DENO) run --frozen -A bench/main.ts
	$(DENO) run --frozen -A bench/mask_stream.ts
	@# Both write Markdown tables as they come: laid out once, as `make check` wants them.
	$(DENO) fmt --quiet bench/RESULTS.md

demo: $(DENO_DEP)
	@DENO="$(DENO)" sh examples/demo.sh

# The binary. `deno compile` downloads the Deno runtime `denort` for the target from
# dl.deno.land unless DENORT_BIN names it (the file inside denort-TARGET.zip of the pinned
# Deno). TARGET=x86_64-unknown-linux-gnu etc. cross-compiles; OUT names the output.
COMPILE = $(DENO) compile --frozen $(RUN_FLAGS) --include lib/cli/main.ts --include lib/cli/backend_worker.ts --include lib/cli/core_worker.ts --include .build/commit $(if $(TARGET),--target $(TARGET)) -o $(OUT) main.ts
build: $(DENO_DEP)
	@mkdir -p $(dir $(OUT)) .build
	@git rev-parse --short=12 HEAD > .build/commit 2>/dev/null || echo unknown > .build/commit
	@echo "$(COMPILE)" >&2
	@$(COMPILE) 2>"$(OUT).compile.log" || { \
	  status=$$?; \
	  if [ -z "$$DENORT_BIN" ] && grep -Eq 'denort|Setting up base binary' "$(OUT).compile.log"; then \
	    target=$(or $(TARGET),$$($(DENO) eval 'console.log(Deno.build.target)' 2>/dev/null)); \
	    echo "make build: could not get the Deno runtime 'denort' $(DENO_VERSION) for $$target (deno compile downloads it from dl.deno.land); set DENORT_BIN=/path/to/denort, the file inside denort-$$target.zip of Deno $(DENO_VERSION) (https://github.com/denoland/deno/releases/tag/v$(DENO_VERSION)), and run again (deno's output: $(OUT).compile.log)" >&2; \
	  else cat "$(OUT).compile.log" >&2; fi; \
	  exit $$status; \
	}
	@cat "$(OUT).compile.log" >&2; rm -f "$(OUT).compile.log"

# Release archives: one per target (the binary and LICENSE; .zip for Windows), SHA256SUMS
# over them (sha256sum format), VERSION (what install.sh resolves `latest` with) and
# install.sh, in $(RELEASE_DIR). DENORT_DIR=/path holds denort-TARGET[.exe] for each target
# where dl.deno.land is out of reach (a single DENORT_BIN cannot serve five targets, so it
# is ignored here).
VERSION := $(shell sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' deno.json | head -n 1)
DIST_TARGETS := x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-msvc
RELEASE_DIR ?= dist/release
DIST_WORK ?= dist/targets
DENORT_DIR ?=
SUBMAKE = $(MAKE)

dist: $(DENO_DEP)
	@test -n "$(VERSION)" || { echo "make dist: no \"version\" in deno.json" >&2; exit 2; }
	@rm -rf "$(RELEASE_DIR)" "$(DIST_WORK)" && mkdir -p "$(RELEASE_DIR)"
	@set -e; for t in $(DIST_TARGETS); do \
	  case $$t in *windows*) exe=.exe ;; *) exe= ;; esac; \
	  if [ -n "$(DENORT_DIR)" ]; then DENORT_BIN="$(DENORT_DIR)/denort-$$t$$exe"; export DENORT_BIN; else unset DENORT_BIN; fi; \
	  $(SUBMAKE) --no-print-directory build TARGET=$$t OUT=$(DIST_WORK)/$$t/secrets-orchestrator$$exe; \
	  cp LICENSE $(DIST_WORK)/$$t/LICENSE; \
	  name=secrets-orchestrator-$(VERSION)-$$t; \
	  case $$t in \
	    *windows*) (cd "$(DIST_WORK)/$$t" && rm -f "$(abspath $(RELEASE_DIR))/$$name.zip" && zip -q -X "$(abspath $(RELEASE_DIR))/$$name.zip" secrets-orchestrator.exe LICENSE) ;; \
	    *) tar -C $(DIST_WORK)/$$t -czf "$(RELEASE_DIR)/$$name.tar.gz" secrets-orchestrator LICENSE ;; \
	  esac; \
	  echo "$(RELEASE_DIR)/$$name" >&2; \
	done
	@cd "$(RELEASE_DIR)" && if command -v sha256sum >/dev/null 2>&1; then sha256sum secrets-orchestrator-*; else shasum -a 256 secrets-orchestrator-*; fi > SHA256SUMS
	@echo "$(VERSION)" > "$(RELEASE_DIR)/VERSION"
	@cp install.sh "$(RELEASE_DIR)/install.sh"
	@echo "$(RELEASE_DIR): $$(ls "$(RELEASE_DIR)" | tr '\n' ' ')" >&2

# Run the tool from the checkout: make run ARGS="export --format json".
run: $(DENO_DEP)
	$(DENO) run $(RUN_FLAGS) main.ts $(ARGS)

# The end-to-end suite against a built binary: make test-binary BIN=dist/secrets-orchestrator.
# The test runner spawns $$SECRETS_ORCHESTRATOR_BIN instead of `deno run main.ts`.
BIN ?=
test-binary: $(DENO_DEP)
	@test -n "$(BIN)" || { echo "make test-binary: set BIN=/path/to/secrets-orchestrator (e.g. BIN=dist/secrets-orchestrator after make build)" >&2; exit 2; }
	@test -x "$(BIN)" || { echo "make test-binary: $(BIN) is not an executable file" >&2; exit 2; }
	SECRETS_ORCHESTRATOR_BIN="$(abspath $(BIN))" $(DENO) test --frozen --allow-all --no-prompt tests/*_e2e_test.ts

clean:
	rm -rf dist bench/out
