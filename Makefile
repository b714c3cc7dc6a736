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
RUN_FLAGS := -P --no-prompt --v8-flags=--max-semi-space-size=1
TARGET ?=
OUT ?= dist/secrets-orchestrator
SOURCES := main.ts lib providers tests bench examples

.PHONY: test check fmt demo build dist bench clean deno

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

# The load benchmark (not part of `make test`): about 3 minutes on 2 cores. Overrides:
# BENCH_SIZES=100,1000,10000 BENCH_LATENCY_MS=10 BENCH_BACKENDS=sm,ssm,kv,vault,custom
# BENCH_NAIVE_MAX=1000 BENCH_OUT=bench/RESULTS.md; then `run`'s mask (bench/mask_stream.ts:
# BENCH_MASK_MB=64 BENCH_RUN_MB=100). `deno run -A bench/key_vault_bare.ts` times the
# Key Vault request pattern with a bare client (the harness without the tool).
bench: $(DENO_DEP)
	$(DENO) run --frozen -A bench/main.ts
	$(DENO) run --frozen -A bench/mask_stream.ts

demo: $(DENO_DEP)
	@DENO="$(DENO)" sh examples/demo.sh

build: $(DENO_DEP)
	@if [ -z "$$DENORT_BIN" ]; then \
	  echo "make build: deno compile needs the Deno runtime 'denort' $(DENO_VERSION), which it would download from the internet; this host cannot. Set DENORT_BIN=/path/to/denort (from the denort-*.zip of Deno $(DENO_VERSION) for your target) and run again." >&2; \
	  exit 2; \
	fi
	@mkdir -p $(dir $(OUT))
	$(DENO) compile --frozen $(RUN_FLAGS) --include lib/cli/backend_worker.ts --include lib/cli/core_worker.ts $(if $(TARGET),--target $(TARGET)) -o $(OUT) main.ts

dist: build
	cd $(dir $(OUT)) && sha256sum $(notdir $(OUT))* > SHA256SUMS

clean:
	rm -rf dist bench/out
