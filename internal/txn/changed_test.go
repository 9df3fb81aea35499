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
