#!/bin/sh
# The logic of the secrets-orchestrator GitHub Action (action.yml runs it with the inputs
# as INPUT_* variables; every other parameter comes from the step's `env:`).
#
# 1. install the pinned version with install.sh (checksum-verified) into $RUNNER_TEMP;
# 2. run the load, holding back its log;
# 3. print `::add-mask::` lines for every vault value (the tool's `mask` command) before
#    anything else reaches the job log, then the held-back log;
# 4. with export-env, append the vault's values to $GITHUB_ENV in the `NAME<<DELIMITER`
#    form, with a random delimiter checked not to occur in any value.
#
# No value is ever printed: the tool redacts its own output, the export goes through a
# private temporary file that is removed on exit.
set -eu

say() { printf '%s\n' "secrets-orchestrator action: $*" >&2; }
fail() {
	printf '::error::secrets-orchestrator action: %s\n' "$1"
	exit "${2:-1}"
}

action_dir=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -n "${RUNNER_TEMP:-}" ] || fail "RUNNER_TEMP is not set (run this on a GitHub Actions runner)"
[ -n "${GITHUB_ENV:-}" ] || fail "GITHUB_ENV is not set (run this on a GitHub Actions runner)"

case ${INPUT_EXPORT_ENV:-false} in
true | True | TRUE) export_env=true ;;
false | False | FALSE | "") export_env=false ;;
*) fail "export-env must be true or false, not '${INPUT_EXPORT_ENV}'" 2 ;;
esac

version=${INPUT_VERSION:-}
if [ -z "$version" ]; then
	version=$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$action_dir/deno.json" | head -n 1)
	[ -n "$version" ] || fail "no version input and none in $action_dir/deno.json"
fi

umask 077
work=$RUNNER_TEMP/secrets-orchestrator
mkdir -p "$work"
log=$(mktemp "$work/log.XXXXXX")
dotenv=
trap 'rm -f "$log"; if [ -n "$dotenv" ]; then rm -f "$dotenv" "$dotenv.out"; fi' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! PREFIX=$work sh "$action_dir/install.sh" "$version" >"$log" 2>&1; then
	cat "$log" >&2
	fail "could not install secrets-orchestrator $version"
fi
bin=$work/bin/secrets-orchestrator

if [ -n "${INPUT_BACKEND:-}" ]; then
	SECRETS_MANAGER=$INPUT_BACKEND
	export SECRETS_MANAGER
fi
if [ -n "${INPUT_SELECTION:-}" ]; then
	SECRETS_SELECTION=$INPUT_SELECTION
	export SECRETS_SELECTION
fi
if [ -n "${INPUT_VAULT_PATH:-}" ]; then
	SECRETS_VAULT_PATH=$INPUT_VAULT_PATH
elif [ -z "${SECRETS_VAULT_PATH:-}" ]; then
	if [ -n "${DATAOPS_SECRETS_DIR:-}" ]; then
		SECRETS_VAULT_PATH=${DATAOPS_SECRETS_DIR%/}/vault.yml
	else
		SECRETS_VAULT_PATH=$work/vault.yml
	fi
fi
case $SECRETS_VAULT_PATH in
/*) ;;
*) SECRETS_VAULT_PATH=$(pwd)/$SECRETS_VAULT_PATH ;;
esac
export SECRETS_VAULT_PATH

status=0
"$bin" load </dev/null >>"$log" 2>&1 || status=$?

# Masks first: nothing the job prints after this line can show a vault value in clear.
if [ -f "$SECRETS_VAULT_PATH" ]; then
	if ! "$bin" mask --ci github </dev/null 2>>"$log"; then
		cat "$log" >&2
		fail "could not mask the vault's values; not exporting anything" 6
	fi
fi
cat "$log" >&2
[ "$status" = 0 ] || fail "loading secrets failed (exit $status)" "$status"

# For the steps after this one: the tool on PATH, the vault's path in the environment.
printf '%s\n' "$work/bin" >>"${GITHUB_PATH:-/dev/null}"
printf 'SECRETS_VAULT_PATH=%s\n' "$SECRETS_VAULT_PATH" >>"$GITHUB_ENV"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	printf 'vault-path=%s\nbin=%s\nversion=%s\n' "$SECRETS_VAULT_PATH" "$bin" "$version" >>"$GITHUB_OUTPUT"
fi

[ "$export_env" = true ] || exit 0

dotenv=$(mktemp "$work/env.XXXXXX")
set -- export --format dotenv
if [ -n "${INPUT_EXPORT_PREFIX:-}" ]; then set -- "$@" --prefix "$INPUT_EXPORT_PREFIX"; fi
if [ -n "${INPUT_EXPORT_PATH:-}" ]; then set -- "$@" "$INPUT_EXPORT_PATH"; fi
status=0
"$bin" "$@" </dev/null >"$dotenv" 2>"$log" || status=$?
if [ "$status" != 0 ]; then
	cat "$log" >&2
	fail "could not export the vault's values (exit $status)" "$status"
fi

# `export --format dotenv` prints NAME='value' lines, single-quoted for POSIX sh (a ' as
# '\''), a value's newlines kept inside the quotes. Decode each value exactly and write
#   NAME<<DELIMITER
#   value
#   DELIMITER
# exiting 3 when the delimiter occurs in a value (then another one is drawn).
to_github_env() {
	LC_ALL=C awk -v delim="$1" '
	function emit() {
		if (index(val, delim) > 0) { status = 3; exit 3 }
		printf "%s<<%s\n%s\n%s\n", name, delim, val, delim
		count++
	}
	{
		if (!open) {
			if (match($0, /^[A-Za-z_][A-Za-z0-9_]*=/) == 0) { status = 2; exit 2 }
			name = substr($0, 1, RLENGTH - 1)
			rest = substr($0, RLENGTH + 1)
			val = ""; open = 1; quoted = 0
		} else {
			rest = $0
			val = val "\n"
		}
		n = length(rest)
		for (i = 1; i <= n; i++) {
			c = substr(rest, i, 1)
			if (quoted) { if (c == "\047") quoted = 0; else val = val c }
			else if (c == "\047") quoted = 1
			else if (c == "\\") { i++; val = val substr(rest, i, 1) }
			else val = val c
		}
		if (!quoted) { emit(); open = 0 }
	}
	END {
		if (status) exit status
		if (open) exit 2
	}' "$2"
}

tries=0
while :; do
	tries=$((tries + 1))
	delim=ghadelimiter_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	status=0
	to_github_env "$delim" "$dotenv" >"$dotenv.out" || status=$?
	case $status in
	0) break ;;
	3) [ "$tries" -lt 5 ] || fail "could not draw a delimiter that occurs in no value" ;;
	*) fail "could not read the output of secrets-orchestrator export" ;;
	esac
done
cat "$dotenv.out" >>"$GITHUB_ENV"
say "exported $(grep -c "^$delim\$" "$dotenv.out" || true) variables to GITHUB_ENV"
