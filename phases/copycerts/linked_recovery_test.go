package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
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
	data := []byte("left by a renewal")
	id := treetest.StuckTxn(t, root, filepath.Join(link, "notes.txt"), string(data), true)

	var out bytes.Buffer
	err = Download(context.Background(), cs, Options{Now: downloaded, CertDir: real, KubeconfigDir: etc, Key: key, Rand: rand.Reader, Out: &out, ErrOut: &out})
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
