// Package renewal renews the leaf certificates of a control-plane node from
// the CAs on disk, as `kubeadm certs renew` does, but replaces every file of
// one run in a single transaction (internal/txn) after backing the old ones
// up, so that a renewal killed at any instant never leaves a certificate
// that does not match its key.
package renewal

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// Target is one renewable certificate: a file pair in the certificate
// folder, or the client certificate embedded in a kubeconfig file.
type Target struct {
	Name     string // "apiserver", "etcd-server", "admin.conf": what the user types
	LongName string
	// BaseName is the pair's base name in the cert folder ("etcd/server"),
	// or the kubeconfig file's name ("admin.conf").
	BaseName   string
	Kubeconfig bool
	CAName     string // "ca", "etcd-ca", "front-proxy-ca"
	CABaseName string // "ca", "etcd/ca", "front-proxy-ca"
	// Restart lists the components that read this certificate only when
	// they start, and must be restarted to use the renewed one.
	Restart []string
	// Signer is certctl's signer name that issues it through the
	// certificates API; Builtin the kubernetes.io one that may (the
	// inventory's).
	Signer, Builtin string
}

// CheckAnyExists returns an error when the file of none of targets exists,
// or when one of the two folders does not (config.MissingFolder): `renew
// all` in the wrong folder would otherwise report every file there MISSING
// and succeed, and a cron job would keep succeeding while nothing is renewed.
func CheckAnyExists(targets []Target, certDir, kubeconfigDir string) error {
	// A folder that is a link to nothing (a volume not mounted) is named
	// as such, even when nothing else exists either.
	for _, d := range []string{certDir, kubeconfigDir} {
		if _, ok := pki.DanglingLink(d); ok {
			return config.MissingFolder(certDir, kubeconfigDir)
		}
	}
	for _, t := range targets {
		if _, err := os.Lstat(t.File(certDir, kubeconfigDir)); !errors.Is(err, fs.ErrNotExist) {
			return config.MissingFolder(certDir, kubeconfigDir)
		}
	}
	return fmt.Errorf("none of the %d certificates and kubeconfig files to renew exists in %s or %s: point --cert-dir (or certificatesDir in --config) and --kubeconfig-dir at the node's folders", len(targets), certDir, kubeconfigDir)
}

// Targets lists what `renew all` renews of inventory inv, in the order it
// prints them: the certificate folder's leaves in kubeadm's order, then the
// kubeconfig files. kubelet.conf is not in it: as in kubeadm, the kubelet
// rotates its own client certificate. With an external etcd the etcd
// certificates are left out.
func Targets(inv pki.Inventory, externalEtcd bool) []Target {
	var out []Target
	for _, e := range inv.Renewed(externalEtcd) {
		out = append(out, TargetOf(inv, e.Name))
	}
	return out
}

// TargetOf is the entry of inv called name as a Target: also for what renew
// does not renew but an import installs (kubelet.conf).
func TargetOf(inv pki.Inventory, name string) Target {
	e, _ := inv.Find(name)
	ca, _ := inv.Find(e.CAName)
	return Target{Name: e.CertName(), LongName: cmp.Or(e.RenewLongName, e.LongName), BaseName: e.BaseName, Kubeconfig: e.Kind == pki.KindKubeconfig,
		CAName: ca.Name, CABaseName: ca.BaseName, Restart: e.Restart, Signer: e.Signer, Builtin: e.Builtin}
}

// Names lists "all" and every name `renew` takes with kubeadm's inventory,
// for help texts and shell completion.
func Names() []string {
	return append([]string{"all"}, pki.Kubeadm().Renewed(false).CertNames()...)
}

// Select returns the targets of inv named by names, in Targets' order, each
// once. "all" selects every target. A CA, the sa key pair, kubelet.conf and
// an unknown name are errors that say why.
func Select(inv pki.Inventory, names []string, externalEtcd bool) ([]Target, error) {
	known := strings.Join(inv.Renewed(false).CertNames(), ", ")
	if len(names) == 0 {
		return nil, fmt.Errorf("name what to renew: all, or one or more of %s", known)
	}
	all := Targets(inv, externalEtcd)
	if slices.Contains(names, "all") {
		if len(names) > 1 {
			return nil, fmt.Errorf("\"all\" already renews every certificate: give it alone")
		}
		return all, nil
	}
	for _, n := range names {
		if !slices.ContainsFunc(all, func(t Target) bool { return t.Name == n }) {
			e, ok := inv.Find(n)
			switch {
			case ok && e.NotRenewed != "":
				return nil, fmt.Errorf("%s %s", e.CertName(), e.NotRenewed)
			case ok && externalEtcd && e.LocalEtcd:
				return nil, fmt.Errorf("%s: the configuration uses an external etcd, whose certificates certctl does not manage", n)
			}
			return nil, fmt.Errorf("unknown certificate %q: use all, or one or more of %s", n, known)
		}
	}
	return slices.DeleteFunc(all, func(t Target) bool { return !slices.Contains(names, t.Name) }), nil
}
