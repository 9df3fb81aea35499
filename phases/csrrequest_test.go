package phases

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
)

// TestUseCSRRequestFiles: each CSR gets a request file saying what its CA
// must sign, with the CA's fingerprint once the CA certificate is there,
// and a run that changes nothing rewrites nothing.
func TestUseCSRRequestFiles(t *testing.T) {
	e := newTestEnv(t)
	e.UseCSR = true
	e.CSRDir = filepath.Join(e.dir, "csr")
	e.mustRun(t, "certs", "all")
	r, err := reqfile.Read(filepath.Join(e.CSRDir, "etcd", "peer"+reqfile.Suffix))
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "etcd-peer" || r.CSR != "peer.csr" || r.Key != "peer.key" || r.Certificate != "peer.crt" ||
		r.CA.Name != "etcd-ca" || r.CA.File != "etcd/ca.crt" || r.CA.SHA256 != "" ||
		!slices.Equal(r.ExtKeyUsage, []string{"serverAuth", "clientAuth"}) || !slices.Contains(r.DNSNames, "cp-1") {
		t.Errorf("request = %+v", r)
	}

	// The CA operator puts the etcd CA certificate in place; a new run
	// names it in the request files, and a run after that writes nothing.
	caKey, _ := pki.GenerateKey(e.Rand, pki.ECDSAP256)
	ca, err := pki.NewSelfSignedCA(e.Rand, pki.Profile{Name: "etcd-ca", CommonName: "etcd-ca", IsCA: true}, caKey, pki.NewValidity(fixedNow, 0, 24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := (pki.Store{Dir: e.Cluster.CertificatesDir}).WriteCert("etcd/ca", ca); err != nil {
		t.Fatal(err)
	}
	e.mustRun(t, "certs", "all")
	if r, err = reqfile.Read(filepath.Join(e.CSRDir, "etcd", "peer"+reqfile.Suffix)); err != nil || r.CA.SHA256 != reqfile.Fingerprint(ca) {
		t.Errorf("CA fingerprint %q, want %q (%v)", r.CA.SHA256, reqfile.Fingerprint(ca), err)
	}
	before := treetest.Snapshot(t, e.dir)
	e.mustRun(t, "certs", "all")
	treetest.AssertSame(t, before, treetest.Snapshot(t, e.dir))

	// A lost request file is written again for the pair that is there.
	os.Remove(filepath.Join(e.CSRDir, "apiserver"+reqfile.Suffix))
	e.mustRun(t, "certs", "apiserver")
	if _, err := reqfile.Read(filepath.Join(e.CSRDir, "apiserver"+reqfile.Suffix)); err != nil {
		t.Error(err)
	}
}

// TestUseCSRStrayCertificate: init-phase --use-csr checks an earlier run's
// files with renew --use-csr's rule (reqfile.PlanCSR): a signed
// certificate without the key it was signed for is refused, and nothing is
// written.
func TestUseCSRStrayCertificate(t *testing.T) {
	e := newTestEnv(t)
	e.UseCSR = true
	e.CSRDir = filepath.Join(e.dir, "csr")
	if err := os.MkdirAll(e.CSRDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.CSRDir, "apiserver.crt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, e.dir)
	treetest.ErrMentions(t, e.run(t, "certs", "apiserver"), "apiserver.crt exists without the key it was signed for", "another --csr-dir")
	treetest.AssertSame(t, before, treetest.Snapshot(t, e.dir))
}
