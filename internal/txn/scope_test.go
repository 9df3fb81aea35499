package txn

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestRecoverRefusesForeignTargets: a committed transaction whose manifest
// names a file outside the folders certctl manages is refused, reported
// and left as it is, and nothing is written (issue 13, defect 7).
func TestRecoverRefusesForeignTargets(t *testing.T) {
	elsewhere := filepath.Join(t.TempDir(), "passwd")
	for name, forge := range map[string]func(tr tree, m *manifest){
		"target outside": func(tr tree, m *manifest) { m.Entries[0].Target = elsewhere },
		"static pod manifest": func(tr tree, m *manifest) {
			m.Entries[0].Target = filepath.Join(filepath.Dir(tr.root), "manifests", "kube-apiserver.yaml")
		},
		"relative escape":           func(tr tree, m *manifest) { m.Entries[0].Target = tr.certDir + "/../../passwd" },
		"staged outside":            func(tr tree, m *manifest) { m.Entries[0].Staged = "../../passwd" },
		"target in the txn folder":  func(tr tree, m *manifest) { m.Entries[0].Target = filepath.Join(tr.root, "x") },
		"temporary file outside":    func(tr tree, m *manifest) { m.Entries[0].Beside = "../../passwd" },
		"temporary file not a temp": func(tr tree, m *manifest) { m.Entries[0].Beside = "apiserver.key" },
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(elsewhere, []byte("root:x:0:0"), 0o644); err != nil {
				t.Fatal(err)
			}
			tr := newTree(t)
			tx := tr.stage(t)
			forge(tr, &tx.m)
			if err := tx.writeManifest(); err != nil {
				t.Fatal(err)
			}
			before := treetest.Snapshot(t, filepath.Dir(tr.root))
			_, err := RecoverIn(tr.root, tr.scope())
			if err == nil || !strings.Contains(err.Error(), "outside the folders certctl manages") {
				t.Fatalf("Recover: %v, want refused", err)
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(tr.root)))
			if data, _ := os.ReadFile(elsewhere); string(data) != "root:x:0:0" {
				t.Errorf("%s was overwritten: %q", elsewhere, data)
			}
		})
	}
	t.Run("folders of an uncommitted transaction", func(t *testing.T) {
		tr := newTree(t)
		tx := tr.stage(t)
		foreign := filepath.Join(t.TempDir(), "empty")
		if err := os.Mkdir(foreign, 0o700); err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal([]string{foreign})
		if err := os.WriteFile(filepath.Join(tx.dir, foldersName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := RecoverIn(tr.root, tr.scope()); err == nil {
			t.Error("Recover accepted a folder outside its scope")
		}
		if _, err := os.Stat(foreign); err != nil {
			t.Errorf("the foreign folder was removed: %v", err)
		}
	})
}

// TestRecoverRefusesForeignTemporaryFiles: the list of temporary files of
// an uncommitted transaction (stageBeside) that names a file outside its
// scope, or one that is not a temporary file, is refused, and nothing is
// removed.
func TestRecoverRefusesForeignTemporaryFiles(t *testing.T) {
	for name, path := range map[string]func(tr tree) string{
		"outside":         func(tr tree) string { return filepath.Join(filepath.Dir(filepath.Dir(tr.root)), ".passwd.tmp-1") },
		"not a temporary": func(tr tree) string { return tr.files[0] },
	} {
		t.Run(name, func(t *testing.T) {
			tr := newTree(t)
			tx := tr.stage(t)
			p := path(tr)
			if err := os.WriteFile(p, []byte("keep"), 0o600); err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
			data, _ := json.Marshal([]string{p})
			if err := os.WriteFile(filepath.Join(tx.dir, tempsName), data, 0o600); err != nil {
				t.Fatal(err)
			}
			before := treetest.Snapshot(t, filepath.Dir(tr.root))
			if _, err := RecoverIn(tr.root, tr.scope()); err == nil || !strings.Contains(err.Error(), "outside the folders certctl manages") {
				t.Errorf("Recover: %v, want refused", err)
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(tr.root)))
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s was removed: %v", p, err)
			}
		})
	}
}

// TestDiscardRemovesOwnTemporaryFilesOutsideScope: `certs download`
// writing an external etcd's files on another file system leaves, when
// killed before its commit, temporary files beside them; the next command,
// whose scope does not reach that folder, refused to discard the
// transaction, and so did every command until the download ran again. A
// file named as only this transaction names its temporary files
// (tempName, with its ID) is removed wherever it is; the transaction is
// discarded and every target is as it was.
func TestDiscardRemovesOwnTemporaryFilesOutsideScope(t *testing.T) {
	tr := newTree(t)
	tx := tr.stage(t)
	elsewhere := t.TempDir() // an external etcd's folder: outside the scope
	temp := filepath.Join(elsewhere, tempName(filepath.Base(tx.dir), 0, filepath.Join(elsewhere, "etcd-ca.crt")))
	if err := os.WriteFile(temp, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal([]string{temp})
	if err := os.WriteFile(filepath.Join(tx.dir, tempsName), data, 0o600); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, tr.certDir)
	removed, err := RecoverIn(tr.root, tr.scope())
	if err != nil {
		t.Fatalf("Recover: %v, want the transaction discarded", err)
	}
	if _, err := os.Lstat(temp); !os.IsNotExist(err) {
		t.Errorf("%s is left (%v); Recover removed %v", temp, err, removed)
	}
	if _, err := os.Lstat(tx.dir); !os.IsNotExist(err) {
		t.Errorf("the transaction %s is left (%v)", tx.dir, err)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, tr.certDir))
}

func TestScope(t *testing.T) {
	s := tree{root: "/etc/kubernetes/.certctl-txn", certDir: "/etc/kubernetes/pki"}.scope()
	for path, want := range map[string]bool{
		"/etc/kubernetes/admin.conf":                          true,
		"/etc/kubernetes/pki/apiserver.key":                   true,
		"/etc/kubernetes/pki/etcd/peer.key":                   true,
		"/etc/kubernetes/certctl-backups/T/pki/etcd/peer.key": true,
		"/etc/kubernetes/certctl-backups":                     true,
		"/etc/kubernetes/manifests/etcd.yaml":                 false,
		"/etc/kubernetes/pki/etcd/x/y":                        false,
		"/etc/passwd":                                         false,
		"/etc/kubernetes/pki/../../passwd":                    false,
		"pki/apiserver.key":                                   false,
		"/etc/kubernetes/certctl-backups/../manifests/x.yaml": false,
	} {
		if got := s.allows(path); got != want {
			t.Errorf("allows(%s) = %v, want %v", path, got, want)
		}
	}
}

// TestScopeFiles: a file of Scope.Files is allowed, and nothing else in
// its folder.
func TestScopeFiles(t *testing.T) {
	s := Scope{Files: []string{"/etc/kubernetes/.certctl-restarts.json"}}
	for path, want := range map[string]bool{
		"/etc/kubernetes/.certctl-restarts.json":       true,
		"/etc/kubernetes/admin.conf":                   false,
		"/etc/kubernetes/x/../.certctl-restarts.json":  false,
		"/etc/kubernetes/.certctl-restarts.json/x":     false,
		"/etc/kubernetes/other/.certctl-restarts.json": false,
	} {
		if got := s.allows(path); got != want {
			t.Errorf("allows(%s) = %v, want %v", path, got, want)
		}
	}
}
