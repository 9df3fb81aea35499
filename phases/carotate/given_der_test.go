package carotate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/treetest"
)

// TestGivenCAInDER: a new CA given in DER, as a CA on Windows hands out
// its .cer files, was refused with "pki: data does not contain any valid
// RSA or ECDSA certificates: give a CA certificate (CA:TRUE, cert sign),
// valid now, and its key", which the file is. The refusal must say that
// the file is DER and give the command that converts it; for the key
// (and sa's --new-ca-key) too. Nothing is written.
func TestGivenCAInDER(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dir := t.TempDir()
	certPath, keyPath := writeCA(t, dir, caTemplate(true), key)
	der := func(path string) string {
		block, _ := pem.Decode(mustReadFile(t, path))
		out := filepath.Join(dir, filepath.Base(path)+".der")
		if err := os.WriteFile(out, block.Bytes, 0o600); err != nil {
			t.Fatal(err)
		}
		return out
	}
	certDER, keyDER := der(certPath), der(keyPath)
	if _, err := x509.ParseCertificate(mustReadFile(t, certDER)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, ca, cert, key, want string
	}{
		{"certificate", "ca", certDER, keyPath, certDER + " holds a DER certificate, not PEM: convert it with `openssl x509 -inform der -in " + certDER + " -out " + certDER + ".pem`"},
		{"key", "ca", certPath, keyDER, keyDER + " holds a DER private key, not PEM: convert it with `openssl pkey -inform der -in " + keyDER},
		{"sa key", "sa", "", keyDER, keyDER + " holds a DER private key, not PEM"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			before := treetest.Snapshot(t, f.node.Dir)
			_, err := rotateOut(f, tt.ca, func(o *Options) { o.NewCACert, o.NewCAKey = tt.cert, tt.key })
			treetest.ErrMentions(t, err, tt.want)
			// One advice: the given file converted beside it, not also
			// pki's conversion in place.
			if err != nil && strings.Count(err.Error(), "convert it with") != 1 {
				t.Errorf("the refusal gives more than one conversion: %v", err)
			}
			after := treetest.Snapshot(t, f.node.Dir)
			delete(before, filepath.Join(f.node.Dir, lock.FileName))
			delete(after, filepath.Join(f.node.Dir, lock.FileName))
			treetest.AssertSame(t, before, after)
		})
	}
}
