package expiration

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// columns splits the table that listInventory prints by the offsets of its
// header's column names: a value that spills over into the next column
// shows as a wrong value there.
func columns(t *testing.T, out string) (rows map[string]map[string]string, below string) {
	t.Helper()
	table, below, _ := strings.Cut(out, "\n\n")
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	names := strings.Fields(lines[0])
	starts := make([]int, len(names))
	for i, n := range names {
		starts[i] = strings.Index(lines[0], n)
	}
	rows = map[string]map[string]string{}
	for _, l := range lines[1:] {
		row := map[string]string{}
		for i, n := range names {
			end := len(l)
			if i+1 < len(starts) && starts[i+1] < end {
				end = starts[i+1]
			}
			if starts[i] < end {
				if i > 0 && l[starts[i]-1] != ' ' {
					t.Errorf("column %s of %q does not start at its header", n, l)
				}
				row[n] = strings.TrimSpace(l[starts[i]:end])
			}
		}
		rows[row["NAME"]] = row
	}
	return rows, below
}

// listWide prints the inventory as `certs list -o wide` does.
func listWide(out *bytes.Buffer, certDir, kubeconfigDir string, certs []pki.Profile, kcs []pki.KubeconfigProfile) error {
	list, err := listInventory(certDir, kubeconfigDir, certs, kcs, nil, pkitest.Made)
	if err != nil {
		return err
	}
	return writeList(out, list, pkitest.Made, true)
}

// TestCertsListFormats: the default table fits 100 columns; -o json is the
// versioned schema; jsonpath works as kubectl's.
func TestCertsListFormats(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	run := func(format string) string {
		t.Helper()
		f, err := output.Parse(format)
		if err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if err := List(t.Context(), n.CertDir(), n.Dir, nil, pkitest.Made, f, &out, &errOut); err != nil {
			t.Fatalf("-o %s: %v\n%s", format, err, errOut.String())
		}
		return out.String()
	}
	text := run("text")
	for _, l := range strings.Split(text, "\n") {
		if len(l) > 100 {
			t.Errorf("a line of %d columns, want at most 100: %q", len(l), l)
		}
	}
	if rows, _ := columns(t, text); len(rows) != 16 || rows["apiserver"]["KEY"] != "ECDSA-P256" || rows["apiserver"]["CA"] != "ca" {
		t.Errorf("default table:\n%s", text)
	}
	if wide := run("wide"); !strings.Contains(wide, "SANS") || !strings.Contains(wide, n.Path("pki/apiserver.crt")) {
		t.Errorf("-o wide has no files or SANs:\n%s", wide)
	}
	var list CertificateList
	if err := json.Unmarshal([]byte(run("json")), &list); err != nil {
		t.Fatal(err)
	}
	if list.Kind != ListKind || list.APIVersion != APIVersion || len(list.Items) != 16 || list.Items[1].Name != "apiserver" || len(list.Items[1].SANs) == 0 || list.Items[1].Expires == nil {
		t.Errorf("-o json: %+v", list)
	}
	if got := run("jsonpath={.items[?(@.name==\"apiserver\")].file}"); got != n.Path("pki/apiserver.crt")+"\n" {
		t.Errorf("-o jsonpath: %q", got)
	}
	if _, err := output.Parse("jsonpath={.items["); err == nil {
		t.Error("a bad jsonpath template is accepted")
	}
}

// TestCertsListChecks: the CA column is checked, as check-expiration checks
// it (expiration.Check): a certificate that does not chain to that CA or
// whose key does not match shows a problem, spelled out below the table.
func TestCertsListChecks(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	other := pkitest.NewNode(t, nil)
	var out bytes.Buffer
	certs, kcs := inventory(t, n)
	if err := listWide(&out, n.CertDir(), n.Dir, certs, kcs); err != nil {
		t.Fatal(err)
	}
	rows, below := columns(t, out.String())
	if len(rows) != 16 {
		t.Errorf("%d rows, want 16:\n%s", len(rows), out.String())
	}
	for name, r := range rows {
		if r["PROBLEMS"] != "-" {
			t.Errorf("healthy node: %s has problems %q", name, r["PROBLEMS"])
		}
	}
	if below != "" {
		t.Errorf("healthy node: text below the table:\n%s", below)
	}
	// sa is a key pair: its key's algorithm, in the KEY column, and no
	// certificate's columns.
	if sa := rows["sa"]; sa["KEY"] != "ECDSA-P256" || sa["EXPIRES"] != "never" || sa["SANS"] != "-" || sa["CA"] != "-" {
		t.Errorf("sa row %q", sa)
	}

	cp := func(from, to string) {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cp(n.Path("pki/front-proxy-client.key"), n.Path("pki/apiserver-kubelet-client.key"))
	cp(other.Path("pki/etcd/peer.crt"), n.Path("pki/etcd/peer.crt"))
	cp(other.Path("pki/etcd/peer.key"), n.Path("pki/etcd/peer.key"))
	cp(other.Path("admin.conf"), n.Path("admin.conf"))
	cp(other.Path("pki/sa.pub"), n.Path("pki/sa.pub"))
	out.Reset()
	if err := listWide(&out, n.CertDir(), n.Dir, certs, kcs); err != nil {
		t.Fatal(err)
	}
	rows, below = columns(t, out.String())
	want := map[string]string{
		"apiserver-kubelet-client": "key-mismatch",
		"etcd-peer":                "not-signed-by-ca",
		"admin.conf":               "not-signed-by-ca",
		"sa":                       "key-mismatch",
	}
	for name, r := range rows {
		if w, ok := want[name]; ok && r["PROBLEMS"] != w || !ok && r["PROBLEMS"] != "-" {
			t.Errorf("%s: problems %q, want %q", name, r["PROBLEMS"], w)
		}
	}
	for _, file := range []string{"pki/apiserver-kubelet-client.key", "pki/etcd/peer.crt", "admin.conf", "pki/sa.pub"} {
		if !strings.Contains(below, n.Path(file)) {
			t.Errorf("the problems below the table do not name %s:\n%s", file, below)
		}
	}
}

// inventory lists n's certificates and kubeconfig files, as certs list
// does.
func inventory(t *testing.T, n *pkitest.Node) ([]pki.Profile, []pki.KubeconfigProfile) {
	t.Helper()
	node, err := n.Cluster.Node()
	if err != nil {
		t.Fatal(err)
	}
	inv := pki.Kubeadm()
	return inv.Certificates(node), inv.Kubeconfigs(node)
}

// TestCertsListWeakKey: a key certctl does not support is named in the KEY
// column, not left empty, and its weak-key problem is listed (issue 13,
// defect 4).
func TestCertsListWeakKey(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	caCert, caKey := n.CA(t, "ca")
	e, _ := pki.Kubeadm().Find("apiserver-kubelet-client")
	cert, err := pki.Sign(rand.Reader, pki.Node{}.Profile(e), weak.Public(), caCert, caKey, pki.NewValidity(pkitest.Made, time.Minute, 24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.MarshalPrivateKey(weak)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Path("pki/apiserver-kubelet-client.key"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Path("pki/apiserver-kubelet-client.crt"), pki.EncodeCert(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	certs, kcs := inventory(t, n)
	if err := listWide(&out, n.CertDir(), n.Dir, certs, kcs); err != nil {
		t.Fatal(err)
	}
	rows, _ := columns(t, out.String())
	if r := rows["apiserver-kubelet-client"]; r["KEY"] != "RSA-1024" || !strings.Contains(r["PROBLEMS"], "weak-key") {
		t.Errorf("weak key row %q:\n%s", r, out.String())
	}
}

// TestCertsListExternalEtcd: with etcd.external in --config, certs list
// shows what check-expiration shows: not the etcd certificates kubeadm
// makes for a local etcd (MISSING on such a node), but the external etcd's
// client certificate and CA, checked; a client certificate that is not
// there is a problem, as kube-apiserver cannot reach etcd without it.
func TestCertsListExternalEtcd(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	node, err := n.Cluster.Node()
	if err != nil {
		t.Fatal(err)
	}
	node.ExternalEtcd = true
	inv := pki.Kubeadm()
	certs, kcs := inv.Certificates(node), inv.Kubeconfigs(node)
	ext := &config.ExternalEtcd{CAFile: n.Path("pki/etcd/ca.crt"), CertFile: n.Path("pki/apiserver-etcd-client.crt"), KeyFile: n.Path("pki/apiserver-etcd-client.key")}
	list := func() (map[string]map[string]string, string) {
		t.Helper()
		l, err := listInventory(n.CertDir(), n.Dir, certs, kcs, ext, pkitest.Made)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := writeList(&out, l, pkitest.Made, true); err != nil {
			t.Fatal(err)
		}
		return columns(t, out.String())
	}
	rows, below := list()
	for _, local := range []string{"etcd-ca", "etcd-server", "etcd-peer", "etcd-healthcheck-client", "apiserver-etcd-client"} {
		if _, ok := rows[local]; ok {
			t.Errorf("%s listed with an external etcd", local)
		}
	}
	if len(rows) != 13 || below != "" {
		t.Errorf("%d rows, want 13, no problem:\n%v\n%s", len(rows), rows, below)
	}
	if r := rows[ExternalEtcdClient]; r["FILE"] != ext.CertFile || r["CA"] != ExternalEtcdCA || r["PROBLEMS"] != "-" || r["KEY"] != "ECDSA-P256" {
		t.Errorf("%s row %q", ExternalEtcdClient, r)
	}
	if r := rows[ExternalEtcdCA]; r["FILE"] != ext.CAFile || r["CA"] != "(external)" || r["PROBLEMS"] != "-" {
		t.Errorf("%s row %q", ExternalEtcdCA, r)
	}

	ext.CertFile = n.Path("pki/no-such-client.crt")
	rows, below = list()
	if r := rows[ExternalEtcdClient]; r["KEY"] != "MISSING" || r["PROBLEMS"] == "-" || !strings.Contains(below, "etcd.external.certFile "+ext.CertFile+" does not exist") {
		t.Errorf("missing client certificate: row %q, below:\n%s", r, below)
	}
}

// Folders that hold none of the files are the wrong folders: an error, as
// check-expiration gives, not a table of MISSING rows and exit 0. A folder
// with some files still lists them.
func TestCertsListNoneExists(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	err := List(t.Context(), filepath.Join(dir, "pki"), dir, nil, pkitest.Made, output.Format{Name: "json"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "none of the 16 certificates") || !strings.Contains(err.Error(), "--kubeconfig-dir") {
		t.Fatalf("an empty folder: %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("printed a list: %s", out.String())
	}
	n := pkitest.NewNode(t, nil)
	if err := os.Remove(filepath.Join(n.Dir, "admin.conf")); err != nil {
		t.Fatal(err)
	}
	if err := List(t.Context(), n.CertDir(), n.Dir, nil, pkitest.Made, output.Format{Name: "text"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "MISSING") {
		t.Errorf("one file missing: %v\n%s", err, out.String())
	}
}
