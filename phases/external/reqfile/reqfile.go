// Package reqfile reads and writes certctl.io/v1 CertificateRequest files:
// what an external CA must put in a certificate that a CSR cannot say.
//
// A PKCS#10 CSR carries a subject, SANs and a public key, but not the key
// usages, the extended key usages, the CA the certificate must chain to, or
// the validity; kubeadm's external CA mode leaves them to the documentation
// (https://kubernetes.io/docs/setup/best-practices/certificates/). certctl
// writes NAME.request.json next to each NAME.csr, for the CA operator, and
// `certctl certs import` checks the certificate that comes back against it.
//
// Compatibility: within apiVersion certctl.io/v1, fields are only ever
// added, never renamed, removed or given another meaning; a reader ignores
// the fields it does not know. docs/external-ca.md documents every field.
package reqfile

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/pki"
)

// The schema's identity and file name.
const (
	APIVersion = "certctl.io/v1"
	Kind       = "CertificateRequest"
	// Suffix follows the certificate's base name: "apiserver.request.json",
	// "etcd/server.request.json", "admin.conf.request.json".
	Suffix = ".request.json"
	// Mode of a request file: it holds nothing secret.
	Mode = 0o644
)

// Request is one request file. File names are relative to the folder of the
// request file, CA.File to the certificate folder.
type Request struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Name is certctl's: "apiserver", "etcd-server", "admin.conf".
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// CSR is the PKCS#10 request to sign: "server.csr", "admin.conf.csr".
	CSR string `json:"csr"`
	// Certificate is where the CA operator puts the signed certificate (PEM;
	// the leaf first, then any intermediates): "server.crt", "admin.conf.crt".
	Certificate string `json:"certificate"`
	// Key is the new private key of a certificate file pair; Kubeconfig the
	// kubeconfig file holding the new key of an embedded client certificate.
	// Exactly one is set.
	Key        string `json:"key,omitempty"`
	Kubeconfig string `json:"kubeconfig,omitempty"`

	// What the certificate must say. The CSR says the same.
	Subject     Subject  `json:"subject"`
	DNSNames    []string `json:"dnsNames"`
	IPAddresses []string `json:"ipAddresses"`
	// KeyUsage and ExtKeyUsage are spelled as in OpenSSL's extension
	// configuration (x509v3_config(5)), so that they can be pasted into an
	// extensions file: "digitalSignature", "keyEncipherment"; "serverAuth",
	// "clientAuth". The certificate must not be a CA (CA:FALSE).
	KeyUsage    []string `json:"keyUsage"`
	ExtKeyUsage []string `json:"extKeyUsage"`

	// CA is the CA the certificate must chain to.
	CA CA `json:"ca"`

	// Validity asked for (certificateValidityPeriod), as a Go duration
	// ("8760h0m0s"), and in whole days rounded up, for `openssl x509 -days`.
	// Not checked on import beyond "valid now".
	Validity     string `json:"validity"`
	ValidityDays int    `json:"validityDays"`
	// KeyAlgorithm of the new key ("RSA-2048", "ECDSA-P256"); informative.
	KeyAlgorithm string `json:"keyAlgorithm,omitempty"`
}

// Subject is the certificate's subject: CN and O, nothing else, as kubeadm's.
type Subject struct {
	CommonName   string   `json:"commonName"`
	Organization []string `json:"organization,omitempty"`
}

// CA names the CA that must sign.
type CA struct {
	Name string `json:"name"` // "ca", "front-proxy-ca", "etcd-ca"
	File string `json:"file"` // in the certificate folder: "ca.crt", "etcd/ca.crt"
	// Subject and SHA256 identify the CA certificate that was in the
	// certificate folder when the request was made; empty when it was not
	// there yet (a first installation). SHA256 is the certificate's
	// fingerprint as `openssl x509 -noout -fingerprint -sha256` prints it.
	Subject string `json:"subject,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
}

// Spec is what New needs.
type Spec struct {
	// Profile gives the name, subject, SANs and extended key usages.
	Profile     pki.Profile
	Description string
	// File names, relative to the request file's folder. Key or
	// Kubeconfig, not both.
	CSR, Certificate, Key, Kubeconfig string
	// CAName and CAFile (relative to the certificate folder) name the CA;
	// CA is its certificate, nil when it is not on disk yet.
	CAName, CAFile string
	CA             *x509.Certificate
	// PublicKey is the new key's: an RSA key is also asked key encipherment.
	PublicKey crypto.PublicKey
	Validity  time.Duration
}

// New describes the certificate s asks for.
func New(s Spec) *Request {
	r := &Request{
		APIVersion: APIVersion, Kind: Kind,
		Name: s.Profile.Name, Description: cmp.Or(s.Description, s.Profile.LongName),
		CSR: s.CSR, Certificate: s.Certificate, Key: s.Key, Kubeconfig: s.Kubeconfig,
		Subject:     Subject{CommonName: s.Profile.CommonName, Organization: slices.Clone(s.Profile.Organization)},
		DNSNames:    append([]string{}, s.Profile.DNSNames...),
		IPAddresses: []string{},
		ExtKeyUsage: []string{},
		KeyUsage:    keyUsageStrings(KeyUsageFor(s.PublicKey)),
		CA:          CA{Name: s.CAName, File: s.CAFile},
		Validity:    s.Validity.String(),
		// Whole days, rounded up: never less than asked.
		ValidityDays: int(math.Ceil(s.Validity.Hours() / 24)),
		KeyAlgorithm: string(pki.AlgorithmOf(s.PublicKey)),
	}
	for _, ip := range s.Profile.IPs {
		r.IPAddresses = append(r.IPAddresses, ip.String())
	}
	for _, u := range s.Profile.ExtKeyUsages {
		r.ExtKeyUsage = append(r.ExtKeyUsage, extKeyUsageName(u))
	}
	if s.CA != nil {
		r.CA.Subject = s.CA.Subject.String()
		r.CA.SHA256 = Fingerprint(s.CA)
	}
	return r
}

// KeyUsageFor is what certctl asks for a key: digital signature, plus key
// encipherment for RSA (TLS 1.2's RSA key exchange), as kubeadm's
// certificates have. An ECDSA key cannot encipher, and RFC 5480 forbids
// asking it to.
func KeyUsageFor(pub crypto.PublicKey) x509.KeyUsage {
	if _, ok := pub.(*rsa.PublicKey); ok {
		return x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	}
	return x509.KeyUsageDigitalSignature
}

// Fingerprint is cert's SHA-256 fingerprint as OpenSSL prints it: upper-case
// hex bytes separated by colons.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return strings.ReplaceAll(fmt.Sprintf("% X", sum[:]), " ", ":")
}

// Path is the request file of base in dir: DIR/BASE.request.json.
func Path(dir, base string) string { return filepath.Join(dir, base+Suffix) }

// Profile is what the request asks for, for pki.VerifyIssued: the subject,
// SANs, extended key usages and (RequiredKeyUsage) key usages.
func (r *Request) Profile() (pki.Profile, error) {
	p := pki.Profile{Name: r.Name, CAName: r.CA.Name, CommonName: r.Subject.CommonName,
		Organization: slices.Clone(r.Subject.Organization), DNSNames: slices.Clone(r.DNSNames)}
	for _, s := range r.IPAddresses {
		ip := net.ParseIP(s)
		if ip == nil {
			return pki.Profile{}, fmt.Errorf("reqfile: %s: invalid IP address %q in ipAddresses", r.Name, s)
		}
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		p.IPs = append(p.IPs, ip)
	}
	for _, s := range r.ExtKeyUsage {
		u, ok := parse(extKeyUsages, s)
		if !ok {
			return pki.Profile{}, fmt.Errorf("reqfile: %s: unknown extKeyUsage %q: use serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning or anyExtendedKeyUsage", r.Name, s)
		}
		p.ExtKeyUsages = append(p.ExtKeyUsages, u)
	}
	for _, s := range r.KeyUsage {
		u, ok := parse(keyUsages, s)
		if !ok {
			return pki.Profile{}, fmt.Errorf("reqfile: %s: unknown keyUsage %q: use digitalSignature or keyEncipherment", r.Name, s)
		}
		p.RequiredKeyUsage |= u
	}
	return p, nil
}

// Marshal encodes r as indented JSON with a final newline.
func Marshal(r *Request) ([]byte, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("reqfile: encode %s: %w", r.Name, err)
	}
	return append(data, '\n'), nil
}

// Parse decodes and checks a request file: its apiVersion and kind, a name,
// plain file names (no folder: they are in the request file's folder) and
// known usages.
func Parse(data []byte) (*Request, error) {
	var r Request
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("reqfile: %w", err)
	}
	if r.APIVersion != APIVersion || r.Kind != Kind {
		return nil, fmt.Errorf("reqfile: apiVersion %q, kind %q: this certctl reads %s %s", r.APIVersion, r.Kind, APIVersion, Kind)
	}
	if r.Name == "" {
		return nil, fmt.Errorf("reqfile: no name")
	}
	if (r.Key == "") == (r.Kubeconfig == "") {
		return nil, fmt.Errorf("reqfile: %s: exactly one of key and kubeconfig must be set", r.Name)
	}
	for _, f := range []struct{ field, name string }{{"csr", r.CSR}, {"certificate", r.Certificate}, {"key", r.Key}, {"kubeconfig", r.Kubeconfig}} {
		if f.name != "" && (f.name != filepath.Base(f.name) || f.name == "." || f.name == "..") {
			return nil, fmt.Errorf("reqfile: %s: %s %q must be a file name in the request file's folder", r.Name, f.field, f.name)
		}
	}
	if r.CSR == "" || r.Certificate == "" {
		return nil, fmt.Errorf("reqfile: %s: csr and certificate must be set", r.Name)
	}
	if _, err := r.Profile(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Read reads and parses the request file at path.
func Read(path string) (*Request, error) {
	data, err := pki.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read request file %s: %w", path, err)
	}
	r, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parse request file %s: %w", path, err)
	}
	return r, nil
}

// Write atomically writes r to path with Mode, creating the folder, unless
// path already holds exactly that content: a run that changes nothing
// leaves the file as it was. It reports whether it wrote.
func Write(path string, r *Request) (bool, error) {
	data, err := Marshal(r)
	if err != nil {
		return false, err
	}
	if old, err := pki.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), pki.DirMode); err != nil {
		return false, fmt.Errorf("create directory %s: %w", filepath.Dir(path), err)
	}
	if err := atomicfile.WriteFile(path, data, Mode); err != nil {
		return false, fmt.Errorf("write request file %s: %w", path, err)
	}
	return true, nil
}

// spelling is how a request spells a usage.
type spelling[T comparable] struct {
	usage T
	name  string
}

var keyUsages = []spelling[x509.KeyUsage]{
	{x509.KeyUsageDigitalSignature, "digitalSignature"},
	{x509.KeyUsageKeyEncipherment, "keyEncipherment"},
}

func keyUsageStrings(u x509.KeyUsage) []string {
	out := []string{}
	for _, k := range keyUsages {
		if u&k.usage != 0 {
			out = append(out, k.name)
		}
	}
	return out
}

// parse is the usage of table spelled s.
func parse[T comparable](table []spelling[T], s string) (T, bool) {
	for _, e := range table {
		if e.name == s {
			return e.usage, true
		}
	}
	var none T
	return none, false
}

// extKeyUsages are the extended key usages a request can name, in OpenSSL's
// spelling. kubeadm's profiles use the first two; a renewal copies whatever
// the current certificate has.
var extKeyUsages = []spelling[x509.ExtKeyUsage]{
	{x509.ExtKeyUsageServerAuth, "serverAuth"},
	{x509.ExtKeyUsageClientAuth, "clientAuth"},
	{x509.ExtKeyUsageCodeSigning, "codeSigning"},
	{x509.ExtKeyUsageEmailProtection, "emailProtection"},
	{x509.ExtKeyUsageTimeStamping, "timeStamping"},
	{x509.ExtKeyUsageOCSPSigning, "OCSPSigning"},
	{x509.ExtKeyUsageAny, "anyExtendedKeyUsage"},
}

// extKeyUsageName spells u for a request; one without an OpenSSL name gets
// a name Parse refuses, so that such a request is never handed out.
func extKeyUsageName(u x509.ExtKeyUsage) string {
	for _, e := range extKeyUsages {
		if e.usage == u {
			return e.name
		}
	}
	return fmt.Sprintf("unsupported(%d)", u)
}
