package carotate

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/expiration"
	"github.com/certctl/certctl/pki"
)

// writeCA writes a certificate made from tmpl for key, self-signed, and
// the key, into dir, and returns their paths.
func writeCA(t *testing.T, dir string, tmpl *x509.Certificate, key *ecdsa.PrivateKey) (string, string) {
	t.Helper()
	cert := pkitest.SelfSigned(t, key, tmpl)
	certPath, keyPath := filepath.Join(dir, "new.crt"), filepath.Join(dir, "new.key")
	keyPEM, err := pki.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pki.EncodeCert(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

func caTemplate(isCA bool) *x509.Certificate {
	return &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "new-root"},
		NotBefore: pkitest.Made, NotAfter: pkitest.Made.Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: isCA}
}

// TestRefusedStageChangesNothing: a stage that is refused, in its check
// pass, leaves the node's tree byte-identical, and says why.
func TestRefusedStageChangesNothing(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	tests := []struct {
		name   string
		ca     string
		before func(t *testing.T, f *fixture) // stages run before the refused one
		change func(t *testing.T, f *fixture, o *Options)
		want   []string
	}{
		{name: "new CA is not a CA", ca: "ca",
			change: func(t *testing.T, f *fixture, o *Options) {
				o.NewCACert, o.NewCAKey = writeCA(t, t.TempDir(), caTemplate(false), key)
			}, want: []string{"not a CA certificate"}},
		{name: "new CA key does not match", ca: "front-proxy-ca",
			change: func(t *testing.T, f *fixture, o *Options) {
				dir := t.TempDir()
				o.NewCACert, _ = writeCA(t, dir, caTemplate(true), key)
				_, o.NewCAKey = writeCA(t, t.TempDir(), caTemplate(true), otherKey)
			}, want: []string{"does not match"}},
		{name: "weak sa key", ca: "sa",
			change: func(t *testing.T, f *fixture, o *Options) {
				p := filepath.Join(t.TempDir(), "weak.key")
				data, _ := pki.MarshalPrivateKey(weak)
				os.WriteFile(p, data, 0o600)
				o.NewCAKey = p
			}, want: []string{"weak.key", "1024"}},
		{name: "current key as the new one", ca: "etcd-ca",
			change: func(t *testing.T, f *fixture, o *Options) {
				o.NewCACert = filepath.Join(f.node.CertDir(), "etcd", "ca.crt")
				o.NewCAKey = filepath.Join(f.node.CertDir(), "etcd", "ca.key")
			}, want: []string{"current etcd-ca CA"}},
		{name: "sa finish before the tokens expire", ca: "sa",
			before: func(t *testing.T, f *fixture) {
				f.rotate(t, "sa", nil)
				f.rotate(t, "sa", nil)
				restartsRecorded(t, f, "sa")
			},
			change: func(t *testing.T, f *fixture, o *Options) {}, want: []string{"--force", "valid until"}},
		{name: "finish with a leaf of the old CA", ca: "front-proxy-ca",
			before: func(t *testing.T, f *fixture) {
				f.rotate(t, "front-proxy-ca", nil)
				leaf := filepath.Join(f.node.CertDir(), "front-proxy-client")
				crt, _ := os.ReadFile(leaf + ".crt")
				k, _ := os.ReadFile(leaf + ".key")
				f.rotate(t, "front-proxy-ca", nil)
				// put back the client certificate of the old CA
				os.WriteFile(leaf+".crt", crt, 0o644)
				os.WriteFile(leaf+".key", k, 0o600)
			},
			change: func(t *testing.T, f *fixture, o *Options) {}, want: []string{"front-proxy-client.crt", "old front-proxy-ca CA"}},
		{name: "restarts owed", ca: "ca",
			before: func(t *testing.T, f *fixture) { f.rotate(t, "ca", nil) },
			change: func(t *testing.T, f *fixture, o *Options) { o.Restarted = false },
			want:   []string{"kube-apiserver", "--restarted", "--restart-control-plane"}},
		{name: "no manifest of kube-controller-manager", ca: "ca",
			change: func(t *testing.T, f *fixture, o *Options) {
				o.ManifestDir = t.TempDir()
			}, want: []string{"kube-controller-manager", "--manifest-dir"}},
		{name: "abort without rotation", ca: "etcd-ca",
			change: func(t *testing.T, f *fixture, o *Options) { o.Abort = true },
			want:   []string{"no rotation of etcd-ca"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.before != nil {
				tt.before(t, f)
			}
			f.now = f.now.Add(time.Minute)
			before := treetest.Snapshot(t, f.node.Dir)
			o := f.options(nil)
			tt.change(t, f, &o)
			var out bytes.Buffer
			o.Out = &out
			_, err := Rotate(context.Background(), tt.ca, o)
			if err == nil {
				t.Fatalf("ca rotate %s succeeded\n%s", tt.ca, out.String())
			}
			treetest.ErrMentions(t, err, tt.want...)
			after := treetest.Snapshot(t, f.node.Dir)
			// The lock file is certctl's, and holds the last holder's PID.
			delete(before, filepath.Join(f.node.Dir, lock.FileName))
			delete(after, filepath.Join(f.node.Dir, lock.FileName))
			treetest.AssertSame(t, before, after)
		})
	}
}

// TestGivenCA: a CA given with --new-ca-cert/--new-ca-key becomes the new CA.
func TestGivenCA(t *testing.T) {
	f := newFixture(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	certPath, keyPath := writeCA(t, t.TempDir(), caTemplate(true), key)
	rec := f.rotate(t, "ca", func(o *Options) { o.NewCACert, o.NewCAKey = certPath, keyPath })
	given, _, err := pki.ReadCertFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	if rec.NewCA != fingerprint(given) {
		t.Fatalf("the record's new CA is %s, want the given one %s", rec.NewCA, fingerprint(given))
	}
	rec = f.rotate(t, "ca", nil)
	k, _ := kindOf("ca")
	checkStage(t, f, "ca", rec, rec.NewCA, []string{rec.NewCA, rec.OldCA}, cas(t, k, k.paths(f.node.CertDir())))
}

// TestCheckExpirationAtEveryStage: certctl's check-expiration reports no
// problem at any stage of any rotation: a bundle ca.crt is not broken.
func TestCheckExpirationAtEveryStage(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			check := func(stage string) {
				info, err := expiration.Check(expiration.Options{CertDir: f.node.CertDir(), KubeconfigDir: f.node.Dir, Now: f.now})
				if err != nil {
					t.Fatal(err)
				}
				if ps := info.Problems(); len(ps) > 0 {
					t.Errorf("check-expiration at %s: %v", stage, ps)
				}
			}
			check("start")
			for range 3 {
				f.now = f.now.Add(2 * time.Hour)
				rec := f.rotate(t, name, nil)
				check(rec.Stage)
			}
		})
	}
}

// TestDryRunChangesNothing: --dry-run of every stage reads and checks,
// says what it would write, and writes nothing.
func TestDryRunChangesNothing(t *testing.T) {
	f := newFixture(t)
	for _, step := range []string{stepTrust, stepReissue, stepFinish} {
		before := treetest.Snapshot(t, f.node.Dir)
		var out bytes.Buffer
		o := f.options(func(o *Options) { o.DryRun = true })
		o.Out = &out
		if _, err := Rotate(context.Background(), "ca", o); err != nil {
			t.Fatalf("dry run of %s: %v", step, err)
		}
		if !strings.Contains(out.String(), "the next stage is "+step) || !strings.Contains(out.String(), "ca.crt") {
			t.Errorf("dry run of %s says:\n%s", step, out.String())
		}
		treetest.AssertSame(t, before, treetest.Snapshot(t, f.node.Dir))
		f.now = f.now.Add(time.Hour)
		f.rotate(t, "ca", nil)
	}
}
