package phases

import (
	"bytes"
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

var fixedNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

type testEnv struct {
	*Env
	out *bytes.Buffer
	dir string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	c := config.Default()
	c.CertificatesDir = filepath.Join(dir, "pki")
	c.NodeName = "cp-1"
	c.AdvertiseAddress = "198.51.100.10"
	c.EncryptionAlgorithm = "ECDSA-P256" // fast; RSA is covered by the end-to-end tests
	out := &bytes.Buffer{}
	return &testEnv{
		Env: &Env{Cluster: &c, KubeconfigDir: dir, Now: func() time.Time { return fixedNow },
			Rand: rand.Reader, Out: out},
		out: out,
		dir: dir,
	}
}

func (e *testEnv) certPhases(t *testing.T, name string) []Phase {
	t.Helper()
	node, err := e.Cluster.Node()
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Select(CertPhases(pki.Kubeadm().Certificates(node)), "certs", name)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func (e *testEnv) kubeconfigPhases(t *testing.T, name string) []Phase {
	t.Helper()
	node, err := e.Cluster.Node()
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Select(KubeconfigPhases(pki.Kubeadm().Kubeconfigs(node)), "kubeconfig", name)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func (e *testEnv) run(t *testing.T, group, name string) error {
	t.Helper()
	var ps []Phase
	if group == "certs" {
		ps = e.certPhases(t, name)
	} else {
		ps = e.kubeconfigPhases(t, name)
	}
	return Run(context.Background(), e.Env, ps)
}

func (e *testEnv) mustRun(t *testing.T, group, name string) {
	t.Helper()
	if err := e.run(t, group, name); err != nil {
		t.Fatalf("%s %s: %v\noutput:\n%s", group, name, err, e.out)
	}
}

func (e *testEnv) pki(name string) string { return filepath.Join(e.Cluster.CertificatesDir, name) }

// snapshot and assertSameTree assert that a failed command left the tree
// byte-identical.
func snapshot(t *testing.T, dir string) map[string]string { return treetest.Snapshot(t, dir) }

func assertSameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	treetest.AssertSame(t, before, after)
}
