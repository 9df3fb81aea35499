package initphase

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
