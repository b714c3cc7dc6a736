#!/bin/sh
# make demo: run the real load against examples/get_secrets.py into a temporary vault and
# print the resulting key tree with every value masked.
set -eu
DENO=${DENO:-deno}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '# An existing vault: its keys and comments survive the merge.\nAWS:\n  DEFAULT:\n    S3_KEY: existing-key-id\n' > "$dir/vault.yml"
echo "\$ SECRETS_MANAGER=CUSTOM SECRETS_CUSTOM_SCRIPT=examples/get_secrets.py secrets-orchestrator --vault $dir/vault.yml"
SECRETS_MANAGER=CUSTOM SECRETS_CUSTOM_SCRIPT=examples/get_secrets.py \
  "$DENO" run -q -P --no-prompt --v8-flags=--max-semi-space-size=1,--heap-growing-percent=30 "$root/main.ts" --vault "$dir/vault.yml" 2>&1
echo
echo "The vault's key tree (values masked):"
"$DENO" run --allow-read="$dir" "$root/examples/show_tree.ts" "$dir/vault.yml"
