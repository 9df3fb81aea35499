package cli

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/util/keyutil"

	"github.com/certctl/certctl/pki"
)

// expireCA re-signs the CA certificate certDir/base.crt with its own key,
// keeping its subject, serial and key identifier, so that it expired an
// hour ago: the certificates it signed still chain to it, and those valid
// for longer outlive it, as kubeadm v1.37's `certs renew` leaves them (it
// does not cut a certificate's validity to its CA's).
func expireCA(t *testing.T, certDir, base string) {
	t.Helper()
	certPath, keyPath := filepath.Join(certDir, base+".crt"), filepath.Join(certDir, base+".key")
	ca := parseCert(t, certPath)
	key, err := keyutil.PrivateKeyFromFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := *ca
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-10*365*24*time.Hour), time.Now().Add(-time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, ca.PublicKey, key.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRotateExpiredCA: a CA that expired while the certificates it
// signed are still valid (kubeadm renewed them in the CA's last year) is
// what `certctl renew` says to rotate ("certctl does not renew CAs; rotate
// the ca CA with `certctl ca rotate`"). The rotation's trust stage refused
// it, saying that apiserver.crt "is not signed by the old ca CA: renew it",
// which renew refuses: the user was sent from one command to the other.
// Whether a CA signed a certificate does not depend on the time; the
// rotation must go through every stage and end with every certificate
// signed by the new CA.
func TestRotateExpiredCA(t *testing.T) {
	bin := certctlBin(t)
	for _, ca := range []struct{ name, base, leaf, renew string }{
		{"ca", "ca", "apiserver", "apiserver"}, {"front-proxy-ca", "front-proxy-ca", "front-proxy-client", "front-proxy-client"},
		{"etcd-ca", "etcd/ca", "etcd/server", "etcd-server"},
	} {
		t.Run(ca.name, func(t *testing.T) {
			n := makeRotationNode(t, bin)
			expireCA(t, n.certDir, ca.base)

			code, _, stderr := runAll(t, nil, bin, append([]string{"renew", ca.renew}, n.flags()...)...)
			if code == 0 || !strings.Contains(stderr, "certctl ca rotate") {
				t.Fatalf("renew %s with an expired CA: exit %d, want a refusal that says to rotate the CA:\n%s", ca.renew, code, stderr)
			}
			for _, stage := range []string{"trust", "reissue", "finished"} {
				code, stdout, stderr := runAll(t, nil, bin, n.rotateArgs(ca.name, false)...)
				if code != 0 {
					t.Fatalf("ca rotate %s (stage %s) of an expired CA: exit %d\n%s%s", ca.name, stage, code, stdout, stderr)
				}
				if rec := readRotationRecord(t, filepath.Join(n.certDir, ".certctl-rotation-"+ca.name+".json")); rec == nil || rec.Stage != stage {
					t.Fatalf("after ca rotate %s: record %+v, want stage %s", ca.name, rec, stage)
				}
			}
			newCA := parseCert(t, filepath.Join(n.certDir, ca.base+".crt"))
			if !time.Now().Before(newCA.NotAfter) {
				t.Fatalf("%s.crt expires %s after the rotation", ca.base, newCA.NotAfter)
			}
			if err := pki.VerifySignedBy(parseCert(t, filepath.Join(n.certDir, ca.leaf+".crt")), nil, newCA, time.Now()); err != nil {
				t.Fatalf("%s after the rotation: %v", ca.leaf, err)
			}
		})
	}
}
