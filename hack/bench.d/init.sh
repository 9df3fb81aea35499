#!/usr/bin/env bash
# init-phase certs all: wall time and peak memory for RSA-2048 and ECDSA-P256,
# and kubeadm v1.37's `init phase certs all` on the same config when the kube
# binaries are built (make kube-binaries). Targets (foundation issue): at most
# half of kubeadm's wall time, at most 40 MiB peak memory.
set -euo pipefail
cd "$(dirname "$0")/../.."
certctl=${CERTCTL_BIN:-$PWD/_output/certctl}
kubeadm=${KUBE_BIN_DIR:-$PWD/_output/bin/v1.37.1}/kubeadm
[ -x "$certctl" ] || go build -o "$certctl" ./cmd/certctl
go build -o _output/cmdbench ./hack/cmdbench
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=${BENCH_RUNS:-15}

for alg in RSA-2048 ECDSA-P256; do
  sed "s/encryptionAlgorithm: .*/encryptionAlgorithm: $alg/; s#certificatesDir: .*#certificatesDir: $tmp/pki#" examples/kubeadm.yaml >"$tmp/kubeadm-$alg.yaml"
  CMDBENCH_RESULT=$tmp/certctl-$alg _output/cmdbench -n "$n" -name "certctl init-phase certs all $alg" -setup "rm -rf $tmp/pki" -- \
    "$certctl" init-phase certs all --config "$tmp/kubeadm-$alg.yaml"
  if [ -x "$kubeadm" ]; then
    CMDBENCH_RESULT=$tmp/kubeadm-$alg _output/cmdbench -n "$n" -name "kubeadm init phase certs all $alg" -setup "rm -rf $tmp/pki" -- \
      "$kubeadm" init phase certs all --config "$tmp/kubeadm-$alg.yaml"
    read -r c cm <"$tmp/certctl-$alg"; read -r k km <"$tmp/kubeadm-$alg"
    awk -v c="$c" -v k="$k" -v m="$cm" -v a="$alg" 'BEGIN {
      r = c / k; printf "%-40s certctl/kubeadm wall time = %.2f (target <= 0.50): %s; peak %.1f MiB (target <= 40): %s\n",
        "init " a, r, (r <= 0.5 ? "ok" : "MISSED"), m/1024, (m/1024 <= 40 ? "ok" : "MISSED") }'
  else
    echo "kubeadm not built ($kubeadm): run 'make kube-binaries' for the comparison"
  fi
done
