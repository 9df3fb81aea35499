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
	[git]=git
	[make]=make
	[pgrep]=procps
)
missing=()
for cmd in "${!need[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
[[ -e /etc/ssl/certs/ca-certificates.crt ]] || missing+=(ca-certificates)

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
fi

if ! command -v go >/dev/null 2>&1; then
	echo "setup: go is not installed; certctl needs Go $(sed -n 's/^go //p' "$(dirname "$0")/../go.mod") or newer" >&2
	exit 1
fi
echo "setup: ok ($(go version | cut -d' ' -f3), $(openssl version | cut -d' ' -f1-2), $(jq --version))"
