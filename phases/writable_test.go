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

// TestDanglingLinkRefused: a file of the run that is a symbolic link to
// nothing (admin.conf or a certificate kept on a volume that is not
// mounted) looked missing, and init-phase wrote a new file over the link,
// which replaced the link with a regular file and left nothing where it
// pointed, with no word of it (kubeadm writes through the link; renew
// refuses a link). It is now refused before any write, naming the link and
// its target; the link stays.
func TestDanglingLinkRefused(t *testing.T) {
	for _, tc := range []struct {
		name, group, phase string
		file               func(e *testEnv) string
		dryRun             bool
	}{
		{name: "kubeconfig", group: "kubeconfig", phase: "all", file: func(e *testEnv) string { return filepath.Join(e.KubeconfigDir, "admin.conf") }},
		{name: "kubeconfig, dry run", group: "kubeconfig", phase: "super-admin", file: func(e *testEnv) string { return filepath.Join(e.KubeconfigDir, "super-admin.conf") }, dryRun: true},
		{name: "certificate", group: "certs", phase: "all", file: func(e *testEnv) string { return e.pki("apiserver.crt") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.mustRun(t, "certs", "all")
			if tc.group == "certs" {
				removeAll(t, e.pki("apiserver.crt"), e.pki("apiserver.key"))
			}
			link, dest := tc.file(e), filepath.Join(e.dir, "unmounted", "file")
			before := snapshot(t, e.dir) // which cannot hold a link to nothing
			if err := os.Symlink(dest, link); err != nil {
				t.Fatal(err)
			}
			e.DryRun = tc.dryRun
			err := e.run(t, tc.group, tc.phase)
			treetest.ErrMentions(t, err, link, "symbolic link to "+dest, "rm "+link)
			if got, err := os.Readlink(link); err != nil || got != dest {
				t.Errorf("%s after the run: link to %q (%v), want the link to %s kept", link, got, err, dest)
			}
			removeAll(t, link)
			assertSameTree(t, before, snapshot(t, e.dir))
		})
	}
}
