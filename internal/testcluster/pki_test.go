package testcluster

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWriteDefaultRunsCertctl runs the harness's default PKI step with the
// certctl under test: every cluster of the e2e tests and of `testcluster
// up` starts from it. It gave `init-phase kubeconfig all` the two flags
// that set the API server's SANs, which that command refuses (its files
// carry no SAN), and no cluster started; the certificates must still get
// the cluster's service address.
func TestWriteDefaultRunsCertctl(t *testing.T) {
	dir := t.TempDir()
	s := &PKISpec{
		CertDir: filepath.Join(dir, "pki"), KubeconfigDir: dir,
		NodeName: "cp-test", AdvertiseAddress: "127.0.0.1", BindPort: 6443, ControlPlaneEndpoint: "127.0.0.1:6443",
		ServiceCIDR: "10.32.0.0/16", DNSDomain: "corp.example",
		Log:     io.Discard,
		certctl: CertctlBinary,
	}
	if err := s.WriteDefault(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "admin.conf")); err != nil {
		t.Errorf("WriteDefault made no kubeconfig: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(s.CertDir, "apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(data)
	if blk == nil {
		t.Fatal("apiserver.crt: no PEM block")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(cert.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.ParseIP("10.32.0.1")) }) ||
		!slices.Contains(cert.DNSNames, "kubernetes.default.svc.corp.example") {
		t.Errorf("apiserver.crt SANs %v %v: want the service address 10.32.0.1 and kubernetes.default.svc.corp.example of the spec", cert.DNSNames, cert.IPAddresses)
	}
}
