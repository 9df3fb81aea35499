package initphase

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases/config"
)

// TestRunRecoversBesideTheLink: init-phase certs given the real folder
// (/data/pki) with --kubeconfig-dir /etc/kubernetes, whose pki links to
// it, first finishes the transaction a run given the link left beside the
// link's name (/etc/kubernetes/.certctl-txn): its lock passes the
// kubeconfig folder, beside which recovery finds the other name.
func TestRunRecoversBesideTheLink(t *testing.T) {
	etc, link, real := treetest.LinkedFolder(t)
	root, err := txn.Root(link)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("left by a renewal")
	id := treetest.StuckTxn(t, root, filepath.Join(link, "notes.txt"), string(data), true)
	cluster := config.Default()
	cluster.CertificatesDir = real
	var out, errOut bytes.Buffer
	err = Run(context.Background(), &cluster, nil, Options{Group: "certs", KubeconfigDir: etc, LockTimeout: time.Second, Now: time.Now, Rand: rand.Reader, Out: &out, ErrOut: &errOut})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "[recover] finished renewal "+id) {
		t.Errorf("init-phase given %s does not finish the transaction left beside %s:\n%s", real, link, errOut.String())
	}
	if got, _ := os.ReadFile(filepath.Join(real, "notes.txt")); !bytes.Equal(got, data) {
		t.Errorf("notes.txt = %q, want the transaction's %q", got, data)
	}
}
