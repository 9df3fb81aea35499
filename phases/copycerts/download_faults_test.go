package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
)

// TestDownloadFaultLeavesNodeAsItWas: download made the certificate
// folder (and its etcd/) before it took the lock, and made a kept key
// 0600 before its transaction committed. A refusal after that point (the
// lock held by another certctl, a signal while waiting for it, an
// etcd.external folder that cannot be written) left a new empty folder,
// or a key's mode changed, while the error said nothing was changed. Now
// the transaction creates the folders, and modes change only once it
// committed: every file and folder under the node's parent folder is as
// it was (certctl's lock file aside).
func TestDownloadFaultLeavesNodeAsItWas(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	src := &config.ExternalEtcd{
		CAFile:   filepath.Join(n.CertDir(), "etcd", "ca.crt"),
		CertFile: filepath.Join(n.CertDir(), "apiserver-etcd-client.crt"),
		KeyFile:  filepath.Join(n.CertDir(), "apiserver-etcd-client.key"),
	}
	key := testKey(t)
	stacked, external := fake.NewClientset(), fake.NewClientset()
	upload(t, stacked, n.CertDir(), key)
	var out bytes.Buffer
	if _, err := Upload(context.Background(), external, Options{CertDir: n.CertDir(), ExternalEtcd: src, Key: key, Rand: rand.Reader, Out: &out}); err != nil {
		t.Fatal(err)
	}
	// ssl is the etcd.external folder, beside the certificate folder.
	ext := func(ssl string) *config.ExternalEtcd {
		return &config.ExternalEtcd{CAFile: filepath.Join(ssl, "ca.pem"), CertFile: filepath.Join(ssl, "client.pem"), KeyFile: filepath.Join(ssl, "client-key.pem")}
	}
	holdLock := func(t *testing.T, parent string) {
		l, err := lock.AcquireWait(context.Background(), filepath.Join(parent, lock.FileName), lock.Wait{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Release() })
	}
	mkdir := func(t *testing.T, d string) {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	looseCAKey := func(t *testing.T, dir string) {
		mkdir(t, dir)
		copyFile(t, filepath.Join(n.CertDir(), "ca.key"), filepath.Join(dir, "ca.key"))
		if err := os.Chmod(filepath.Join(dir, "ca.key"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		name     string
		external bool
		// prepare makes the node: parent holds dir (pki, not made) and ssl.
		prepare func(t *testing.T, parent, dir, ssl string)
		cancel  bool          // the context is canceled (a signal)
		wait    time.Duration // --lock-timeout
		want    []string
	}{
		{
			name:    "lock held, no certificate folder",
			prepare: func(t *testing.T, parent, _, _ string) { holdLock(t, parent) },
			want:    []string{lock.FileName},
		},
		{
			name: "lock held, loose key kept",
			prepare: func(t *testing.T, parent, dir, _ string) {
				looseCAKey(t, dir)
				holdLock(t, parent)
			},
			want: []string{lock.FileName},
		},
		{
			name:    "signal while waiting for the lock",
			prepare: func(t *testing.T, parent, _, _ string) { holdLock(t, parent) },
			cancel:  true,
			wait:    time.Hour,
			want:    []string{lock.FileName, "canceled"},
		},
		{
			name:     "etcd.external folder is a file",
			external: true,
			prepare: func(t *testing.T, _, _, ssl string) {
				if err := os.WriteFile(ssl, []byte("not a folder\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"ssl"},
		},
		{
			name:     "etcd.external folder read-only",
			external: true,
			prepare: func(t *testing.T, _, _, ssl string) {
				mkdir(t, ssl)
				treetest.ReadOnly(t, ssl)
			},
			want: []string{"ssl", "read-only"},
		},
		{
			name:     "etcd.external folder read-only, loose key kept",
			external: true,
			prepare: func(t *testing.T, _, dir, ssl string) {
				looseCAKey(t, dir)
				mkdir(t, ssl)
				treetest.ReadOnly(t, ssl)
			},
			want: []string{"ssl", "read-only"},
		},
		{
			name: "certificate folder immutable, etcd folder missing",
			prepare: func(t *testing.T, _, dir, _ string) {
				looseCAKey(t, dir)
				treetest.Chattr(t, "+i", dir)
			},
			want: []string{"pki", "chattr -i"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir, ssl := filepath.Join(parent, "pki"), filepath.Join(parent, "ssl")
			tc.prepare(t, parent, dir, ssl)
			cs, e := stacked, (*config.ExternalEtcd)(nil)
			if tc.external {
				cs, e = external, ext(ssl)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			before := snapshotNode(t, parent)
			var out bytes.Buffer
			err := Download(ctx, cs, Options{CertDir: dir, ExternalEtcd: e, Key: key, LockTimeout: tc.wait, Rand: rand.Reader, Out: &out, ErrOut: &out})
			treetest.ErrMentions(t, err, tc.want...)
			treetest.AssertSame(t, before, snapshotNode(t, parent))
			if t.Failed() {
				t.Logf("output:\n%s", out.String())
			}
		})
	}
}

// snapshotNode is treetest.Snapshot of parent without certctl's lock
// file, which a command leaves beside the folders it guards.
func snapshotNode(t *testing.T, parent string) map[string]string {
	t.Helper()
	m := treetest.Snapshot(t, parent)
	delete(m, filepath.Join(parent, lock.FileName))
	return m
}

// TestDownloadMakesFoldersAsKubeadm: the folders a download creates (by
// its transaction, 0700 until it committed) end 0755, as kubeadm's; a
// folder that was there keeps its mode.
func TestDownloadMakesFoldersAsKubeadm(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	key := testKey(t)
	cs := fake.NewClientset()
	upload(t, cs, n.CertDir(), key)
	parent := t.TempDir()
	kept := filepath.Join(parent, "kept")
	if err := os.Mkdir(kept, 0o700); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]map[string]os.FileMode{
		filepath.Join(parent, "pki"): {filepath.Join(parent, "pki"): 0o755, filepath.Join(parent, "pki", "etcd"): 0o755},
		kept:                         {kept: 0o700, filepath.Join(kept, "etcd"): 0o755},
	} {
		if out, err := download(cs, dir, key, nil); err != nil {
			t.Fatalf("download into %s: %v\n%s", dir, err, out)
		}
		for d, mode := range want {
			fi, err := os.Stat(d)
			if err != nil {
				t.Errorf("%s: %v", d, err)
			} else if fi.Mode().Perm() != mode {
				t.Errorf("%s: mode %04o, want %04o", d, fi.Mode().Perm(), mode)
			}
		}
	}
}
