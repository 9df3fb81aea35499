package signer

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/promtest"
	"github.com/certctl/certctl/pki"
)

// writePair writes ca as ca.crt and ca.key in s, each file atomically, as an
// operator who renames new files into place one after the other.
func writePair(t *testing.T, s pki.Store, ca *CA) {
	t.Helper()
	if err := s.WriteCert("ca", ca.Cert); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteKey("ca", ca.Key); err != nil {
		t.Fatal(err)
	}
}

// newSource writes old into a new folder and loads it as a CASource that
// logs into a buffer.
func newSource(t *testing.T, old *CA) (*CASource, pki.Store, *Metrics, *bytes.Buffer) {
	t.Helper()
	s := pki.Store{Dir: t.TempDir()}
	writePair(t, s, old)
	var log bytes.Buffer
	m := NewMetrics()
	src, err := LoadCASource(pki.CAName, s.CertPath("ca"), s.KeyPath("ca"), CASourceOptions{
		Now: func() time.Time { return testNow }, Log: slog.New(slog.NewTextHandler(&log, nil)), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	return src, s, m, &log
}

// assertSamples checks that m's /metrics has each wanted sample, and
// returns what /metrics served.
func assertSamples(t *testing.T, m *Metrics, want ...string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(m, nil, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, w := range want {
		if ok, err := promtest.HasSample(rec.Body.String(), w); !ok || err != nil {
			t.Errorf("metrics lack %q (%v):\n%s", w, err, rec.Body.String())
		}
	}
	return rec.Body.String()
}

func TestCASourceCheck(t *testing.T) {
	old := newTestCA(t, "kubernetes", testNow.Add(time.Hour))
	fresh := newTestCA(t, "kubernetes-2", testNow.Add(2*time.Hour))
	expired := newTestCA(t, "kubernetes-expired", testNow.Add(-time.Minute))
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, s pki.Store) // what the operator does
		reload bool                            // fresh signs afterwards
		want   string                          // Check's error: old signs on
	}{
		{"unchanged", func(*testing.T, pki.Store) {}, false, ""},
		{"same pair written again", func(t *testing.T, s pki.Store) { writePair(t, s, old) }, false, ""},
		{"new CA", func(t *testing.T, s pki.Store) { writePair(t, s, fresh) }, true, ""},
		{"new certificate, old key", func(t *testing.T, s pki.Store) {
			if err := s.WriteCert("ca", fresh.Cert); err != nil {
				t.Fatal(err)
			}
		}, false, "does not match"},
		{"new key, old certificate", func(t *testing.T, s pki.Store) {
			if err := s.WriteKey("ca", fresh.Key); err != nil {
				t.Fatal(err)
			}
		}, false, "does not match"},
		{"truncated certificate", func(t *testing.T, s pki.Store) {
			data := pki.EncodeCert(fresh.Cert)
			if err := os.WriteFile(s.CertPath("ca"), data[:len(data)/2], 0o644); err != nil {
				t.Fatal(err)
			}
		}, false, "parse CA certificate"},
		{"certificate removed", func(t *testing.T, s pki.Store) {
			if err := os.Remove(s.CertPath("ca")); err != nil {
				t.Fatal(err)
			}
		}, false, "read CA certificate"},
		{"key removed", func(t *testing.T, s pki.Store) {
			if err := os.Remove(s.KeyPath("ca")); err != nil {
				t.Fatal(err)
			}
		}, false, "read private key"},
		{"expired new CA", func(t *testing.T, s pki.Store) { writePair(t, s, expired) }, false, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, s, m, log := newSource(t, old)
			before := src.Current()
			tc.change(t, s)

			reloaded, err := src.Check()
			if reloaded != tc.reload {
				t.Errorf("Check reloaded = %v, want %v", reloaded, tc.reload)
			}
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Check err = %v, want %q", err, tc.want)
			}
			switch {
			case tc.reload && !src.Current().Cert.Equal(fresh.Cert):
				t.Errorf("signing with %s, want the new CA", src.Current().Cert.Subject)
			case !tc.reload && src.Current() != before:
				t.Errorf("the CA was replaced by %s, want the old one kept", src.Current().Cert.Subject)
			}
			failures, reloads := 0, 0
			if tc.want != "" {
				failures = 1
			}
			if tc.reload {
				reloads = 1
			}
			assertSamples(t, m, fmt.Sprintf(`certctl_signer_ca_reloads_total{ca="ca"} %d`, reloads),
				fmt.Sprintf(`certctl_signer_ca_reload_failures_total{ca="ca"} %d`, failures))
			var warns, infos []string
			for _, l := range strings.Split(strings.TrimSpace(log.String()), "\n") {
				switch {
				case strings.Contains(l, "level=WARN"):
					warns = append(warns, l)
				case strings.Contains(l, "level=INFO"):
					infos = append(infos, l)
				}
			}
			if len(warns) != failures || len(infos) != reloads {
				t.Fatalf("log has %d warnings and %d infos, want %d and %d:\n%s", len(warns), len(infos), failures, reloads, log)
			}
			for _, l := range warns {
				for _, want := range []string{s.CertPath("ca"), s.KeyPath("ca"), tc.want} {
					if !strings.Contains(l, want) {
						t.Errorf("warning lacks %q: %s", want, l)
					}
				}
			}
			for _, l := range infos {
				for _, want := range []string{"CA reloaded", s.CertPath("ca"), s.KeyPath("ca"), "CN=kubernetes-2", fresh.Cert.SerialNumber.Text(16)} {
					if !strings.Contains(l, want) {
						t.Errorf("reload line lacks %q: %s", want, l)
					}
				}
			}
			if tc.want == "" {
				return
			}
			// The next poll tries again, and counts again while the files are unusable...
			if _, err := src.Check(); err == nil || src.Current() != before {
				t.Errorf("second Check: err = %v, want the old CA kept", err)
			}
			assertSamples(t, m, `certctl_signer_ca_reload_failures_total{ca="ca"} 2`)
			// ...and takes the new CA once the operator has replaced both files.
			writePair(t, s, fresh)
			if ok, err := src.Check(); !ok || err != nil || !src.Current().Cert.Equal(fresh.Cert) {
				t.Errorf("Check after the pair is complete: %v, %v, want the new CA", ok, err)
			}
			assertSamples(t, m, `certctl_signer_ca_reloads_total{ca="ca"} 1`)
		})
	}
}

func TestLoadCASourceRefusesBadFiles(t *testing.T) {
	s := pki.Store{Dir: t.TempDir()}
	writePair(t, s, newTestCA(t, "kubernetes", testNow.Add(-time.Minute)))
	_, err := LoadCASource(pki.CAName, s.CertPath("ca"), s.KeyPath("ca"), CASourceOptions{Now: func() time.Time { return testNow }})
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired CA: err = %v, want the signer refused at start", err)
	}
}

func TestWatchCAs(t *testing.T) {
	fresh := newTestCA(t, "kubernetes-2", testNow.Add(2*time.Hour))
	src, s, _, _ := newSource(t, newTestCA(t, "kubernetes", testNow.Add(time.Hour)))
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		WatchCAs(ctx, tick, src)
		close(done)
	}()
	writePair(t, s, fresh)
	// The second send waits for the loop to finish the first tick's checks.
	tick <- testNow
	tick <- testNow
	if !src.Current().Cert.Equal(fresh.Cert) {
		t.Errorf("after a tick, signing with %s, want the new CA", src.Current().Cert.Subject)
	}
	cancel()
	<-done
}

func TestControllerSignsWithReloadedCA(t *testing.T) {
	old := newTestCA(t, "kubernetes", testNow.Add(365*24*time.Hour))
	fresh := newTestCA(t, "kubernetes-2", testNow.Add(365*24*time.Hour))
	src, s, _, _ := newSource(t, old)
	client := fake.NewClientset()
	startController(t, ControllerOptions{Client: client, CAs: map[string]CAProvider{pki.CAName: src},
		Policy: testPolicy(t, PolicyOptions{}), Now: func() time.Time { return testNow }, Workers: 2})
	ctx := t.Context()

	p := profile(t, "apiserver")
	sign := func(name string) *CA {
		t.Helper()
		csrs := client.CertificatesV1().CertificateSigningRequests()
		if _, err := csrs.Create(ctx, apiCSR(name, KubeAPIServerServing, csrFor(t, p), usagesOf(p), true), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			csr, err := csrs.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(csr.Status.Certificate) > 0 {
				certs, err := pki.ParseCerts(csr.Status.Certificate)
				if err != nil {
					t.Fatal(err)
				}
				for _, ca := range []*CA{old, fresh} {
					if pki.VerifySignedBy(certs[0], nil, ca.Cert, testNow) == nil {
						return ca
					}
				}
				t.Fatalf("CSR %s: issued by %s, neither CA", name, certs[0].Issuer)
			}
			if time.Now().After(deadline) {
				t.Fatalf("CSR %s not signed in time: %s", name, State(csr))
			}
		}
	}
	if ca := sign("before"); ca != old {
		t.Errorf("before the rotation, signed by %s, want the old CA", ca.Cert.Subject)
	}
	writePair(t, s, fresh)
	if ok, err := src.Check(); !ok || err != nil {
		t.Fatalf("Check: %v, %v", ok, err)
	}
	if ca := sign("after"); ca != fresh {
		t.Errorf("after the rotation, signed by %s, want the new CA", ca.Cert.Subject)
	}
}

// TestCASourceFollowsRotation: during a CA rotation (docs/ca-rotation.md)
// ca.crt is a bundle. At trust it is OLD then NEW with the old key, and the
// old CA signs on; at reissue NEW then OLD with the new key, and the new CA
// signs; between reissue's two renames the bundle's certificate that the
// key matches, the old one, signs; at finish NEW alone. kube-controller-
// manager cannot read a bundle (LoadCA refuses it), certctl's signer can.
func TestCASourceFollowsRotation(t *testing.T) {
	old := newTestCA(t, "kubernetes", testNow.Add(time.Hour))
	fresh := newTestCA(t, "kubernetes-2", testNow.Add(2*time.Hour))
	other := newTestCA(t, "kubernetes-3", testNow.Add(2*time.Hour))
	src, s, _, _ := newSource(t, old)
	writeCert := func(certs ...*x509.Certificate) {
		t.Helper()
		if err := s.WriteCert("ca", certs...); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []struct {
		name  string
		write func()
		signs *CA
		err   string
	}{
		{"trust", func() { writeCert(old.Cert, fresh.Cert) }, old, ""},
		{"reissue, the bundle written, not the key", func() { writeCert(fresh.Cert, old.Cert) }, old, ""},
		{"reissue", func() {
			if err := s.WriteKey("ca", fresh.Key); err != nil {
				t.Fatal(err)
			}
		}, fresh, ""},
		{"a bundle the key matches none of", func() { writeCert(other.Cert, old.Cert) }, fresh, "does not match"},
		{"finish", func() { writeCert(fresh.Cert) }, fresh, ""},
	} {
		step.write()
		_, err := src.Check()
		if step.err == "" && err != nil || step.err != "" && (err == nil || !strings.Contains(err.Error(), step.err)) {
			t.Errorf("%s: Check err = %v, want %q", step.name, err, step.err)
		}
		if got := src.Current().Cert; !got.Equal(step.signs.Cert) {
			t.Errorf("%s: signing with %s, want %s", step.name, got.Subject, step.signs.Cert.Subject)
		}
	}
	if _, err := LoadCA(s.CertPath("ca"), s.KeyPath("ca"), testNow, false); err != nil {
		t.Errorf("LoadCA of the finished pair: %v", err)
	}
	writeCert(fresh.Cert, old.Cert)
	if _, err := LoadCA(s.CertPath("ca"), s.KeyPath("ca"), testNow, false); err == nil || !strings.Contains(err.Error(), "holds 2 certificates") ||
		!strings.Contains(err.Error(), "after its finish stage (certctl ca rotate NAME --to finish)") {
		t.Errorf("LoadCA of a bundle, for kube-controller-manager: err = %v, want it refused, saying to finish a rotation first", err)
	}
	if ca, err := LoadCA(s.CertPath("ca"), s.KeyPath("ca"), testNow, true); err != nil || !ca.Cert.Equal(fresh.Cert) {
		t.Errorf("LoadCA with bundle of the reissue bundle: %v, want the new CA", err)
	}
}
