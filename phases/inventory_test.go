package phases_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/expiration"
	"github.com/certctl/certctl/phases/external"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

var extra = pkitest.Extra

// TestInventoryRowIsEnough: one more row in the inventory, and nothing else,
// makes a certificate that init-phase plans and issues from the CA on
// disk, check-expiration lists and checks, renew renews and installs from
// the CA on disk and from an external CA (CSR files, then certs import),
// and the signer's policy issues. Its issue through the certificates API
// is TestInventoryRowThroughAPI in phases/renewal/apirenew.
func TestInventoryRowIsEnough(t *testing.T) {
	inv := pkitest.ExtraInventory()
	n := pkitest.NewNode(t, nil) // kubeadm's files only
	node, err := n.Cluster.Node()
	if err != nil {
		t.Fatal(err)
	}
	store := pki.Store{Dir: n.CertDir()}
	ctx := context.Background()
	now := pkitest.Made.Add(time.Hour)

	// Planned: the dry run lists the new pair and writes nothing.
	var out bytes.Buffer
	env := &phases.Env{Cluster: n.Cluster, DryRun: true, Now: func() time.Time { return now }, Rand: rand.Reader, Out: &out}
	ps := phases.CertPhases(inv.Certificates(node))
	if err := phases.Run(ctx, env, ps); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), store.CertPath(extra.BaseName)) {
		t.Errorf("dry run does not plan %s:\n%s", store.CertPath(extra.BaseName), out.String())
	}
	if ok, _ := pki.Exists(store.CertPath(extra.BaseName)); ok {
		t.Fatal("the dry run wrote the certificate")
	}

	// Issued from the CA on disk.
	env.DryRun = false
	if err := phases.Run(ctx, env, ps); err != nil {
		t.Fatal(err)
	}
	ca, _ := n.CA(t, "front-proxy-ca")
	cert, _, err := store.ReadCert(extra.BaseName)
	if err != nil {
		t.Fatal(err)
	}
	key, err := store.ReadKey(extra.BaseName)
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.VerifyIssued(cert, nil, key.Public(), ca, node.Profile(extra), now); err != nil {
		t.Errorf("issued certificate: %v", err)
	}

	// Requested from an external CA: a key and CSR.
	csrs := pki.Store{Dir: t.TempDir()}
	csrEnv := &phases.Env{Cluster: n.Cluster, UseCSR: true, CSRDir: csrs.Dir, Now: func() time.Time { return now }, Rand: rand.Reader}
	if err := phases.Run(ctx, csrEnv, ps); err != nil {
		t.Fatal(err)
	}
	if req, err := pki.ReadCSRFile(csrs.CSRPath(extra.BaseName)); err != nil || req.Subject.CommonName != extra.CommonName {
		t.Errorf("CSR for an external CA: %v", err)
	}

	// Listed and checked.
	info, err := expiration.Check(expiration.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: now, Inventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(info.Certificates, func(c expiration.Certificate) bool { return c.Name == extra.Name })
	if i < 0 {
		t.Fatalf("check-expiration does not list %s", extra.Name)
	}
	if row := info.Certificates[i]; row.Missing || len(row.Problems) > 0 || row.CAName != extra.CAName {
		t.Errorf("check-expiration row %+v", row)
	}

	// Renewed and installed, with its restart.
	targets, err := renewal.Select(inv, []string{extra.Name}, false)
	if err != nil {
		t.Fatal(err)
	}
	later := now.Add(30 * 24 * time.Hour)
	res, err := renewal.Renew(ctx, targets, renewal.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir,
		Now: func() time.Time { return later }, Rand: rand.Reader, Out: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renewed) != 1 || !slices.Equal(res.Renewed[0].Restart, extra.Restart) {
		t.Fatalf("renewed %+v", res.Renewed)
	}
	renewed, _, err := store.ReadCert(extra.BaseName)
	if err != nil {
		t.Fatal(err)
	}
	if !renewed.NotAfter.After(cert.NotAfter) || renewed.Subject.CommonName != extra.CommonName {
		t.Errorf("installed certificate: CN %q, NotAfter %s (was %s)", renewed.Subject.CommonName, renewed.NotAfter, cert.NotAfter)
	}

	// Renewed by an external CA: a key, CSR and request file, signed by
	// the CA operator (here the front-proxy CA's key, off the node), then
	// installed by certs import.
	csrDir := t.TempDir()
	if _, err := external.WriteCSRs(ctx, targets, csrDir, renewal.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir,
		Now: func() time.Time { return later }, Rand: rand.Reader}); err != nil {
		t.Fatal(err)
	}
	csrFiles := pki.Store{Dir: csrDir}
	asked, err := pki.ReadCSRFile(csrFiles.CSRPath(extra.BaseName))
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := store.ReadKey(pki.FrontProxyCAName)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := pki.Sign(rand.Reader, node.Profile(extra), asked.PublicKey, ca, caKey, pki.NewValidity(later, time.Minute, 48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := csrFiles.WriteCert(extra.BaseName, signed); err != nil {
		t.Fatal(err)
	}
	imp, err := external.Import(ctx, external.ImportOptions{CSRDir: csrDir, Inventory: inv,
		Options: renewal.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: func() time.Time { return later }, Rand: rand.Reader}})
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Imported) != 1 || imp.Imported[0].Name != extra.Name || len(imp.Refused) > 0 {
		t.Fatalf("import: %+v", imp)
	}
	if got, _, err := store.ReadCert(extra.BaseName); err != nil || !got.Equal(signed) {
		t.Errorf("the imported certificate is not installed: %v", err)
	}

	// Issued by the signer through the certificates API.
	policy, err := signer.NewPolicy(signer.PolicyOptions{Nodes: []*config.Cluster{n.Cluster}, Inventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	csr, err := pki.NewCSR(rand.Reader, node.Profile(extra), key)
	if err != nil {
		t.Fatal(err)
	}
	usages := []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment, certv1.UsageClientAuth}
	if p, err := policy.Check(extra.Signer, csr, usages); err != nil || p.Name != extra.Name {
		t.Errorf("signer %s: %s, %v; want it to issue %s", extra.Signer, p.Name, err, extra.Name)
	}
}
