#!/usr/bin/env bash
# `make demo`: a full PKI and kubeconfigs for the demo cluster of
# examples/kubeadm.yaml under ./_demo, then the inventory. No cluster needed.
# Run it twice: the second run keeps every file ("Using the existing ...").
set -euo pipefail
certctl=${1:?usage: demo.sh CERTCTL DIR}
dir=${2:?usage: demo.sh CERTCTL DIR}
cd "$(dirname "$0")/.."
mkdir -p "$dir"
"$certctl" init-phase certs all --config examples/kubeadm.yaml --cert-dir "$dir/pki"
"$certctl" init-phase kubeconfig all --config examples/kubeadm.yaml --cert-dir "$dir/pki" --kubeconfig-dir "$dir"
echo
"$certctl" certs list --cert-dir "$dir/pki" --kubeconfig-dir "$dir"
echo
echo "demo PKI in $dir; check a leaf with: openssl verify -CAfile $dir/pki/ca.crt $dir/pki/apiserver.crt"
