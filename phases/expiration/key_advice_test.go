package expiration

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestKeyAdviceSaysHowToMakeItAgain: a certificate's key that cannot be
// used (a type certctl does not use, another key, gone) was advised only
// "restore it from a backup", where renew, which refuses it too, also
// says how to make the pair again (init-phase certs NAME): a node without
// a backup of it had no way out from the check. A CA's key keeps the
// advice to restore it: making a CA again is a rotation.
func TestKeyAdviceSaysHowToMakeItAgain(t *testing.T) {
	ed := func(t *testing.T) []byte {
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	other := func(t *testing.T) []byte {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	}
	for _, tc := range []struct {
		name, file, row string
		key             func(*testing.T) []byte // nil: removed
		want            []string
	}{
		{"Ed25519 key", "pki/front-proxy-client.key", "front-proxy-client", ed, []string{"parse private key", "restore it from a backup, or remove it and its certificate and run `certctl init-phase certs front-proxy-client"}},
		{"another key", "pki/etcd/peer.key", "etcd-peer", other, []string{"does not match", "restore the matching pair from a backup, or remove both and run `certctl init-phase certs etcd-peer"}},
		{"key gone", "pki/apiserver.key", "apiserver", nil, []string{"does not", "restore the key from a backup, or remove the certificate and run `certctl init-phase certs apiserver"}},
		{"CA key of another type", "pki/front-proxy-ca.key", "front-proxy-ca", ed, []string{"parse private key", "restore it from a backup"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			var err error
			if tc.key == nil {
				err = os.Remove(n.Path(tc.file))
			} else {
				err = os.WriteFile(n.Path(tc.file), tc.key(t), 0o600)
			}
			if err != nil {
				t.Fatal(err)
			}
			info := check(t, n, nil)
			rows := append(slices.Clone(info.Certificates), info.CertificateAuthorities...)
			i := slices.IndexFunc(rows, func(c Certificate) bool { return c.Name == tc.row })
			if i < 0 || len(rows[i].Problems) == 0 {
				t.Fatalf("no problem in row %s: %+v", tc.row, rows)
			}
			msg := rows[i].Problems[0].Message
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%s: %q, want it to say %q", tc.row, msg, w)
				}
			}
			if strings.HasSuffix(tc.row, "-ca") && strings.Contains(msg, "init-phase") {
				t.Errorf("%s: %q: a CA made again is a rotation, not init-phase", tc.row, msg)
			}
		})
	}
}
