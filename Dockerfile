# syntax=docker/dockerfile:1
# secrets-orchestrator container images.
#
#   docker buildx build --platform linux/amd64,linux/arm64 --target runtime -t IMAGE:VERSION .
#   docker buildx build --platform linux/amd64,linux/arm64 --target python  -t IMAGE:VERSION-python .
#
# The build stage runs on the build machine's platform and cross-compiles for the image's
# platform (deno compile --target), so no emulation is needed to compile. The official Deno
# image can download the `denort` runtime that deno compile needs.
# Pinned by tag; the release workflow should add a digest pin (denoland/deno:2.9.6@sha256:...).
FROM --platform=$BUILDPLATFORM denoland/deno:2.9.6 AS build
ARG TARGETARCH
# The commit --version reports (the release workflow passes --build-arg COMMIT=...).
ARG COMMIT=unknown
WORKDIR /src
COPY deno.json deno.lock main.ts ./
COPY lib ./lib
COPY providers ./providers
# The same deno compile as `make build` (RUN_FLAGS and the worker includes).
RUN case "$TARGETARCH" in \
      amd64) target=x86_64-unknown-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-gnu ;; \
      *) echo "unsupported TARGETARCH $TARGETARCH" >&2; exit 1 ;; \
    esac \
 && mkdir -p .build && echo "$COMMIT" > .build/commit \
 && deno compile --frozen -q -P --no-prompt --v8-flags=--max-semi-space-size=1,--heap-growing-percent=30 \
      --include lib/cli/main.ts --include lib/cli/backend_worker.ts --include lib/cli/core_worker.ts \
      --include .build/commit \
      --target "$target" -o /out/secrets-orchestrator main.ts

# For SECRETS_MANAGER=CUSTOM: python3 on PATH (/usr/bin/python3) for the get_secrets() script.
FROM gcr.io/distroless/python3-debian12:nonroot AS python
COPY --from=build --chmod=0755 /out/secrets-orchestrator /usr/local/bin/secrets-orchestrator
COPY LICENSE /usr/share/doc/secrets-orchestrator/LICENSE
USER nonroot
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/secrets-orchestrator"]

# The default image: glibc and libgcc (what the deno compile binary links), CA certificates,
# no shell, running as the nonroot user (65532).
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
LABEL org.opencontainers.image.title="secrets-orchestrator" \
      org.opencontainers.image.description="Fetch secrets from a secrets manager and merge them into the pipeline's YAML vault" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build --chmod=0755 /out/secrets-orchestrator /usr/local/bin/secrets-orchestrator
COPY LICENSE /usr/share/doc/secrets-orchestrator/LICENSE
USER nonroot
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/secrets-orchestrator"]
