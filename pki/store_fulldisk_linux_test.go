package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestStoreWriteFullDisk: Store's writes name the file once: init-phase
// certs said "write DIR/apiserver.key: write DIR/apiserver.key: ...", the
// store wrapping what atomicfile says already.
func TestStoreWriteFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root")
	}
	mnt := treetest.SmallFS(t, 64<<10)
	treetest.Fill(t, mnt)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := Store{Dir: mnt}
	err = s.WriteKey("apiserver", key)
	if p := s.KeyPath("apiserver"); err == nil || strings.Count(err.Error(), p) != 2 || !strings.HasPrefix(err.Error(), "write "+p+": no space left on device") {
		// Twice: "write P: ...: then run certctl again (P is as it was)".
		t.Errorf("WriteKey: %v, want it to name %s once at the start", err, p)
	}
}
