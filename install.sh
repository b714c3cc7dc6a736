#!/bin/sh
# Install secrets-orchestrator from its release archives, checksum-verified.
#
#   sh install.sh [VERSION]          # VERSION like 0.1.0 or v0.1.0; none or `latest`: the latest
#
# Environment:
#   PREFIX                          install into $PREFIX/bin (default: /usr/local as root,
#                                   else $HOME/.local)
#   SECRETS_ORCHESTRATOR_VERSION    the version when no argument is given
#   SECRETS_ORCHESTRATOR_BASE_URL   where releases live, one folder per version:
#                                   $BASE/vVERSION/{SHA256SUMS,secrets-orchestrator-VERSION-TARGET.tar.gz}
#                                   and, for `latest`, $BASE/latest/VERSION (a mirror or an
#                                   air-gapped store; default: the GitHub releases)
#   SECRETS_ORCHESTRATOR_OS / _ARCH override `uname -s` / `uname -m` (Linux|Darwin, x86_64|aarch64)
#
# The archive is downloaded with curl or wget, its SHA-256 checked against SHA256SUMS of the
# same release (sha256sum or shasum -a 256), and the binary moved into place atomically.
# Nothing is installed when any step fails. POSIX sh: runs under dash and busybox sh.
set -eu

REPO_URL=https://github.com/secrets-orchestrator/secrets-orchestrator/releases
NAME=secrets-orchestrator

say() { printf '%s\n' "install.sh: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# download URL FILE: 0 on success, 4 when the server answered 404, 1 otherwise.
download() {
	if have curl; then
		code=$(curl -sSL --retry 3 --connect-timeout 20 -o "$2" -w '%{http_code}' "$1" 2>"$tmp/err") || code=${code:-000}
		case $code in
		200) return 0 ;;
		404) return 4 ;;
		esac
		say "downloading $1 failed (HTTP $code): $(head -n 1 "$tmp/err")"
		return 1
	elif have wget; then
		if wget -S -O "$2" "$1" 2>"$tmp/err"; then return 0; fi
		if grep -q ' 404' "$tmp/err"; then return 4; fi
		say "downloading $1 failed: $(grep -i -m 1 -E 'error|HTTP/' "$tmp/err" || head -n 1 "$tmp/err")"
		return 1
	fi
	die "neither curl nor wget is installed; install one of them"
}

sha256() {
	if have sha256sum; then
		sha256sum "$1" | cut -d ' ' -f 1
	elif have shasum; then
		shasum -a 256 "$1" | cut -d ' ' -f 1
	else
		die "neither sha256sum nor shasum is installed; cannot verify the download"
	fi
}

# The target triple of this machine.
detect_target() {
	os=${SECRETS_ORCHESTRATOR_OS:-$(uname -s)}
	arch=${SECRETS_ORCHESTRATOR_ARCH:-$(uname -m)}
	case $arch in
	x86_64 | amd64) arch=x86_64 ;;
	aarch64 | arm64) arch=aarch64 ;;
	*) die "unsupported CPU architecture '$arch' (builds exist for x86_64 and aarch64)" ;;
	esac
	case $os in
	Linux)
		if [ -z "${SECRETS_ORCHESTRATOR_OS:-}" ] && ls /lib/ld-musl-* >/dev/null 2>&1; then
			say "warning: this looks like a musl system (Alpine?); the Linux builds need glibc (use the container image, or a glibc-based image)"
		fi
		echo "$arch-unknown-linux-gnu"
		;;
	Darwin)
		# An x86_64 shell under Rosetta on Apple silicon: take the native build.
		if [ -z "${SECRETS_ORCHESTRATOR_ARCH:-}" ] && [ "$arch" = x86_64 ] &&
			[ "$(sysctl -n sysctl.proc_translated 2>/dev/null || echo 0)" = 1 ]; then
			arch=aarch64
		fi
		echo "$arch-apple-darwin"
		;;
	MINGW* | MSYS* | CYGWIN* | Windows*)
		die "on Windows, download secrets-orchestrator-VERSION-x86_64-pc-windows-msvc.zip from $REPO_URL and check it against SHA256SUMS"
		;;
	*) die "unsupported operating system '$os' (builds exist for Linux and macOS)" ;;
	esac
}

main() {
	version=${1:-${SECRETS_ORCHESTRATOR_VERSION:-latest}}
	base=${SECRETS_ORCHESTRATOR_BASE_URL:-$REPO_URL/download}
	base=${base%/}
	target=$(detect_target)

	if [ "$(id -u 2>/dev/null || echo 1)" = 0 ]; then
		prefix=${PREFIX:-/usr/local}
	else
		prefix=${PREFIX:-${HOME:?HOME is not set; set PREFIX}/.local}
	fi
	bindir=$prefix/bin

	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$NAME-install.XXXXXX") || die "cannot create a temporary folder"
	staged=
	trap 'rm -rf "$tmp"; if [ -n "$staged" ]; then rm -f "$staged"; fi' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	if [ "$version" = latest ]; then
		if [ -n "${SECRETS_ORCHESTRATOR_BASE_URL:-}" ]; then
			latest_url=$base/latest/VERSION
		else
			latest_url=$REPO_URL/latest/download/VERSION
		fi
		rc=0
		download "$latest_url" "$tmp/VERSION" || rc=$?
		case $rc in
		0) ;;
		4) die "no latest release at $latest_url (404); name a VERSION: sh install.sh 0.1.0" ;;
		*) die "could not resolve the latest version from $latest_url" ;;
		esac
		version=$(head -n 1 "$tmp/VERSION" | tr -d ' \r\t')
	fi
	version=${version#v}
	if ! printf '%s\n' "$version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$'; then
		die "'$version' is not a version (expected something like 0.1.0)"
	fi

	archive=$NAME-$version-$target.tar.gz
	dir=$base/v$version
	say "installing $NAME $version ($target) from $dir into $bindir"

	rc=0
	download "$dir/SHA256SUMS" "$tmp/SHA256SUMS" || rc=$?
	case $rc in
	0) ;;
	4) die "version $version not found: $dir/SHA256SUMS does not exist (404); check the version (releases: $REPO_URL)" ;;
	*) die "could not download $dir/SHA256SUMS" ;;
	esac
	expected=$(awk -v n="$archive" '$2 == n || $2 == "*" n { print $1; exit }' "$tmp/SHA256SUMS")
	[ -n "$expected" ] || die "SHA256SUMS of $version lists no $archive: no build for $target in this version"

	rc=0
	download "$dir/$archive" "$tmp/$archive" || rc=$?
	case $rc in
	0) ;;
	4) die "$dir/$archive does not exist (404), though SHA256SUMS lists it" ;;
	*) die "could not download $dir/$archive" ;;
	esac
	actual=$(sha256 "$tmp/$archive")
	expected=$(printf '%s' "$expected" | tr 'A-F' 'a-f')
	if [ "$actual" != "$expected" ]; then
		die "checksum mismatch for $archive: expected $expected from SHA256SUMS, got $actual; nothing installed"
	fi

	mkdir "$tmp/x"
	tar -xzf "$tmp/$archive" -C "$tmp/x" || die "cannot extract $archive"
	[ -f "$tmp/x/$NAME" ] || die "$archive holds no $NAME"

	mkdir -p "$bindir" || die "cannot create $bindir (set PREFIX to a folder you can write)"
	staged=$bindir/.$NAME.install.$$
	cp "$tmp/x/$NAME" "$staged" || die "cannot write into $bindir (set PREFIX to a folder you can write)"
	chmod 755 "$staged"
	mv -f "$staged" "$bindir/$NAME" || die "cannot move the binary into $bindir/$NAME"
	staged=
	say "installed $bindir/$NAME ($version, sha256 $actual)"
	case ":${PATH:-}:" in
	*":$bindir:"*) ;;
	*) say "note: $bindir is not on PATH; add it: export PATH=\"$bindir:\$PATH\"" ;;
	esac
}

main "$@"
