package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportCSRFolderLooseKey: `renew --use-csr` run again reuses the
// keys of the CSR folder; one left at mode 0644 is reused with the
// one-line warning certctl gives of every loose key, naming the chmod to
// run, instead of silently.
func TestImportCSRFolderLooseKey(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	csrDir := filepath.Join(t.TempDir(), "csr")
	args := append([]string{"renew", "apiserver", "admin.conf", "--use-csr", "--csr-dir", csrDir}, n.flags()...)
	run(t, bin, args...)
	for _, f := range []string{"apiserver.key", "admin.conf"} {
		if err := os.Chmod(filepath.Join(csrDir, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := runCode(t, bin, args...)
	if r.code != 0 {
		t.Fatalf("renew --use-csr again: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	all := r.out + r.errOut
	for _, f := range []string{"apiserver.key", "admin.conf"} {
		p := filepath.Join(csrDir, f)
		if want := "[warning] " + p + " holds a private key but is mode 0644: make it readable by its owner only: chmod 600 " + p; !strings.Contains(all, want) {
			t.Errorf("renew --use-csr does not say %q:\n%s", want, all)
		}
	}
}
