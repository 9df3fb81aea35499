package carotate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestShortLivedNewCAWarns: a new CA that expires before the certificates
// it will sign would (1 year by default) was taken at trust without a word:
// reissue cuts every certificate to its end, and the cluster stops trusting
// them then. Trust (its dry run too) and reissue warn in one line that
// names the CA's file and its end; a CA that outlives them does not.
func TestShortLivedNewCAWarns(t *testing.T) {
	t.Run("generated", func(t *testing.T) {
		f := newFixture(t)
		short := func(o *Options) { o.CAValidity = 24 * time.Hour }
		p := k(t, pki.CAName).paths(f.node.CertDir())
		end := f.now.Add(24 * time.Hour).UTC().Format(time.RFC3339)
		for _, dry := range []bool{true, false} {
			out, err := rotateOut(f, pki.CAName, func(o *Options) { short(o); o.DryRun = dry })
			if err != nil {
				t.Fatalf("trust (dry run %v): %v\n%s", dry, err, out)
			}
			if !hasWarning(out, p.NewCert, end) {
				t.Errorf("trust (dry run %v) of a CA valid 24h says no warning naming %s and %s:\n%s", dry, p.NewCert, end, out)
			}
		}
		out, err := rotateOut(f, pki.CAName, nil)
		if err != nil {
			t.Fatalf("reissue: %v\n%s", err, out)
		}
		if !hasWarning(out, p.NewCert, end) {
			t.Errorf("reissue with a CA valid 24h says no warning naming %s and %s:\n%s", p.NewCert, end, out)
		}
	})
	t.Run("given", func(t *testing.T) {
		f := newFixture(t)
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := caTemplate(true)
		tmpl.NotAfter = f.now.Add(30 * 24 * time.Hour)
		certPath, keyPath := writeCA(t, t.TempDir(), tmpl, key)
		out, err := rotateOut(f, pki.CAName, func(o *Options) { o.NewCACert, o.NewCAKey = certPath, keyPath })
		if err != nil {
			t.Fatalf("trust: %v\n%s", err, out)
		}
		if !hasWarning(out, certPath, tmpl.NotAfter.UTC().Format(time.RFC3339)) {
			t.Errorf("trust with a CA that expires in 30 days says no warning naming %s:\n%s", certPath, out)
		}
	})
	t.Run("long enough", func(t *testing.T) {
		f := newFixture(t)
		for range 2 {
			if out, err := rotateOut(f, pki.CAName, nil); err != nil || strings.Contains(out, "expires on") {
				t.Fatalf("a rotation with the default CA validity: %v\n%s", err, out)
			}
		}
	})
}

// hasWarning reports whether out has one warning line naming file and end.
func hasWarning(out, file, end string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "[warning]") && strings.Contains(l, file) && strings.Contains(l, end) {
			return true
		}
	}
	return false
}
