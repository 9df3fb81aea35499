package signer

import (
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestParseCustomSignerRefusesNameTheAPIRefuses: the API server accepts a
// CSR's spec.signerName only as DOMAIN/NAME, both lowercase DNS names, the
// domain with at least one dot. `signer run --signer` took any name with a
// slash, such as Example.com/serving or example.com/a/b: no CSR can carry
// it, so the signer ran and signed nothing, with no error. Such a name is
// refused at once, saying why; a valid one is still taken.
func TestParseCustomSignerRefusesNameTheAPIRefuses(t *testing.T) {
	s := pki.Store{Dir: t.TempDir()}
	writePair(t, s, newTestCA(t, "custom", time.Now().Add(24*time.Hour)))
	files := s.CertPath("ca") + "," + s.KeyPath("ca")
	for _, name := range []string{"Example.com/serving", "example.com/Serving", "example.com/a/b", "example_com/x", "example/x", "example.com/x y", "example.com/"} {
		_, _, err := ParseCustomSigner(name+"="+files, CASourceOptions{})
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "example.com/serving") {
			t.Errorf("--signer %s: %v, want an error naming it and an example", name, err)
		}
	}
	if _, _, err := ParseCustomSigner("example.com/my-serving.v1="+files, CASourceOptions{}); err != nil {
		t.Errorf("a valid name: %v", err)
	}
}
