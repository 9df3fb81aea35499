package phases

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// sharedFiles are what a joining node gets from the cluster (kubeadm-certs).
var sharedFiles = []string{"ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "etcd/ca.crt", "etcd/ca.key", "sa.key", "sa.pub"}

// TestJoiningNode: a node that joins makes its own leaves from the
// cluster's CAs and keeps them as they are; without them it makes nothing
// and says to download them.
func TestJoiningNode(t *testing.T) {
	first := newTestEnv(t)
	first.mustRun(t, "certs", "all")

	for _, tc := range []struct {
		name    string
		missing string // a shared file not copied
	}{
		{"all shared files", ""},
		{"no cluster CA", "ca.crt"},
		{"no etcd CA", "etcd/ca.crt"},
		{"no service-account key", "sa.key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.Cluster.Joining, e.Cluster.NodeName, e.Cluster.AdvertiseAddress = true, "cp-2", "198.51.100.12"
			for _, f := range sharedFiles {
				if f == tc.missing || (tc.missing == "sa.key" && f == "sa.pub") {
					continue
				}
				data, err := os.ReadFile(filepath.Join(first.Cluster.CertificatesDir, f))
				if err != nil {
					t.Fatal(err)
				}
				dst := filepath.Join(e.Cluster.CertificatesDir, f)
				os.MkdirAll(filepath.Dir(dst), 0o755)
				if err := os.WriteFile(dst, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := treetest.Snapshot(t, e.dir)
			err := e.run(t, "certs", "all")
			if tc.missing != "" {
				treetest.ErrMentions(t, err, filepath.Join(e.Cluster.CertificatesDir, tc.missing)+" is missing", "joining control-plane node", "certctl certs download --certificate-key")
				treetest.AssertSame(t, before, treetest.Snapshot(t, e.dir))
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, e.out)
			}
			for _, f := range sharedFiles {
				a, _ := os.ReadFile(filepath.Join(first.Cluster.CertificatesDir, f))
				b, _ := os.ReadFile(filepath.Join(e.Cluster.CertificatesDir, f))
				if !bytes.Equal(a, b) {
					t.Errorf("%s changed on the joining node", f)
				}
			}
			cert, _, err := pki.ReadCertFile(filepath.Join(e.Cluster.CertificatesDir, "etcd", "peer.crt"))
			if err != nil {
				t.Fatal(err)
			}
			if cert.Subject.CommonName != "cp-2" || len(cert.IPAddresses) == 0 || cert.IPAddresses[0].String() != "198.51.100.12" {
				t.Errorf("etcd peer certificate of %q with IPs %v, want the joining node's cp-2, 198.51.100.12", cert.Subject.CommonName, cert.IPAddresses)
			}
		})
	}
}
