#!/usr/bin/env bash
# Signing throughput on one real kube-apiserver in one run (test/e2e TestSigningThroughput):
# 1000 approved CSRs queued for kube-controller-manager's csrsigning controller, then 1000 for
# `certctl signer run` (default flags), then 1000 more for `certctl signer run` without its
# client-side rate limit and with 32 workers. Prints CSR/s for each. Target (issue 5): certctl
# signs at least as many per second as kube-controller-manager. CERTCTL_SIGNER_BENCH_N changes
# the number of CSRs.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${KUBE_BIN_DIR:-$PWD/_output/bin/v1.37.1}
if [ ! -x "$bin/kube-controller-manager" ] || [ ! -x "$bin/kube-apiserver" ] || [ ! -x "$bin/etcd" ]; then
  echo "kube binaries not built ($bin): run 'make kube-binaries' for the signing benchmark"
  exit 0
fi
export KUBE_BIN_DIR=$bin
export CERTCTL_BIN=${CERTCTL_BIN:-$PWD/_output/certctl}
[ -x "$CERTCTL_BIN" ] || go build -o "$CERTCTL_BIN" ./cmd/certctl
CERTCTL_SIGNER_BENCH_UNTHROTTLED=1 go test -count=1 -timeout 30m -run '^TestSigningThroughput$' -v ./test/e2e/ |
  grep -E 'queued|signing rate|CSR/s|^(--- )?(PASS|FAIL)|^ok|^FAIL'
