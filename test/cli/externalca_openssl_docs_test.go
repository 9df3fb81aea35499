package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// requestExt is the extensions file of docs/external-ca.md's "Signing with
// openssl", built from a request file as the document says: one line per
// extension, in its order and spelling.
func requestExt(name string, req map[string]any) string {
	list := func(key, prefix string) []string {
		var out []string
		for _, v := range req[key].([]any) {
			out = append(out, prefix+v.(string))
		}
		return out
	}
	ext := "# " + name + ".ext\nbasicConstraints = critical, CA:FALSE\n" +
		"keyUsage = critical, " + strings.Join(list("keyUsage", ""), ", ") + "\n" +
		"extendedKeyUsage = " + strings.Join(list("extKeyUsage", ""), ", ") + "\n"
	if san := append(list("dnsNames", "DNS:"), list("ipAddresses", "IP:")...); len(san) > 0 {
		ext += "subjectAltName = " + strings.Join(san, ", ") + "\n"
	}
	return ext
}

// TestExternalCADocsOpenSSLOneRequest runs docs/external-ca.md's signing
// of one request with openssl, as written: its extensions file is what the
// document's request file example asks for, the same file built from the
// node's own apiserver.request.json signs the CSR with the document's
// openssl line (in the CA operator's folder, ca.crt and ca.key beside the
// CSR), and certs import installs the certificate, which it does only when
// it holds what the request asks for.
func TestExternalCADocsOpenSSLOneRequest(t *testing.T) {
	bin := certctlBin(t)
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is not installed: run hack/setup.sh")
	}
	var example map[string]any
	if err := json.Unmarshal([]byte(docBlockIn(t, "external-ca.md", "json", `"kind": "CertificateRequest"`)), &example); err != nil {
		t.Fatalf("docs/external-ca.md's request file: %v", err)
	}
	ext := docBlockIn(t, "external-ca.md", "ini", "# apiserver.ext")
	if got := requestExt("apiserver", example); got != ext {
		t.Errorf("docs/external-ca.md's apiserver.ext is not what its request file example asks for:\n%s\nwant\n%s", ext, got)
	}
	line := strings.ReplaceAll(docBlockIn(t, "external-ca.md", "sh", "openssl x509 -req -in apiserver.csr"), "\\\n", "")
	if !strings.Contains(line, "-extfile apiserver.ext") || !strings.Contains(line, "-out apiserver.crt") {
		t.Fatalf("docs/external-ca.md's openssl line has changed:\n%s", line)
	}

	n := makeNode(t, bin, "ECDSA-P256")
	csrDir := filepath.Join(t.TempDir(), "csr")
	run(t, bin, append([]string{"renew", "apiserver", "--use-csr", "--csr-dir", csrDir}, n.flags()...)...)
	var req map[string]any
	if err := json.Unmarshal(mustRead(t, filepath.Join(csrDir, "apiserver.request.json")), &req); err != nil {
		t.Fatal(err)
	}
	// The CA operator's folder: the CSR handed over, the CA, the
	// extensions file.
	op := t.TempDir()
	files := map[string][]byte{
		"apiserver.csr": mustRead(t, filepath.Join(csrDir, "apiserver.csr")),
		"ca.crt":        mustRead(t, filepath.Join(n.certDir, "ca.crt")),
		"ca.key":        mustRead(t, filepath.Join(n.certDir, "ca.key")),
		"apiserver.ext": []byte(requestExt("apiserver", req)),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(op, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sh := exec.Command("sh", "-c", line)
	sh.Dir = op
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("docs/external-ca.md's %q: %v\n%s", line, err, out)
	}
	if err := os.WriteFile(filepath.Join(csrDir, "apiserver.crt"), mustRead(t, filepath.Join(op, "apiserver.crt")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run(t, bin, append([]string{"certs", "import", "--csr-dir", csrDir}, n.flags()...)...); !strings.Contains(out, "[import] apiserver installed: ") {
		t.Errorf("certs import of the certificate openssl signed:\n%s", out)
	}
}

// TestExternalCADocsRequestFile: docs/external-ca.md's request file has
// the fields of the one certctl writes for apiserver, and its table
// explains every field of the request files of a certificate and of a
// kubeconfig (its `key` / `kubeconfig`, `subject.organization`).
func TestExternalCADocsRequestFile(t *testing.T) {
	bin := certctlBin(t)
	var example map[string]any
	if err := json.Unmarshal([]byte(docBlockIn(t, "external-ca.md", "json", `"kind": "CertificateRequest"`)), &example); err != nil {
		t.Fatalf("docs/external-ca.md's request file: %v", err)
	}
	n := makeNode(t, bin, "ECDSA-P256")
	csrDir := filepath.Join(t.TempDir(), "csr")
	run(t, bin, append([]string{"renew", "apiserver", "admin.conf", "--use-csr", "--csr-dir", csrDir}, n.flags()...)...)
	requests := map[string]map[string]any{}
	for _, name := range []string{"apiserver", "admin.conf"} {
		var req map[string]any
		if err := json.Unmarshal(mustRead(t, filepath.Join(csrDir, name+".request.json")), &req); err != nil {
			t.Fatal(err)
		}
		requests[name] = req
	}
	if got, want := jsonFields(example, ""), jsonFields(requests["apiserver"], ""); !slices.Equal(got, want) {
		t.Errorf("docs/external-ca.md's request file has the fields\n%q\ncertctl writes\n%q", got, want)
	}
	doc := string(mustRead(t, "../../docs/external-ca.md"))
	table := doc[strings.Index(doc, "| field | meaning |"):]
	table = table[:strings.Index(table, "\n\n")]
	var documented []string
	for _, m := range regexp.MustCompile("`([a-zA-Z0-9.]+)`").FindAllStringSubmatch(table, -1) {
		documented = append(documented, m[1])
	}
	for name, req := range requests {
		for _, f := range jsonFields(req, "") {
			if !slices.Contains(documented, f) {
				t.Errorf("%s.request.json has the field %s, which docs/external-ca.md's table does not explain", name, f)
			}
		}
	}
}

// jsonFields are the names of a JSON object's fields, sorted, those of an
// object within as PARENT.FIELD.
func jsonFields(obj map[string]any, prefix string) []string {
	var out []string
	for k, v := range obj {
		if sub, ok := v.(map[string]any); ok {
			out = append(out, jsonFields(sub, prefix+k+".")...)
			continue
		}
		out = append(out, prefix+k)
	}
	slices.Sort(out)
	return out
}

// TestExternalCADocsRefusedJSONPath runs docs/external-ca.md's jsonpath
// line, as written, in a folder whose ./csr holds a renewal's requests and
// one certificate that is not what its request asks for: it prints the
// name of the refused one, and nothing is installed.
func TestExternalCADocsRefusedJSONPath(t *testing.T) {
	bin := certctlBin(t)
	line := strings.TrimSpace(docBlockIn(t, "external-ca.md", "sh", "-o jsonpath='{.refused[*].name}'"))
	if !strings.HasPrefix(line, "certctl certs import --csr-dir ./csr ") {
		t.Fatalf("docs/external-ca.md's jsonpath line has changed: %s", line)
	}
	n := makeNode(t, bin, "ECDSA-P256")
	work := t.TempDir()
	csrDir := filepath.Join(work, "csr")
	run(t, bin, append([]string{"renew", "apiserver", "front-proxy-client", "--use-csr", "--csr-dir", csrDir}, n.flags()...)...)
	// A certificate of another key: the node's current one.
	if err := os.WriteFile(filepath.Join(csrDir, "apiserver.crt"), mustRead(t, filepath.Join(n.certDir, "apiserver.crt")), 0o644); err != nil {
		t.Fatal(err)
	}
	before := serialOf(t, filepath.Join(n.certDir, "apiserver.crt"))
	sh := exec.Command("sh", "-c", bin+line[len("certctl"):]+" "+strings.Join(n.flags(), " "))
	sh.Dir = work
	out, err := sh.Output()
	if code := sh.ProcessState.ExitCode(); code != 2 || string(out) != "apiserver\n" {
		t.Errorf("docs/external-ca.md's %s: exit %d (%v), printed %q; want 2 (refused) and the refused name", line, code, err, out)
	}
	if serialOf(t, filepath.Join(n.certDir, "apiserver.crt")) != before {
		t.Error("--dry-run installed a certificate")
	}
}
