#!/usr/bin/env bash
# init-phase certs all: wall time and peak memory for RSA-2048 and ECDSA-P256,
# against kubeadm v1.37's `init phase certs all` on the same config when the
# kube binaries are built (make kube-binaries). Targets (foundation issue): with
# RSA-2048 at most half of kubeadm's wall time, at most 40 MiB peak memory.
#
# The two tools alternate, one run of each per round, each into an empty
# folder, so that load from other processes weighs on both alike; the figures
# are medians over the rounds. RSA key generation time varies a lot from run to
# run: use BENCH_RUNS=41 or more for a stable median.
set -euo pipefail
cd "$(dirname "$0")/../.."
certctl=${CERTCTL_BIN:-$PWD/_output/certctl}
kubeadm=${KUBE_BIN_DIR:-$PWD/_output/bin/v1.37.1}/kubeadm
[ -x "$certctl" ] || go build -o "$certctl" ./cmd/certctl
go build -o _output/cmdbench ./hack/cmdbench
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=${BENCH_RUNS:-21}
with_kubeadm=1
[ -x "$kubeadm" ] || { echo "kubeadm not built ($kubeadm): run 'make kube-binaries' for the comparison"; with_kubeadm=0; }

once() { # NAME CMD...: one run into an empty folder; appends "ms peak_kib" to $tmp/NAME
  local name=$1; shift
  rm -rf "$tmp/pki" "$tmp/.certctl.lock"
  CMDBENCH_RESULT=$tmp/last _output/cmdbench -n 1 -name "$name" -- "$@" >/dev/null
  cat "$tmp/last" >>"$tmp/$name"
}
median() { sort -n "$1" | awk '{ms[NR]=$1; if ($2>peak) peak=$2} END {printf "%.1f %d\n", ms[int((NR+1)/2)], peak}'; }

for alg in RSA-2048 ECDSA-P256; do
  sed "s/encryptionAlgorithm: .*/encryptionAlgorithm: $alg/; s#certificatesDir: .*#certificatesDir: $tmp/pki#" examples/kubeadm.yaml >"$tmp/kubeadm-$alg.yaml"
  for _ in $(seq "$n"); do
    once "certctl-$alg" "$certctl" init-phase certs all --config "$tmp/kubeadm-$alg.yaml"
    [ "$with_kubeadm" = 0 ] || once "kubeadm-$alg" "$kubeadm" init phase certs all --config "$tmp/kubeadm-$alg.yaml"
  done
  read -r c cm < <(median "$tmp/certctl-$alg")
  printf "%-44s wall time median %8.1f ms  peak RSS %6.1f MiB  (%d runs)\n" "certctl init-phase certs all $alg" "$c" "$(awk -v k="$cm" 'BEGIN{print k/1024}')" "$n"
  [ "$with_kubeadm" = 1 ] || continue
  read -r k km < <(median "$tmp/kubeadm-$alg")
  printf "%-44s wall time median %8.1f ms  peak RSS %6.1f MiB  (%d runs)\n" "kubeadm init phase certs all $alg" "$k" "$(awk -v k="$km" 'BEGIN{print k/1024}')" "$n"
  awk -v c="$c" -v k="$k" -v m="$cm" -v a="$alg" 'BEGIN {
    r = c / k; t = (a == "RSA-2048") ? ("(target <= 0.50): " (r <= 0.5 ? "ok" : "MISSED")) : "(no target for " a ")"
    printf "%-44s certctl/kubeadm wall time = %.2f %s; peak %.1f MiB (target <= 40): %s\n",
      "init " a, r, t, m/1024, (m/1024 <= 40 ? "ok" : "MISSED") }'
done
