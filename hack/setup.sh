#!/usr/bin/env bash
# Installs, with apt-get, the tools certctl's build and tests need and that the machine lacks.
# Idempotent and non-interactive: on a machine that has everything it changes nothing and runs no
# `apt-get update`. Works as root (CI) or through sudo.
#
# What needs what:
#   openssl          test/e2e (`openssl verify` of certificates issued from certctl's CA), hack/demo.sh
#   jq               test/cli runs docs/external-ca.md's sign.sh, which reads the request files with jq
#   golang-cfssl     test/e2e runs docs/signer.md's seed flow with cfssl (genkey, gencert, cfssljson);
#                    without it the test takes the doc's openssl branch and says so
#   e2fsprogs        chattr: the tests of a file that cannot be replaced or removed (chattr +i)
#   mount            bind mounts and read-only remounts of the folders' tests (as root)
#   systemd          systemd-analyze: systemd checks the units of install-timer and docs/cron.md
#                    (nothing is started; the tests skip all three without them, silently for CI)
#   git              `make lint` (lists the Go files to gofmt)
#   make             the Makefile itself (listed so that a bare machine can be repaired by hand)
#   ca-certificates  TLS to the Go module proxy (go build downloads modules)
#   procps           pgrep/ps, to check that no test left a process behind
set -euo pipefail

# command -> Debian package that provides it
declare -A need=(
	[openssl]=openssl
	[jq]=jq
	[cfssl]=golang-cfssl
	[cfssljson]=golang-cfssl
	[chattr]=e2fsprogs
	[mount]=mount
	[umount]=mount
	[systemd-analyze]=systemd
	[git]=git
	[make]=make
	[pgrep]=procps
)
# find_missing sets missing to the packages of the commands (and files) the machine lacks, once each.
find_missing() {
	missing=()
	for cmd in "${!need[@]}"; do
		command -v "$cmd" >/dev/null 2>&1 || [[ " ${missing[*]} " == *" ${need[$cmd]} "* ]] || missing+=("${need[$cmd]}")
	done
	[[ -e /etc/ssl/certs/ca-certificates.crt ]] || missing+=(ca-certificates)
}
find_missing

if [[ ${#missing[@]} -gt 0 ]]; then
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null 2>&1 || {
			echo "setup: missing ${missing[*]}; run as root or install sudo" >&2
			exit 1
		}
		sudo=(sudo -n)
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
	find_missing
	if [[ ${#missing[@]} -gt 0 ]]; then
		echo "setup: apt-get installed, but ${missing[*]} still missing: install them by hand" >&2
		exit 1
	fi
fi

if ! command -v go >/dev/null 2>&1; then
	echo "setup: go is not installed; certctl needs Go $(sed -n 's/^go //p' "$(dirname "$0")/../go.mod") or newer" >&2
	exit 1
fi
echo "setup: ok ($(go version | cut -d' ' -f3), $(openssl version | cut -d' ' -f1-2), $(jq --version))"
