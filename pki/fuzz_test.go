package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/fuzzseed"
)

// fuzzSeeds are the starting inputs of the fuzz targets below: real PEM
// files as kubeadm and the kubelet write them, and the broken shapes seen
// on disks. -write-seeds stores them in testdata/fuzz/.
func fuzzSeeds(t *testing.T) (certs, keys, pairs map[string]fuzzseed.Seed) {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ca, err := NewSelfSignedCA(rand.Reader, Profile{Name: "ca", CommonName: "kubernetes", IsCA: true}, ec, NewValidity(now, 0, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := Sign(rand.Reader, Profile{Name: "apiserver", CommonName: "kube-apiserver", DNSNames: []string{"kubernetes"},
		ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, rk.Public(), ca, ec, NewValidity(now, 0, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ecPEM, _ := MarshalPrivateKey(ec)
	rsaPEM, _ := MarshalPrivateKey(rk)
	p8, _ := x509.MarshalPKCS8PrivateKey(rk)
	ed8, _ := x509.MarshalPKCS8PrivateKey(ed)
	caPEM, leafPEM := EncodeCert(ca), EncodeCert(leaf)
	// What openssl, cfssl and hand edits leave: a SHA-1 signature and an
	// unknown critical extension, which Go's TLS stack refuses although
	// the CA signed them; EC PARAMETERS before the key (openssl ecparam
	// -genkey); encrypted keys; CRLF line ends.
	sha1Leaf := *leaf
	sha1Leaf.SignatureAlgorithm = x509.ECDSAWithSHA1
	sha1Leaf.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}}}
	sha1DER, err := x509.CreateCertificate(rand.Reader, &sha1Leaf, ca, rk.Public(), ec)
	if err != nil {
		t.Fatal(err)
	}
	sha1PEM := encodePEM("CERTIFICATE", sha1DER)
	crlf := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }
	ecParams := []byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n")
	encrypted := []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n")
	garbage := []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
	certs = map[string]fuzzseed.Seed{
		"ca":             {caPEM},
		"leaf and chain": {append(append([]byte{}, leafPEM...), caPEM...)},
		"truncated":      {leafPEM[:len(leafPEM)/2]},
		"not base64":     {garbage},
		"raw DER":        {leaf.Raw},
		"a key":          {rsaPEM},
		"empty":          {nil},
		"with headers":   {bytes.Replace(caPEM, []byte("\n"), []byte("\nProc-Type: 4,ENCRYPTED\n"), 1)},
		"sha1 critical":  {sha1PEM},
		"ca first":       {append(append([]byte{}, caPEM...), leafPEM...)},
		"crlf":           {crlf(leafPEM)},
	}
	keys = map[string]fuzzseed.Seed{
		"rsa pkcs1":        {rsaPEM},
		"ecdsa sec1":       {ecPEM},
		"rsa pkcs8":        {encodePEM("PRIVATE KEY", p8)},
		"ed25519 pkcs8":    {encodePEM("PRIVATE KEY", ed8)},
		"kubelet pem":      {append(append([]byte{}, leafPEM...), rsaPEM...)},
		"truncated":        {rsaPEM[:len(rsaPEM)-40]},
		"a certificate":    {caPEM},
		"public key":       {mustPub(t, rk.Public())},
		"empty":            {nil},
		"wrong pem type":   {bytes.Replace(ecPEM, []byte("EC PRIVATE"), []byte("RSA PRIVATE"), 2)},
		"ec parameters":    {append(append([]byte{}, ecParams...), ecPEM...)},
		"encrypted":        {encrypted},
		"legacy encrypted": {bytes.Replace(rsaPEM, []byte("KEY-----\n"), []byte("KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,8AED6EFC0F66D007093A4CB1F2398D6A\n\n"), 1)},
		"two keys":         {append(append([]byte{}, ecPEM...), rsaPEM...)},
		"crlf":             {crlf(rsaPEM)},
	}
	pairs = map[string]fuzzseed.Seed{
		"matching":      {leafPEM, rsaPEM},
		"mismatch":      {leafPEM, ecPEM},
		"ca and key":    {caPEM, ecPEM},
		"corrupt cert":  {garbage, rsaPEM},
		"sha1 critical": {sha1PEM, rsaPEM},
		"ca first":      {append(append([]byte{}, caPEM...), leafPEM...), rsaPEM},
	}
	return certs, keys, pairs
}

func mustPub(t *testing.T, pub any) []byte {
	b, err := MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFuzzSeeds(t *testing.T) {
	certs, keys, pairs := fuzzSeeds(t)
	fuzzseed.Write(t, "FuzzParseCerts", certs)
	fuzzseed.Write(t, "FuzzParsePrivateKey", keys)
	fuzzseed.Write(t, "FuzzReadPair", pairs)
}

// FuzzParseCerts: any input either fails or gives certificates that
// encode back to themselves.
func FuzzParseCerts(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCerts(data)
		if err != nil {
			return
		}
		if len(certs) == 0 {
			t.Fatal("no error and no certificate")
		}
		for _, c := range certs {
			again, err := ParseCerts(EncodeCert(c))
			if err != nil || !again[0].Equal(c) {
				t.Fatalf("certificate does not round-trip: %v", err)
			}
		}
	})
}

// FuzzParsePrivateKey: any input either fails or gives an RSA or ECDSA key
// that marshals and parses back to the same key.
func FuzzParsePrivateKey(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePrivateKey(data)
		if err != nil {
			return
		}
		pemData, err := MarshalPrivateKey(k)
		if err != nil {
			t.Fatalf("parsed key does not marshal: %v", err)
		}
		again, err := ParsePrivateKey(pemData)
		if err != nil || !SamePublicKey(again.Public(), k.Public()) {
			t.Fatalf("key does not round-trip: %v", err)
		}
	})
}

// FuzzReadPair drives the file path renewal and check-expiration take: a
// certificate file and a key file read from disk, matched and verified.
func FuzzReadPair(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, certData, keyData []byte) {
		s := Store{Dir: dir}
		if err := os.WriteFile(s.CertPath("x"), certData, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(s.KeyPath("x"), keyData, 0o600); err != nil {
			t.Fatal(err)
		}
		cert, inter, err := s.ReadCert("x")
		if err != nil {
			if !bytes.Contains([]byte(err.Error()), []byte(filepath.Join(dir, "x.crt"))) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		key, err := s.ReadKey("x")
		if err != nil {
			return
		}
		if KeyMatches(cert, key) == nil && !SamePublicKey(cert.PublicKey, key.Public()) {
			t.Fatal("KeyMatches accepted a key that is not the certificate's")
		}
		_ = VerifySignedBy(cert, inter, cert, time.Now())
		_ = MissingSANs(cert, []string{"kubernetes"}, nil)
	})
}
