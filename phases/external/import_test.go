package external

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestImportRenewal: renew --use-csr, every CSR signed as asked, then
// import: every certificate and key is installed, kubeconfigs keep all
// but their client certificate, key and CA data, the old files are in a
// backup restore can read, and a second import changes nothing.
func TestImportRenewal(t *testing.T) {
	n := newExtNode(t)
	oldAdmin, err := kubeconfig.Load(n.Path("admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	n.writeCSRs(t, "all")
	n.signAll(t)
	pre := nodeFiles(t, n)
	res, err := Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 11 || len(res.Refused) != 0 || len(res.Pending) != 0 || len(res.Ignored) != 0 {
		t.Fatalf("imported %d, refused %v, pending %v, ignored %v", len(res.Imported), res.Refused, res.Pending, res.Ignored)
	}
	for _, base := range []string{"apiserver", "etcd/peer", "front-proxy-client"} {
		for _, ext := range []string{".crt", ".key"} {
			if !bytes.Equal(read(t, filepath.Join(n.csrDir, base+ext)), read(t, filepath.Join(n.CertDir(), base+ext))) {
				t.Errorf("%s%s is not the one signed", base, ext)
			}
		}
	}
	cfg, err := kubeconfig.Load(n.Path("admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := kubeconfig.ClientCert(cfg)
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := readCSRKey(true, filepath.Join(n.csrDir, "admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	signed := read(t, filepath.Join(n.csrDir, "admin.conf.crt"))
	if !pki.SamePublicKey(key.Public(), newKey.Public()) || !bytes.Equal(pki.EncodeCert(cert), signed) {
		t.Error("admin.conf does not hold the new key and signed certificate")
	}
	_, cluster, user, _, _ := kubeconfig.Current(cfg)
	_, oldCluster, oldUser, _, _ := kubeconfig.Current(oldAdmin)
	if cluster.Server != oldCluster.Server || user != oldUser || cfg.CurrentContext != oldAdmin.CurrentContext {
		t.Errorf("admin.conf changed beyond its credentials: server %s, user %s, context %s", cluster.Server, user, cfg.CurrentContext)
	}
	m, err := renewal.ReadBackupManifest(res.BackupDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 7*2+4 {
		t.Errorf("backup holds %d files, want 18", len(m.Files))
	}
	var out bytes.Buffer
	res.WriteSummary(&out)
	assertMentions(t, out.String(), "apiserver installed", res.BackupDir, "etcd ", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "copies of the private keys")

	before := treetest.Snapshot(t, n.Dir)
	again, err := Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatal(err)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	for _, im := range again.Imported {
		if !im.Unchanged {
			t.Errorf("%s installed again", im.Name)
		}
	}
	if again.BackupDir != "" {
		t.Errorf("a backup was made of nothing: %s", again.BackupDir)
	}

	// `certctl restore` takes the import back from its backup.
	if _, err := renewal.Restore(res.BackupDir, renewal.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: clock, Rand: rand.Reader}); err != nil {
		t.Fatalf("restore the import's backup: %v", err)
	}
	treetest.AssertSame(t, pre, nodeFiles(t, n))
}

// nodeFiles snapshots the certificate folder and the kubeconfig files.
func nodeFiles(t *testing.T, n *extNode) map[string]string {
	t.Helper()
	m := treetest.Snapshot(t, n.CertDir())
	for p, h := range treetest.Snapshot(t, n.Dir) {
		if filepath.Dir(p) == n.Dir && strings.HasSuffix(p, ".conf") {
			m[p] = h
		}
	}
	return m
}

// TestImportRefusals: apiserver's certificate is wrong in one way each
// time, front-proxy-client's right. apiserver is refused with the reason
// and nothing of it installed; front-proxy-client is installed.
func TestImportRefusals(t *testing.T) {
	otherKey, _ := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	weakKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	otherCA := newIssuer(t, "kubernetes")
	reqPath := func(n *extNode) string { return reqfile.Path(n.csrDir, "apiserver") }
	signWith := func(ch change, ca *issuer) func(t *testing.T, n *extNode) {
		return func(t *testing.T, n *extNode) { n.sign(t, reqPath(n), ch, ca) }
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, n *extNode)
		want    []string
	}{
		{"wrong key", signWith(func(c *x509.Certificate) { c.PublicKey = otherKey.Public() }, nil),
			[]string{"it does not match the private key"}},
		{"wrong CA", signWith(nil, otherCA), []string{`it is not signed by the CA "kubernetes"`}},
		{"weak key", signWith(func(c *x509.Certificate) { c.PublicKey = weakKey.Public() }, nil),
			[]string{"RSA-1024", "apiserver.crt", "certctl renew apiserver --use-csr"}},
		{"missing usage", signWith(func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }, nil),
			[]string{"it lacks the extended key usages server auth"}},
		{"missing key usage", signWith(func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }, nil),
			[]string{"it lacks the key usages key encipherment"}},
		{"missing SAN", signWith(func(c *x509.Certificate) { c.DNSNames = c.DNSNames[1:]; c.IPAddresses = c.IPAddresses[1:] }, nil),
			[]string{"it lacks the SANs cp-1, 10.96.0.1"}},
		{"expired", signWith(func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.Add(-48*time.Hour), now.Add(-time.Hour) }, nil),
			[]string{"expired on " + now.Add(-time.Hour).UTC().Format(time.RFC3339)}},
		{"not yet valid", signWith(func(c *x509.Certificate) { c.NotBefore = now.Add(time.Hour) }, nil),
			[]string{"not valid before " + now.Add(time.Hour).UTC().Format(time.RFC3339)}},
		{"a CA", signWith(func(c *x509.Certificate) { c.IsCA = true }, nil), []string{"it is a CA certificate (CA:TRUE)"}},
		{"other subject", signWith(func(c *x509.Certificate) { c.Subject.CommonName = "admin" }, nil), []string{`its CN is "admin", not "kube-apiserver"`}},
		{"cert sign key usage, CA:FALSE", signWith(func(c *x509.Certificate) { c.KeyUsage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign }, nil),
			[]string{"key usages cert sign, crl sign", "CA"}},
		{"cert sign key usage, no basic constraints", signWith(func(c *x509.Certificate) { c.KeyUsage |= x509.KeyUsageCertSign; c.BasicConstraintsValid = false }, nil),
			[]string{"key usages cert sign"}},
		{"any extended key usage", signWith(func(c *x509.Certificate) { c.ExtKeyUsage = append(c.ExtKeyUsage, x509.ExtKeyUsageAny) }, nil),
			[]string{`extended key usage "any"`}},
		{"URI and email SANs", signWith(func(c *x509.Certificate) {
			c.URIs = []*url.URL{{Scheme: "spiffe", Host: "cluster.local", Path: "/ns/default/sa/x"}}
			c.EmailAddresses = []string{"root@example.com"}
		}, nil), []string{"URI:spiffe://cluster.local/ns/default/sa/x", "email:root@example.com", "not asked for"}},
		{"SANs not asked for", signWith(func(c *x509.Certificate) {
			c.DNSNames = append(c.DNSNames, "evil.example.com")
			c.IPAddresses = append(c.IPAddresses, net.ParseIP("203.0.113.9"))
		}, nil), []string{"DNS:evil.example.com", "IP:203.0.113.9", "not asked for"}},
		{"two CNs", signWith(func(c *x509.Certificate) {
			cn := asn1.ObjectIdentifier{2, 5, 4, 3}
			c.Subject.ExtraNames = []pkix.AttributeTypeAndValue{{Type: cn, Value: "evil"}, {Type: cn, Value: "kube-apiserver"}}
		}, nil), []string{"2 CNs"}},
		{"shorter than an hour", signWith(func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.Add(-10*time.Minute), now.Add(20*time.Minute) }, nil),
			[]string{"valid for 30m0s", "shorter than 1h0m0s"}},
		{"garbage", func(t *testing.T, n *extNode) {
			os.WriteFile(filepath.Join(n.csrDir, "apiserver.crt"), []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"), 0o644)
		}, []string{"it holds no PEM certificate"}},
		{"key gone", func(t *testing.T, n *extNode) {
			n.sign(t, reqPath(n), nil, nil)
			os.Remove(filepath.Join(n.csrDir, "apiserver.key"))
		}, []string{"its key", "apiserver.key", "the key its CSR was made with"}},
		{"CA replaced since the request", func(t *testing.T, n *extNode) {
			n.sign(t, reqPath(n), nil, otherCA)
			os.WriteFile(filepath.Join(n.CertDir(), "ca.crt"), pki.EncodeCert(otherCA.cert), 0o644)
		}, []string{"apiserver.request.json was made for the CA", "ca.crt is another certificate"}},
		{"request edited to drop server auth", func(t *testing.T, n *extNode) {
			r, _ := reqfile.Read(reqPath(n))
			r.ExtKeyUsage = []string{"clientAuth"}
			reqfile.Write(reqPath(n), r)
			n.sign(t, reqPath(n), nil, nil)
		}, []string{"it lacks the extended key usages server auth"}},
		{"request edited to ask for O=system:masters", func(t *testing.T, n *extNode) {
			r, _ := reqfile.Read(reqPath(n))
			r.Subject.Organization = []string{"system:masters"}
			reqfile.Write(reqPath(n), r)
			n.sign(t, reqPath(n), func(c *x509.Certificate) { c.Subject.Organization = []string{"system:masters"} }, nil)
		}, []string{"apiserver.request.json asks for the subject CN=kube-apiserver, O=system:masters", "inventory gives apiserver the subject CN=kube-apiserver", "certctl renew apiserver --use-csr"}},
		{"request edited to another CN", func(t *testing.T, n *extNode) {
			r, _ := reqfile.Read(reqPath(n))
			r.Subject.CommonName = "kubernetes-super-admin"
			reqfile.Write(reqPath(n), r)
			n.sign(t, reqPath(n), func(c *x509.Certificate) { c.Subject.CommonName = "kubernetes-super-admin" }, nil)
		}, []string{"asks for the subject CN=kubernetes-super-admin", "gives apiserver the subject CN=kube-apiserver"}},
		{"request edited to add client auth", func(t *testing.T, n *extNode) {
			r, _ := reqfile.Read(reqPath(n))
			r.ExtKeyUsage = append(r.ExtKeyUsage, "clientAuth")
			reqfile.Write(reqPath(n), r)
			n.sign(t, reqPath(n), nil, nil)
		}, []string{"apiserver.request.json asks for the extended key usages client auth", "only the extended key usages server auth"}},
		{"no request file, CSR remade with O=system:masters", func(t *testing.T, n *extNode) {
			os.Remove(reqPath(n))
			key, err := readCSRKey(false, filepath.Join(n.csrDir, "apiserver.key"))
			if err != nil {
				t.Fatal(err)
			}
			csr, err := pki.NewCSR(rand.Reader, pki.Profile{Name: "apiserver", CommonName: "kube-apiserver", Organization: []string{"system:masters"}}, key)
			if err != nil {
				t.Fatal(err)
			}
			if err := (pki.Store{Dir: n.csrDir}).WriteCSR("apiserver", csr); err != nil {
				t.Fatal(err)
			}
			signCSR(t, filepath.Join(n.csrDir, "apiserver.csr"), filepath.Join(n.csrDir, "apiserver.crt"), x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, nil, &issuer{cert: n.caCerts["ca"], key: n.caKeys["ca"]})
		}, []string{"apiserver.csr asks for the subject CN=kube-apiserver, O=system:masters", "gives apiserver the subject CN=kube-apiserver"}},
		{"installed certificate is a symbolic link", func(t *testing.T, n *extNode) {
			n.sign(t, reqPath(n), nil, nil)
			installed := filepath.Join(n.CertDir(), "apiserver.crt")
			real := filepath.Join(t.TempDir(), "apiserver.crt")
			if err := os.Rename(installed, real); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, installed); err != nil {
				t.Fatal(err)
			}
		}, []string{"apiserver.crt is a symbolic link to", "replace the link by the file it points to"}},
		{"a FIFO in place of the signed certificate", func(t *testing.T, n *extNode) {
			treetest.FIFO(t, filepath.Join(n.csrDir, "apiserver.crt"))
		}, []string{"apiserver.crt", "not a regular file but a FIFO"}},
		{"intermediate CA that does not allow server auth", func(t *testing.T, n *extNode) {
			inter := n.intermediate(t, "ca", "client issuing CA", func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} })
			n.sign(t, reqPath(n), nil, inter)
			appendCerts(t, filepath.Join(n.csrDir, "apiserver.crt"), inter.cert)
		}, []string{`the CA "client issuing CA" allows only the extended key usages client auth`, "server auth", "have it signed by a CA"}},
		{"issued by an intermediate CA that is not in the file", func(t *testing.T, n *extNode) {
			n.sign(t, reqPath(n), nil, n.intermediate(t, "ca", "issuing CA", nil))
		}, []string{`it is not signed by the CA "kubernetes"`, `it is issued by "CN=issuing CA"`, "put its certificate (and any CA between) after the certificate in", "apiserver.crt"}},
		{"expired intermediate CA", func(t *testing.T, n *extNode) {
			inter := n.intermediate(t, "ca", "issuing CA", func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.Add(-48*time.Hour), now.Add(-time.Hour) })
			n.sign(t, reqPath(n), nil, inter)
			appendCerts(t, filepath.Join(n.csrDir, "apiserver.crt"), inter.cert)
		}, []string{`it is not signed by the CA "kubernetes"`, `the CA "issuing CA" in`, "expired on " + now.Add(-time.Hour).UTC().Format(time.RFC3339), "put its current certificate there"}},
		{"expired CA", func(t *testing.T, n *extNode) {
			old := newIssuer(t, "old CA")
			tmpl := *old.cert
			tmpl.NotBefore, tmpl.NotAfter = now.Add(-10*24*time.Hour), now.Add(-time.Hour)
			der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, old.key.Public(), old.key)
			if err != nil {
				t.Fatal(err)
			}
			old.cert, _ = x509.ParseCertificate(der)
			os.WriteFile(filepath.Join(n.CertDir(), "ca.crt"), pki.EncodeCert(old.cert), 0o644)
			r, _ := reqfile.Read(reqPath(n))
			r.CA.SHA256, r.CA.Subject = "", ""
			reqfile.Write(reqPath(n), r)
			n.sign(t, reqPath(n), nil, old)
		}, []string{`the CA certificate ` + "CERTDIR" + `/ca.crt expired on ` + now.Add(-time.Hour).UTC().Format(time.RFC3339), "every component rejects", "a new certificate of the CA"}},
		{"certificate of another request", func(t *testing.T, n *extNode) {
			n.sign(t, reqfile.Path(n.csrDir, "front-proxy-client"), nil, nil)
			os.Rename(filepath.Join(n.csrDir, "front-proxy-client.crt"), filepath.Join(n.csrDir, "apiserver.crt"))
			n.sign(t, reqfile.Path(n.csrDir, "front-proxy-client"), nil, nil)
		}, []string{"it is the certificate signed for the CSR of front-proxy-client", "front-proxy-client.key", "not for apiserver.csr", "put it at", "front-proxy-client.crt"}},
		{"request of another certificate", func(t *testing.T, n *extNode) {
			n.sign(t, reqPath(n), nil, nil)
			os.WriteFile(reqPath(n), read(t, reqfile.Path(n.csrDir, "front-proxy-client")), 0o644)
		}, []string{`apiserver.request.json is the request for "front-proxy-client", not "apiserver"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			o := n.csrOptions()
			o.KeyAlgorithm = pki.RSA2048 // so that key encipherment is asked for
			if _, err := WriteCSRs(context.Background(), n.targets(t, "apiserver"), n.csrDir, o); err != nil {
				t.Fatal(err)
			}
			n.writeCSRs(t, "front-proxy-client")
			n.sign(t, reqfile.Path(n.csrDir, "front-proxy-client"), nil, nil)
			tt.prepare(t, n)
			before := treetest.Snapshot(t, n.CertDir())
			res, err := Import(context.Background(), n.importOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Refused) != 1 || res.Refused[0].Name != "apiserver" {
				t.Fatalf("refused %v, want apiserver", res.Refused)
			}
			for i, w := range tt.want {
				tt.want[i] = strings.ReplaceAll(w, "CERTDIR", n.CertDir())
			}
			assertMentions(t, res.Refused[0].Reason, tt.want...)
			if len(res.Imported) != 1 || res.Imported[0].Name != "front-proxy-client" {
				t.Errorf("imported %v, want front-proxy-client", res.Imported)
			}
			after := treetest.Snapshot(t, n.CertDir())
			for _, f := range []string{"front-proxy-client.crt", "front-proxy-client.key"} {
				delete(before, filepath.Join(n.CertDir(), f))
				delete(after, filepath.Join(n.CertDir(), f))
			}
			treetest.AssertSame(t, before, after)
			var out bytes.Buffer
			res.WriteSummary(&out)
			assertMentions(t, out.String(), "REFUSED apiserver", "nothing of it was installed", "front-proxy-client installed")
		})
	}
}

// TestImportFirstInstallation: an independent CA, only its certificates
// in the certificate folder; `init-phase certs all --use-csr` for the
// leaves, a kubeconfig and CSR as `kubeadm certs generate-csr` writes them
// (no request file: the CSR says what was asked), then import.
func TestImportFirstInstallation(t *testing.T) {
	dir := t.TempDir()
	c := config.Default()
	c.CertificatesDir, c.NodeName, c.AdvertiseAddress = filepath.Join(dir, "pki"), "cp-1", "198.51.100.10"
	c.EncryptionAlgorithm = string(pki.ECDSAP256)
	csrDir := filepath.Join(dir, "csr")
	cas := map[string]*issuer{"ca": newIssuer(t, "kubernetes"), "front-proxy-ca": newIssuer(t, "front-proxy-ca"), "etcd/ca": newIssuer(t, "etcd-ca")}
	for base, ca := range cas {
		if err := (pki.Store{Dir: c.CertificatesDir}).WriteCert(base, ca.cert); err != nil {
			t.Fatal(err)
		}
	}
	node, err := c.Node()
	if err != nil {
		t.Fatal(err)
	}
	env := &phases.Env{Cluster: &c, UseCSR: true, CSRDir: csrDir, Now: clock, Rand: rand.Reader}
	if err := phases.Run(context.Background(), env, phases.CertPhases(pki.Kubeadm().Certificates(node))); err != nil {
		t.Fatal(err)
	}
	// admin.conf the kubeadm way: a kubeconfig holding the key, a CSR beside it.
	adminKey, _ := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	admin := pki.Kubeadm().Kubeconfigs(node)[0]
	keyPEM, _ := pki.MarshalPrivateKey(adminKey)
	if err := kubeconfig.Write(filepath.Join(csrDir, "admin.conf"), kubeconfig.Build("kubernetes", "https://cp.example:6443", admin.CommonName, nil, nil, keyPEM)); err != nil {
		t.Fatal(err)
	}
	csr, _ := pki.NewCSR(rand.Reader, admin.Profile, adminKey)
	if err := (pki.Store{Dir: csrDir}).WriteCSR("admin.conf", csr); err != nil {
		t.Fatal(err)
	}
	n := &extNode{csrDir: csrDir, caCerts: map[string]*x509.Certificate{}, caKeys: map[string]crypto.Signer{}}
	for base, ca := range cas {
		n.caCerts[base], n.caKeys[base] = ca.cert, ca.key
	}
	n.signAll(t)
	signCSR(t, filepath.Join(csrDir, "admin.conf.csr"), filepath.Join(csrDir, "admin.conf.crt"), x509.KeyUsageDigitalSignature,
		[]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil, cas["ca"])
	os.Remove(pki.Store{Dir: c.CertificatesDir}.CertPath("etcd/ca")) // the operator forgot one CA

	res, err := Import(context.Background(), ImportOptions{CSRDir: csrDir, Options: renewal.Options{CertDir: c.CertificatesDir, KubeconfigDir: dir, Now: clock, Rand: rand.Reader}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 4 || res.BackupDir != "" {
		t.Errorf("imported %d (want apiserver, apiserver-kubelet-client, front-proxy-client, admin.conf), backup %q", len(res.Imported), res.BackupDir)
	}
	if len(res.Refused) != 4 {
		t.Fatalf("refused %v, want the 4 etcd-ca certificates", res.Refused)
	}
	for _, r := range res.Refused {
		assertMentions(t, r.Reason, filepath.Join(c.CertificatesDir, "etcd", "ca.crt")+" is not there", "only the certificate")
	}
	for _, f := range []string{"pki/apiserver.key", "admin.conf"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", f, err)
		}
	}
	cfg, err := kubeconfig.Load(filepath.Join(dir, "admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := kubeconfig.ClientCert(cfg)
	if err != nil || pki.KeyMatches(cert, key) != nil {
		t.Errorf("admin.conf: %v", err)
	}
	cacerts, err := kubeconfig.CACerts(cfg)
	if err != nil || !cacerts[0].Equal(cas["ca"].cert) {
		t.Errorf("admin.conf CA: %v", err)
	}
}

func TestImportDryRun(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "all")
	n.signAll(t)
	before := treetest.Snapshot(t, n.Dir)
	o := n.importOptions()
	o.DryRun = true
	res, err := Import(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	var out bytes.Buffer
	res.WriteSummary(&out)
	if got := strings.Count(out.String(), "would be installed"); got != 11 {
		t.Errorf("%d lines say 'would be installed', want 11:\n%s", got, out.String())
	}
}

// TestImportKubeadmWay: the operator put the certificate into the
// kubeconfig's client-certificate-data, as kubeadm's documentation says.
func TestImportKubeadmWay(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "scheduler.conf")
	n.sign(t, reqfile.Path(n.csrDir, "scheduler.conf"), nil, nil)
	crt := filepath.Join(n.csrDir, "scheduler.conf.crt")
	cfg, _ := kubeconfig.Load(filepath.Join(n.csrDir, "scheduler.conf"))
	_, _, _, user, _ := kubeconfig.Current(cfg)
	user.ClientCertificateData = read(t, crt)
	if err := kubeconfig.Write(filepath.Join(n.csrDir, "scheduler.conf"), cfg); err != nil {
		t.Fatal(err)
	}
	os.Remove(crt)
	res, err := Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 1 || res.Imported[0].Unchanged {
		t.Errorf("imported %v", res.Imported)
	}
}

func TestImportNothing(t *testing.T) {
	n := newExtNode(t)
	os.MkdirAll(n.csrDir, 0o755)
	if _, err := Import(context.Background(), n.importOptions()); err == nil || !strings.Contains(err.Error(), "no signed certificate in") {
		t.Errorf("empty folder: %v", err)
	}
	n.writeCSRs(t, "apiserver")
	if _, err := Import(context.Background(), n.importOptions()); err == nil || !strings.Contains(err.Error(), "1 CSR(s) wait") {
		t.Errorf("CSRs only: %v", err)
	}
	o := n.importOptions()
	o.CSRDir = filepath.Join(n.csrDir, "nope")
	if _, err := Import(context.Background(), o); err == nil || !strings.Contains(err.Error(), "read the CSR folder") {
		t.Errorf("no folder: %v", err)
	}
}

// TestImportTightensKeyMode: a key file that group or others may read is
// replaced by one readable by its owner only (issue 13, defect 6).
func TestImportTightensKeyMode(t *testing.T) {
	n := newExtNode(t)
	key := filepath.Join(n.CertDir(), "apiserver.key")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	n.writeCSRs(t, "apiserver")
	n.signAll(t)
	res, err := Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 1 {
		t.Fatalf("imported %v, refused %v", res.Imported, res.Refused)
	}
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v (%v), want 0600", key, st.Mode().Perm(), err)
	}
}
