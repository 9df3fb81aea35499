package reqfile

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/fuzzseed"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// apiserverSpec is the API server certificate's request, with a fixed-size
// RSA key (only its type and size end up in the file) and no CA on disk.
func apiserverSpec(t testing.TB) Spec {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return Spec{
		Profile: pki.Profile{Name: "apiserver", CommonName: "kube-apiserver", LongName: "certificate for serving the Kubernetes API",
			DNSNames: []string{"cp-1", "kubernetes", "kubernetes.default"}, IPs: []net.IP{net.IPv4(10, 96, 0, 1).To4(), net.ParseIP("fd00::1")},
			ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		CSR: "apiserver.csr", Certificate: "apiserver.crt", Key: "apiserver.key",
		CAName: "ca", CAFile: "ca.crt", PublicKey: key.Public(), Validity: 365 * 24 * time.Hour,
	}
}

// TestGolden pins the file format: docs/external-ca.md shows this file.
func TestGolden(t *testing.T) {
	data, err := Marshal(New(apiserverSpec(t)))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "apiserver.request.json")
	if *update {
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("request file differs from %s (go test -update to accept):\n%s", golden, data)
	}
}

func TestRoundTrip(t *testing.T) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caKey, _ := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	ca, err := pki.NewSelfSignedCA(rand.Reader, pki.Profile{Name: "ca", CommonName: "kubernetes", IsCA: true}, caKey,
		pki.NewValidity(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 0, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		change        func(s *Spec)
		wantKeyUsage  x509.KeyUsage
		wantCASubject string
	}{
		{"RSA", nil, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ""},
		{"ECDSA, CA on disk", func(s *Spec) { s.PublicKey, s.CA = ecKey.Public(), ca }, x509.KeyUsageDigitalSignature, "CN=kubernetes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := apiserverSpec(t)
			if tt.change != nil {
				tt.change(&s)
			}
			data, err := Marshal(New(s))
			if err != nil {
				t.Fatal(err)
			}
			r, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			p, err := r.Profile()
			if err != nil {
				t.Fatal(err)
			}
			want := s.Profile
			want.LongName, want.CAName, want.RequiredKeyUsage = "", "ca", tt.wantKeyUsage
			if !reflect.DeepEqual(p, want) {
				t.Errorf("profile\n got %+v\nwant %+v", p, want)
			}
			if r.CA.Subject != tt.wantCASubject || (s.CA != nil) != (r.CA.SHA256 != "") {
				t.Errorf("CA = %+v", r.CA)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	good, err := Marshal(New(apiserverSpec(t)))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) []byte { return bytes.Replace(good, []byte(old), []byte(new), 1) }
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not JSON", []byte("apiVersion: certctl.io/v1"), "invalid character"},
		{"other version", edit(`"certctl.io/v1"`, `"certctl.io/v2"`), `apiVersion "certctl.io/v2"`},
		{"no name", edit(`"name": "apiserver"`, `"name": ""`), "no name"},
		{"key and kubeconfig", edit(`"key": "apiserver.key"`, `"key": "apiserver.key", "kubeconfig": "admin.conf"`), "exactly one of key and kubeconfig"},
		{"a path", edit(`"csr": "apiserver.csr"`, `"csr": "../../etc/shadow"`), `csr "../../etc/shadow" must be a file name`},
		{"unknown usage", edit(`"serverAuth"`, `"ipsecTunnel"`), `unknown extKeyUsage "ipsecTunnel"`},
		{"unknown key usage", edit(`"keyEncipherment"`, `"keyCertSign"`), `unknown keyUsage "keyCertSign"`},
		{"bad IP", edit(`"10.96.0.1"`, `"10.96.0.300"`), `invalid IP address "10.96.0.300"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestWriteKeepsSameContent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etcd", "server"+Suffix)
	r := New(apiserverSpec(t))
	if wrote, err := Write(path, r); err != nil || !wrote {
		t.Fatalf("first write: %v, %v", wrote, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != Mode {
		t.Errorf("mode %v, want %v", st.Mode().Perm(), os.FileMode(Mode))
	}
	if wrote, err := Write(path, r); err != nil || wrote {
		t.Errorf("second write: %v, %v; want nothing written", wrote, err)
	}
	if _, err := Read(path); err != nil {
		t.Error(err)
	}
}

func fuzzSeeds(t *testing.T) map[string]fuzzseed.Seed {
	good, err := Marshal(New(apiserverSpec(t)))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]fuzzseed.Seed{
		"apiserver":  {good},
		"truncated":  {good[:len(good)/2]},
		"empty":      {nil},
		"kubeconfig": {bytes.Replace(good, []byte(`"key": "apiserver.key"`), []byte(`"kubeconfig": "admin.conf"`), 1)},
		"null usages": {bytes.Replace(good, []byte(`"extKeyUsage": [
    "serverAuth"
  ]`), []byte(`"extKeyUsage": null`), 1)},
	}
}

func TestFuzzSeeds(t *testing.T) { fuzzseed.Write(t, "FuzzParse", fuzzSeeds(t)) }

// FuzzParse: Parse never panics, and what it accepts has a profile and
// encodes to a file it accepts again with the same meaning.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			return
		}
		p, err := r.Profile()
		if err != nil {
			t.Fatalf("parsed, but no profile: %v", err)
		}
		again, err := Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := Parse(again)
		if err != nil {
			t.Fatalf("re-encoded request refused: %v\n%s", err, again)
		}
		p2, _ := r2.Profile()
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("meaning changed:\n%+v\n%+v", p, p2)
		}
	})
}

// TestReadRefusesFIFO: a FIFO in place of a request file in the CSR folder
// (certs import reads it) is refused at once, naming it.
func TestReadRefusesFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "apiserver.request.json")
	treetest.FIFO(t, fifo)
	err := treetest.Unblocked(t, "Read("+fifo+")", func() error { _, err := Read(fifo); return err })
	if !errors.Is(err, pki.ErrNotRegular) || !strings.Contains(err.Error(), fifo) {
		t.Errorf("Read(%s): %v; want ErrNotRegular naming the file", fifo, err)
	}
}
