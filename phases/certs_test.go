package phases

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

func TestInitAllThenRerunKeepsEverything(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun(t, "certs", "all")
	e.mustRun(t, "kubeconfig", "all")
	want := []string{"ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "apiserver-kubelet-client.crt",
		"front-proxy-ca.crt", "front-proxy-client.key", "etcd/ca.crt", "etcd/server.crt", "etcd/peer.key",
		"etcd/healthcheck-client.crt", "apiserver-etcd-client.crt", "sa.key", "sa.pub"}
	for _, f := range want {
		if _, err := os.Stat(e.pki(f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for f, mode := range map[string]os.FileMode{"ca.key": 0o600, "ca.crt": 0o644, "sa.pub": 0o600, "etcd/server.key": 0o600} {
		if st, err := os.Stat(e.pki(f)); err == nil && st.Mode().Perm() != mode {
			t.Errorf("%s mode = %v, want %v", f, st.Mode().Perm(), mode)
		}
	}
	for _, f := range []string{"admin.conf", "super-admin.conf", "kubelet.conf", "controller-manager.conf", "scheduler.conf"} {
		if st, err := os.Stat(filepath.Join(e.dir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, st, err)
		}
	}
	before := snapshot(t, e.dir)
	e.out.Reset()
	e.mustRun(t, "certs", "all")
	e.mustRun(t, "kubeconfig", "all")
	assertSameTree(t, before, snapshot(t, e.dir))
	if n := strings.Count(e.out.String(), "Using the existing"); n != 11 {
		t.Errorf("re-run reported %d existing certs/keys, want 11:\n%s", n, e.out)
	}
	if n := strings.Count(e.out.String(), "Using existing kubeconfig"); n != 5 {
		t.Errorf("re-run reported %d existing kubeconfigs, want 5", n)
	}
}

func TestValidityAsKubeadm(t *testing.T) {
	e := newTestEnv(t)
	e.Cluster.CertificateValidity = 100 * 24 * time.Hour
	e.mustRun(t, "certs", "all")
	e.mustRun(t, "kubeconfig", "admin")
	ca, _, _ := pki.ReadCertFile(e.pki("ca.crt"))
	leaf, _, _ := pki.ReadCertFile(e.pki("apiserver.crt"))
	if want := fixedNow.Add(-5 * time.Minute); !ca.NotBefore.Equal(want) || !leaf.NotBefore.Equal(want) {
		t.Errorf("NotBefore ca=%v leaf=%v, want %v", ca.NotBefore, leaf.NotBefore, want)
	}
	if want := fixedNow.Add(10 * 365 * 24 * time.Hour); !ca.NotAfter.Equal(want) {
		t.Errorf("CA NotAfter = %v, want %v", ca.NotAfter, want)
	}
	if want := fixedNow.Add(100 * 24 * time.Hour); !leaf.NotAfter.Equal(want) {
		t.Errorf("leaf NotAfter = %v, want %v", leaf.NotAfter, want)
	}
}

func TestCapsLeafToCAExpiry(t *testing.T) {
	e := newTestEnv(t)
	e.Cluster.CACertificateValidity = 30 * 24 * time.Hour
	e.mustRun(t, "certs", "all")
	leaf, _, _ := pki.ReadCertFile(e.pki("apiserver.crt"))
	ca, _, _ := pki.ReadCertFile(e.pki("ca.crt"))
	if !leaf.NotAfter.Equal(ca.NotAfter) {
		t.Errorf("leaf NotAfter %v, want capped to CA's %v", leaf.NotAfter, ca.NotAfter)
	}
	if !strings.Contains(e.out.String(), "would outlive its CA") {
		t.Errorf("no warning about the cap:\n%s", e.out)
	}
}

func TestExpiredCARefusesToSign(t *testing.T) {
	e := newTestEnv(t)
	e.Cluster.CACertificateValidity = time.Hour
	e.mustRun(t, "certs", "ca")
	e.Now = func() time.Time { return fixedNow.Add(2 * time.Hour) }
	before := snapshot(t, e.dir)
	err := e.run(t, "certs", "all")
	treetest.ErrMentions(t, err, "apiserver.crt", "ca.crt", "expired")
	assertSameTree(t, before, snapshot(t, e.dir))
}

// TestExistingFileErrors covers item 5 of the foundation issue: every case
// fails with one line naming the files, and writes nothing at all, even
// files of phases before the failing one.
func TestExistingFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, e *testEnv)
		phase   string
		want    []string
	}{
		{
			name: "key does not match cert",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				copyFile(t, e.pki("apiserver-kubelet-client.key"), e.pki("apiserver.key"))
				removeAll(t, e.pki("front-proxy-ca.crt"), e.pki("front-proxy-ca.key"), e.pki("front-proxy-client.crt"), e.pki("front-proxy-client.key"))
			},
			phase: "all",
			want:  []string{"apiserver.crt", "apiserver.key", "does not match"},
		},
		{
			name: "leaf whose CA is missing",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				removeAll(t, e.pki("etcd/ca.crt"), e.pki("etcd/ca.key"))
			},
			phase: "etcd-server",
			want:  []string{"etcd/server.crt", "etcd/ca.crt", "missing"},
		},
		{
			name: "leaf signed by another CA",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				copyFile(t, e.pki("etcd/ca.crt"), e.pki("front-proxy-ca.crt"))
				copyFile(t, e.pki("etcd/ca.key"), e.pki("front-proxy-ca.key"))
			},
			phase: "all",
			want:  []string{"front-proxy-client.crt", "front-proxy-ca.crt", "not signed by"},
		},
		{
			name: "external CA: leaf to sign without CA key",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				removeAll(t, e.pki("ca.key"), e.pki("apiserver.crt"), e.pki("apiserver.key"))
			},
			phase: "all",
			want:  []string{"apiserver.crt", "ca.key", "--use-csr"},
		},
		{
			// It said "have your CA issue the client certificate and
			// provide the file", not how.
			name: "external CA: kubeconfig to make without CA key",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				removeAll(t, e.pki("ca.key"))
			},
			phase: "kubeconfig/admin",
			want:  []string{"admin.conf", "ca.key", "`certctl init-phase kubeconfig admin --cert-dir ", " --use-csr --csr-dir DIR`", "certctl certs import"},
		},
		{
			// It verified against itself and was kept, as kubeadm keeps
			// it; renew refuses it.
			name: "CA pair copied over a leaf's",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				copyFile(t, e.pki("ca.crt"), e.pki("apiserver-kubelet-client.crt"))
				copyFile(t, e.pki("ca.key"), e.pki("apiserver-kubelet-client.key"))
			},
			phase: "all",
			want:  []string{"apiserver-kubelet-client.crt", "is a CA certificate", "apiserver-kubelet-client.key", "back from a backup"},
		},
		{
			// An offline CA key on a volume not mounted: it said "missing
			// (external CA)" and to write a CSR, not to mount it.
			name: "CA key a symbolic link to nothing",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				removeAll(t, e.pki("ca.key"), e.pki("apiserver.crt"), e.pki("apiserver.key"))
				if err := os.Symlink("/nonexistent/vault/ca.key", e.pki("ca.key")); err != nil {
					t.Fatal(err)
				}
			},
			phase: "all",
			want:  []string{"apiserver.crt", "ca.key is a symbolic link to /nonexistent/vault/ca.key", "mount the volume", "--use-csr"},
		},
		{
			name: "CA key a symbolic link to nothing, kubeconfig",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				removeAll(t, e.pki("ca.key"))
				if err := os.Symlink("/nonexistent/vault/ca.key", e.pki("ca.key")); err != nil {
					t.Fatal(err)
				}
			},
			phase: "kubeconfig/admin",
			want:  []string{"admin.conf", "ca.key is a symbolic link to /nonexistent/vault/ca.key", "mount the volume", "--use-csr"},
		},
		{
			// It said to run init-phase certs ca first, which makes a new
			// CA, for which the file was then made for another CA.
			name: "kubeconfig whose CA certificate is missing",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				e.mustRun(t, "kubeconfig", "all")
				removeAll(t, e.pki("ca.crt"))
			},
			phase: "kubeconfig/admin",
			want:  []string{"admin.conf exists but its CA certificate", "ca.crt is missing", "--raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d > ", "only if you mean to replace the whole ca tree"},
		},
		{
			// A joining node given the first node's whole pki folder:
			// renew --update-sans would keep cp-1's name (etcd's CN) and
			// refuse to drop its SANs.
			name: "another node's certificate",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				e.Cluster.NodeName = "cp-2"
				e.Cluster.APIServerCertSANs = []string{"new.example.com"}
			},
			phase: "all",
			want:  []string{"apiserver.crt does not cover this node's name or address (cp-2)", "another node's certificate", "move it and its key aside"},
		},
		{
			name: "cert without its key",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				removeAll(t, e.pki("etcd/peer.key"))
			},
			phase: "all",
			want:  []string{"etcd/peer.crt", "etcd/peer.key", "missing"},
		},
		{
			name: "corrupt PEM",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				writeFile(t, e.pki("apiserver.crt"), "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
			},
			phase: "apiserver",
			want:  []string{"apiserver.crt", "restore it from a backup, or remove it and", "apiserver.key to make a new pair"},
		},
		{
			name: "corrupt CA",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				writeFile(t, e.pki("front-proxy-ca.crt"), "garbage")
			},
			phase: "all",
			want:  []string{"front-proxy-ca.crt", "restore the CA certificate from a backup"},
		},
		{
			name: "malformed kubeconfig",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				e.mustRun(t, "kubeconfig", "all")
				writeFile(t, filepath.Join(e.KubeconfigDir, "scheduler.conf"), ": : :\n")
			},
			phase: "kubeconfig/scheduler",
			want:  []string{"scheduler.conf", "restore it from a backup, or remove it to make a new one"},
		},
		{
			// renew --update-sans gives it the SANs in one transaction,
			// after a backup, reading them as this run did: it said to
			// move the pair aside by hand.
			name: "SAN drift",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				e.Cluster.APIServerCertSANs = []string{"new.example.com"}
				e.Download = " --config kubeadm.yaml"
			},
			phase: "all",
			want:  []string{"apiserver.crt", "new.example.com", "`certctl renew apiserver --update-sans --config kubeadm.yaml`"},
		},
		{
			name: "CA cert is not a CA",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				copyFile(t, e.pki("apiserver.crt"), e.pki("ca.crt"))
				copyFile(t, e.pki("apiserver.key"), e.pki("ca.key"))
			},
			phase: "all",
			want:  []string{"ca.crt", "not a CA"},
		},
		{
			name: "sa.pub without sa.key",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				removeAll(t, e.pki("sa.key"))
			},
			phase: "sa",
			want:  []string{"sa.pub", "sa.key"},
		},
		{
			name: "kubeconfig made for another CA",
			prepare: func(t *testing.T, e *testEnv) {
				e.mustRun(t, "certs", "all")
				e.mustRun(t, "kubeconfig", "all")
				removeAll(t, e.pki("ca.crt"), e.pki("ca.key"), e.pki("apiserver.crt"), e.pki("apiserver.key"),
					e.pki("apiserver-kubelet-client.crt"), e.pki("apiserver-kubelet-client.key"))
				e.mustRun(t, "certs", "all")
			},
			phase: "kubeconfig/admin",
			want:  []string{"admin.conf", "another CA"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			tt.prepare(t, e)
			before := snapshot(t, e.dir)
			var err error
			if g, n, ok := strings.Cut(tt.phase, "/"); ok {
				err = e.run(t, g, n)
			} else {
				err = e.run(t, "certs", tt.phase)
			}
			treetest.ErrMentions(t, err, tt.want...)
			assertSameTree(t, before, snapshot(t, e.dir))
		})
	}
}

func TestExternalCAWithExistingLeaves(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun(t, "certs", "all")
	removeAll(t, e.pki("ca.key"), e.pki("front-proxy-ca.key"), e.pki("etcd/ca.key"))
	before := snapshot(t, e.dir)
	e.out.Reset()
	e.mustRun(t, "certs", "all")
	assertSameTree(t, before, snapshot(t, e.dir))
	if !strings.Contains(e.out.String(), "external CA") {
		t.Errorf("output does not say external CA:\n%s", e.out)
	}
}

// A run killed after writing a key and before its certificate leaves the key
// alone; the next run finishes the pair with that key.
func TestInterruptedRunIsCompletedWithTheSameKey(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun(t, "certs", "all")
	keyBefore, _ := os.ReadFile(e.pki("apiserver.key"))
	caKeyBefore, _ := os.ReadFile(e.pki("front-proxy-ca.key"))
	removeAll(t, e.pki("apiserver.crt"), e.pki("front-proxy-ca.crt"), e.pki("front-proxy-client.crt"), e.pki("front-proxy-client.key"), e.pki("sa.pub"))
	e.mustRun(t, "certs", "all")
	for f, want := range map[string][]byte{"apiserver.key": keyBefore, "front-proxy-ca.key": caKeyBefore} {
		if got, _ := os.ReadFile(e.pki(f)); string(got) != string(want) {
			t.Errorf("%s was replaced", f)
		}
	}
	cert, _, err := pki.ReadCertFile(e.pki("apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := pki.ReadKeyFile(e.pki("apiserver.key"))
	if err := pki.KeyMatches(cert, key); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(e.pki("sa.pub")); err != nil {
		t.Error("sa.pub not rewritten from sa.key")
	}
}

func TestUseCSR(t *testing.T) {
	e := newTestEnv(t)
	e.UseCSR = true
	e.CSRDir = filepath.Join(e.dir, "csr")
	e.mustRun(t, "certs", "all")
	for _, base := range []string{"apiserver", "apiserver-kubelet-client", "front-proxy-client", "etcd/server", "etcd/peer", "etcd/healthcheck-client", "apiserver-etcd-client"} {
		s := pki.Store{Dir: e.CSRDir}
		r, err := pki.ReadCSRFile(s.CSRPath(base))
		if err != nil {
			t.Fatal(err)
		}
		key, err := s.ReadKey(base)
		if err != nil {
			t.Fatal(err)
		}
		if !pki.SamePublicKey(r.PublicKey, key.Public()) {
			t.Errorf("%s: CSR does not match key", base)
		}
		if st, _ := os.Stat(s.KeyPath(base)); st.Mode().Perm() != 0o600 {
			t.Errorf("%s.key mode %v", base, st.Mode().Perm())
		}
	}
	if _, err := os.Stat(e.Cluster.CertificatesDir); !os.IsNotExist(err) {
		t.Errorf("cert dir was created in CSR mode: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.CSRDir, "ca.key")); !os.IsNotExist(err) {
		t.Error("a CA key was written in CSR mode")
	}
	// Re-run keeps the pairs; a changed config is refused.
	before := snapshot(t, e.dir)
	e.mustRun(t, "certs", "all")
	assertSameTree(t, before, snapshot(t, e.dir))
	e.Cluster.APIServerCertSANs = []string{"203.0.113.99"}
	treetest.ErrMentions(t, e.run(t, "certs", "apiserver"), "apiserver.csr", "203.0.113.99")
	assertSameTree(t, before, snapshot(t, e.dir))
}

func TestDryRunWritesNothing(t *testing.T) {
	e := newTestEnv(t)
	e.DryRun = true
	e.mustRun(t, "certs", "all")
	if _, err := os.Stat(e.Cluster.CertificatesDir); !os.IsNotExist(err) {
		t.Fatalf("dry run created the cert dir: %v", err)
	}
	if !strings.Contains(e.out.String(), "22 file(s) would be written") {
		t.Errorf("dry-run plan:\n%s", e.out)
	}
}

func TestSelect(t *testing.T) {
	e := newTestEnv(t)
	node, _ := e.Cluster.Node()
	all := CertPhases(pki.Kubeadm().Certificates(node))
	if ps, err := Select(all, "certs", "all"); err != nil || len(ps) != 11 {
		t.Errorf("all: %d phases, %v", len(ps), err)
	}
	if ps, err := Select(all, "certs", "etcd-peer"); err != nil || len(ps) != 1 || ps[0].Name != "certs/etcd-peer" {
		t.Errorf("etcd-peer: %v, %v", ps, err)
	}
	_, err := Select(all, "certs", "apiserver-typo")
	treetest.ErrMentions(t, err, `"apiserver-typo"`, "all, ca, apiserver,", "sa")
}

func TestRunWrapsPhaseErrors(t *testing.T) {
	e := newTestEnv(t)
	err := Run(context.Background(), e.Env, e.certPhases(t, "apiserver"))
	treetest.ErrMentions(t, err, "phase certs/apiserver:", "ca.crt", "certctl init-phase certs ca")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(b))
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func removeAll(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUseCSRRefusesNodeFolders: --csr-dir in the certificate folder (the
// live keys) or equal to the kubeconfig folder is refused before anything is
// written, as renew --use-csr refuses it; a key left by a killed run is
// reused, and the progress line says so (issue 13, defect 8).
func TestUseCSRRefusesNodeFolders(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun(t, "certs", "all")
	e.UseCSR = true
	for _, tt := range []struct{ csrDir, says string }{
		{e.Cluster.CertificatesDir, "is the folder of --cert-dir"},
		{filepath.Join(e.Cluster.CertificatesDir, "csr"), "is inside the certificate folder"},
		{filepath.Join(e.Cluster.CertificatesDir, "etcd"), "is inside the certificate folder"},
	} {
		before := snapshot(t, e.dir)
		e.CSRDir = tt.csrDir
		treetest.ErrMentions(t, e.run(t, "certs", "all"), "--csr-dir "+tt.csrDir, tt.says, "a folder of their own")
		assertSameTree(t, before, snapshot(t, e.dir))
	}
	if e.KubeconfigDir != "" {
		e.CSRDir = e.KubeconfigDir
		treetest.ErrMentions(t, e.run(t, "certs", "all"), "is the folder of --kubeconfig-dir")
	}

	e.CSRDir = filepath.Join(e.dir, "csr")
	s := pki.Store{Dir: e.CSRDir}
	key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteKey("apiserver", key); err != nil {
		t.Fatal(err)
	}
	e.out.Reset()
	e.mustRun(t, "certs", "apiserver")
	if want := `Generating "apiserver" CSR for the existing key ` + s.KeyPath("apiserver"); !strings.Contains(e.out.String(), want) {
		t.Errorf("progress does not say the key is reused (%q):\n%s", want, e.out.String())
	}
}
