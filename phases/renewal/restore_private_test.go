package renewal

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRestoreKeepsKeysPrivate: a renewal tightens a key file or a
// kubeconfig found readable by others (0644) to 0600, and its backup
// records the mode the file had. Restoring that backup wrote the key and
// the kubeconfig back at 0644, readable by every user of the node, with no
// word of it. A restored file that holds a private key is now readable by
// its owner only, and the restore says so; a certificate keeps its mode.
func TestRestoreKeepsKeysPrivate(t *testing.T) {
	n := newNode(t, nil)
	loose := []string{"pki/apiserver.key", "admin.conf"}
	for _, f := range append(loose, "pki/apiserver.crt") {
		if err := os.Chmod(n.path(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Renew(context.Background(), n.targets(t, "all"), n.options(made.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Restore(res.BackupDir, n.restoreOptions(made.Add(2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range loose {
		if st, err := os.Stat(n.path(f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s after the restore: %v (%v), want 0600", f, st.Mode().Perm(), err)
		}
		if !slices.ContainsFunc(got.Warnings, func(w string) bool { return strings.Contains(w, n.path(f)) && strings.Contains(w, "0600") }) {
			t.Errorf("the restore does not say that %s is restored 0600: %q", f, got.Warnings)
		}
	}
	if st, _ := os.Stat(n.path("pki/apiserver.crt")); st.Mode().Perm() != 0o644 {
		t.Errorf("apiserver.crt after the restore: %v, want its saved 0644", st.Mode().Perm())
	}
}
