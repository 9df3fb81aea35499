package expiration

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/promtest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var checkAt = pkitest.Made.Add(100 * 24 * time.Hour)

func check(t *testing.T, n *pkitest.Node, change func(o *Options)) *Info {
	t.Helper()
	o := Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: checkAt}
	if change != nil {
		change(&o)
	}
	info, err := Check(o)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// golden compares got, with the node's folder written DIR, with
// testdata/name, or rewrites it with -update.
func golden(t *testing.T, n *pkitest.Node, name string, got []byte) {
	t.Helper()
	got = bytes.ReplaceAll(got, []byte(n.Dir), []byte("DIR"))
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", p, got)
	}
}

func TestHealthy(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	before := treetest.Snapshot(t, n.Dir)
	info := check(t, n, nil)
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	var names []string
	for _, c := range info.Certificates {
		names = append(names, c.Name)
		if c.Missing || len(c.Problems) > 0 || c.ExternallyManaged || c.ExpiringSoon {
			t.Errorf("%s: %+v", c.Name, c)
		}
	}
	// kubeadm's rows, by name, plus kubelet.conf.
	want := []string{"admin.conf", "apiserver", "apiserver-etcd-client", "apiserver-kubelet-client", "controller-manager.conf",
		"etcd-healthcheck-client", "etcd-peer", "etcd-server", "front-proxy-client", "kubelet.conf", "scheduler.conf", "super-admin.conf"}
	if !slices.Equal(names, want) {
		t.Errorf("rows %q, want %q", names, want)
	}
	if len(info.Problems()) != 0 || len(info.ExpiringSoon()) != 0 {
		t.Errorf("problems %q, expiring %v", info.Problems(), info.ExpiringSoon())
	}
	// Write's formats: internal/output's (but for jsonpath=TEMPLATE, which
	// takes a template) and "prometheus".
	for _, f := range []string{"text", "wide", "json", "yaml", "prometheus"} {
		var out bytes.Buffer
		if err := Write(&out, info, f); err != nil {
			t.Fatal(err)
		}
		golden(t, n, "healthy."+f, out.Bytes())
	}
	if err := Write(&bytes.Buffer{}, info, "xml"); err == nil || !strings.Contains(err.Error(), "text, wide, json, yaml") {
		t.Errorf("unknown format: err = %v", err)
	}
}

func TestProblems(t *testing.T) {
	other := pkitest.NewNode(t, nil)
	n := pkitest.NewNode(t, func(c *config.Cluster) { c.APIServerCertSANs = []string{"api.old.example"} })
	cp := func(from *pkitest.Node, src, dst string) {
		data, err := os.ReadFile(from.Path(src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(n.Path(dst), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cp(n, "pki/front-proxy-client.key", "pki/apiserver-kubelet-client.key") // key mismatch
	cp(other, "pki/etcd/peer.crt", "pki/etcd/peer.crt")                     // another CA
	cp(other, "pki/etcd/peer.key", "pki/etcd/peer.key")
	os.WriteFile(n.Path("scheduler.conf"), []byte("users: [\n"), 0o600) // malformed
	os.Remove(n.Path("pki/front-proxy-client.key"))                     // key missing
	os.Remove(n.Path("pki/etcd/ca.key"))                                // external etcd CA
	os.Remove(n.Path("super-admin.conf"))                               // missing: no problem
	// The configuration now asks for api.new.example instead: drift.
	cfg := *n.Cluster
	cfg.APIServerCertSANs = []string{"api.new.example"}

	info := check(t, n, func(o *Options) { o.Cluster, o.ConfigFile = &cfg, "kubeadm.yaml" })
	got := map[string][]ProblemType{}
	for _, c := range append(info.Certificates, info.CertificateAuthorities...) {
		for _, p := range c.Problems {
			got[c.Name] = append(got[c.Name], p.Type)
		}
	}
	want := map[string][]ProblemType{
		"apiserver-kubelet-client": {KeyMismatch},
		"etcd-peer":                {NotSignedByCA},
		"scheduler.conf":           {Unreadable},
		"front-proxy-client":       {KeyMissing},
		"apiserver":                {SANDrift},
	}
	for name, w := range want {
		if !slices.Equal(got[name], w) {
			t.Errorf("%s: problems %q, want %q", name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("problems %v, want only %v", got, want)
	}
	for _, c := range info.Certificates {
		if ext := c.CAName == "etcd-ca"; c.ExternallyManaged != ext && !c.Missing {
			t.Errorf("%s: externallyManaged = %v, want %v", c.Name, c.ExternallyManaged, ext)
		}
		if c.Name == "super-admin.conf" && !c.Missing {
			t.Error("super-admin.conf not reported missing")
		}
	}
	for _, f := range []string{"text", "wide"} {
		var out bytes.Buffer
		if err := Write(&out, info, f); err != nil {
			t.Fatal(err)
		}
		golden(t, n, "problems."+f, out.Bytes())
		if f == "text" {
			for _, l := range strings.Split(out.String(), "\n") {
				// Problem messages below the table are sentences, not columns.
				if len(l) > 100 && !strings.HasPrefix(l, "- ") {
					t.Errorf("a table line of %d columns, want at most 100: %q", len(l), l)
				}
			}
		}
	}
	var js bytes.Buffer
	if err := Write(&js, info, "json"); err != nil {
		t.Fatal(err)
	}
	golden(t, n, "problems.json", js.Bytes())
}

func TestDriftMessage(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cfg := *n.Cluster
	cfg.EtcdServerCertSANs = []string{"etcd.example", "192.0.2.7"}
	info := check(t, n, func(o *Options) { o.Cluster = &cfg })
	ps := info.Problems()
	if len(ps) != 1 || !strings.Contains(ps[0], "missing 192.0.2.7, etcd.example") || !strings.HasPrefix(ps[0], "etcd-server: ") {
		t.Errorf("problems = %q", ps)
	}
}

func TestExpiringSoon(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	tests := []struct {
		name   string
		now    time.Time
		within time.Duration
		want   int // certificates and CAs marked
	}{
		{"fresh", checkAt, 0, 0},
		{"within a long window", checkAt, 300 * 24 * time.Hour, 12},
		{"CAs too", checkAt, 20 * 365 * 24 * time.Hour, 15},
		{"expired, no window", pkitest.Made.Add(400 * 24 * time.Hour), 0, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := check(t, n, func(o *Options) { o.Now, o.WarnWithin = tt.now, tt.within })
			if got := len(info.ExpiringSoon()); got != tt.want {
				t.Errorf("%d expiring, want %d", got, tt.want)
			}
		})
	}
	info := check(t, n, func(o *Options) { o.Now = pkitest.Made.Add(400 * 24 * time.Hour) })
	var out bytes.Buffer
	Write(&out, info, "text")
	if !strings.Contains(out.String(), "EXPIRED") {
		t.Errorf("expired certificates not shown as EXPIRED:\n%s", out.String())
	}
}

func TestKubeletCertificateFile(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	// As after the kubelet's TLS bootstrap: certificate and key in one
	// rotated file, named relative to kubelet.conf here.
	pemPath := n.BootstrappedKubelet(t, 0o600)
	row := kubeletRow(t, check(t, n, nil))
	if row.File != pemPath || row.ExpirationDate == nil || len(row.Problems) != 0 {
		t.Errorf("kubelet row %+v, want %s with no problem", row, pemPath)
	}
	os.Remove(pemPath)
	row = kubeletRow(t, check(t, n, nil))
	if len(row.Problems) != 1 || row.Problems[0].Type != Unreadable || !strings.Contains(row.Problems[0].Message, pemPath) {
		t.Errorf("kubelet row with its file gone: %+v", row.Problems)
	}
	// kubelet.conf gone: a !MISSING! row, as every other file's, whose
	// missing series fires monitoring.md's KubernetesCertificateFileMissing
	// (no row at all had no series, and the alert could never fire).
	os.Remove(n.Path("kubelet.conf"))
	info := check(t, n, nil)
	row = kubeletRow(t, info)
	if !row.Missing || row.File != n.Path("kubelet.conf") || row.ExpirationDate != nil || len(row.Problems) != 0 {
		t.Errorf("kubelet row with kubelet.conf gone: %+v, want missing, file %s", row, n.Path("kubelet.conf"))
	}
	var metrics bytes.Buffer
	if err := WriteMetrics(&metrics, info); err != nil {
		t.Fatal(err)
	}
	want := `certctl_certificate_missing{ca="ca",file="` + n.Path("kubelet.conf") + `",kind="certificate",name="kubelet.conf"} 1`
	if ok, err := promtest.HasSample(metrics.String(), want); err != nil || !ok {
		t.Errorf("metrics with kubelet.conf gone: no %s (%v)\n%s", want, err, metrics.String())
	}
}

func TestExternalEtcdLeavesEtcdOut(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cfg := *n.Cluster
	cfg.ExternalEtcd = true
	info := check(t, n, func(o *Options) { o.Cluster = &cfg })
	for _, c := range append(info.Certificates, info.CertificateAuthorities...) {
		if strings.HasPrefix(c.Name, "etcd") || c.Name == "apiserver-etcd-client" {
			t.Errorf("%s listed with an external etcd", c.Name)
		}
	}
}

func TestJSONSchema(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	os.Remove(n.Path("pki/front-proxy-client.crt"))
	var out bytes.Buffer
	if err := Write(&out, check(t, n, nil), "json"); err != nil {
		t.Fatal(err)
	}
	// The field names kubeadm's output.kubeadm.k8s.io/v1alpha3 uses, so
	// that tools written for it read certctl's.
	var doc struct {
		Kind, APIVersion string
		Certificates     []map[string]any `json:"certificates"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Kind != Kind || doc.APIVersion != APIVersion {
		t.Errorf("kind %q apiVersion %q", doc.Kind, doc.APIVersion)
	}
	for _, c := range doc.Certificates {
		for _, f := range []string{"name", "expirationDate", "residualTime", "externallyManaged", "missing", "problems", "file", "expiringSoon"} {
			if _, ok := c[f]; !ok {
				t.Errorf("certificate %v has no field %q", c["name"], f)
			}
		}
		if c["name"] == "front-proxy-client" && (c["missing"] != true || c["expirationDate"] != nil) {
			t.Errorf("missing certificate: %v", c)
		}
	}
}

func kubeletRow(t *testing.T, info *Info) Certificate {
	t.Helper()
	for _, c := range info.Certificates {
		if c.Name == pki.KubeletKubeconfig {
			return c
		}
	}
	t.Fatal("no kubelet.conf row")
	return Certificate{}
}

// TestNoneExists: only folders without any of the files are "none"; a
// single CA left is not.
func TestNoneExists(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	if check(t, n, nil).NoneExists() {
		t.Error("a whole node: none exists")
	}
	empty := t.TempDir()
	info := check(t, n, func(o *Options) { o.CertDir, o.KubeconfigDir = filepath.Join(empty, "pki"), empty })
	if !info.NoneExists() || len(info.Certificates)+len(info.CertificateAuthorities) != 15 {
		t.Errorf("empty folders: NoneExists %v, %d rows", info.NoneExists(), len(info.Certificates)+len(info.CertificateAuthorities))
	}
	os.MkdirAll(filepath.Join(empty, "pki"), 0o700)
	os.WriteFile(filepath.Join(empty, "pki", "ca.crt"), []byte("garbage"), 0o600)
	if check(t, n, func(o *Options) { o.CertDir, o.KubeconfigDir = filepath.Join(empty, "pki"), empty }).NoneExists() {
		t.Error("with a (bad) ca.crt: none exists")
	}
}
