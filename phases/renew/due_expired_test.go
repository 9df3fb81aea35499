package renew

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestThresholdExpiredCASaysAgo: with --if-expires-within, a certificate
// that renewing cannot move out of the window because its CA has expired
// was skipped with a negative time left ("its CA ca.crt expires at
// 2021-01-01T00:00:00Z (-51983h46m0s left)", or "valid until ...
// (-720h0m0s left), when its CA expires"). A time that has passed is now
// said as such: "expired at ... (30d ago)".
func TestThresholdExpiredCASaysAgo(t *testing.T) {
	short := func(c *config.Cluster) { c.CACertificateValidity = 100 * 24 * time.Hour }
	for _, tc := range []struct {
		name    string
		outlive bool // apiserver.crt issued for a year, past its CA's end, as kubeadm issues
		want    string
	}{
		// Certificates cut to their CA's expiry: they end with it.
		{"ends with its CA", false, "(30d ago), when its CA"},
		{"outlives its CA", true, "but its CA " + "%s" + " expired at 2026-06-09T10:00:00Z (30d ago)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, short)
			if tc.outlive {
				outlive(t, n)
				tc.want = fmt.Sprintf(tc.want, n.Path("pki/ca.crt"))
			}
			var out, errOut bytes.Buffer
			now := pkitest.Made.Add(130 * 24 * time.Hour)
			o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, Threshold: true, IfExpiresWithin: 720 * time.Hour,
				Now: func() time.Time { return now }, Out: &out, ErrOut: &errOut}
			err := Run(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), "expired at") {
				t.Fatalf("run: %v, want the CA's expiry\n%s", err, out.String())
			}
			if strings.Contains(out.String(), "-") && strings.Contains(out.String(), "m0s left") {
				t.Errorf("a negative time left:\n%s", out.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("output does not say %q:\n%s", tc.want, out.String())
			}
		})
	}
}

// outlive signs n's apiserver.crt again, with its key, for a year: past
// the end of its CA.
func outlive(t *testing.T, n *pkitest.Node) {
	t.Helper()
	caCert, caKey := n.CA(t, "ca")
	key, err := pki.ParsePrivateKey(mustReadFile(t, n.Path("pki/apiserver.key")))
	if err != nil {
		t.Fatal(err)
	}
	node, err := n.Cluster.Node()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := pki.Find(pki.Kubeadm().Certificates(node), "apiserver")
	cert, err := pki.Sign(rand.Reader, p, key.Public(), caCert, caKey, pki.NewValidity(pkitest.Made, time.Minute, 365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Path("pki/apiserver.crt"), pki.EncodeCert(cert), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustReadFile(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
