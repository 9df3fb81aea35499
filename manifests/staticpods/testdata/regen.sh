#!/usr/bin/env bash
# Rewrites kubeadm/*.yaml: the four static pod manifests kubeadm v1.37.1 writes for
# kubeadm-config.yaml (`kubeadm init phase control-plane all` and `init phase etcd local`,
# both --dry-run). Needs `make kube-binaries`. Run from anywhere.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kubeadm=${KUBE_BIN_DIR:-$here/../../_output/bin/v1.37.1}/kubeadm
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export KUBEADM_INIT_DRYRUN_DIR=$out
"$kubeadm" init phase control-plane all --config "$here/kubeadm-config.yaml" --dry-run >/dev/null
"$kubeadm" init phase etcd local --config "$here/kubeadm-config.yaml" --dry-run >/dev/null
for c in etcd kube-apiserver kube-controller-manager kube-scheduler; do
	cp "$out/$c.yaml" "$here/kubeadm/$c.yaml"
done
