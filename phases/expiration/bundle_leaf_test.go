package expiration

import (
	"os"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestLeafOfALaterCAInTheBundle: at a CA rotation's reissue ca.crt is the
// new CA then the old one, and a leaf still signed by the old one is
// trusted by every client that reads ca.crt (and renew re-signs it). It was
// reported not-signed-by-ca, "clients that trust that CA reject it", with
// advice to restore a backup that holds the same file. A leaf of a CA that
// is not in ca.crt is still reported.
func TestLeafOfALaterCAInTheBundle(t *testing.T) {
	old := pkitest.NewNode(t, nil)
	next := pkitest.NewNode(t, nil)
	read := func(p string) []byte {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	newCA := read(next.Path("pki/ca.crt"))
	for _, tt := range []struct {
		caFile []byte
		want   bool // a not-signed-by-ca problem on apiserver
	}{
		{append(append([]byte{}, newCA...), read(old.Path("pki/ca.crt"))...), false},
		{newCA, true},
	} {
		if err := os.WriteFile(old.Path("pki/ca.crt"), tt.caFile, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(old.Path("pki/ca.key"), read(next.Path("pki/ca.key")), 0o600); err != nil {
			t.Fatal(err)
		}
		info, err := Check(Options{CertDir: old.CertDir(), KubeconfigDir: old.Dir, Now: checkAt})
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, c := range info.Certificates {
			for _, p := range c.Problems {
				if c.Name == "apiserver" && p.Type == NotSignedByCA {
					got = true
				}
			}
		}
		if got != tt.want {
			t.Errorf("ca.crt of %d bytes: not-signed-by-ca on apiserver %v, want %v", len(tt.caFile), got, tt.want)
		}
	}
}
