package apirenew

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

func TestPendingDir(t *testing.T) {
	got, err := PendingDir("/etc/kubernetes/pki")
	if err != nil || got != "/etc/kubernetes/.certctl-pending" {
		t.Errorf("PendingDir = %q, %v", got, err)
	}
}

func TestPending(t *testing.T) {
	p := pending{dir: filepath.Join(t.TempDir(), PendingDirName)}
	if k, err := p.load("apiserver"); k != nil || err != nil {
		t.Fatalf("load with no folder: %v, %v", k, err)
	}
	k1, k2 := newKey(t), newKey(t)
	if err := p.save("apiserver", k1); err != nil {
		t.Fatal(err)
	}
	if err := p.save("admin.conf", k2); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{p.dir: 0o700, p.path("apiserver"): pki.KeyMode} {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, st.Mode().Perm(), err, want)
		}
	}
	got, err := p.load("apiserver")
	if err != nil || !pki.SamePublicKey(got.Public(), k1.Public()) {
		t.Fatalf("load: %v", err)
	}
	// Another key (a concurrent run replaced it) is kept.
	if err := p.remove("apiserver", k2.Public()); err != nil {
		t.Fatal(err)
	}
	if k, _ := p.load("apiserver"); k == nil {
		t.Fatal("remove with another key removed the pending key")
	}
	if err := p.remove("apiserver", k1.Public()); err != nil {
		t.Fatal(err)
	}
	if k, _ := p.load("apiserver"); k != nil {
		t.Fatal("pending key not removed")
	}
	if _, err := os.Stat(p.dir); err != nil {
		t.Fatalf("folder removed while it holds admin.conf's key: %v", err)
	}
	if err := p.remove("admin.conf", k2.Public()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.dir); !os.IsNotExist(err) {
		t.Errorf("empty pending folder not removed: %v", err)
	}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.path("etcd-peer"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := p.load("etcd-peer"); err == nil {
		t.Error("a corrupt pending key was loaded")
	}
}

// TestKeysAdoptsConcurrentPendingKey: docs/renew.md, "Two runs of the
// same command at once wait on the same CSRs". When another run saves
// its pending key between this run's look for one (none yet) and its
// save, this run must not overwrite it (the other run's CSR would then
// name a key that is on disk nowhere, and each run would ask for its own
// approval): it takes that key, so both wait on the same CSR.
func TestKeysAdoptsConcurrentPendingKey(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	is, out := newIssuer(t, cs, dir, func(o *Options) { o.Timeout = 300 * time.Millisecond })
	other := newKey(t)
	beforePendingSave = func(target string) {
		if err := is.pending.save(target, other); err != nil {
			t.Error(err)
		}
	}
	defer func() { beforePendingSave = nil }()
	reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile)}
	_ = is.Obtain(context.Background(), reqs) // times out: nobody approves
	want, err := CSRName("cp-1", "admin.conf", other.Public())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CertificatesV1().CertificateSigningRequests().Get(context.Background(), want, metav1.GetOptions{}); err != nil || csrCount(t, cs) != 1 {
		t.Errorf("the run made %d CSR(s), want only %s, the other run's key's: %v\n%s", csrCount(t, cs), want, err, out)
	}
	if k, err := is.pending.load("admin.conf"); err != nil || k == nil || !pki.SamePublicKey(k.Public(), other.Public()) {
		t.Errorf("the pending key on disk is not the other run's any more (%v)", err)
	}
}
