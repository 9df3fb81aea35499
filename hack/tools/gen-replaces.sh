#!/usr/bin/env bash
# Regenerates hack/tools/go.mod's replace block for k8s.io/kubernetes VERSION.
#
# k8s.io/kubernetes requires its ~33 staging modules (k8s.io/api, client-go, apiserver, …) at v0.0.0
# with `=> ./staging/src/...` replaces, and a depending module does not inherit replaces
# (https://github.com/kubernetes/kubernetes/issues/79384). So this module needs one
# `replace k8s.io/X => k8s.io/X v0.MINOR.PATCH` per staging line of upstream's go.mod.
#
# Usage: hack/tools/gen-replaces.sh [VERSION]   (default v1.37.1; rewrites go.mod in place, then
#        runs `go mod tidy` in hack/tools only, never in the main module)
set -euo pipefail
version=${1:-v1.37.1}
staging=v0.${version#v1.}
cd "$(dirname "$0")"

gomod=$(go mod download -json "k8s.io/kubernetes@${version}" |
	sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
if [[ -z "$gomod" || ! -f "$gomod" ]]; then
	echo "gen-replaces: cannot find go.mod of k8s.io/kubernetes@${version}" >&2
	exit 1
fi

replaces=$(awk -v v="$staging" '$2 == "=>" && $3 ~ /^\.\/staging\// { printf "\t%s => %s %s\n", $1, $1, v }' "$gomod" | sort)
if [[ -z "$replaces" ]]; then
	echo "gen-replaces: no staging replaces found in $gomod" >&2
	exit 1
fi

tmp=$(mktemp go.mod.XXXXXX)
trap 'rm -f "$tmp"' EXIT
# Keep everything but the generated block, then append the block anew.
awk '/^\/\/ BEGIN generated replaces/ { skip = 1 } !skip { print } /^\/\/ END generated replaces/ { skip = 0 }' go.mod >"$tmp"
{
	echo "// BEGIN generated replaces (hack/tools/gen-replaces.sh ${version}); do not edit by hand."
	echo "replace ("
	echo "$replaces"
	echo ")"
	echo "// END generated replaces"
} >>"$tmp"
mv "$tmp" go.mod
trap - EXIT

go mod edit -require="k8s.io/kubernetes@${version}"
go mod tidy
echo "gen-replaces: $(echo "$replaces" | wc -l) replaces for k8s.io/kubernetes ${version} (staging ${staging})"
