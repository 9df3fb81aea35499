package copycerts

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestDownloadFoldersFollowUmask: the folders download makes are 0755
// less the umask, as the os.MkdirAll it made them with before, and
// kubeadm's: a node hardened with umask 027 gets 0750, not 0755.
func TestDownloadFoldersFollowUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	n := pkitest.NewNode(t, nil)
	key := testKey(t)
	cs := fake.NewClientset()
	upload(t, cs, n.CertDir(), key)
	dir := filepath.Join(t.TempDir(), "pki")
	if out, err := download(cs, dir, key, nil); err != nil {
		t.Fatalf("download: %v\n%s", err, out)
	}
	for _, d := range []string{dir, filepath.Join(dir, "etcd")} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Errorf("%s: %v", d, err)
		} else if fi.Mode().Perm() != 0o750 {
			t.Errorf("%s: mode %04o, want 0750 (umask 027)", d, fi.Mode().Perm())
		}
	}
}
