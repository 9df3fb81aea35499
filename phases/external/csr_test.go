package external

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

func TestWriteCSRs(t *testing.T) {
	n := newExtNode(t)
	before := treetest.Snapshot(t, n.Dir)
	res := n.writeCSRs(t, "all")
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir)) // only reads the node
	if len(res.Requested) != 11 || len(res.Missing) != 0 {
		t.Fatalf("requested %d, missing %d; want 11, 0", len(res.Requested), len(res.Missing))
	}
	caFingerprint := reqfile.Fingerprint(n.caCerts["etcd/ca"])
	tests := []struct {
		name, key, csr, request string
		wantCA, wantCAFile      string
		wantUsages              []string
	}{
		{"etcd-server", "etcd/server.key", "etcd/server.csr", "etcd/server.request.json", "etcd-ca", "etcd/ca.crt", []string{"serverAuth", "clientAuth"}},
		{"apiserver", "apiserver.key", "apiserver.csr", "apiserver.request.json", "ca", "ca.crt", []string{"serverAuth"}},
		{"admin.conf", "admin.conf", "admin.conf.csr", "admin.conf.request.json", "ca", "ca.crt", []string{"clientAuth"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := func(rel string) string { return filepath.Join(n.csrDir, rel) }
			req, err := reqfile.Read(p(tt.request))
			if err != nil {
				t.Fatal(err)
			}
			if req.Name != tt.name || req.CA.Name != tt.wantCA || req.CA.File != tt.wantCAFile || !slices.Equal(req.ExtKeyUsage, tt.wantUsages) {
				t.Errorf("request = %+v", req)
			}
			if !slices.Equal(req.KeyUsage, []string{"digitalSignature"}) { // ECDSA keys: no key encipherment
				t.Errorf("keyUsage = %v", req.KeyUsage)
			}
			if req.ValidityDays != 365 || req.Validity != "8760h0m0s" {
				t.Errorf("validity = %s, %d days", req.Validity, req.ValidityDays)
			}
			if tt.name == "etcd-server" && req.CA.SHA256 != caFingerprint {
				t.Errorf("CA fingerprint %s, want %s", req.CA.SHA256, caFingerprint)
			}
			key, err := readCSRKey(filepath.Ext(tt.name) == ".conf", p(tt.key))
			if err != nil {
				t.Fatal(err)
			}
			csr, err := pki.ReadCSRFile(p(tt.csr))
			if err != nil {
				t.Fatal(err)
			}
			if !pki.SamePublicKey(csr.PublicKey, key.Public()) {
				t.Error("CSR does not match the key")
			}
			want, err := req.Profile()
			if err != nil {
				t.Fatal(err)
			}
			if d := pki.CSRDiffers(csr, want); d != "" {
				t.Errorf("CSR differs from the request: %s", d)
			}
			for _, f := range []string{tt.key, tt.csr} {
				if st, err := os.Stat(p(f)); err != nil || st.Mode().Perm() != 0o600 {
					t.Errorf("%s: %v, mode %v; want 0600", f, err, st.Mode().Perm())
				}
			}
		})
	}
	// The kubeconfig holds the new key and points where admin.conf does,
	// with neither certificate nor CA, as kubeadm's generate-csr writes it.
	cfg, err := kubeconfig.Load(filepath.Join(n.csrDir, "admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	_, cluster, _, user, _ := kubeconfig.Current(cfg)
	cur, _ := kubeconfig.Load(n.Path("admin.conf"))
	_, curCluster, _, _, _ := kubeconfig.Current(cur)
	if cluster.Server != curCluster.Server || len(cluster.CertificateAuthorityData) != 0 || len(user.ClientCertificateData) != 0 || len(user.ClientKeyData) == 0 {
		t.Errorf("key-only kubeconfig: server %q, CA %d bytes, cert %d bytes, key %d bytes", cluster.Server,
			len(cluster.CertificateAuthorityData), len(user.ClientCertificateData), len(user.ClientKeyData))
	}
}

// TestWriteCSRsAgain: a second run keeps the pairs already handed out.
func TestWriteCSRsAgain(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "all")
	before := treetest.Snapshot(t, n.csrDir)
	res := n.writeCSRs(t, "all")
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.csrDir))
	for _, r := range res.Requested {
		if !r.Kept {
			t.Errorf("%s: not kept", r.Name)
		}
	}
}

func TestWriteCSRsRefuses(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, n *extNode)
		want    []string
	}{
		{"stray key", func(t *testing.T, n *extNode) {
			os.MkdirAll(filepath.Join(n.csrDir, "etcd"), 0o755)
			os.WriteFile(filepath.Join(n.csrDir, "etcd", "peer.key"), []byte("x"), 0o600)
		}, []string{"etcd/peer.key"}},
		{"CSR without its key", func(t *testing.T, n *extNode) {
			n.writeCSRs(t, "etcd-peer")
			os.Remove(filepath.Join(n.csrDir, "etcd", "peer.key"))
		}, []string{"etcd/peer.csr exists without its key", "etcd/peer.key", "remove it"}},
		{"stale certificate", func(t *testing.T, n *extNode) {
			os.MkdirAll(n.csrDir, 0o755)
			os.WriteFile(filepath.Join(n.csrDir, "scheduler.conf.crt"), []byte("x"), 0o644)
		}, []string{"scheduler.conf.crt", "without the key"}},
		{"CSR for another certificate", func(t *testing.T, n *extNode) {
			// front-proxy-client's pair, renamed as apiserver's.
			n.writeCSRs(t, "front-proxy-client")
			for _, ext := range []string{".key", ".csr"} {
				os.Rename(filepath.Join(n.csrDir, "front-proxy-client"+ext), filepath.Join(n.csrDir, "apiserver"+ext))
			}
			os.Remove(filepath.Join(n.csrDir, "front-proxy-client.request.json"))
		}, []string{"apiserver.csr was made for another certificate", "CN \"front-proxy-client\""}},
		{"imported already", func(t *testing.T, n *extNode) {
			n.writeCSRs(t, "scheduler.conf")
			n.signAll(t)
			if _, err := Import(context.Background(), n.importOptions()); err != nil {
				t.Fatal(err)
			}
		}, []string{"scheduler.conf is the key of the certificate installed now", "use a new --csr-dir"}},
		{"corrupt certificate on the node", func(t *testing.T, n *extNode) {
			os.WriteFile(n.Path("pki/apiserver.crt"), []byte("garbage"), 0o644)
		}, []string{"renew apiserver", "apiserver.crt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			tt.prepare(t, n)
			beforeNode, beforeCSR := treetest.Snapshot(t, n.Dir), snapshotIfAny(t, n.csrDir)
			_, err := WriteCSRs(context.Background(), n.targets(t, "all"), n.csrDir, n.csrOptions())
			if err == nil {
				t.Fatal("no error")
			}
			assertMentions(t, err.Error(), tt.want...)
			treetest.AssertSame(t, beforeNode, treetest.Snapshot(t, n.Dir))
			treetest.AssertSame(t, beforeCSR, snapshotIfAny(t, n.csrDir))
		})
	}
}

// TestWriteCSRsResumes: a run stopped between a key and its CSR (the key
// is written first) leaves the key alone; the next run makes the CSR for
// that key instead of refusing.
func TestWriteCSRsResumes(t *testing.T) {
	for _, name := range []string{"etcd-peer", "admin.conf"} {
		t.Run(name, func(t *testing.T) {
			n := newExtNode(t)
			res := n.writeCSRs(t, name)
			keyFile, csrFile := res.Requested[0].Files[0], res.Requested[0].Files[1]
			keyBefore := read(t, keyFile)
			for _, f := range res.Requested[0].Files[1:] { // the CSR and the request file
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			o := n.csrOptions()
			o.Out = &out
			res, err := WriteCSRs(context.Background(), n.targets(t, name), n.csrDir, o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Requested[0].Kept || !bytes.Contains(out.Bytes(), []byte("wrote the CSR for the key an interrupted run left")) {
				t.Errorf("kept %v, output:\n%s", res.Requested[0].Kept, out.String())
			}
			if !bytes.Equal(read(t, keyFile), keyBefore) {
				t.Error("the key left by the interrupted run was replaced")
			}
			key, err := readCSRKey(filepath.Ext(name) == ".conf", keyFile)
			if err != nil {
				t.Fatal(err)
			}
			csr, err := pki.ReadCSRFile(csrFile)
			if err != nil {
				t.Fatal(err)
			}
			if !pki.SamePublicKey(csr.PublicKey, key.Public()) {
				t.Error("the new CSR is not for the key left")
			}
			if _, err := reqfile.Read(res.Requested[0].Request); err != nil {
				t.Errorf("request file: %v", err)
			}
		})
	}
}

// TestWriteCSRsRefusesNodeFolders: the CSR folder cannot be the
// certificate or kubeconfig folder, whose keys are the ones in use.
func TestWriteCSRsRefusesNodeFolders(t *testing.T) {
	n := newExtNode(t)
	for _, tt := range []struct{ csrDir, says string }{
		{n.CertDir(), "is the folder of --cert-dir"},
		{n.Dir + "/", "is the folder of --kubeconfig-dir"},
		{filepath.Join(n.CertDir(), "csr"), "is inside the certificate folder " + n.CertDir()},
	} {
		before := treetest.Snapshot(t, n.Dir)
		_, err := WriteCSRs(context.Background(), n.targets(t, "all"), tt.csrDir, n.csrOptions())
		treetest.ErrMentions(t, err, "--csr-dir "+tt.csrDir, tt.says, "a folder of their own")
		treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	}
}

// TestWriteCSRsWarnsKeptAlgorithm: a kept pair of another algorithm than
// the one asked for is kept (it may be at the CA already), with a warning.
func TestWriteCSRsWarnsKeptAlgorithm(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "apiserver") // the node's algorithm, ECDSA-P256
	var out bytes.Buffer
	o := n.csrOptions()
	o.Out, o.KeyAlgorithm = &out, pki.RSA2048
	res, err := WriteCSRs(context.Background(), n.targets(t, "apiserver"), n.csrDir, o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Requested[0].Kept {
		t.Error("the pair was not kept")
	}
	assertMentions(t, out.String(), "[warning] apiserver", "is ECDSA-P256, not RSA-2048", "apiserver.key")
}

func TestWriteCSRsMissing(t *testing.T) {
	n := newExtNode(t)
	os.Remove(n.Path("super-admin.conf"))
	var out bytes.Buffer
	o := n.csrOptions()
	o.Out = &out
	res, err := WriteCSRs(context.Background(), n.targets(t, "all"), n.csrDir, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Missing) != 1 || res.Missing[0].Name != "super-admin.conf" {
		t.Errorf("missing = %v", res.Missing)
	}
	assertMentions(t, out.String(), "MISSING!", "super-admin.conf")
	// Named, it is an error.
	o.SkipMissing = false
	if _, err := WriteCSRs(context.Background(), n.targets(t, "super-admin.conf"), n.csrDir, o); err == nil {
		t.Error("a missing named target was not an error")
	}
}

func snapshotIfAny(t *testing.T, dir string) map[string]string {
	t.Helper()
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return map[string]string{}
	}
	return treetest.Snapshot(t, dir)
}
