package copycerts

import (
	"testing"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestEntriesCarryInventoryName: each entry of a CA or key pair carries
// the inventory's name of what it holds (warnCAs' `certctl ca rotate
// NAME` uses it), rather than a name derived from its Secret key; an
// external etcd's files are no inventory entry's.
func TestEntriesCarryInventoryName(t *testing.T) {
	inv := pki.Kubeadm()
	seen := map[string]bool{}
	for _, e := range entries(t.TempDir(), nil) {
		ie, ok := inv.Find(e.name)
		if !ok || (ie.Kind != pki.KindCA && ie.Kind != pki.KindKeyPair) {
			t.Errorf("entry %s carries %q, not the name of an inventory CA or key pair", e.key, e.name)
			continue
		}
		seen[e.name] = true
	}
	for _, name := range []string{pki.CAName, pki.FrontProxyCAName, pki.EtcdCAName} {
		if !seen[name] {
			t.Errorf("no entry carries CA %q", name)
		}
	}
	for _, e := range entries(t.TempDir(), &config.ExternalEtcd{CAFile: "/e/ca.crt", CertFile: "/e/c.crt", KeyFile: "/e/c.key"}) {
		if e.name == pki.EtcdCAName {
			t.Errorf("with an external etcd, entry %s carries the stacked etcd CA's name", e.key)
		}
		if (e.key == externalEtcdCA || e.key == externalEtcdCert || e.key == externalEtcdKey) && e.name != "" {
			t.Errorf("external etcd entry %s carries inventory name %q", e.key, e.name)
		}
	}
}
