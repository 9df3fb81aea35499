// Package renewal renews the leaf certificates of a control-plane node from
// the CAs on disk, as `kubeadm certs renew` does, but replaces every file of
// one run in a single transaction (internal/txn) after backing the old ones
// up, so that a renewal killed at any instant never leaves a certificate
// that does not match its key.
package renewal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// Component names, as the static pods are named.
const (
	KubeAPIServer         = "kube-apiserver"
	Etcd                  = "etcd"
	KubeControllerManager = "kube-controller-manager"
	KubeScheduler         = "kube-scheduler"
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
}

// File is t's file: the certificate in certDir, or the kubeconfig file in
// kubeconfigDir.
func (t Target) File(certDir, kubeconfigDir string) string {
	if t.Kubeconfig {
		return filepath.Join(kubeconfigDir, t.BaseName)
	}
	return pki.Store{Dir: certDir}.CertPath(t.BaseName)
}

// CheckAnyExists returns an error when the file of none of targets exists:
// `renew all` in the wrong folder would otherwise report every file MISSING
// and succeed, and a cron job would keep succeeding while nothing is renewed.
func CheckAnyExists(targets []Target, certDir, kubeconfigDir string) error {
	for _, t := range targets {
		if _, err := os.Lstat(t.File(certDir, kubeconfigDir)); !errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	return fmt.Errorf("none of the %d certificates and kubeconfig files to renew exists in %s or %s: point --cert-dir (or certificatesDir in --config) and --kubeconfig-dir at the node's folders", len(targets), certDir, kubeconfigDir)
}

// restarts says which components load each certificate: the flag that
// names the file in kubeadm's static pod manifests
// (cmd/kubeadm/app/phases/controlplane/manifests.go, phases/etcd/local.go).
// admin.conf and super-admin.conf are read by clients at each use.
var restarts = map[string][]string{
	"apiserver":                {KubeAPIServer}, // --tls-cert-file
	"apiserver-kubelet-client": {KubeAPIServer}, // --kubelet-client-certificate
	"front-proxy-client":       {KubeAPIServer}, // --proxy-client-cert-file
	"apiserver-etcd-client":    {KubeAPIServer}, // --etcd-certfile
	"etcd-server":              {Etcd},          // --cert-file
	"etcd-peer":                {Etcd},          // --peer-cert-file
	// Only the etcd liveness probe's clients use it; kubeadm restarts etcd
	// for it too, which also makes the probe's next run use the new file.
	"etcd-healthcheck-client": {Etcd},
	"controller-manager.conf": {KubeControllerManager},
	"scheduler.conf":          {KubeScheduler},
	"admin.conf":              nil,
	"super-admin.conf":        nil,
}

// kubeconfigLongNames are kubeadm's texts (phases/certs/renewal/manager.go).
var kubeconfigLongNames = map[string]string{
	"admin":              "certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself",
	"super-admin":        "certificate embedded in the kubeconfig file for the super-admin",
	"controller-manager": "certificate embedded in the kubeconfig file for the controller manager to use",
	"scheduler":          "certificate embedded in the kubeconfig file for the scheduler manager to use",
}

// Targets lists what `renew all` renews for the cluster, in the order it
// prints them: the certificate folder's leaves in kubeadm's order, then the
// kubeconfig files. kubelet.conf is not in it: as in kubeadm, the kubelet
// rotates its own client certificate. With an external etcd the etcd
// certificates are left out.
func Targets(c *config.Cluster) ([]Target, error) {
	profiles, err := pki.Certificates(c)
	if err != nil {
		return nil, err
	}
	var out []Target
	for _, p := range profiles {
		if p.IsCA {
			continue
		}
		ca, ok := pki.Find(profiles, p.CAName)
		if !ok {
			return nil, fmt.Errorf("renewal: certificate %q names unknown CA %q", p.Name, p.CAName)
		}
		out = append(out, Target{Name: p.Name, LongName: p.LongName, BaseName: p.BaseName,
			CAName: ca.Name, CABaseName: ca.BaseName, Restart: restarts[p.Name]})
	}
	ca, _ := pki.Find(profiles, pki.CAName)
	for _, k := range pki.Kubeconfigs(c) {
		long, ok := kubeconfigLongNames[k.Name]
		if !ok {
			continue // kubelet.conf
		}
		out = append(out, Target{Name: k.BaseName, LongName: long, BaseName: k.BaseName, Kubeconfig: true,
			CAName: ca.Name, CABaseName: ca.BaseName, Restart: restarts[k.BaseName]})
	}
	return out, nil
}

// Names lists "all" and every renewable name for a cluster with a local
// etcd, for help texts and shell completion. They do not depend on the
// cluster's settings.
func Names() []string {
	c := config.Default()
	c.AdvertiseAddress, c.NodeName = "127.0.0.1", "node"
	ts, _ := Targets(&c)
	names := []string{"all"}
	for _, t := range ts {
		names = append(names, t.Name)
	}
	return names
}

// Select returns the targets named by names, in Targets' order, each once.
// "all" selects every target. A CA, the sa key pair, kubelet.conf and an
// unknown name are errors that say why.
func Select(all []Target, names []string, c *config.Cluster) ([]Target, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("name what to renew: all, or one or more of %s", strings.Join(Names()[1:], ", "))
	}
	if slices.Contains(names, "all") {
		if len(names) > 1 {
			return nil, fmt.Errorf("\"all\" already renews every certificate: give it alone")
		}
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		if !slices.ContainsFunc(all, func(t Target) bool { return t.Name == n }) {
			return nil, unknownName(n, c)
		}
		want[n] = true
	}
	var out []Target
	for _, t := range all {
		if want[t.Name] {
			out = append(out, t)
		}
	}
	return out, nil
}

func unknownName(n string, c *config.Cluster) error {
	switch n {
	case pki.CAName, pki.FrontProxyCAName, pki.EtcdCAName:
		return fmt.Errorf("%s is a CA: certctl does not renew CAs, because every certificate it signed, kubeconfig and trust bundle would have to be re-issued with it; check its expiry with `certctl check-expiration` and plan a CA rotation (see docs/renew.md)", n)
	case "sa":
		return fmt.Errorf("sa is the service-account signing key pair, not a certificate: it does not expire and is not renewed")
	case "kubelet.conf", "kubelet":
		return fmt.Errorf("kubelet.conf is not renewed here: the kubelet rotates its own client certificate (as with kubeadm); `certctl check-expiration` shows its expiry")
	}
	if c.ExternalEtcd && strings.HasPrefix(n, "etcd-") || c.ExternalEtcd && n == "apiserver-etcd-client" {
		return fmt.Errorf("%s: the configuration uses an external etcd, whose certificates certctl does not manage", n)
	}
	return fmt.Errorf("unknown certificate %q: use all, or one or more of %s", n, strings.Join(Names()[1:], ", "))
}
