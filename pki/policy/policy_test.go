package policy

import (
	"crypto"
	"crypto/dsa" //nolint:staticcheck // a DSA key, as openssl makes one, must be named
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/pki"
)

func TestKey(t *testing.T) {
	gen := func(c elliptic.Curve) crypto.PublicKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k.Public()
	}
	rsaKey := func(bits int) crypto.PublicKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		return k.Public()
	}
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name string
		pub  crypto.PublicKey
		ed   bool
		want string // "" when accepted
	}{
		{"RSA-2048", rsaKey(2048), false, ""},
		{"RSA-1024", rsaKey(1024), false, "is RSA-1024"},
		{"P-256", gen(elliptic.P256()), false, ""},
		{"P-384", gen(elliptic.P384()), false, ""},
		{"P-521", gen(elliptic.P521()), false, ""},
		{"P-224", gen(elliptic.P224()), false, "is ECDSA P-224"},
		{"Ed25519 refused", edPub, false, "is Ed25519"},
		{"Ed25519 accepted", edPub, true, ""},
		{"unknown", "a string", false, "is string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Key("key x.key", tc.pub, tc.ed)
			var v *Violation
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (!errors.As(err, &v) || v.Reason != ReasonKeyNotAllowed || !strings.Contains(err.Error(), "key x.key "+tc.want)):
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestValidity(t *testing.T) {
	if err := Validity("--certificate-validity", time.Nanosecond); err == nil || !strings.Contains(err.Error(), "--certificate-validity 1ns is shorter than 1h0m0s") {
		t.Errorf("1ns: %v", err)
	}
	if err := Validity("v", time.Hour); err != nil {
		t.Errorf("1h: %v", err)
	}
}

func TestCheckSign(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	weak, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr := func(subject pkix.Name, k crypto.Signer, exts ...pkix.Extension) *x509.CertificateRequest {
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, ExtraExtensions: exts}, k)
		if err != nil {
			t.Fatal(err)
		}
		r, err := x509.ParseCertificateRequest(der)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	caTrue := pkix.Extension{Id: oidBasicConstraints, Critical: true, Value: []byte{0x30, 0x03, 0x01, 0x01, 0xff}}
	plain := csr(pkix.Name{CommonName: "svc"}, key)
	masters := csr(pkix.Name{CommonName: "root", Organization: []string{pki.MastersGroup}}, key)
	client := []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth}
	ok := Request{SignerName: "example.com/serving", CSR: plain, Usages: client, Approved: true, Username: "alice", Groups: []string{"devs"}}
	with := func(f func(*Request)) Request { q := ok; f(&q); return q }
	optIn := Rules{AllowSystemMasters: true, RequesterGroups: []string{"admins"}}
	for _, tc := range []struct {
		name  string
		rules Rules
		q     Request
		want  string // the reason, "" when signed
	}{
		{"ok", Rules{}, ok, ""},
		{"kubernetes.io name", Rules{}, with(func(q *Request) { q.SignerName = "kubernetes.io/kube-apiserver-client" }), ReasonUnknownSigner},
		{"unapproved", Rules{}, with(func(q *Request) { q.Approved = false }), ReasonNotApproved},
		{"CA:TRUE", Rules{}, with(func(q *Request) { q.CSR = csr(pkix.Name{CommonName: "svc"}, key, caTrue) }), ReasonCARequested},
		{"cert sign usage", Rules{}, with(func(q *Request) { q.Usages = []certv1.KeyUsage{certv1.UsageCertSign} }), ReasonCARequested},
		{"P-224", Rules{}, with(func(q *Request) { q.CSR = csr(pkix.Name{CommonName: "svc"}, weak) }), ReasonKeyNotAllowed},
		{"no usages", Rules{}, with(func(q *Request) { q.Usages = nil }), ReasonUsageNotAllowed},
		{"the any usage", Rules{}, with(func(q *Request) { q.Usages = []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageAny} }), ReasonUsageNotAllowed},
		{"masters without opt-in", Rules{RequesterGroups: []string{"devs"}}, with(func(q *Request) { q.CSR = masters }), ReasonSystemMastersRefused},
		{"masters, requester not allowed", optIn, with(func(q *Request) { q.CSR = masters }), ReasonSystemMastersRefused},
		{"masters, requester allowed", optIn, with(func(q *Request) { q.CSR, q.Groups = masters, []string{"admins"} }), ""},
		{"cluster-admins, requester not allowed", optIn, with(func(q *Request) {
			q.CSR = csr(pkix.Name{CommonName: "kubernetes-admin", Organization: []string{pki.ClusterAdminsGroup}}, key)
		}), ReasonRequesterNotAllowed},
		{"cluster-admins, nobody allowed", Rules{}, with(func(q *Request) {
			q.CSR = csr(pkix.Name{CommonName: "kubernetes-admin", Organization: []string{pki.ClusterAdminsGroup}}, key)
		}), ReasonRequesterNotAllowed},
		{"cluster-admins, requester allowed", optIn, with(func(q *Request) {
			q.CSR, q.Groups = csr(pkix.Name{CommonName: "kubernetes-admin", Organization: []string{pki.ClusterAdminsGroup}}, key), []string{"admins"}
		}), ""},
		{"a requester group in O, requester not in it", Rules{RequesterGroups: []string{"devs-admins"}}, with(func(q *Request) {
			q.CSR = csr(pkix.Name{CommonName: "x", Organization: []string{"devs-admins"}}, key)
		}), ReasonRequesterNotAllowed},
		{"two CNs", Rules{}, with(func(q *Request) {
			q.CSR = csr(pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "evil"}, {Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "svc"}}}, key)
		}), ReasonSubjectNotAllowed},
		{"a control-plane certificate, requester not allowed", optIn, with(func(q *Request) { q.ControlPlane = "controller-manager.conf" }), ReasonRequesterNotAllowed},
		{"a control-plane certificate, nobody allowed", Rules{}, with(func(q *Request) { q.ControlPlane = "apiserver-etcd-client" }), ReasonRequesterNotAllowed},
		{"a control-plane certificate, requester allowed", optIn, with(func(q *Request) { q.ControlPlane, q.Groups = "controller-manager.conf", []string{"admins"} }), ""},
		{"masters in a second O", optIn, with(func(q *Request) {
			q.CSR = csr(pkix.Name{CommonName: "root", Organization: []string{"devs", pki.MastersGroup}}, key)
		}), ReasonSystemMastersRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rules.CheckSign(tc.q)
			var v *Violation
			if tc.want == "" && err != nil || tc.want != "" && (!errors.As(err, &v) || v.Reason != tc.want) {
				t.Errorf("err = %v, want reason %q", err, tc.want)
			}
		})
	}
}

func TestKeyID(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Go computes a CA's SKI by the same method: they must agree.
	tmpl := &x509.Certificate{SerialNumber: bigOne(), IsCA: true, BasicConstraintsValid: true, NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	id, err := KeyID(key.Public())
	if err != nil || string(id) != string(c.SubjectKeyId) {
		t.Errorf("KeyID %x, Go's %x (%v)", id, c.SubjectKeyId, err)
	}
}

func bigOne() *big.Int { return big.NewInt(1) }

// TestKeyNamesDSA: a DSA key, as openssl makes one, is named as
// check-expiration's KEY column names it, not by Go's type *dsa.PublicKey.
func TestKeyNamesDSA(t *testing.T) {
	var dk dsa.PrivateKey
	if err := dsa.GenerateParameters(&dk.Parameters, rand.Reader, dsa.L1024N160); err != nil {
		t.Fatal(err)
	}
	if err := dsa.GenerateKey(&dk, rand.Reader); err != nil {
		t.Fatal(err)
	}
	err := Key("the key of x.crt", &dk.PublicKey, false)
	if err == nil || !strings.Contains(err.Error(), "the key of x.crt is DSA-1024, which certctl refuses") {
		t.Errorf("Key(DSA) = %v, want it to name DSA-1024", err)
	}
}
