package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/internal/txn"
)

// TestDownloadRecoversBesideTheLink: a node whose /etc/kubernetes/pki
// links to /data/pki, where a run given the link was killed after its
// commit: its transaction is beside the link's name
// (/etc/kubernetes/.certctl-txn). A download given the real folder, with
// --kubeconfig-dir /etc/kubernetes, passed no kubeconfig folder to its
// lock, so it neither saw nor finished that transaction, and wrote the
// folder with it half applied beside the other name.
func TestDownloadRecoversBesideTheLink(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	key := testKey(t)
	cs := fake.NewClientset()
	upload(t, cs, n.CertDir(), key)

	etc, link, real := treetest.LinkedFolder(t)
	root, err := txn.Root(link)
	if err != nil {
		t.Fatal(err)
	}
	id := "20261206T100000Z-00000001"
	dir := filepath.Join(root, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	data := []byte("left by a renewal")
	sum := sha256.Sum256(data)
	m := `{"version":1,"created":"2026-12-06T10:00:00Z","entries":[{"target":"` + filepath.Join(link, "notes.txt") + `","staged":"0","mode":420,"uid":-1,"gid":-1,"sha256":"` + hex.EncodeToString(sum[:]) + `"}]}`
	for p, d := range map[string][]byte{filepath.Join(dir, "0"): data, filepath.Join(dir, "manifest.json"): []byte(m)} {
		if err := os.WriteFile(p, d, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	var out bytes.Buffer
	err = Download(context.Background(), cs, Options{CertDir: real, KubeconfigDir: etc, Key: key, Rand: rand.Reader, Out: &out, ErrOut: &out})
	if err != nil {
		t.Fatalf("Download: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "[recover] finished renewal "+id) {
		t.Errorf("the download given %s does not finish the transaction left beside %s:\n%s", real, link, out.String())
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("transaction folder %s left: %v", root, err)
	}
}
