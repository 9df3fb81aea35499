package signer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestStatusSigningFiles: kube-controller-manager loads its signing CA at
// start and does not start when a file is missing or the two are not a
// pair. signer status said "on" with no problem for both. The files are
// read at the host path the pod mounts them from; a host folder that is not
// on this node is left to the component.
func TestStatusSigningFiles(t *testing.T) {
	kubeadm, err := os.ReadFile(filepath.Join("..", "..", "manifests", "testdata", "kubeadm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const hostPath = "      path: /etc/kubernetes/pki\n"
	if !strings.Contains(string(kubeadm), hostPath) {
		t.Fatalf("kubeadm.yaml has no line %q", hostPath)
	}
	other := pkitest.NewNode(t, nil)
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, pki string) // the node's CA folder
		want   string                         // "": no problem
	}{
		{"the CA's pair", func(*testing.T, string) {}, ""},
		{"no certificate", func(t *testing.T, pki string) { remove(t, filepath.Join(pki, "ca.crt")) },
			"/etc/kubernetes/pki/ca.crt (on this node PKI/ca.crt) does not exist: kube-controller-manager cannot load its signing CA and does not start"},
		{"no key", func(t *testing.T, pki string) { remove(t, filepath.Join(pki, "ca.key")) },
			"/etc/kubernetes/pki/ca.key (on this node PKI/ca.key) does not exist"},
		{"another CA's key", func(t *testing.T, pki string) {
			copyFile(t, filepath.Join(other.CertDir(), "ca.key"), filepath.Join(pki, "ca.key"))
		},
			"/etc/kubernetes/pki/ca.crt and /etc/kubernetes/pki/ca.key (--cluster-signing-cert-file, --cluster-signing-key-file) are not a certificate and its key"},
		{"an empty key", func(t *testing.T, pki string) { write(t, filepath.Join(pki, "ca.key"), nil) },
			"are not a certificate and its key"},
		{"host folder not on this node", func(t *testing.T, pki string) { remove(t, pki) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			pki := filepath.Join(t.TempDir(), "pki")
			if err := os.CopyFS(pki, os.DirFS(n.CertDir())); err != nil {
				t.Fatal(err)
			}
			tc.change(t, pki)
			manifest := filepath.Join(t.TempDir(), "kube-controller-manager.yaml")
			write(t, manifest, []byte(strings.Replace(string(kubeadm), hostPath, "      path: "+pki+"\n", 1)))
			s, err := Status(manifest, n.CertDir(), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if !s.BuiltIn.Enabled {
				t.Errorf("off (%s), want on: the manifest turns it on", s.BuiltIn.Reason)
			}
			got := strings.Join(s.BuiltIn.Problems, "\n")
			want := strings.ReplaceAll(tc.want, "PKI", pki)
			if want == "" && got != "" || want != "" && (!strings.Contains(got, want) || !strings.Contains(got, "`certctl signer enable")) {
				t.Errorf("problems %q, want %q and the certctl signer enable that points the flags at the CA", got, want)
			}
		})
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	write(t, to, data)
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
