package phases

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/pki/kubeconfig"
)

// rotated is where a bootstrapped kubelet.conf of these tests names the
// kubelet's certificate and key; the check pass does not read it.
const rotated = "/var/lib/kubelet/pki/kubelet-client-current.pem"

// TestUseCSRKeepsBootstrappedKubelet: on a node whose kubelet.conf names
// the certificate and key the kubelet rotates since its TLS bootstrap,
// `init-phase kubeconfig all --use-csr` wrote a kubelet.conf CSR that
// `certs import` then refused ("installs embedded client certificates
// only"), exiting 2. kubeadm v1.37 keeps such a kubelet.conf; so does
// init-phase now: no CSR for it, and a line saying so. Files for it left
// by an earlier run get a warning. A kubelet.conf that embeds its
// certificate still gets its CSR.
func TestUseCSRKeepsBootstrappedKubelet(t *testing.T) {
	for _, tc := range []struct {
		name         string
		bootstrapped bool
		earlier      bool // an earlier run's kubelet.conf request in the CSR folder
	}{
		{name: "bootstrapped", bootstrapped: true},
		{name: "bootstrapped, with an earlier run's request", bootstrapped: true, earlier: true},
		{name: "embedded certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.mustRun(t, "certs", "all")
			e.mustRun(t, "kubeconfig", "all")
			kubelet := filepath.Join(e.dir, "kubelet.conf")
			if tc.bootstrapped {
				cfg, err := kubeconfig.Load(kubelet)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range cfg.AuthInfos {
					u.ClientCertificateData, u.ClientKeyData = nil, nil
					u.ClientCertificate, u.ClientKey = rotated, rotated
				}
				if err := kubeconfig.Write(kubelet, cfg); err != nil {
					t.Fatal(err)
				}
			}
			e.UseCSR, e.CSRDir = true, filepath.Join(t.TempDir(), "csr")
			if tc.earlier {
				if err := os.MkdirAll(e.CSRDir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(e.CSRDir, "kubelet.conf.csr"), []byte("earlier"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := snapshot(t, e.dir)
			e.out.Reset()
			e.mustRun(t, "kubeconfig", "all")
			assertSameTree(t, before, snapshot(t, e.dir))
			if _, err := os.Stat(filepath.Join(e.CSRDir, "admin.conf.csr")); err != nil {
				t.Errorf("no admin.conf CSR: %v\n%s", err, e.out)
			}
			_, err := os.Stat(filepath.Join(e.CSRDir, "kubelet.conf"))
			kept := `[kubeconfig] Using existing kubeconfig file: "` + kubelet + `": it names the client certificate and key the kubelet rotates since its TLS bootstrap (` + rotated + `); no CSR is written for it`
			switch {
			case tc.bootstrapped && err == nil:
				t.Errorf("a kubelet.conf key and CSR were written for a bootstrapped kubelet.conf:\n%s", e.out)
			case tc.bootstrapped && !strings.Contains(e.out.String(), kept):
				t.Errorf("output lacks %q:\n%s", kept, e.out)
			case !tc.bootstrapped && (err != nil || strings.Contains(e.out.String(), "no CSR is written")):
				t.Errorf("kubelet.conf embedding its certificate: no CSR written (%v), or said kept:\n%s", err, e.out)
			}
			warned := "[warning] " + filepath.Join(e.CSRDir, "kubelet.conf.csr") + ": an earlier request for kubelet.conf, which `certctl certs import` cannot install into " + kubelet + " (it names its certificate files): remove them"
			if got := strings.Contains(e.out.String(), warned); got != tc.earlier {
				t.Errorf("warning %q given: %v, want %v:\n%s", warned, got, tc.earlier, e.out)
			}
		})
	}
}
