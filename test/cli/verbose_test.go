package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckExpirationVerbose: -v says, as its help promises, "2 what
// certctl reads and decides, 4 each file": check-expiration -v 4 named no
// file it read (only client-go's feature gates), so a person debugging a
// wrong --cert-dir or a problem row saw nothing of what was checked. The
// lines go to stderr: -o json on stdout stays one document.
func TestCheckExpirationVerbose(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	r := runCode(t, bin, append([]string{"check-expiration", "-v", "4", "-o", "json"}, n.flags()...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("-v 4 -o json: stdout is not one JSON document: %v\n%s", err, r.out)
	}
	for _, f := range []string{
		filepath.Join(n.certDir, "apiserver.crt"), filepath.Join(n.certDir, "apiserver.key"),
		filepath.Join(n.certDir, "etcd", "ca.crt"), filepath.Join(n.dir, "admin.conf"),
	} {
		if !strings.Contains(r.errOut, f) {
			t.Errorf("-v 4 does not name %s on stderr:\n%s", f, r.errOut)
		}
	}
	// -v 2 says what is checked, not each file.
	r = runCode(t, bin, append([]string{"check-expiration", "-v", "2"}, n.flags()...)...)
	if !strings.Contains(r.errOut, "checking the certificates in "+n.certDir) || strings.Contains(r.errOut, "reading "+filepath.Join(n.certDir, "apiserver.key")) {
		t.Errorf("-v 2: want the folders checked and no file:\n%s", r.errOut)
	}
}
