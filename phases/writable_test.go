package phases

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestNotWritableFolder: a run whose files would go to a folder it may not
// write fails in the check pass, naming the folder, before it prints
// "Generating" or writes anything; the folders that do not exist yet are
// judged by the nearest one that does.
func TestNotWritableFolder(t *testing.T) {
	tests := []struct {
		name     string
		prepare  func(t *testing.T, e *testEnv) (readOnly, wantFolder string)
		group    string
		dryRun   bool
		wantFile string
	}{
		{"cert dir", func(t *testing.T, e *testEnv) (string, string) {
			e.mustRun(t, "certs", "all")
			removeAll(t, e.pki("apiserver.crt"), e.pki("apiserver.key"))
			return e.Cluster.CertificatesDir, e.Cluster.CertificatesDir
		}, "certs", false, "apiserver.crt"},
		{"cert dir, dry run", func(t *testing.T, e *testEnv) (string, string) {
			e.mustRun(t, "certs", "all")
			removeAll(t, e.pki("sa.pub"))
			return e.Cluster.CertificatesDir, e.Cluster.CertificatesDir
		}, "certs", true, "sa.pub"},
		{"parent of a missing cert dir", func(t *testing.T, e *testEnv) (string, string) {
			parent := filepath.Join(e.dir, "etc")
			if err := os.Mkdir(parent, 0o755); err != nil {
				t.Fatal(err)
			}
			e.Cluster.CertificatesDir = filepath.Join(parent, "kubernetes", "pki")
			return parent, parent
		}, "certs", false, "/kubernetes/pki/"},
		{"kubeconfig dir", func(t *testing.T, e *testEnv) (string, string) {
			e.mustRun(t, "certs", "all")
			e.KubeconfigDir = filepath.Join(e.dir, "kc")
			if err := os.Mkdir(e.KubeconfigDir, 0o755); err != nil {
				t.Fatal(err)
			}
			return e.KubeconfigDir, e.KubeconfigDir
		}, "kubeconfig", false, "admin.conf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			ro, folder := tt.prepare(t, e)
			treetest.ReadOnly(t, ro)
			before := snapshot(t, e.dir)
			e.out.Reset()
			e.DryRun = tt.dryRun
			err := e.run(t, tt.group, "all")
			treetest.ErrMentions(t, err, tt.wantFile, "folder "+folder+" ")
			if !strings.Contains(err.Error(), "read-only file system") && !strings.Contains(err.Error(), "run certctl as root, or fix the folder's permissions") {
				t.Errorf("error %q does not say what to do", err)
			}
			if strings.Contains(e.out.String(), "Generating") || strings.Contains(e.out.String(), "Writing") {
				t.Errorf("printed progress before failing:\n%s", e.out)
			}
			if tt.dryRun && !strings.Contains(e.out.String(), "would be written") {
				t.Errorf("dry run printed no plan:\n%s", e.out)
			}
			assertSameTree(t, before, snapshot(t, e.dir))
		})
	}
}
