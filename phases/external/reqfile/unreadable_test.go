package reqfile

import (
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestPlanCSRUnreadableFileSaysWhatToDo: a key or CSR that an earlier run
// left in the CSR folder and that cannot be parsed (truncated, emptied) is
// refused with one line naming it and what to do, as the other leftovers
// are, and nothing is written: a CSR alone can be written again for its
// key; a key cannot, and its CSR goes with it.
func TestPlanCSRUnreadableFileSaysWhatToDo(t *testing.T) {
	spec := apiserverSpec(t)
	spec.CSR, spec.Certificate, spec.Key, spec.PublicKey = "", "", "", nil
	for slotName, slot := range map[string]Slot{
		"key file":   KeyFile{},
		"kubeconfig": KeyKubeconfig{Cluster: "kubernetes", Server: "https://cp-1:6443", User: "kube-apiserver"},
	} {
		for _, tt := range []struct {
			name    string
			damage  func(f Files) string
			wantErr func(f Files) []string
		}{
			{"CSR", func(f Files) string { return f.CSR }, func(f Files) []string {
				return []string{f.CSR, "remove it", "a new CSR for the key " + f.Key}
			}},
			{"key", func(f Files) string { return f.Key }, func(f Files) []string {
				return []string{f.Key, "remove it and " + f.CSR, "another --csr-dir"}
			}},
		} {
			t.Run(slotName+"/"+tt.name, func(t *testing.T) {
				f := FilesOf(t.TempDir(), "apiserver", slot)
				written(spec)(t, f)
				if err := os.WriteFile(tt.damage(f), []byte("-----BEGIN"), 0o600); err != nil {
					t.Fatal(err)
				}
				before := treetest.Snapshot(t, f.Dir)
				_, err := PlanCSR(f, spec, nil)
				treetest.AssertSame(t, before, treetest.Snapshot(t, f.Dir))
				treetest.ErrMentions(t, err, tt.wantErr(f)...)
				if err != nil && strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
			})
		}
	}
}
