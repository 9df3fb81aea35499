package kubeconfig

import (
	"path/filepath"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// TestWriteErrorNamesFileOnce: a failed write is internal/atomicfile's
// error as it is, which names the file once (and, on a full file system,
// says to free space), not "write kubeconfig X: write X: ...".
func TestWriteErrorNamesFileOnce(t *testing.T) {
	// A name that fits, whose temporary file's name (".NAME.tmp-RANDOM")
	// does not: the write fails before the file is touched.
	path := filepath.Join(t.TempDir(), strings.Repeat("a", 240)+".conf")
	err := Write(path, clientcmdapi.NewConfig())
	if err == nil {
		t.Fatalf("Write(%s) succeeded, want a name-too-long error", path)
	}
	if n := strings.Count(err.Error(), path); n != 1 {
		t.Errorf("the error names %s %d times, want once: %v", path, n, err)
	}
}
