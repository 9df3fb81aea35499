package renewal

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/filekind"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

var renewAt = made.Add(300 * 24 * time.Hour)

// bases lists every renewable certificate by its file: BaseName for pki/,
// the file name for kubeconfigs.
var bases = []string{"apiserver", "apiserver-kubelet-client", "front-proxy-client", "etcd/server", "etcd/peer",
	"etcd/healthcheck-client", "apiserver-etcd-client", "admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"}

func TestRenewAll(t *testing.T) {
	n := newNode(t, nil)
	old := map[string][]byte{}
	oldCerts := map[string]*x509.Certificate{}
	for _, b := range bases {
		oldCerts[b] = n.cert(t, b)
		if strings.HasSuffix(b, ".conf") {
			old[b] = read(t, n.path(b))
		} else {
			old[b+".crt"] = read(t, n.path("pki/"+b+".crt"))
			old[b+".key"] = read(t, n.path("pki/"+b+".key"))
		}
	}
	o := n.options(renewAt)
	o.SkipMissing = true
	res, err := Renew(context.Background(), n.targets(t, "all"), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renewed) != len(bases) || len(res.Missing) != 0 {
		t.Fatalf("renewed %d, missing %d; want %d and 0", len(res.Renewed), len(res.Missing), len(bases))
	}
	caCert, _, err := pki.ReadCertFile(n.path("pki/ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bases {
		t.Run(b, func(t *testing.T) {
			was, now := oldCerts[b], n.cert(t, b)
			if now.SerialNumber.Cmp(was.SerialNumber) == 0 {
				t.Error("serial unchanged: not renewed")
			}
			if pki.SamePublicKey(now.PublicKey, was.PublicKey) {
				t.Error("same public key: want a new key")
			}
			// The existing certificate is authoritative: subject, SANs, usages.
			if !reflect.DeepEqual(now.Subject.String(), was.Subject.String()) || !slices.Equal(now.DNSNames, was.DNSNames) ||
				!slices.EqualFunc(now.IPAddresses, was.IPAddresses, net.IP.Equal) || !slices.Equal(now.ExtKeyUsage, was.ExtKeyUsage) {
				t.Errorf("identity changed: %v %v %v %v -> %v %v %v %v", was.Subject, was.DNSNames, was.IPAddresses, was.ExtKeyUsage,
					now.Subject, now.DNSNames, now.IPAddresses, now.ExtKeyUsage)
			}
			wantNB, wantNA := renewAt.Add(-config.CertificateBackdate), renewAt.Add(config.DefaultCertificateValidity)
			if !now.NotBefore.Equal(wantNB) || !now.NotAfter.Equal(wantNA) {
				t.Errorf("validity %v - %v, want %v - %v", now.NotBefore, now.NotAfter, wantNB, wantNA)
			}
			if pki.AlgorithmOf(now.PublicKey) != pki.ECDSAP256 {
				t.Errorf("algorithm %s, want the current one, ECDSA-P256", pki.AlgorithmOf(now.PublicKey))
			}
			if strings.HasSuffix(b, ".conf") {
				if err := pki.VerifySignedBy(now, nil, caCert, renewAt); err != nil {
					t.Error(err)
				}
			}
		})
	}
	// Backups: every replaced file, byte-identical, with its mode and a manifest.
	wantDir := filepath.Join(n.Dir, BackupDirName, renewAt.Format("20060102T150405Z"))
	if res.BackupDir != wantDir {
		t.Fatalf("BackupDir = %s, want %s", res.BackupDir, wantDir)
	}
	m, err := ReadBackupManifest(res.BackupDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != len(old) {
		t.Errorf("backup lists %d files, want %d", len(m.Files), len(old))
	}
	for _, f := range m.Files {
		data := read(t, filepath.Join(res.BackupDir, f.Backup))
		key := strings.TrimPrefix(f.Backup, "pki/")
		if !bytes.Equal(data, old[key]) {
			t.Errorf("backup %s is not the old %s", f.Backup, f.Path)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("backup.json: wrong sha256 for %s", f.Backup)
		}
		st, _ := os.Stat(filepath.Join(res.BackupDir, f.Backup))
		if f.Mode != "0600" && f.Mode != "0644" || st.Mode().Perm().String() != fs.FileMode(parseMode(t, f.Mode)).String() {
			t.Errorf("%s: mode %v, manifest %s", f.Backup, st.Mode().Perm(), f.Mode)
		}
	}
	if st, err := os.Stat(res.BackupDir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("backup folder mode: %v, %v; want 0700", st.Mode().Perm(), err)
	}
	if _, err := os.Stat(filepath.Join(n.Dir, txn.DirName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("transaction folder left behind: %v", err)
	}
	got := res.Restarts()
	want := []Restart{
		{pki.Etcd, []string{"etcd-server", "etcd-peer", "etcd-healthcheck-client"}},
		{pki.KubeAPIServer, []string{"apiserver", "apiserver-kubelet-client", "front-proxy-client", "apiserver-etcd-client"}},
		{pki.KubeControllerManager, []string{"controller-manager.conf"}},
		{pki.KubeScheduler, []string{"scheduler.conf"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Restarts = %v, want %v", got, want)
	}
	// What a summary prints of apiserver: its long name and its files.
	i := slices.IndexFunc(res.Renewed, func(r Renewed) bool { return r.Name == "apiserver" })
	if i < 0 || !strings.HasSuffix(res.Renewed[i].LongName, "Kubernetes API") || len(res.Renewed[i].Files) == 0 || res.Renewed[i].Files[0] != n.path("pki/apiserver.crt") {
		t.Errorf("Renewed does not list the Kubernetes API's %s: %+v", n.path("pki/apiserver.crt"), res.Renewed)
	}
}

// TestKubeconfigKeepsOtherFields: only the client certificate and key and
// the CA data change; other users, contexts, preferences and extensions stay.
func TestKubeconfigKeepsOtherFields(t *testing.T) {
	n := newNode(t, nil)
	p := n.path("admin.conf")
	cfg, err := kubeconfig.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Preferences.Colors = true
	cfg.Extensions = map[string]runtime.Object{"x": &runtime.Unknown{Raw: []byte(`{"a":1}`)}}
	cfg.AuthInfos["other"] = &clientcmdapi.AuthInfo{Token: "secret-token"}
	cfg.Contexts["other@kubernetes"] = &clientcmdapi.Context{Cluster: "kubernetes", AuthInfo: "other", Namespace: "kube-system"}
	cfg.Clusters["kubernetes"].TLSServerName = "api.example"
	cfg.Clusters["kubernetes"].CertificateAuthorityData = []byte("stale CA data, refreshed from ca.crt")
	if err := kubeconfig.Write(p, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := Renew(context.Background(), n.targets(t, "admin.conf"), n.options(renewAt)); err != nil {
		t.Fatal(err)
	}
	got, err := kubeconfig.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := got.Contexts[got.CurrentContext]
	if !bytes.Equal(got.Clusters[ctx.Cluster].CertificateAuthorityData, read(t, n.path("pki/ca.crt"))) {
		t.Error("CA data not refreshed from ca.crt")
	}
	// Put back what renewal changes; the rest must be equal.
	u := got.AuthInfos[ctx.AuthInfo]
	u.ClientCertificateData, u.ClientKeyData = cfg.AuthInfos[ctx.AuthInfo].ClientCertificateData, cfg.AuthInfos[ctx.AuthInfo].ClientKeyData
	got.Clusters[ctx.Cluster].CertificateAuthorityData = cfg.Clusters[ctx.Cluster].CertificateAuthorityData
	// Compared as files: what a reader of the kubeconfig sees.
	a, err := clientcmd.Write(*got)
	if err != nil {
		t.Fatal(err)
	}
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("other fields changed:\n got:\n%s\nwant:\n%s", a, b)
	}
	for _, want := range []string{"secret-token", "kube-system", "api.example", "colors: true", "extensions"} {
		if !bytes.Contains(a, []byte(want)) {
			t.Errorf("renewed kubeconfig lost %q", want)
		}
	}
}

func TestReuseKey(t *testing.T) {
	n := newNode(t, nil)
	key := read(t, n.path("pki/apiserver.key"))
	wasCert := n.cert(t, "apiserver")
	o := n.options(renewAt)
	o.ReuseKey = true
	res, err := Renew(context.Background(), n.targets(t, "apiserver"), o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read(t, n.path("pki/apiserver.key")), key) {
		t.Error("key file changed with ReuseKey")
	}
	now := n.cert(t, "apiserver")
	if !pki.SamePublicKey(now.PublicKey, wasCert.PublicKey) || now.SerialNumber.Cmp(wasCert.SerialNumber) == 0 {
		t.Error("want the same key in a new certificate")
	}
	m, err := ReadBackupManifest(res.BackupDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 1 || m.Files[0].Backup != "pki/apiserver.crt" {
		t.Errorf("backup = %+v, want only the replaced apiserver.crt", m.Files)
	}
}

func TestCappedToCAExpiry(t *testing.T) {
	n := newNode(t, func(c *config.Cluster) { c.CACertificateValidity = 400 * 24 * time.Hour })
	o := n.options(renewAt)
	res, err := Renew(context.Background(), n.targets(t, "apiserver"), o)
	if err != nil {
		t.Fatal(err)
	}
	ca, _, _ := pki.ReadCertFile(n.path("pki/ca.crt"))
	if got := n.cert(t, "apiserver").NotAfter; !got.Equal(ca.NotAfter) {
		t.Errorf("NotAfter = %v, want the CA's %v", got, ca.NotAfter)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "cut to the CA's expiry") || !res.Renewed[0].Capped {
		t.Errorf("warnings = %q, capped = %v; want one about the CA's expiry", res.Warnings, res.Renewed[0].Capped)
	}
}

func TestKeyAlgorithm(t *testing.T) {
	n := newNode(t, nil)
	o := n.options(renewAt)
	o.KeyAlgorithm = pki.ECDSAP384
	if _, err := Renew(context.Background(), n.targets(t, "front-proxy-client"), o); err != nil {
		t.Fatal(err)
	}
	if alg := pki.AlgorithmOf(n.cert(t, "front-proxy-client").PublicKey); alg != pki.ECDSAP384 {
		t.Errorf("algorithm = %s, want the configured ECDSA-P384", alg)
	}
}

func TestMissing(t *testing.T) {
	n := newNode(t, nil)
	os.Remove(n.path("pki/front-proxy-client.crt"))
	os.Remove(n.path("pki/front-proxy-client.key"))
	os.Remove(n.path("scheduler.conf"))
	o := n.options(renewAt)
	o.SkipMissing = true
	res, err := Renew(context.Background(), n.targets(t, "all"), o)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, m := range res.Missing {
		missing = append(missing, m.Name)
	}
	if !slices.Equal(missing, []string{"front-proxy-client", "scheduler.conf"}) || len(res.Renewed) != len(bases)-2 {
		t.Errorf("missing %q, renewed %d", missing, len(res.Renewed))
	}
	if out := o.Out.(*bytes.Buffer).String(); !strings.Contains(out, "MISSING!") {
		t.Errorf("output does not say MISSING:\n%s", out)
	}
	_, err = Renew(context.Background(), n.targets(t, "scheduler.conf"), n.options(renewAt))
	treetest.ErrMentions(t, err, n.path("scheduler.conf"), "does not exist", "certctl init-phase kubeconfig scheduler")
}

// TestExtraWithNothingRenewed: the extra files (a CA rotation's CA files
// and stage record) are written, with a backup of those they replace,
// also when every target is missing and nothing is renewed.
func TestExtraWithNothingRenewed(t *testing.T) {
	n := newNode(t, nil)
	os.Remove(n.path("pki/front-proxy-client.crt"))
	os.Remove(n.path("pki/front-proxy-client.key"))
	old, err := os.ReadFile(n.path("pki/front-proxy-ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	o := n.options(renewAt)
	o.SkipMissing = true
	o.Extra = []txn.File{
		{Target: n.path("pki/front-proxy-ca.crt"), Data: []byte("replaced\n"), Mode: 0o644, UID: -1, GID: -1},
		{Target: n.path("pki/rotation.json"), Data: []byte("{}\n"), Mode: 0o600, UID: -1, GID: -1},
	}
	res, err := Renew(context.Background(), n.targets(t, "front-proxy-client"), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renewed) != 0 || len(res.Missing) != 1 {
		t.Fatalf("renewed %d, missing %d; want 0 and 1", len(res.Renewed), len(res.Missing))
	}
	for _, f := range o.Extra {
		if got, err := os.ReadFile(f.Target); err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("%s: %q, %v; want the extra file written", f.Target, got, err)
		}
	}
	if res.BackupDir == "" {
		t.Fatal("no backup of the replaced front-proxy-ca.crt")
	}
	if got, err := os.ReadFile(filepath.Join(res.BackupDir, BackupCertDirName, "front-proxy-ca.crt")); err != nil || !bytes.Equal(got, old) {
		t.Errorf("backup of front-proxy-ca.crt: %v; want the old bytes", err)
	}
}

func TestSelect(t *testing.T) {
	c, ext := false, true
	tests := []struct {
		names   []string
		cluster *bool
		want    []string
		err     string
	}{
		{[]string{"all"}, &c, []string{"apiserver", "apiserver-kubelet-client", "front-proxy-client", "etcd-server", "etcd-peer",
			"etcd-healthcheck-client", "apiserver-etcd-client", "admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"}, ""},
		{[]string{"admin.conf", "apiserver"}, &c, []string{"apiserver", "admin.conf"}, ""},
		{[]string{"apiserver", "apiserver"}, &c, []string{"apiserver"}, ""},
		{nil, &c, nil, "name what to renew"},
		{[]string{"all", "apiserver"}, &c, nil, "give it alone"},
		{[]string{"ca"}, &c, nil, "certctl does not renew CAs"},
		{[]string{"etcd-ca"}, &c, nil, "certctl does not renew CAs"},
		{[]string{"sa"}, &c, nil, "not a certificate"},
		{[]string{"kubelet.conf"}, &c, nil, "the kubelet rotates"},
		{[]string{"apiserverr"}, &c, nil, `unknown certificate "apiserverr"`},
		{[]string{"etcd-server"}, &ext, nil, "external etcd"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.names, ","), func(t *testing.T) {
			got, err := Select(pki.Kubeadm(), tt.names, *tt.cluster)
			if tt.err != "" {
				treetest.ErrMentions(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, g := range got {
				names = append(names, g.Name)
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("got %q, want %q", names, tt.want)
			}
		})
	}
}

// TestKeepsModeAndOwner: kubeadm writes in place, which keeps a file's mode
// and owner; the transaction's rename must keep them too.
func TestKeepsModeAndOwner(t *testing.T) {
	n := newNode(t, nil)
	p := n.path("pki/etcd/server.crt")
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	if root {
		if err := os.Chown(p, 1234, 5678); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Renew(context.Background(), n.targets(t, "etcd-server"), n.options(renewAt)); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", st.Mode().Perm())
	}
	if uid, gid := filekind.Owner(st); root && (uid != 1234 || gid != 5678) {
		t.Errorf("owner = %d:%d, want 1234:5678", uid, gid)
	}
	if st, _ := os.Stat(n.path("pki/etcd/server.key")); st.Mode().Perm() != 0o600 {
		t.Errorf("key mode = %v, want 0600", st.Mode().Perm())
	}
}

func TestBackupNamesSortInTimeOrder(t *testing.T) {
	n := newNode(t, nil)
	var dirs []string
	for range 3 {
		res, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(renewAt))
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, filepath.Base(res.BackupDir))
	}
	ts := renewAt.Format("20060102T150405Z")
	if want := []string{ts, ts + "-002", ts + "-003"}; !slices.Equal(dirs, want) || !slices.IsSorted(dirs) {
		t.Errorf("backup folders %q, want %q", dirs, want)
	}
	o := n.options(renewAt)
	o.NoBackup = true
	res, err := Renew(context.Background(), n.targets(t, "apiserver"), o)
	if err != nil || res.BackupDir != "" {
		t.Errorf("NoBackup: BackupDir %q, err %v", res.BackupDir, err)
	}
	if entries, _ := os.ReadDir(filepath.Join(n.Dir, BackupDirName)); len(entries) != 3 {
		t.Errorf("%d backups, want 3", len(entries))
	}
}

func parseMode(t *testing.T, s string) uint32 {
	t.Helper()
	var m uint32
	for _, c := range s {
		m = m*8 + uint32(c-'0')
	}
	return m
}

// BenchmarkRenewAll renews a node's 11 certificates (ECDSA keys: the
// figure is certctl's own work, not key generation; hack/bench.d/renew.sh
// times RSA against kubeadm).
func BenchmarkRenewAll(b *testing.B) {
	n := &node{pkitest.NewNode(b, nil)}
	all := Targets(pki.Kubeadm(), false)
	o := n.options(renewAt)
	o.NoBackup = true
	b.ResetTimer()
	for range b.N {
		if _, err := Renew(context.Background(), all, o); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLooseKeyModeTightened: a private key that group or others may read
// (a key file or a kubeconfig, which holds one) is written 0600 by renewal,
// with a warning, and also with --reuse-key, where the key itself is kept
// byte for byte (issue 13, defect 6).
func TestLooseKeyModeTightened(t *testing.T) {
	for _, reuse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reuse-key=%v", reuse), func(t *testing.T) {
			n := newNode(t, nil)
			keyFile, kubeconfig := n.path("pki/apiserver.key"), n.path("admin.conf")
			for _, p := range []string{keyFile, kubeconfig} {
				if err := os.Chmod(p, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			key := read(t, keyFile)
			var out bytes.Buffer
			o := n.options(renewAt)
			o.Out, o.ReuseKey = &out, reuse
			names := []string{"apiserver"}
			if !reuse {
				names = append(names, "admin.conf")
			}
			res, err := Renew(context.Background(), n.targets(t, names...), o)
			if err != nil {
				t.Fatal(err)
			}
			files := []string{keyFile}
			if !reuse {
				files = append(files, kubeconfig)
			}
			for _, p := range files {
				if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v (%v), want 0600", p, st.Mode().Perm(), err)
				}
				if !strings.Contains(out.String(), p+" holds a private key but is mode 0644: it is written 0600") {
					t.Errorf("no warning for %s:\n%s", p, out.String())
				}
			}
			if reuse && !bytes.Equal(read(t, keyFile), key) {
				t.Error("--reuse-key changed the key itself")
			}
			if len(res.Warnings) == 0 {
				t.Error("the warning is not in the result")
			}
		})
	}
}

// TestReuseWeakKeyRefused: --reuse-key does not sign a key the issuance
// policy refuses again; it says to make a new one (issue 13, defect 4).
func TestReuseWeakKeyRefused(t *testing.T) {
	n := newNode(t, nil)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	caCert, caKey := n.CA(t, "ca")
	p, _ := pki.Kubeadm().Find("apiserver-kubelet-client")
	prof := pki.Node{}.Profile(p)
	cert, err := pki.Sign(rand.Reader, prof, weak.Public(), caCert, caKey, pki.NewValidity(pkitest.Made, time.Minute, 24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.MarshalPrivateKey(weak)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.path("pki/apiserver-kubelet-client.key"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.path("pki/apiserver-kubelet-client.crt"), pki.EncodeCert(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, n.Dir)
	o := n.options(renewAt)
	o.ReuseKey = true
	_, err = Renew(context.Background(), n.targets(t, "apiserver-kubelet-client"), o)
	if err == nil || !strings.Contains(err.Error(), "RSA-1024") || !strings.Contains(err.Error(), "without --reuse-key") {
		t.Fatalf("Renew --reuse-key of an RSA-1024 key: %v, want a refusal naming the key and what to do", err)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	if _, err := Renew(context.Background(), n.targets(t, "apiserver-kubelet-client"), n.options(renewAt)); err != nil {
		t.Errorf("renewal with a new key: %v", err)
	}
}

// TestWeakCAWarns: a CA whose key the issuance policy refuses (RSA-1024)
// still signs renewals (refusing would stop every renewal until the CA is
// rotated), with one warning per CA naming it and saying to rotate it.
func TestWeakCAWarns(t *testing.T) {
	n := newNode(t, nil)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := n.CA(t, "ca")
	tmpl := *old
	tmpl.PublicKey, tmpl.SubjectKeyId, tmpl.AuthorityKeyId, tmpl.SignatureAlgorithm = nil, nil, nil, x509.UnknownSignatureAlgorithm
	s := pki.Store{Dir: n.certDir()}
	if err := s.WriteKey("ca", weak); err != nil {
		t.Fatal(err)
	}
	ca := pkitest.SelfSigned(t, weak, &tmpl)
	if err := s.WriteCert("ca", ca); err != nil {
		t.Fatal(err)
	}
	names := []string{"apiserver", "apiserver-kubelet-client"}
	for _, name := range names { // signed by the weak CA
		leaf := n.cert(t, name)
		c, err := pki.Sign(rand.Reader, pki.ProfileFromCert(name, name, "ca", leaf), leaf.PublicKey, ca, weak, pki.NewValidity(leaf.NotBefore, 0, leaf.NotAfter.Sub(leaf.NotBefore)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WriteCert(name, c); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Renew(context.Background(), n.targets(t, names...), n.options(renewAt))
	if err != nil {
		t.Fatal(err)
	}
	var weakWarnings []string
	for _, w := range res.Warnings {
		if strings.Contains(w, "RSA-1024") {
			weakWarnings = append(weakWarnings, w)
		}
	}
	if len(weakWarnings) != 1 || !strings.Contains(weakWarnings[0], "the key of CA certificate "+n.path("pki/ca.crt")) || !strings.Contains(weakWarnings[0], "rotate the CA") {
		t.Errorf("warnings %q, want one naming %s and saying to rotate it", res.Warnings, n.path("pki/ca.crt"))
	}
	// The command to copy: which CA, in these folders.
	if want := "certctl ca rotate ca --cert-dir " + n.path("pki") + " --kubeconfig-dir " + n.Dir; len(weakWarnings) == 1 && !strings.Contains(weakWarnings[0], want) {
		t.Errorf("warning %q does not say %q", weakWarnings[0], want)
	}
	if len(res.Renewed) != 2 {
		t.Errorf("renewed %d, want 2", len(res.Renewed))
	}
}
