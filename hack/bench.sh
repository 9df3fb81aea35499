#!/usr/bin/env bash
# `make bench`: every Go benchmark, then each hack/bench.d/*.sh script, which
# print wall times and peak memory of whole commands (and comparisons with
# kubeadm where the kube binaries are built).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== go benchmarks"
# Only the packages that have benchmarks: go test -bench on every package
# builds every test binary (about a minute on 2 cores) to find three.
pkgs=$(grep -rl --include='*_test.go' '^func Benchmark' --exclude-dir=test --exclude-dir='_*' --exclude-dir=.git . |
  xargs -n1 dirname | sort -u)
go test -run='^$' -bench=. -skip=KeyPool11 -benchmem $pkgs
# Key generation alone, serial against the pool: RSA key times vary a lot,
# so it needs many iterations for a stable ratio (~1 s each).
go test -run='^$' -bench=KeyPool11 -benchtime="${BENCH_KEYPOOL_RUNS:-40}x" ./pki
for s in hack/bench.d/*.sh; do
  [ -e "$s" ] || continue
  echo "== $s"
  bash "$s"
done
