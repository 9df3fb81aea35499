package expiration

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// hasProblem reports whether the row called name has a problem of type typ
// whose message contains want.
func hasProblem(info *Info, name string, typ ProblemType, want string) bool {
	for _, c := range append(info.Certificates, info.CertificateAuthorities...) {
		for _, p := range c.Problems {
			if c.Name == name && p.Type == typ && strings.Contains(p.Message, want) {
				return true
			}
		}
	}
	return false
}

// TestWeakKeyAndPermissions: an ECDSA P-224 apiserver key (which certs import
// installed) and private keys readable by others are problems, in text and
// JSON (issue 13, defects 4 and 6).
func TestWeakKeyAndPermissions(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	s := pki.Store{Dir: n.CertDir()}
	caCert, caKey := n.CA(t, "ca")
	old, _, err := s.ReadCert("apiserver")
	if err != nil {
		t.Fatal(err)
	}
	weak, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.Sign(rand.Reader, pki.ProfileFromCert("apiserver", "apiserver", pki.CAName, old), weak.Public(), caCert, caKey,
		pki.Validity{NotBefore: old.NotBefore, NotAfter: old.NotAfter})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteCert("apiserver", cert); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteKey("apiserver", weak); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"pki/front-proxy-client.key", "pki/ca.key", "admin.conf"} {
		if err := os.Chmod(n.Path(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	info := check(t, n, nil)
	if !hasProblem(info, "apiserver", WeakKey, "is ECDSA P-224") || !hasProblem(info, "apiserver", WeakKey, "certctl renew apiserver") {
		t.Errorf("no weak-key problem for a P-224 apiserver key: %q", info.Problems())
	}
	for name, file := range map[string]string{"front-proxy-client": "front-proxy-client.key", "ca": "ca.key", "admin.conf": "admin.conf"} {
		if !hasProblem(info, name, KeyPermissions, file+" holds a private key but is mode 0644") {
			t.Errorf("%s: no key-permissions problem: %q", name, info.Problems())
		}
	}
	if len(info.Problems()) != 4 {
		t.Errorf("problems %q, want only those four", info.Problems())
	}
	var js bytes.Buffer
	if err := Write(&js, info, "json"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"type": "weak-key"`) || !strings.Contains(js.String(), `"type": "key-permissions"`) {
		t.Errorf("JSON lacks the problem types:\n%s", js.String())
	}
}

// TestFIFODoesNotBlock: a FIFO in place of a key or certificate is a
// problem naming it, not a check that blocks forever (issue 13, defect 9).
func TestFIFODoesNotBlock(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	for _, f := range []string{"pki/apiserver.key", "pki/front-proxy-client.crt", "scheduler.conf"} {
		treetest.FIFO(t, n.Path(f))
	}
	done := make(chan *Info)
	go func() { done <- check(t, n, nil) }()
	select {
	case info := <-done:
		for name, file := range map[string]string{"apiserver": "apiserver.key", "front-proxy-client": "front-proxy-client.crt", "scheduler.conf": "scheduler.conf"} {
			if !hasProblem(info, name, Unreadable, file+": not a regular file but a FIFO") {
				t.Errorf("%s: no problem naming the FIFO: %q", name, info.Problems())
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("check-expiration blocked on a FIFO")
	}
}
