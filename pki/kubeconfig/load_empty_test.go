package kubeconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadEmpty: a kubeconfig file with nothing in it (a `> admin.conf`
// that failed) is refused as empty. clientcmd reads it as a kubeconfig with
// no context, which every command then reported as `current context ""
// not found`, as though the user had switched contexts.
func TestLoadEmpty(t *testing.T) {
	for _, data := range []string{"", "\n", "  \n\t\n"} {
		path := filepath.Join(t.TempDir(), "admin.conf")
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "the file is empty") {
			t.Errorf("Load(%q) = %v, want an error naming %s and saying it is empty", data, err, path)
		}
	}
}
