#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubeadm, kubectl and etcd from the
# tools module (hack/tools/go.mod) into OUTDIR; only the missing ones are built. kubectl is the
# client that test/e2e runs docs/signer.md's shell blocks with (CI installs nothing by hand).
#
# Usage: hack/build-kube-binaries.sh VERSION OUTDIR     e.g. v1.37.1 _output/bin/v1.37.1
#
# The missing ones build in ONE `go build` (they share most packages; ~7.5 min cold on 2 cores for
# all six, about a minute for one when the others were built before: the build cache has the
# shared packages). The build writes into a temporary folder OUTDIR/.build.* and moves each binary
# into place only after go build succeeded, so an interrupted build never leaves a half binary.
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 VERSION OUTDIR" >&2
	exit 2
fi
version=$1
outdir=$2
root=$(cd "$(dirname "$0")/.." && pwd)
tools=$root/hack/tools
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubeadm kubectl etcd)

check_missing() {
	missing=()
	for b in "${binaries[@]}"; do
		[[ -x $outdir/$b ]] || missing+=("$b")
	done
}
check_missing
if [[ ${#missing[@]} -eq 0 ]]; then
	echo "kube-binaries: $version present in $outdir"
	exit 0
fi

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
# One build at a time per OUTDIR (two `make test-e2e` at once): the second waits, then finds the
# binaries there. flock is in util-linux, which every Debian has.
exec 9>"$outdir/.lock"
flock 9
check_missing
if [[ ${#missing[@]} -eq 0 ]]; then
	echo "kube-binaries: $version present in $outdir (built by another run meanwhile)"
	exit 0
fi
# Left by a build that was killed (SIGKILL skips the trap below); safe to remove under the lock.
rm -rf "$outdir"/.build.*

pinned=$(cd "$tools" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
if [[ $pinned != "$version" ]]; then
	echo "kube-binaries: hack/tools pins k8s.io/kubernetes $pinned, not $version;" \
		"run hack/tools/gen-replaces.sh $version first" >&2
	exit 1
fi
# "v1.37.1" -> major 1, minor 37 (what `kube-apiserver --version` and discovery report).
IFS=. read -r major minor _ <<<"${version#v}"

tmp=$(mktemp -d "$outdir/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "kube-binaries: building $version (missing: ${missing[*]}) into $outdir; ~7.5 min on a cold cache"
start=$SECONDS
vpkg=k8s.io/component-base/version
pkgs=()
for b in "${missing[@]}"; do
	case $b in
	etcd) pkgs+=(go.etcd.io/etcd/server/v3) ;;
	*) pkgs+=("k8s.io/kubernetes/cmd/$b") ;;
	esac
done
(
	cd "$tools"
	# -o DIR/ even for one package, so that etcd is always named "server" below.
	CGO_ENABLED=0 go build -trimpath -o "$tmp/" \
		-ldflags "-s -w -X $vpkg.gitVersion=$version -X $vpkg.gitMajor=$major -X $vpkg.gitMinor=$minor" \
		"${pkgs[@]}"
)
# go build names etcd's main package (go.etcd.io/etcd/server/v3) after its path: "server".
[[ ! -e $tmp/server ]] || mv "$tmp/server" "$tmp/etcd"
for b in "${missing[@]}"; do
	[[ -x $tmp/$b ]] || { echo "kube-binaries: $b was not built" >&2; exit 1; }
	mv -f "$tmp/$b" "$outdir/$b"
done
echo "kube-binaries: built $version in $((SECONDS - start))s: $outdir"
