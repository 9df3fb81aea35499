package apirenew

import (
	"crypto"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestStale: a pending key whose public key is the installed
// certificate's (a pair's, a kubeconfig's embedded one, an etcd pair in
// its subfolder) is stale: Find names it and Remove removes it with its
// refusal note, and the folder once empty. Any other pending key, a CSR
// still waiting, stays with its note; so do one that cannot be read, one
// whose certificate is missing and one named after no certificate.
func TestStale(t *testing.T) {
	ca := newTestCA(t)
	// The keys installed: apiserver's pair, admin.conf's embedded
	// certificate, etcd-server's pair (etcd/server.crt).
	installed := map[string]crypto.Signer{"apiserver": newKey(t), "admin.conf": newKey(t), "etcd-server": newKey(t)}
	other := newKey(t)
	keyPEM := func(k crypto.Signer) string {
		b, err := pki.MarshalPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	const note = "certctl-cp-1-x-0123456789ab\nwas denied (reason Nope)\n"
	for _, tc := range []struct {
		name    string
		files   map[string]string // in the pending-key folder
		removed []string
		gone    bool // the folder
	}{
		{name: "no pending-key folder", gone: true},
		{name: "pair installed", files: map[string]string{"apiserver.key": keyPEM(installed["apiserver"]), "apiserver.refused": note},
			removed: []string{"apiserver"}, gone: true},
		{name: "kubeconfig installed", files: map[string]string{"admin.conf.key": keyPEM(installed["admin.conf"])},
			removed: []string{"admin.conf"}, gone: true},
		{name: "etcd pair installed", files: map[string]string{"etcd-server.key": keyPEM(installed["etcd-server"])},
			removed: []string{"etcd-server"}, gone: true},
		{name: "csr waiting", files: map[string]string{"apiserver.key": keyPEM(other), "apiserver.refused": note}},
		{name: "kubeconfig csr waiting", files: map[string]string{"admin.conf.key": keyPEM(installed["apiserver"])}},
		{name: "installed and waiting", files: map[string]string{
			"apiserver.key": keyPEM(installed["apiserver"]), "admin.conf.key": keyPEM(other), "admin.conf.refused": note},
			removed: []string{"apiserver"}},
		{name: "certificate missing", files: map[string]string{"front-proxy-client.key": keyPEM(installed["apiserver"])}},
		{name: "unreadable key", files: map[string]string{"apiserver.key": "not a key"}},
		{name: "named after no certificate", files: map[string]string{"ca.key": keyPEM(installed["apiserver"]), "x.key": keyPEM(installed["apiserver"])}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			certDir, pendingDir := filepath.Join(dir, "pki"), filepath.Join(dir, PendingDirName)
			st := pki.Store{Dir: certDir}
			for _, name := range []string{"apiserver", "etcd-server", "admin.conf"} {
				cert, err := pki.Sign(rand.Reader, pki.Profile{Name: name, CommonName: name, ExtKeyUsages: adminProfile.ExtKeyUsages}, installed[name].Public(), ca.cert, ca.key, pki.NewValidity(time.Now(), time.Hour, 24*time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				switch name {
				case "admin.conf":
					err = kubeconfig.Write(filepath.Join(dir, name), kubeconfig.Build("kubernetes", "https://127.0.0.1:6443", "kubernetes-admin",
						pki.EncodeCert(ca.cert), pki.EncodeCert(cert), []byte(keyPEM(installed[name]))))
				case "etcd-server":
					err = st.WriteCert("etcd/server", cert)
				default:
					err = st.WriteCert(name, cert)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if tc.files != nil {
				if err := os.Mkdir(pendingDir, pendingDirMode); err != nil {
					t.Fatal(err)
				}
			}
			for name, data := range tc.files {
				if err := os.WriteFile(filepath.Join(pendingDir, name), []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s := Stale{PendingDir: pendingDir, CertDir: certDir, KubeconfigDir: dir}
			if got := s.Find(); !slices.Equal(got, tc.removed) {
				t.Errorf("Find = %v, want %v", got, tc.removed)
			}
			got, err := s.Remove()
			if err != nil || !slices.Equal(got, tc.removed) {
				t.Errorf("Remove = %v, %v; want %v", got, err, tc.removed)
			}
			if got := s.Find(); got != nil {
				t.Errorf("Find after Remove = %v", got)
			}
			for name, data := range tc.files {
				b, err := os.ReadFile(filepath.Join(pendingDir, name))
				target := name[:len(name)-len(filepath.Ext(name))]
				switch {
				case slices.Contains(tc.removed, target):
					if !os.IsNotExist(err) {
						t.Errorf("%s: still there (%v)", name, err)
					}
				case err != nil || string(b) != data:
					t.Errorf("%s: changed or removed (%v)", name, err)
				}
			}
			if _, err := os.Stat(pendingDir); os.IsNotExist(err) != tc.gone {
				t.Errorf("pending-key folder: %v; want gone %v", err, tc.gone)
			}
		})
	}
}
