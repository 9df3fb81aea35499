package carotate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
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

// TestTrustWarnsOfDroppedCAs: a trust file that holds more than the
// current CA (an intermediate's root, the CA of an earlier rotation made
// by hand; for sa another public key) lost the others at trust without a
// word, which writes the old CA then the new one: once the components
// restarted, what those signed was no longer trusted. Trust, its dry run
// too, must warn once, naming the file and what it drops; a node whose
// trust file holds the CA alone is not warned.
func TestTrustWarnsOfDroppedCAs(t *testing.T) {
	for _, name := range []string{pki.CAName, pki.SAName} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			p := k(t, name).paths(f.node.CertDir())
			out, err := rotateOut(f, name, func(o *Options) { o.DryRun = true })
			if err != nil || strings.Contains(out, "drops the others") {
				t.Fatalf("trust of %s alone (dry run): %v, want no warning of what it drops:\n%s", p.Trust, err, out)
			}
			// Another CA (public key) after the current one.
			other := newFixture(t)
			extra := mustReadFile(t, k(t, name).paths(other.node.CertDir()).Trust)
			data := append(mustReadFile(t, p.Trust), extra...)
			if err := os.WriteFile(p.Trust, data, 0o644); err != nil {
				t.Fatal(err)
			}
			ids, err := trusted(k(t, name), p.Trust)
			if err != nil || len(ids) != 2 {
				t.Fatalf("%s: %v %v", p.Trust, ids, err)
			}
			for _, dry := range []bool{true, false} {
				out, err := rotateOut(f, name, func(o *Options) { o.DryRun = dry })
				if err != nil {
					t.Fatalf("trust (dry run %v): %v\n%s", dry, err, out)
				}
				if n := strings.Count(out, "[warning] "+p.Trust+" holds 2 "); n != 1 || !strings.Contains(out, ids[1][:16]) {
					t.Errorf("trust (dry run %v) of %s with another CA after it: %d warnings, want 1 naming it (%s):\n%s", dry, p.Trust, n, ids[1][:16], out)
				}
			}
		})
	}
}
