#!/usr/bin/env bash
# `make bench`: every Go benchmark, then each hack/bench.d/*.sh script, which
# print wall times and peak memory of whole commands (and comparisons with
# kubeadm where the kube binaries are built).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== go benchmarks"
go test -run='^$' -bench=. -benchmem $(go list ./... | grep -v /test/)
for s in hack/bench.d/*.sh; do
  [ -e "$s" ] || continue
  echo "== $s"
  bash "$s"
done
