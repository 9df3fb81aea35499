#!/usr/bin/env bash
# `make bench`: every Go benchmark, then each hack/bench.d/*.sh script, which
# print wall times and peak memory of whole commands (and comparisons with
# kubeadm where the kube binaries are built).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== go benchmarks"
go test -run='^$' -bench=. -skip=KeyPool11 -benchmem $(go list ./... | grep -v /test/)
# Key generation alone, serial against the pool: RSA key times vary a lot,
# so it needs many iterations for a stable ratio (~1 s each).
go test -run='^$' -bench=KeyPool11 -benchtime="${BENCH_KEYPOOL_RUNS:-40}x" ./pki
for s in hack/bench.d/*.sh; do
  [ -e "$s" ] || continue
  echo "== $s"
  bash "$s"
done
