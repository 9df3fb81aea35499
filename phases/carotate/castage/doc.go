// Package castage reads the stage of a CA rotation (`certctl ca rotate`)
// from a node's files, and says what the stage needs of the files that
// other tools write during one: kube-controller-manager's signing flags
// (which `kubeadm upgrade` sets back to the trust file, two CAs) and the
// kubeconfigs' CA data (which `kubeadm certs renew` sets to the first CA
// alone). It is the part of phases/carotate that check-expiration
// (phases/expiration) and `signer enable` (phases/signer) share with it:
// phases/carotate imports both of them, so they cannot import it.
package castage
