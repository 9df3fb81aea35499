#!/usr/bin/env bash
# renew all and check-expiration: wall time and peak memory of certctl against
# kubeadm v1.37's `certs renew all` and `certs check-expiration`, each run on a
# fresh copy of the same tree (RSA-2048, examples/kubeadm.yaml) when the kube
# binaries are built (make kube-binaries). Targets (issue 4): renew at most half
# of kubeadm's wall time, check-expiration no slower than kubeadm's, peak memory
# at most 40 MiB.
#
# kubeadm renews in /etc/kubernetes only: it runs with --rootfs (chroot, so as
# root) on its copy. certctl runs on an identical copy with --cert-dir and
# --kubeconfig-dir; both write the same 11 certificates and keys (certctl also
# its backup, and fsyncs; kubeadm neither).
#
# The runs of the two tools alternate, one of each per round, so that load from
# other processes on a shared machine weighs on both alike; the figures are
# medians over the rounds.
set -euo pipefail
cd "$(dirname "$0")/../.."
certctl=${CERTCTL_BIN:-$PWD/_output/certctl}
kubeadm=${KUBE_BIN_DIR:-$PWD/_output/bin/v1.37.1}/kubeadm
[ -x "$certctl" ] || go build -o "$certctl" ./cmd/certctl
go build -o _output/cmdbench ./hack/cmdbench
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=${BENCH_RUNS:-15}

# The template node: /etc/kubernetes as kubeadm init leaves it.
tpl=$tmp/tpl
mkdir -p "$tpl/etc/kubernetes"
sed "s#certificatesDir: .*#certificatesDir: /etc/kubernetes/pki#" examples/kubeadm.yaml >"$tpl/kubeadm.yaml"
# Quiet (stderr has the [config] line) unless it fails.
quiet() { local out; out=$("$@" 2>&1) || { echo "$out" >&2; return 1; }; }
quiet "$certctl" init-phase certs all --config "$tpl/kubeadm.yaml" --cert-dir "$tpl/etc/kubernetes/pki"
quiet "$certctl" init-phase kubeconfig all --config "$tpl/kubeadm.yaml" --cert-dir "$tpl/etc/kubernetes/pki" \
  --kubeconfig-dir "$tpl/etc/kubernetes"
run=$tmp/run
certctl_flags=(--config "$run/kubeadm.yaml" --cert-dir "$run/etc/kubernetes/pki" --kubeconfig-dir "$run/etc/kubernetes")

with_kubeadm=1
if [ ! -x "$kubeadm" ]; then
  echo "kubeadm not built ($kubeadm): run 'make kube-binaries' for the comparison"
  with_kubeadm=0
elif [ "$(id -u)" -ne 0 ]; then
  echo "kubeadm comparison skipped: kubeadm --rootfs needs root"
  with_kubeadm=0
fi

once() { # NAME CMD...: one run on a fresh copy; appends "ms peak_kib" to $tmp/NAME
  local name=$1; shift
  rm -rf "$run" && cp -a "$tpl" "$run"
  CMDBENCH_RESULT=$tmp/last _output/cmdbench -n 1 -name "$name" -- "$@" >/dev/null
  cat "$tmp/last" >>"$tmp/$name"
}
for _ in $(seq "$n"); do
  once c-renew "$certctl" renew all "${certctl_flags[@]}"
  once c-renew-nb "$certctl" renew all --no-backup "${certctl_flags[@]}"
  once c-check "$certctl" check-expiration "${certctl_flags[@]}"
  if [ "$with_kubeadm" = 1 ]; then
    once k-renew "$kubeadm" --rootfs "$run" certs renew all --config /kubeadm.yaml
    once k-check "$kubeadm" --rootfs "$run" certs check-expiration --config /kubeadm.yaml
  fi
done

stats() { # FILE -> "median_ms best_ms peak_kib"
  sort -n "$1" | awk '{ms[NR] = $1; if ($2 > peak) peak = $2} END { print ms[int((NR + 1) / 2)], ms[1], peak }'
}
show() { # LABEL FILE
  read -r med best peak < <(stats "$2")
  printf "%-36s wall time median %8.1f ms  best %8.1f ms  peak RSS %6.1f MiB  (%d runs)\n" "$1" "$med" "$best" "$(awk -v k="$peak" 'BEGIN { print k / 1024 }')" "$n"
}
show "certctl renew all" "$tmp/c-renew"
show "certctl renew all --no-backup" "$tmp/c-renew-nb"
show "certctl check-expiration" "$tmp/c-check"
[ "$with_kubeadm" = 1 ] || exit 0
show "kubeadm certs renew all" "$tmp/k-renew"
show "kubeadm certs check-expiration" "$tmp/k-check"

compare() { # LABEL CERTCTL_FILE KUBEADM_FILE MAX_RATIO
  read -r c _ cm < <(stats "$2"); read -r k _ km < <(stats "$3")
  awk -v l="$1" -v c="$c" -v k="$k" -v m="$cm" -v km="$km" -v max="$4" 'BEGIN {
    r = c / k; printf "%-36s certctl/kubeadm wall time = %.2f (target <= %.2f): %s; peak %.1f MiB, kubeadm %.1f MiB (target <= 40): %s\n",
      l, r, max, (r <= max ? "ok" : "MISSED"), m/1024, km/1024, (m/1024 <= 40 ? "ok" : "MISSED") }'
}
compare "renew all" "$tmp/c-renew" "$tmp/k-renew" 0.5
compare "renew all --no-backup" "$tmp/c-renew-nb" "$tmp/k-renew" 0.5
compare "check-expiration" "$tmp/c-check" "$tmp/k-check" 1.0
