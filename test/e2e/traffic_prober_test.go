package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/internal/testcluster"
)

// TestTrafficProber checks the traffic prober that CA rotation is measured with, on one node:
// a healthy cluster gives no failed request of any kind (with the token and the published root
// CA refreshed meanwhile); a stopped kube-apiserver counts as unavailable, not failed; and
// kube-apiserver serving a certificate from a CA its clients do not trust counts as failed.
func TestTrafficProber(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 5*time.Minute)
	nodes := []*testcluster.Cluster{c}
	opts := testcluster.TrafficOptions{TokenRefresh: 2 * time.Second, RootCARefresh: time.Second}

	// Healthy: every kind answers, nothing fails.
	tr, err := testcluster.StartTraffic(ctx, nodes, opts)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	r := tr.Stop()
	t.Logf("healthy cluster:\n%s", r)
	if len(r.Kinds) != len(testcluster.AllTrafficKinds) {
		t.Errorf("%d kinds ran, want all %d", len(r.Kinds), len(testcluster.AllTrafficKinds))
	}
	for _, k := range r.Kinds {
		// 5 s at one request per 50 ms is 100; a busy machine answers more slowly.
		if k.OK() < 20 || k.Failed() != 0 || k.Unavailable() != 0 || k.FewestOK != 1 || k.LongestNoneOK != 0 {
			t.Errorf("%s on a healthy cluster: ok %d, failed %d, unavailable %d, fewest ok %d, longest none ok %v; want >= 20 ok and nothing else",
				k.Kind, k.OK(), k.Failed(), k.Unavailable(), k.FewestOK, k.LongestNoneOK)
		}
	}

	// kube-apiserver stopped: its clients find nothing listening; etcd still answers.
	tr, err = testcluster.StartTraffic(ctx, nodes, opts)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := c.StopComponent(ctx, testcluster.APIServer); err != nil {
		t.Fatal(err)
	}
	// A request cut off by the exit (after SIGKILL, if the grace period ran out) may still be on
	// its way to the report: let it land before the window that must hold only unavailable ones.
	time.Sleep(500 * time.Millisecond)
	before := tr.Report()
	time.Sleep(2 * time.Second)
	r = tr.Stop()
	t.Logf("until kube-apiserver had stopped:\n%s\nthen, with it stopped:\n%s", before, r)
	for _, k := range r.Kinds {
		b, _ := before.Kind(k.Kind)
		ok, failed, unavailable := k.OK()-b.OK(), k.Failed()-b.Failed(), k.Unavailable()-b.Unavailable()
		switch {
		case k.Kind == testcluster.TrafficEtcd && (ok < 5 || failed+unavailable != 0):
			t.Errorf("etcd with kube-apiserver stopped: ok %d, failed %d, unavailable %d; want only ok", ok, failed, unavailable)
		case k.Kind != testcluster.TrafficEtcd && (unavailable < 5 || ok+failed != 0):
			t.Errorf("%s with kube-apiserver stopped: ok %d, failed %d, unavailable %d; want only unavailable", k.Kind, ok, failed, unavailable)
		}
		if k.Kind != testcluster.TrafficEtcd && (k.FewestOK != 0 || k.LongestNoneOK < 2*time.Second) {
			t.Errorf("%s: fewest ok %d, longest none ok %v; want 0 and at least the 2 s it was stopped", k.Kind, k.FewestOK, k.LongestNoneOK)
		}
	}

	// kube-apiserver serves a certificate of another CA (it reloads its serving certificate from
	// the files): every client that trusts ca.crt fails.
	if err := c.StartComponent(ctx, testcluster.APIServer); err != nil {
		t.Fatal(err)
	}
	tr, err = testcluster.StartTraffic(ctx, nodes, opts)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	writeForeignServingCert(t, c)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		k, _ := tr.Report().Kind(testcluster.TrafficAdmin)
		if k.Failed() > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	r = tr.Stop()
	t.Logf("kube-apiserver serving a foreign certificate:\n%s", r)
	for _, k := range r.Kinds {
		switch {
		case k.Kind == testcluster.TrafficEtcd && k.Failed() != 0:
			t.Errorf("etcd: %d failed, want 0: only kube-apiserver's certificate changed", k.Failed())
		case k.Kind != testcluster.TrafficEtcd && k.Failed() == 0:
			t.Errorf("%s: no failed request while kube-apiserver served a certificate its CA did not issue", k.Kind)
		case k.Kind != testcluster.TrafficEtcd && !strings.Contains(k.Endpoints[0].Errors[0].Text, "certificate signed by unknown authority"):
			t.Errorf("%s: first error %q, want an unknown-authority error", k.Kind, k.Endpoints[0].Errors[0].Text)
		}
	}
}

// writeForeignServingCert replaces the node's apiserver.crt/key, atomically, with a serving
// certificate for its address from a new CA that nothing trusts.
func writeForeignServingCert(t *testing.T, c *testcluster.Cluster) {
	t.Helper()
	ca := newCA(t, "foreign-ca")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP(c.Host())},
		DNSNames:     []string{"kubernetes", "localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// The key first: kube-apiserver reloads when either changes and pairs whatever both hold.
	if err := atomicfile.WriteFile(filepath.Join(c.PKIDir(), "apiserver.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(filepath.Join(c.PKIDir(), "apiserver.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}
