package txn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRecoverRefusesTargetChangedSince: a renewal killed after its commit,
// apiserver.crt renamed into place and apiserver.key not, leaves a pair
// that does not match; an operator who then runs `kubeadm certs renew`,
// which writes both files in place, makes a matching pair again. The next
// certctl command rolled the transaction forward regardless, renaming its
// staged key over kubeadm's, and left kubeadm's certificate with
// certctl's key: a pair that does not match, again. Recovery now refuses
// a target whose content is neither what it was when the transaction was
// staged nor the staged one, replaces nothing, and says so; a target
// still as it was, already the new content, or gone, is rolled forward as
// before.
func TestRecoverRefusesTargetChangedSince(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(t *testing.T, tr tree)
		refused bool
	}{
		{"unchanged", func(*testing.T, tree) {}, false},
		{"pair written in place by another tool", func(t *testing.T, tr tree) {
			for _, p := range tr.files[:2] {
				if err := os.WriteFile(p, []byte("kubeadm's "+filepath.Base(p)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}, true},
		// Rolled forward: the new content is put back, matching.
		{"file removed", func(t *testing.T, tr tree) { os.Remove(tr.files[1]) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			tx := tr.stage(t)
			commitUpTo(t, tx, 1) // apiserver.crt renamed, apiserver.key not
			tc.change(t, tr)
			before := map[string]string{}
			for _, p := range tr.files[:2] {
				data, _ := os.ReadFile(p)
				before[p] = string(data)
			}
			_, err := RecoverIn(tr.root, tr.scope())
			if !tc.refused {
				if err != nil {
					t.Fatalf("Recover: %v", err)
				}
				tr.check(t, true)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tr.files[1]) || !strings.Contains(err.Error(), "changed") {
				t.Fatalf("Recover = %v, want a refusal naming %s", err, tr.files[1])
			}
			for p, want := range before {
				if data, _ := os.ReadFile(p); string(data) != want {
					t.Errorf("%s = %q after the refused recovery, want %q as it was", p, data, want)
				}
			}
			if _, err := os.Stat(tx.dir); err != nil {
				t.Errorf("the refused transaction is gone: %v", err)
			}
		})
	}
}

// TestLinkFromChangedSinceRead: a backup is staged as a hard link to the
// file it saves, which the caller read (File.Data) earlier, while it made
// the new keys. When another tool rewrote that file in place meanwhile,
// with content of the same length (a certificate renewed by kubeadm), the
// link was kept, as only the size was compared: the backup held the other
// tool's file, not what its backup.json and the manifest's SHA-256 say,
// so that `certctl restore` refused it and a recovery after a kill
// reported it damaged. The link is now kept only when it holds Data.
func TestLinkFromChangedSinceRead(t *testing.T) {
	tr := newTree(t)
	tx, err := Begin(tr.root, "20260301T120000Z-00000004", t0)
	if err != nil {
		t.Fatal(err)
	}
	key, backup := tr.files[1], tr.files[2]
	read := []byte("old apiserver.key") // as the caller read it
	if err := os.WriteFile(key, []byte("OLD APISERVER.KEY"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []File{
		{Target: backup, Data: read, Mode: 0o644, UID: -1, GID: -1, LinkFrom: key},
		{Target: key, Data: []byte("new apiserver.key"), Mode: 0o600, UID: -1, GID: -1},
	} {
		if err := tx.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	commitUpTo(t, tx, 0) // killed right after the commit
	if _, err := RecoverIn(tr.root, tr.scope()); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if got, _ := os.ReadFile(backup); string(got) != string(read) {
		t.Errorf("backup %s = %q, want %q, the content the transaction was given", backup, got, read)
	}
}
