package cli

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

// TestCronCAExpiringBeforeItsLeavesFails: a node whose certificates were
// issued to outlive their CA (kubeadm does not cut a leaf to its CA), with
// the CA expiring within --if-expires-within, is not "nothing to do" (exit
// 2, a success for install-timer's unit): the cron run fails with status 1
// naming the CA, as docs/exit-codes.md and docs/cron.md promise for a CA
// that expires within the window, and changes nothing.
func TestCronCAExpiringBeforeItsLeavesFails(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	// ca.crt made again for the same key, ending in 14 days: the leaves it
	// signed (one year) now outlive it.
	caFile := filepath.Join(n.certDir, "ca.crt")
	ca := parseCert(t, caFile)
	keyPEM, err := os.ReadFile(filepath.Join(n.certDir, "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(keyPEM)
	if b == nil {
		t.Fatal("ca.key: no PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		if key, err = x509.ParseECPrivateKey(b.Bytes); err != nil {
			t.Fatal(err)
		}
	}
	tmpl := *ca
	caEnd := time.Now().Add(14 * 24 * time.Hour).UTC().Truncate(time.Second)
	tmpl.NotAfter = caEnd
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, ca.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, n)
	for _, extra := range [][]string{{"--dry-run"}, nil} {
		args := append(append([]string{"renew", "all", "--if-expires-within", "720h"}, n.flags()...), extra...)
		r := runCode(t, bin, args...)
		if r.code != 1 {
			t.Errorf("%s: exit %d, want 1\n%s%s", strings.Join(extra, " "), r.code, r.out, r.errOut)
		}
		if want := "the CA " + caFile + " expires at " + caEnd.Format(time.RFC3339); !strings.Contains(r.errOut, want) || !strings.Contains(r.errOut, "rotate the CA") {
			t.Errorf("%s: stderr does not say %q and what to do:\n%s", strings.Join(extra, " "), want, r.errOut)
		}
		if strings.Contains(r.out, "Nothing to do") {
			t.Errorf("%s: says nothing to do:\n%s", strings.Join(extra, " "), r.out)
		}
		if !strings.Contains(r.out, "[skip] apiserver: valid until ") || !strings.Contains(r.out, "but its CA "+caFile+" expires at ") {
			t.Errorf("%s: the skip line of apiserver does not name its CA's expiry:\n%s", strings.Join(extra, " "), r.out)
		}
	}
	if r := runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "24h"}, n.flags()...)...); r.code != 2 {
		t.Errorf("window before the CA's expiry: exit %d, want 2\n%s%s", r.code, r.out, r.errOut)
	}
	treetest.AssertSame(t, before, snapshot(t, n))
}
