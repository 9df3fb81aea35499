package cli

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestRenewRemovesInstalledPendingKey: `renew --use-api` keeps each CSR's
// key in .certctl-pending until its certificate is installed; a kill
// between the install and the removal leaves there a copy of the private
// key now in use. The next renew run removes it, under certctl's lock and
// saying so, whether or not that certificate is due and without --use-api
// (cron's `renew all --if-expires-within 720h` with nothing due is the
// case that never reached it before). A pending key that is not the
// installed certificate's (a CSR still waiting) stays, and so does the
// note that its CSR was refused. With a plain renewal the copy must go
// before the certificate is replaced: after it, the old key would pass for
// a waiting CSR's, and --use-api would ask to install it again.
func TestRenewRemovesInstalledPendingKey(t *testing.T) {
	bin := certctlBin(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"cron with nothing due", []string{"renew", "all", "--if-expires-within", "720h"}, 2},
		{"plain renewal of the certificate", []string{"renew", "apiserver"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := makeNode(t, bin, "ECDSA-P256")
			pending := filepath.Join(n.dir, ".certctl-pending")
			if err := os.Mkdir(pending, 0o700); err != nil {
				t.Fatal(err)
			}
			write := func(name string, data []byte) {
				t.Helper()
				if err := os.WriteFile(filepath.Join(pending, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			// Left by a run killed after the install: the installed keys.
			apiserverKey, err := os.ReadFile(filepath.Join(n.certDir, "apiserver.key"))
			if err != nil {
				t.Fatal(err)
			}
			write("apiserver.key", apiserverKey)
			_, adminKey, _ := embedded(t, filepath.Join(n.dir, "admin.conf"))
			write("admin.conf.key", adminKey)
			// A CSR still waiting, refused in an earlier run.
			k, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
			if err != nil {
				t.Fatal(err)
			}
			waiting, err := pki.MarshalPrivateKey(k)
			if err != nil {
				t.Fatal(err)
			}
			write("front-proxy-client.key", waiting)
			refused := []byte("certctl-cp-1-front-proxy-client-0123456789ab\nwas denied (reason Nope)\n")
			write("front-proxy-client.refused", refused)

			r := runCode(t, bin, append(tc.args, n.flags()...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tc.code, r.out, r.errOut)
			}
			for _, name := range []string{"apiserver", "admin.conf"} {
				if _, err := os.Stat(filepath.Join(pending, name+".key")); !os.IsNotExist(err) {
					t.Errorf("the pending key of %s, whose certificate is installed, is still there (%v)\n%s%s", name, err, r.out, r.errOut)
				}
				line := "[renew] Removed the pending key of " + name + ": its certificate is installed"
				if strings.Count(r.out, line) != 1 {
					t.Errorf("output does not say once %q\n%s%s", line, r.out, r.errOut)
				}
			}
			if strings.Contains(r.out+r.errOut, "front-proxy-client: its certificate is installed") {
				t.Errorf("says it removed front-proxy-client's pending key\n%s%s", r.out, r.errOut)
			}
			for name, want := range map[string][]byte{"front-proxy-client.key": waiting, "front-proxy-client.refused": refused} {
				got, err := os.ReadFile(filepath.Join(pending, name))
				if err != nil || string(got) != string(want) {
					t.Errorf("%s of a CSR still waiting was changed or removed (%v)", name, err)
				}
				if st, err := os.Stat(filepath.Join(pending, name)); err != nil || st.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v, %v; want 0600", name, st.Mode().Perm(), err)
				}
			}
		})
	}
}

// TestDryRunSaysInstalledPendingKey: a dry run removes nothing, but says
// which pending keys the real run would remove first, as it says what it
// would renew.
func TestDryRunSaysInstalledPendingKey(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	pending := filepath.Join(n.dir, ".certctl-pending")
	if err := os.Mkdir(pending, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(n.certDir, "apiserver.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pending, "apiserver.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, n)
	r := runCode(t, bin, append([]string{"renew", "all", "--if-expires-within", "720h", "--dry-run"}, n.flags()...)...)
	if line := "[dry-run] The pending key of apiserver would be removed: its certificate is installed"; r.code != 2 || strings.Count(r.out, line) != 1 {
		t.Errorf("exit %d (want 2), output does not say once %q\n%s%s", r.code, line, r.out, r.errOut)
	}
	treetest.AssertSame(t, before, snapshot(t, n))
}
