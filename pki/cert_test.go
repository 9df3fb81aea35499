package pki

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"testing"
	"time"
)

var fixedNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func TestNewValidity(t *testing.T) {
	v := NewValidity(fixedNow.Add(123*time.Millisecond), 5*time.Minute, 365*24*time.Hour)
	if want := fixedNow.Add(-5 * time.Minute); !v.NotBefore.Equal(want) {
		t.Errorf("NotBefore = %v, want %v", v.NotBefore, want)
	}
	if want := fixedNow.Add(365 * 24 * time.Hour); !v.NotAfter.Equal(want) {
		t.Errorf("NotAfter = %v, want %v", v.NotAfter, want)
	}
}

func TestCapToCA(t *testing.T) {
	ca := &x509.Certificate{NotAfter: fixedNow.Add(30 * 24 * time.Hour)}
	tests := []struct {
		name       string
		v          Validity
		wantCapped bool
		wantErr    error
	}{
		{"inside", Validity{fixedNow, fixedNow.Add(24 * time.Hour)}, false, nil},
		{"outlives CA", Validity{fixedNow, fixedNow.Add(365 * 24 * time.Hour)}, true, nil},
		{"CA expired", Validity{fixedNow.Add(31 * 24 * time.Hour), fixedNow.Add(400 * 24 * time.Hour)}, false, ErrCAExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, capped, err := CapToCA(tt.v, ca)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if capped != tt.wantCapped {
				t.Errorf("capped = %v, want %v", capped, tt.wantCapped)
			}
			if got.NotAfter.After(ca.NotAfter) {
				t.Errorf("NotAfter %v is after the CA's %v", got.NotAfter, ca.NotAfter)
			}
		})
	}
}

// TestSignProfiles signs every kubeadm profile with every algorithm and
// checks the certificate says exactly what kubeadm's would.
func TestSignProfiles(t *testing.T) {
	list := Kubeadm().Certificates(testNode())
	for _, alg := range []KeyAlgorithm{RSA2048, ECDSAP256, ECDSAP384} {
		t.Run(string(alg), func(t *testing.T) {
			cas := map[string]*x509.Certificate{}
			caKeys := map[string]crypto.Signer{}
			for _, p := range list {
				key, err := GenerateKey(rand.Reader, alg)
				if err != nil {
					t.Fatal(err)
				}
				var cert *x509.Certificate
				if p.IsCA {
					cert, err = NewSelfSignedCA(rand.Reader, p, key, NewValidity(fixedNow, 5*time.Minute, 10*365*24*time.Hour))
					cas[p.Name], caKeys[p.Name] = cert, key
				} else {
					ca := cas[p.CAName]
					cert, err = Sign(rand.Reader, p, key.Public(), ca, caKeys[p.CAName], NewValidity(fixedNow, 5*time.Minute, 365*24*time.Hour))
				}
				if err != nil {
					t.Fatalf("%s: %v", p.Name, err)
				}
				checkCert(t, p, cert, alg)
				if !p.IsCA {
					if err := VerifySignedBy(cert, nil, cas[p.CAName], fixedNow); err != nil {
						t.Errorf("%s: %v", p.Name, err)
					}
				}
				if err := KeyMatches(cert, key); err != nil {
					t.Errorf("%s: %v", p.Name, err)
				}
			}
		})
	}
}

func checkCert(t *testing.T, p Profile, c *x509.Certificate, alg KeyAlgorithm) {
	t.Helper()
	if c.Subject.CommonName != p.CommonName {
		t.Errorf("%s: CN = %q, want %q", p.Name, c.Subject.CommonName, p.CommonName)
	}
	if len(c.Subject.Organization) != len(p.Organization) {
		t.Errorf("%s: O = %v, want %v", p.Name, c.Subject.Organization, p.Organization)
	}
	if !c.BasicConstraintsValid || c.IsCA != p.IsCA {
		t.Errorf("%s: BasicConstraints valid=%v CA=%v, want CA=%v", p.Name, c.BasicConstraintsValid, c.IsCA, p.IsCA)
	}
	wantKU := x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature
	if p.IsCA {
		wantKU |= x509.KeyUsageCertSign
		if len(c.DNSNames) != 1 || c.DNSNames[0] != p.CommonName {
			t.Errorf("%s: CA DNS SANs = %v, want [%s] as kubeadm writes", p.Name, c.DNSNames, p.CommonName)
		}
	}
	if c.KeyUsage != wantKU {
		t.Errorf("%s: KeyUsage = %v, want %v", p.Name, c.KeyUsage, wantKU)
	}
	if len(c.ExtKeyUsage) != len(p.ExtKeyUsages) {
		t.Errorf("%s: ExtKeyUsage = %v, want %v", p.Name, c.ExtKeyUsage, p.ExtKeyUsages)
	}
	if AlgorithmOf(c.PublicKey) != alg {
		t.Errorf("%s: key algorithm = %q, want %q", p.Name, AlgorithmOf(c.PublicKey), alg)
	}
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 63 {
		t.Errorf("%s: serial %v outside [1, 2^63)", p.Name, c.SerialNumber)
	}
	if !c.NotBefore.Equal(fixedNow.Add(-5 * time.Minute)) {
		t.Errorf("%s: NotBefore = %v", p.Name, c.NotBefore)
	}
	if !p.IsCA && len(MissingSANs(c, p.DNSNames, p.IPs)) > 0 {
		t.Errorf("%s: missing SANs %v", p.Name, MissingSANs(c, p.DNSNames, p.IPs))
	}
}

func TestGenerateKeyAlgorithms(t *testing.T) {
	tests := []struct {
		alg  KeyAlgorithm
		bits int
	}{{RSA2048, 2048}, {RSA3072, 3072}, {ECDSAP256, 256}, {ECDSAP384, 384}}
	for _, tt := range tests {
		t.Run(string(tt.alg), func(t *testing.T) {
			k, err := GenerateKey(rand.Reader, tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			switch pub := k.Public().(type) {
			case *rsa.PublicKey:
				if pub.N.BitLen() != tt.bits {
					t.Errorf("bits = %d", pub.N.BitLen())
				}
			case *ecdsa.PublicKey:
				if pub.Curve.Params().BitSize != tt.bits {
					t.Errorf("bits = %d", pub.Curve.Params().BitSize)
				}
			}
			if AlgorithmOf(k.Public()) != tt.alg {
				t.Errorf("AlgorithmOf = %q", AlgorithmOf(k.Public()))
			}
			pemKey, err := MarshalPrivateKey(k)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParsePrivateKey(pemKey)
			if err != nil {
				t.Fatal(err)
			}
			if !SamePublicKey(back.Public(), k.Public()) {
				t.Error("key does not round-trip through PEM")
			}
		})
	}
	if _, err := ParseKeyAlgorithm("RSA-1024"); err == nil {
		t.Error("RSA-1024 accepted")
	}
}

func TestNewCSR(t *testing.T) {
	list := Kubeadm().Certificates(testNode())
	p, _ := Find(list, "apiserver")
	key, _ := GenerateKey(rand.Reader, ECDSAP256)
	r, err := NewCSR(rand.Reader, p, key)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseCSR(EncodeCSR(r))
	if err != nil {
		t.Fatal(err)
	}
	if back.Subject.CommonName != "kube-apiserver" || len(back.DNSNames) != len(p.DNSNames) || len(back.IPAddresses) != len(p.IPs) {
		t.Errorf("CSR = CN %q DNS %v IPs %v", back.Subject.CommonName, back.DNSNames, back.IPAddresses)
	}
	if !SamePublicKey(back.PublicKey, key.Public()) {
		t.Error("CSR public key differs from the key")
	}
}

func TestKeyPool(t *testing.T) {
	p := NewKeyPool(rand.Reader, ECDSAP256, 5, 2)
	defer p.Close()
	seen := map[string]bool{}
	for i := 0; i < 7; i++ { // two more than pre-generated
		k, err := p.Get(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKIXPublicKey(k.Public())
		if seen[string(der)] {
			t.Fatal("pool returned the same key twice")
		}
		seen[string(der)] = true
	}
}

func TestKeyPoolGetHonoursContext(t *testing.T) {
	p := NewKeyPool(rand.Reader, RSA4096, 1, 1)
	p.Close() // the worker stops after (or before) its key: Get must not hang
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Get(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}
