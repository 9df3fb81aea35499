package kubeclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestUnansweredTLS: an API server whose certificate does not verify gets
// advice for its case, not "is the API server up and reachable?": expired
// (with the node's other certificates), not valid for the kubeconfig's
// address, or signed by a CA the kubeconfig does not hold.
func TestUnansweredTLS(t *testing.T) {
	now := time.Now()
	newCA := func() (*x509.Certificate, *ecdsa.PrivateKey) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubernetes"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, key
	}
	ca, caKey := newCA()
	other, otherKey := newCA()
	serving := func(signer *x509.Certificate, signerKey *ecdsa.PrivateKey, notAfter time.Time, ips ...net.IP) tls.Certificate {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: notAfter,
			DNSNames: []string{"kubernetes"}, IPAddresses: ips, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, key.Public(), signerKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	loopback := net.ParseIP("127.0.0.1")
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, pki.EncodeCert(ca), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", "")
	for _, tc := range []struct {
		name string
		cert tls.Certificate
		want string
	}{
		{"expired", serving(ca, caKey, now.Add(-time.Hour), loopback), "the API server's certificate is not valid now: on the control-plane node, see which certificates expired (sudo certctl check-expiration)"},
		{"no IP SAN", serving(ca, caKey, now.Add(time.Hour)), "the API server's certificate is not valid for the address of the server of kubeconfig "},
		{"another CA", serving(other, otherKey, now.Add(time.Hour), loopback), "the API server's certificate is not signed by a CA of kubeconfig "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.NotFoundHandler())
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{tc.cert}}
			srv.StartTLS()
			defer srv.Close()
			kc := tokenKubeconfig(t, srv.URL, nil)
			b, _ := os.ReadFile(kc)
			if err := os.WriteFile(kc, []byte(strings.Replace(string(b), "insecure-skip-tls-verify: true", "certificate-authority: "+caFile, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := New(Options{Kubeconfig: kc})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CoreV1().ConfigMaps("kube-system").Get(context.Background(), "x", metav1.GetOptions{})
			err = Unanswered(err, "; nothing was changed")
			treetest.ErrMentions(t, err, srv.URL, tc.want, "; nothing was changed")
			if strings.Contains(err.Error(), "up and reachable") {
				t.Errorf("error %q asks whether the API server is up", err)
			}
		})
	}
}

// TestUnansweredOnce: advice is added once, however many callers up the
// chain ask (phases/signer's APIHint over a CSR's get): it was given twice,
// in two wordings.
func TestUnansweredOnce(t *testing.T) {
	err := &url.Error{Op: "Get", URL: "https://127.0.0.1:6443", Err: x509.UnknownAuthorityError{}}
	once := Unanswered(err, "")
	twice := Unanswered(fmt.Errorf("get CSR csr-1: %w", once), "; nothing was changed")
	if n := strings.Count(twice.Error(), "the API server's certificate is not signed"); n != 1 || strings.HasSuffix(twice.Error(), "nothing was changed") {
		t.Errorf("advised twice: %v", twice)
	}
	if !errors.As(twice, new(x509.UnknownAuthorityError)) {
		t.Errorf("%v lost its cause", twice)
	}
}
