package phases

import (
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestReissuedCA: ca.crt re-issued with the same key (after it expired,
// say). Done as `openssl req -x509 -key ca.key -subj /CN=kubernetes` does
// it (the subject a UTF8String, another key identifier), no client builds
// the chain of what the CA signed, though its key signed it: renew and
// check-expiration say so and give the openssl command that re-issues it
// from the previous one. init-phase said "not signed by the CA ca.crt:
// ... remove the certificate and key to make new ones", which repairs one
// pair and leaves every other certificate of the CA failing, and of a
// kubeconfig "made for another CA: remove it", losing its other contexts.
// Done right (subject and key identifier kept), the leaves are fine, but
// the kubeconfigs still embed the earlier CA certificate, which kubeadm
// and init-phase refuse: renew embeds the new one and keeps the rest.
func TestReissuedCA(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, e *testEnv)
		group string
		// want are what the error mentions, {pki} the certificate folder.
		want []string
	}{
		{
			name:  "leaf, CA re-issued as openssl req -x509 does",
			spoil: func(t *testing.T, e *testEnv) { reissueCA(t, e, true) },
			group: "certs",
			want:  []string{"{pki}/apiserver.crt", "re-issued with the same key", "openssl x509 -in PREVIOUS-ca.crt -key {pki}/ca.key"},
		},
		{
			name: "leaf of an earlier CA certificate, ca.crt lost and made again from ca.key",
			spoil: func(t *testing.T, e *testEnv) {
				bad := reissueCA(t, e, true)
				key, err := pki.ReadKeyFile(e.pki("ca.key"))
				if err != nil {
					t.Fatal(err)
				}
				leaf, _, err := pki.ReadCertFile(e.pki("apiserver.crt"))
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, e.pki("apiserver.crt"), string(pki.EncodeCert(sign(t, leaf, bad, leaf.PublicKey, key))))
				removeAll(t, e.pki("ca.crt"))
			},
			group: "certs",
			want:  []string{"{pki}/apiserver.crt", "signed with the key {pki}/ca.key", "restore {pki}/ca.crt from a backup"},
		},
		{
			name:  "kubeconfig, CA re-issued keeping its subject and key identifier",
			spoil: func(t *testing.T, e *testEnv) { reissueCA(t, e, false) },
			group: "kubeconfig",
			want:  []string{"admin.conf", "another certificate of the CA {pki}/ca.crt, for the same key", "certctl renew admin.conf"},
		},
		{
			name:  "kubeconfig, CA re-issued as openssl req -x509 does",
			spoil: func(t *testing.T, e *testEnv) { reissueCA(t, e, true) },
			group: "kubeconfig",
			want:  []string{"admin.conf", "re-issued with the same key", "openssl x509 -in PREVIOUS-ca.crt"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.mustRun(t, "certs", "all")
			e.mustRun(t, "kubeconfig", "all")
			tc.spoil(t, e)
			before := snapshot(t, e.dir)
			err := e.run(t, tc.group, "all")
			for _, w := range tc.want {
				treetest.ErrMentions(t, err, strings.ReplaceAll(w, "{pki}", e.Cluster.CertificatesDir))
			}
			if err != nil && strings.Contains(err.Error(), "remove") {
				t.Errorf("error says to remove what needs no change: %v", err)
			}
			assertSameTree(t, before, snapshot(t, e.dir))
		})
	}
	t.Run("leaves of a CA re-issued keeping its subject and key identifier: kept", func(t *testing.T) {
		e := newTestEnv(t)
		e.mustRun(t, "certs", "all")
		e.mustRun(t, "kubeconfig", "all")
		reissueCA(t, e, false)
		e.mustRun(t, "certs", "all")
	})
}

// reissueCA writes a new ca.crt for the same key, a year from now: as
// `openssl x509 -in ca.crt -key ca.key` does (subject and key identifier
// kept), or when asOpenSSLReq as `openssl req -x509 -key ca.key -subj
// /CN=kubernetes` does (the subject a UTF8String, another key identifier).
func reissueCA(t *testing.T, e *testEnv, asOpenSSLReq bool) *x509.Certificate {
	t.Helper()
	old, _, err := pki.ReadCertFile(e.pki("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.ReadKeyFile(e.pki("ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := *old
	tmpl.SerialNumber = big.NewInt(2)
	tmpl.NotBefore, tmpl.NotAfter = fixedNow.Add(-time.Hour), fixedNow.Add(365*24*time.Hour)
	if asOpenSSLReq {
		type atv struct {
			Type  asn1.ObjectIdentifier
			Value string `asn1:"utf8"`
		}
		type atvSET []atv // encoding/asn1: a SET OF, by the type's name
		if tmpl.RawSubject, err = asn1.Marshal([]atvSET{{{asn1.ObjectIdentifier{2, 5, 4, 3}, old.Subject.CommonName}}}); err != nil {
			t.Fatal(err)
		}
		tmpl.SubjectKeyId = []byte{1, 2, 3, 4}
	}
	cert := sign(t, &tmpl, &tmpl, key.Public(), key)
	if err := os.WriteFile(filepath.Join(e.Cluster.CertificatesDir, "ca.crt"), pki.EncodeCert(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	return cert
}
