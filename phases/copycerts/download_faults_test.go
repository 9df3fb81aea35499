package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
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
	n, key, stacked, external := uploadedBoth(t)
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
			// The lock is free: taken at once, before the context is looked
			// at; the signal must still stop the download before its commit.
			name:   "signal before the commit",
			cancel: true,
			want:   []string{"canceled", "nothing was written"},
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
			if tc.prepare != nil {
				tc.prepare(t, parent, dir, ssl)
			}
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
			err := Download(ctx, cs, Options{Now: downloaded, CertDir: dir, ExternalEtcd: e, Key: key, LockTimeout: tc.wait, Rand: rand.Reader, Out: &out, ErrOut: &out})
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

// TestDownloadRefusesBadFolders: a folder that cannot be what the
// download needs is refused before anything is written, on one line
// naming the path and what to do, with --dry-run too. A certificate folder
// that is a file (or with a file on its way); a file where an etcd.external folder should be was
// refused as "read directory ...: not a directory" naming neither the
// setting nor what to do.
func TestDownloadRefusesBadFolders(t *testing.T) {
	_, key, stacked, external := uploadedBoth(t)
	file := func(t *testing.T, p string) {
		if err := os.WriteFile(p, []byte("not a folder\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		// dir is the certificate folder, relative to the test's folder;
		// ext the etcd.external folder ("": a stacked etcd).
		dir, ext      string
		kubeconfigDir string // relative; "": none checked
		prepare       func(t *testing.T, parent string)
		want          func(parent string) []string
	}{
		{
			name:    "certificate folder is a file",
			dir:     "pki",
			prepare: func(t *testing.T, p string) { file(t, filepath.Join(p, "pki")) },
			want: func(p string) []string {
				return []string{filepath.Join(p, "pki") + " is a file, not a folder", "--cert-dir"}
			},
		},
		{
			name:          "kubeconfig folder is a file",
			dir:           "pki",
			kubeconfigDir: "kubernetes",
			prepare:       func(t *testing.T, p string) { file(t, filepath.Join(p, "kubernetes")) },
			want: func(p string) []string {
				return []string{"--kubeconfig-dir " + filepath.Join(p, "kubernetes") + " is a file, not a folder", "/etc/kubernetes"}
			},
		},
		{
			name: "etcd folder is a file",
			dir:  "pki",
			prepare: func(t *testing.T, p string) {
				if err := os.Mkdir(filepath.Join(p, "pki"), 0o755); err != nil {
					t.Fatal(err)
				}
				file(t, filepath.Join(p, "pki", "etcd"))
			},
			want: func(p string) []string {
				return []string{filepath.Join(p, "pki", "etcd", "ca.crt"), filepath.Join(p, "pki", "etcd") + " is a file, not a folder", "move it away"}
			},
		},
		{
			name:    "etcd.external folder is a file",
			dir:     "pki",
			ext:     "ssl",
			prepare: func(t *testing.T, p string) { file(t, filepath.Join(p, "ssl")) },
			want: func(p string) []string {
				return []string{"etcd.external", filepath.Join(p, "ssl") + " is a file, not a folder", "caFile", filepath.Join(p, "ssl", "ca.pem")}
			},
		},
		{
			name:    "a file above an etcd.external folder",
			dir:     "pki",
			ext:     "ssl/etcd",
			prepare: func(t *testing.T, p string) { file(t, filepath.Join(p, "ssl")) },
			want: func(p string) []string {
				return []string{"etcd.external", filepath.Join(p, "ssl") + " is a file, not a folder", filepath.Join(p, "ssl", "etcd", "ca.pem")}
			},
		},
	} {
		for _, dry := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, dry run %v", tc.name, dry), func(t *testing.T) {
				parent := t.TempDir()
				if tc.prepare != nil {
					tc.prepare(t, parent)
				}
				cs, e := stacked, (*config.ExternalEtcd)(nil)
				if tc.ext != "" {
					ssl := filepath.Join(parent, tc.ext)
					cs, e = external, &config.ExternalEtcd{CAFile: filepath.Join(ssl, "ca.pem"), CertFile: filepath.Join(ssl, "client.pem"), KeyFile: filepath.Join(ssl, "client-key.pem")}
				}
				kubeconfigDir := ""
				if tc.kubeconfigDir != "" {
					kubeconfigDir = filepath.Join(parent, tc.kubeconfigDir)
				}
				before := snapshotNode(t, parent)
				var out bytes.Buffer
				err := Download(context.Background(), cs, Options{Now: downloaded, CertDir: filepath.Join(parent, tc.dir), KubeconfigDir: kubeconfigDir, ExternalEtcd: e, Key: key, DryRun: dry, Rand: rand.Reader, Out: &out, ErrOut: &out})
				treetest.ErrMentions(t, err, tc.want(parent)...)
				treetest.AssertSame(t, before, snapshotNode(t, parent))
				if t.Failed() {
					t.Logf("output:\n%s", out.String())
				}
			})
		}
	}
}

// TestDownloadRefusesFolderInPlaceOfFile: a folder where a file of the
// Secret goes (sa.key made a folder by a mistyped mkdir -p, an
// etcd.external keyFile naming a folder) is refused before anything is
// written: "not a regular file but a folder". The certificate folder's are refused so still; an
// etcd.external path is refused naming the setting, which is to fix.
func TestDownloadRefusesFolderInPlaceOfFile(t *testing.T) {
	_, key, stacked, external := uploadedBoth(t)
	for _, tc := range []struct {
		name, folder string // folder: relative to the test's folder
		external     bool
		want         []string
	}{
		{name: "sa.key", folder: "pki/sa.key", want: []string{"not a regular file but a folder", "replace it"}},
		{name: "etcd/ca.crt", folder: "pki/etcd/ca.crt", want: []string{"not a regular file but a folder", "replace it"}},
		{name: "etcd.external keyFile", folder: "ssl", external: true, want: []string{"etcd.external keyFile", "is a folder, not a file", "ClusterConfiguration"}},
	} {
		for _, dry := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, dry run %v", tc.name, dry), func(t *testing.T) {
				parent := t.TempDir()
				folder := filepath.Join(parent, tc.folder)
				if err := os.MkdirAll(folder, 0o755); err != nil {
					t.Fatal(err)
				}
				cs, e := stacked, (*config.ExternalEtcd)(nil)
				if tc.external {
					cs, e = external, &config.ExternalEtcd{CAFile: filepath.Join(parent, "ca.pem"), CertFile: filepath.Join(parent, "client.pem"), KeyFile: folder}
				}
				before := snapshotNode(t, parent)
				var out bytes.Buffer
				err := Download(context.Background(), cs, Options{Now: downloaded, CertDir: filepath.Join(parent, "pki"), ExternalEtcd: e, Key: key, DryRun: dry, Rand: rand.Reader, Out: &out, ErrOut: &out})
				treetest.ErrMentions(t, err, append([]string{folder}, tc.want...)...)
				treetest.AssertSame(t, before, snapshotNode(t, parent))
			})
		}
	}
}

// uploadedBoth makes a node and uploads its certificates with a new key
// into two clusters' Secrets: stacked (its etcd files) and external (an
// etcd.external whose files are its etcd client certificate and CA).
func uploadedBoth(t *testing.T) (n *pkitest.Node, key []byte, stacked, external *fake.Clientset) {
	t.Helper()
	n = pkitest.NewNode(t, nil)
	src := &config.ExternalEtcd{
		CAFile:   filepath.Join(n.CertDir(), "etcd", "ca.crt"),
		CertFile: filepath.Join(n.CertDir(), "apiserver-etcd-client.crt"),
		KeyFile:  filepath.Join(n.CertDir(), "apiserver-etcd-client.key"),
	}
	key = testKey(t)
	stacked, external = fake.NewClientset(), fake.NewClientset()
	upload(t, stacked, n.CertDir(), key)
	var out bytes.Buffer
	if _, err := Upload(context.Background(), external, Options{CertDir: n.CertDir(), ExternalEtcd: src, Key: key, Rand: rand.Reader, Out: &out}); err != nil {
		t.Fatal(err)
	}
	return n, key, stacked, external
}

// TestDownloadMakesMissingParent: on a node without the certificate
// folder's parent yet (a new node, before kubeadm made /etc/kubernetes),
// download makes it, as kubeadm's download-certs does, with the folder
// mode kubeadm's would have, and writes the files; one that does not
// commit (here a signal before the commit) removes what it made, lock
// file included: the node is as it was.
func TestDownloadMakesMissingParent(t *testing.T) {
	_, key, stacked, _ := uploadedBoth(t)
	root := t.TempDir()
	certDir := filepath.Join(root, "etc", "kubernetes", "pki")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	before := treetest.Snapshot(t, root)
	err := Download(canceled, stacked, Options{Now: downloaded, CertDir: certDir, Key: key, Rand: rand.Reader, Out: &out, ErrOut: &out})
	treetest.ErrMentions(t, err, "nothing was written")
	treetest.AssertSame(t, before, treetest.Snapshot(t, root))
	if err := Download(context.Background(), stacked, Options{Now: downloaded, CertDir: certDir, Key: key, Rand: rand.Reader, Out: &out, ErrOut: &out}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(certDir, "ca.key")); err != nil {
		t.Errorf("ca.key not written: %v\n%s", err, out.String())
	}
	want := pki.DirMode &^ umask()
	for _, d := range []string{filepath.Join(root, "etc"), filepath.Dir(certDir), certDir} {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want a folder of mode %04o", d, st.Mode(), err, want)
		}
	}
}
