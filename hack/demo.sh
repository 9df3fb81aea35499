#!/usr/bin/env bash
# `make demo`: a full PKI and kubeconfigs for the demo cluster of
# examples/kubeadm.yaml under ./_demo, then the inventory and commands to try
# on it (none needs a cluster or writes anything). No cluster needed.
# Run it twice: the second run keeps every file ("Using the existing ...").
set -euo pipefail
certctl=${1:?usage: demo.sh CERTCTL DIR}
dir=${2:?usage: demo.sh CERTCTL DIR}
cd "$(dirname "$0")/.."
config=$PWD/examples/kubeadm.yaml
mkdir -p "$dir"
"$certctl" init-phase certs all --config "$config" --cert-dir "$dir/pki"
"$certctl" init-phase kubeconfig all --config "$config" --cert-dir "$dir/pki" --kubeconfig-dir "$dir"
echo
"$certctl" certs list --cert-dir "$dir/pki" --kubeconfig-dir "$dir"
folders="--config $config --cert-dir $dir/pki --kubeconfig-dir $dir"
cat <<TRY

The demo node's certificates are in $dir/pki, its kubeconfigs in $dir.
Try, on them (none of these writes anything):
  openssl verify -CAfile $dir/pki/ca.crt $dir/pki/apiserver.crt
  $certctl check-expiration $folders
  $certctl renew all --dry-run $folders
On a real node, run them as root without these flags: certctl reads
/etc/kubernetes as kubeadm does (README.md, docs/).
TRY
