package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The CA operator of the external-CA tests: an organisation's CA run with the openssl command
// line, whose keys never enter the node. It reads certctl's request files (docs/external-ca.md)
// with its own decoder, as a script of the operator's would, not with certctl's package.

// opensslCA is a CA made with `openssl req -x509`.
type opensslCA struct {
	crt, key string
}

// opensslCAs makes the three CAs of a kubeadm node in dir, by their file in the certificate
// folder ("ca.crt", "front-proxy-ca.crt", "etcd/ca.crt").
func opensslCAs(t *testing.T, dir string) map[string]opensslCA {
	t.Helper()
	return map[string]opensslCA{
		"ca.crt":             newOpenSSLCA(t, dir, "ca", "kubernetes"),
		"front-proxy-ca.crt": newOpenSSLCA(t, dir, "front-proxy-ca", "front-proxy-ca"),
		"etcd/ca.crt":        newOpenSSLCA(t, dir, "etcd-ca", "etcd-ca"),
	}
}

func newOpenSSLCA(t *testing.T, dir, name, cn string) opensslCA {
	t.Helper()
	ca := opensslCA{crt: filepath.Join(dir, name+".crt"), key: filepath.Join(dir, name+".key")}
	runOpenSSL(t, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca.key, "-out", ca.crt,
		"-subj", "/CN="+cn, "-days", "3650",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")
	return ca
}

// operatorRequest is the part of a certctl.io/v1 CertificateRequest a CA operator reads.
type operatorRequest struct {
	APIVersion   string   `json:"apiVersion"`
	Kind         string   `json:"kind"`
	CSR          string   `json:"csr"`
	Certificate  string   `json:"certificate"`
	DNSNames     []string `json:"dnsNames"`
	IPAddresses  []string `json:"ipAddresses"`
	KeyUsage     []string `json:"keyUsage"`
	ExtKeyUsage  []string `json:"extKeyUsage"`
	ValidityDays int      `json:"validityDays"`
	CA           struct {
		File string `json:"file"`
	} `json:"ca"`
}

// extensions are the lines of an openssl extensions file (x509v3_config(5)).
type extensions struct {
	keyUsage, extKeyUsage, subjectAltName string
}

func (e extensions) file() string {
	s := "basicConstraints = critical, CA:FALSE\n"
	if e.keyUsage != "" {
		s += "keyUsage = critical, " + e.keyUsage + "\n"
	}
	if e.extKeyUsage != "" {
		s += "extendedKeyUsage = " + e.extKeyUsage + "\n"
	}
	if e.subjectAltName != "" {
		s += "subjectAltName = " + e.subjectAltName + "\n"
	}
	return s
}

// signing is how the operator signs one request; the zero value signs it as it asks.
type signing struct {
	edit func(e *extensions) // changes the extensions asked for
	ca   *opensslCA          // another CA than the request's
	csr  string              // another CSR than the request's
	// startDate and endDate, when set, are the validity (openssl ca's YYYYMMDDHHMMSSZ), which
	// `openssl x509 -req` of OpenSSL 3.0 cannot backdate or postdate: `openssl ca` signs then.
	startDate, endDate time.Time
}

// signRequest signs the request file at path with openssl and an extensions file built from
// it, and writes the certificate where the request says.
func signRequest(t *testing.T, path string, cas map[string]opensslCA, how signing) {
	t.Helper()
	var r operatorRequest
	if err := json.Unmarshal(readFile(t, path), &r); err != nil {
		t.Fatalf("read request %s: %v", path, err)
	}
	if r.APIVersion != "certctl.io/v1" || r.Kind != "CertificateRequest" {
		t.Fatalf("request %s: apiVersion %q kind %q", path, r.APIVersion, r.Kind)
	}
	var san []string
	for _, d := range r.DNSNames {
		san = append(san, "DNS:"+d)
	}
	for _, ip := range r.IPAddresses {
		san = append(san, "IP:"+ip)
	}
	e := extensions{keyUsage: strings.Join(r.KeyUsage, ", "), extKeyUsage: strings.Join(r.ExtKeyUsage, ", "), subjectAltName: strings.Join(san, ", ")}
	ca, ok := cas[r.CA.File]
	if !ok {
		t.Fatalf("request %s: unknown CA file %q", path, r.CA.File)
	}
	if how.ca != nil {
		ca = *how.ca
	}
	if how.edit != nil {
		how.edit(&e)
	}
	dir := filepath.Dir(path)
	csr := filepath.Join(dir, r.CSR)
	if how.csr != "" {
		csr = how.csr
	}
	signCSROpenSSL(t, csr, filepath.Join(dir, r.Certificate), ca, e, r.ValidityDays, how)
}

// signCSROpenSSL signs csr into out with `openssl x509 -req` (or `openssl ca` for set dates).
func signCSROpenSSL(t *testing.T, csr, out string, ca opensslCA, e extensions, days int, how signing) {
	t.Helper()
	work := t.TempDir()
	ext := filepath.Join(work, "ext.cnf")
	if err := os.WriteFile(ext, []byte(e.file()), 0o600); err != nil {
		t.Fatal(err)
	}
	if how.startDate.IsZero() {
		runOpenSSL(t, "x509", "-req", "-in", csr, "-CA", ca.crt, "-CAkey", ca.key, "-set_serial", strconv.FormatInt(time.Now().UnixNano(), 10),
			"-days", strconv.Itoa(days), "-extfile", ext, "-out", out)
		return
	}
	conf := filepath.Join(work, "ca.cnf")
	err := os.WriteFile(conf, []byte(`[ca]
default_ca = operator
[operator]
database = `+filepath.Join(work, "index.txt")+`
new_certs_dir = `+work+`
serial = `+filepath.Join(work, "serial")+`
default_md = sha256
policy = anything
copy_extensions = none
unique_subject = no
preserve = yes
[anything]
commonName = supplied
organizationName = optional
`), 0o600)
	if err == nil {
		err = os.WriteFile(filepath.Join(work, "index.txt"), nil, 0o600)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(work, "serial"), []byte("1000\n"), 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
	const layout = "20060102150405Z"
	runOpenSSL(t, "ca", "-batch", "-notext", "-config", conf, "-cert", ca.crt, "-keyfile", ca.key, "-in", csr, "-out", out,
		"-startdate", how.startDate.UTC().Format(layout), "-enddate", how.endDate.UTC().Format(layout), "-extfile", ext)
}

// newOpenSSLCSR makes a key and a CSR for subject (openssl's "/O=.../CN=...") with openssl.
func newOpenSSLCSR(t *testing.T, key, csr, subject string) {
	t.Helper()
	runOpenSSL(t, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", subject)
}

func runOpenSSL(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("find openssl: %v; run `make setup`", err)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// signAllRequests signs every request file under dir as it asks.
func signAllRequests(t *testing.T, dir string, cas map[string]opensslCA) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".request.json") {
			signRequest(t, p, cas, signing{})
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
