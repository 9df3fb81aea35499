package renewal

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
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

// TestRestoreKeepsKubeconfigsPrivate: a kubeconfig saved in another form
// than the YAML certctl writes, JSON above all (a kubeconfig may be JSON),
// holds its client key all the same; restored from a backup that saved it
// 0644, it was written back 0644, readable by every user of the node, with
// no warning: only a file that spelt "client-key-data:" counted as holding
// a key.
func TestRestoreKeepsKubeconfigsPrivate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rewrite func(t *testing.T, data []byte) []byte
	}{
		{
			name: "JSON",
			rewrite: func(t *testing.T, data []byte) []byte {
				out, err := yaml.YAMLToJSON(data)
				if err != nil {
					t.Fatal(err)
				}
				return out
			},
		},
		{
			name: "YAML with quoted keys",
			rewrite: func(t *testing.T, data []byte) []byte {
				return bytes.ReplaceAll(data, []byte("client-key-data:"), []byte(`"client-key-data":`))
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, nil)
			path := n.path("admin.conf")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.rewrite(t, data), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Renew(context.Background(), n.targets(t, "admin.conf"), n.options(made.Add(time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Restore(res.BackupDir, n.restoreOptions(made.Add(2*time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("admin.conf after the restore: %v (%v), want 0600", st.Mode().Perm(), err)
			}
			if !slices.ContainsFunc(got.Warnings, func(w string) bool { return strings.Contains(w, path) && strings.Contains(w, "0600") }) {
				t.Errorf("the restore does not say that %s is restored 0600: %q", path, got.Warnings)
			}
		})
	}
}
