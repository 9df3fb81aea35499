package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases/config"
)

// TestDownloadRecoversExternalEtcdFiles: with etcd.external, download
// writes the external etcd's CA, client certificate and key where the
// configuration says, in the same transaction as the certificate folder's
// files. Recovery finished only transactions inside the certificate
// folder (and its etcd/, the manifests, the kubeconfig folders): a
// download killed right after its commit, with etcd.external files in
// another folder (/etc/etcd/pki, say), left external-etcd.crt new and its
// key old, and every later certctl run, the same download included,
// refused that transaction ("outside the folders certctl manages ...
// move it away"). The download's own lock now also recovers in the
// folders of the etcd.external files, so running it again finishes the
// transaction and goes on.
func TestDownloadRecoversExternalEtcdFiles(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	src := &config.ExternalEtcd{
		CAFile:   filepath.Join(n.CertDir(), "etcd", "ca.crt"),
		CertFile: filepath.Join(n.CertDir(), "apiserver-etcd-client.crt"),
		KeyFile:  filepath.Join(n.CertDir(), "apiserver-etcd-client.key"),
	}
	cs := fake.NewClientset()
	key := testKey(t)
	var out bytes.Buffer
	if _, err := Upload(context.Background(), cs, Options{CertDir: n.CertDir(), ExternalEtcd: src, Key: key, Rand: rand.Reader, Out: &out}); err != nil {
		t.Fatal(err)
	}

	base := t.TempDir()
	certDir := filepath.Join(base, "kubernetes", "pki")
	ssl := filepath.Join(base, "etcd-ssl")
	for _, d := range []string{certDir, ssl} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dst := &config.ExternalEtcd{CAFile: filepath.Join(ssl, "ca.pem"), CertFile: filepath.Join(ssl, "client.pem"), KeyFile: filepath.Join(ssl, "client-key.pem")}
	// What a download killed right after its commit leaves: the manifest
	// and the staged file of a target in the etcd.external folder.
	caData, err := os.ReadFile(src.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	root, err := txn.Root(certDir)
	if err != nil {
		t.Fatal(err)
	}
	id := "20260301T100000Z-0badc0de-download"
	dir := filepath.Join(root, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(caData)
	m, err := json.Marshal(map[string]any{"version": 1, "created": time.Now().UTC(), "entries": []map[string]any{
		{"target": dst.CAFile, "staged": "0", "mode": 0o644, "uid": -1, "gid": -1, "sha256": hex.EncodeToString(sum[:])}}})
	if err != nil {
		t.Fatal(err)
	}
	for p, d := range map[string][]byte{filepath.Join(dir, "0"): caData, filepath.Join(dir, "manifest.json"): m} {
		if err := os.WriteFile(p, d, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	got, err := download(cs, certDir, key, dst)
	if err != nil {
		t.Fatalf("download again after a kill: %v\n%s", err, got)
	}
	if !strings.Contains(got, "[recover] finished download "+id) {
		t.Errorf("the download does not say it finished the interrupted one:\n%s", got)
	}
	for from, to := range map[string]string{src.CAFile: dst.CAFile, src.CertFile: dst.CertFile, src.KeyFile: dst.KeyFile} {
		a, _ := os.ReadFile(from)
		b, err := os.ReadFile(to)
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: %v, or differs from %s", to, err, from)
		}
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("transaction folder %s left: %v", root, err)
	}
}
