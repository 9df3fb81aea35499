package node

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestReadOnReadOnlyFileSystem: a command that only reads
// (check-expiration, certs list) on a read-only /etc/kubernetes that holds
// what a killed write left reads the files as they are, saying in one line
// that nothing could be recovered: it failed with "open lock file ...:
// read-only file system", as a user who may not write there would not.
func TestReadOnReadOnlyFileSystem(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a read-only file system needs root")
	}
	mnt := treetest.SmallFS(t, 1<<20)
	certDir := filepath.Join(mnt, "pki")
	if err := os.Mkdir(certDir, 0o755); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(certDir, ".apiserver.crt.tmp-123")
	if err := os.WriteFile(leftover, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v: %s", err, out)
	}
	var errOut bytes.Buffer
	read := false
	err := Read(context.Background(), &errOut, certDir, []string{mnt}, func() error { read = true; return nil })
	if err != nil || !read {
		t.Fatalf("Read: %v (read %v), want the files read as they are", err, read)
	}
	got := errOut.String()
	if strings.Count(got, "\n") != 1 || !strings.Contains(got, "read-only file system") || !strings.Contains(got, "as they are") {
		t.Errorf("errOut %q, want one line saying the file system is read-only and the files are read as they are", got)
	}
	if _, err := os.Stat(leftover); err != nil {
		t.Errorf("leftover: %v", err)
	}
}
