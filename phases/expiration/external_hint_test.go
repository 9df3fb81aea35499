package expiration

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestExternalEtcdExpiryHint: when only etcd.external's client certificate
// expires within --warn-within, the error said to renew it with `certctl
// renew`, which never renews it. It now says where to renew it, as its
// notRenewed field does.
func TestExternalEtcdExpiryHint(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	caCert, caKey := n.CA(t, "etcd/ca")
	key, err := pki.Store{Dir: n.CertDir()}.ReadKey("apiserver-etcd-client")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "kube-apiserver-etcd-client"},
		NotBefore: checkAt.Add(-time.Hour), NotAfter: checkAt.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	if err := os.WriteFile(n.Path("ext-client.crt"), pki.EncodeCert(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	c := *n.Cluster
	c.ExternalEtcd = true
	c.EtcdExternal.CAFile, c.EtcdExternal.CertFile, c.EtcdExternal.KeyFile = n.Path("pki/etcd/ca.crt"), n.Path("ext-client.crt"), n.Path("pki/apiserver-etcd-client.key")
	o := Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: checkAt, WarnWithin: 48 * time.Hour, Cluster: &c}
	err = Report(context.Background(), o, "json", io.Discard, io.Discard)
	if err == nil || strings.Contains(err.Error(), "renew them with `certctl renew`") || !strings.Contains(err.Error(), notRenewedExternal) {
		t.Errorf("only %s expires soon: error %v, want it to say where to renew it, not `certctl renew`", ExternalEtcdClient, err)
	}
}
