package expiration

import (
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestCAWhereALeafBelongs: a leaf file that holds a CA certificate (a CA's
// pair copied over a leaf's, or a bundle written CA first) verified against
// itself and matched its key, so check-expiration reported it healthy with
// the CA's expiry, or a key mismatch "restore the matching pair", while its
// component presents a CA certificate its peers reject, and renew and
// init-phase refuse it. It is the problem not-a-leaf, saying what to do.
func TestCAWhereALeafBelongs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, n *pkitest.Node)
		want  []string
	}{
		{"CA pair over a leaf", func(t *testing.T, n *pkitest.Node) {
			cp(t, n, "pki/front-proxy-ca.crt", "pki/front-proxy-client.crt")
			cp(t, n, "pki/front-proxy-ca.key", "pki/front-proxy-client.key")
		}, []string{"front-proxy-client.crt holds the CA certificate", "CA:TRUE", "not the front-proxy-client certificate", "put the right certificate and key back from a backup"}},
		{"CA first in a leaf's file", func(t *testing.T, n *pkitest.Node) {
			ca, leaf := read(t, n.Path("pki/front-proxy-ca.crt")), read(t, n.Path("pki/front-proxy-client.crt"))
			write(t, n.Path("pki/front-proxy-client.crt"), append(ca, leaf...))
		}, []string{"front-proxy-client.crt holds the CA certificate", "first and the front-proxy-client certificate after it", "put the leaf first"}},
		{"CA first in a kubeconfig's client certificate data", func(t *testing.T, n *pkitest.Node) {
			pkitest.EditKubeconfig(t, n.Path("scheduler.conf"), func(cfg *clientcmdapi.Config) {
				u := cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo]
				u.ClientCertificateData = append(read(t, n.Path("pki/ca.crt")), u.ClientCertificateData...)
			})
		}, []string{"scheduler.conf holds the CA certificate", "first and the scheduler.conf certificate after it", "put the leaf first"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			tc.spoil(t, n)
			info := check(t, n, nil)
			name := "front-proxy-client"
			if strings.Contains(tc.name, "kubeconfig") {
				name = "scheduler.conf"
			}
			i := slices.IndexFunc(info.Certificates, func(c Certificate) bool { return c.Name == name })
			c := info.Certificates[i]
			if len(c.Problems) != 1 || c.Problems[0].Type != NotALeaf {
				t.Fatalf("%s: problems %+v, want one not-a-leaf", name, c.Problems)
			}
			for _, w := range tc.want {
				if !strings.Contains(c.Problems[0].Message, w) {
					t.Errorf("message %q, want it to mention %q", c.Problems[0].Message, w)
				}
			}
		})
	}
}

func cp(t *testing.T, n *pkitest.Node, src, dst string) {
	t.Helper()
	write(t, n.Path(dst), read(t, n.Path(src)))
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestKubeconfigNotAFile: a kubeconfig that is a FIFO or a loop of
// symbolic links got pki's message (what it is, what to do) followed by
// "restore it from a backup, or remove it and run init-phase", advice for
// a damaged file that contradicts it.
func TestKubeconfigNotAFile(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	if err := os.Remove(n.Path("scheduler.conf")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(n.Path("scheduler.conf"), 0o600); err != nil {
		t.Fatal(err)
	}
	info := check(t, n, nil)
	i := slices.IndexFunc(info.Certificates, func(c Certificate) bool { return c.Name == "scheduler.conf" })
	c := info.Certificates[i]
	if len(c.Problems) != 1 || c.Problems[0].Type != Unreadable || !strings.Contains(c.Problems[0].Message, "a FIFO: replace it") || strings.Contains(c.Problems[0].Message, "restore it from a backup") {
		t.Errorf("scheduler.conf: problems %+v, want one unreadable that says to replace the FIFO, and nothing else", c.Problems)
	}
}
