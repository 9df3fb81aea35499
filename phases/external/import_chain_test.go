package external

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/phases/expiration"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
)

// TestImportIntermediateChain: the organisation's issuing CA, under the
// CA of ca.crt, signs; the certificate file holds the leaf, then the
// issuing CA. An issuing CA without extended key usages, or with those
// the certificate needs, is accepted, and the file is installed as it
// came, chain included.
func TestImportIntermediateChain(t *testing.T) {
	for _, tt := range []struct {
		name string
		eku  []x509.ExtKeyUsage
	}{
		{"no extended key usage", nil},
		{"server and client auth", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}},
		{"any", []x509.ExtKeyUsage{x509.ExtKeyUsageAny}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			n.writeCSRs(t, "apiserver", "admin.conf")
			inter := n.intermediate(t, "ca", "issuing CA", func(c *x509.Certificate) { c.ExtKeyUsage = tt.eku })
			for _, name := range []string{"apiserver", "admin.conf"} {
				n.sign(t, reqfile.Path(n.csrDir, name), nil, inter)
				appendCerts(t, filepath.Join(n.csrDir, name+".crt"), inter.cert)
			}
			res, err := Import(context.Background(), n.importOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Imported) != 2 || len(res.Refused) != 0 {
				t.Fatalf("imported %v, refused %v", res.Imported, res.Refused)
			}
			if !bytes.Equal(read(t, filepath.Join(n.csrDir, "apiserver.crt")), read(t, filepath.Join(n.CertDir(), "apiserver.crt"))) {
				t.Error("apiserver.crt is not installed as signed, with its chain")
			}
			certs, err := pki.ParseCerts(read(t, filepath.Join(n.CertDir(), "apiserver.crt")))
			if err != nil || len(certs) != 2 || !certs[1].Equal(inter.cert) {
				t.Errorf("installed apiserver.crt: %d certificate(s), %v", len(certs), err)
			}
			checkRenewsThroughChain(t, n, "apiserver", "admin.conf")
		})
	}
}

// checkRenewsThroughChain: certificates names, installed with the issuing
// CA after them (a kubeconfig's in client-certificate-data), are what the
// components accept: check-expiration finds no problem with them, and the
// next `renew --use-csr` plans them. Both checked a kubeconfig's leaf
// without the intermediates that follow it, so an import that needed one
// blocked every later renewal (TestImportIntermediateChain).
func checkRenewsThroughChain(t *testing.T, n *extNode, names ...string) {
	t.Helper()
	info, err := expiration.Check(expiration.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range info.Certificates {
		if slices.Contains(names, c.Name) && len(c.Problems) != 0 {
			t.Errorf("check-expiration, %s signed by the issuing CA under ca.crt: %+v", c.Name, c.Problems)
		}
	}
	if err := os.RemoveAll(n.csrDir); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteCSRs(context.Background(), n.targets(t, names...), n.csrDir, n.csrOptions()); err != nil {
		t.Errorf("renew --use-csr after the import: %v", err)
	}
}

// TestImportLeafNotFirst: the certificate file holds the chain in another
// order (a PKCS#7 bundle converted with openssl lists the root first): the
// certificate of the key is installed first, then its issuers, as TLS
// needs; it is not refused as a CA certificate that does not match.
func TestImportLeafNotFirst(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "apiserver")
	inter := n.intermediate(t, "ca", "issuing CA", nil)
	req := reqfile.Path(n.csrDir, "apiserver")
	n.sign(t, req, nil, inter)
	crt := filepath.Join(n.csrDir, "apiserver.crt")
	leaf := read(t, crt)
	if err := os.WriteFile(crt, append(append(pki.EncodeCert(n.caCerts["ca"]), pki.EncodeCert(inter.cert)...), leaf...), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 1 || len(res.Refused) != 0 {
		t.Fatalf("imported %v, refused %v", res.Imported, res.Refused)
	}
	want := append(append(leaf, pki.EncodeCert(inter.cert)...), pki.EncodeCert(n.caCerts["ca"])...)
	if got := read(t, filepath.Join(n.CertDir(), "apiserver.crt")); !bytes.Equal(got, want) {
		t.Errorf("installed apiserver.crt is not the leaf, its issuing CA, then the root:\n%s", got)
	}
	assertMentions(t, strings.Join(res.Warnings, "\n"), crt, "not first")
}

// TestImportIntermediateLimitsOtherUsage: a request that asks for a usage
// no component checks (a renewal copies what the current certificate has,
// code signing here), signed under an issuing CA that allows server and
// client auth only: the components verify only those two, so it is
// installed.
func TestImportIntermediateLimitsOtherUsage(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "apiserver")
	req := reqfile.Path(n.csrDir, "apiserver")
	r, err := reqfile.Read(req)
	if err != nil {
		t.Fatal(err)
	}
	r.ExtKeyUsage = append(r.ExtKeyUsage, "codeSigning")
	if _, err := reqfile.Write(req, r); err != nil {
		t.Fatal(err)
	}
	inter := n.intermediate(t, "ca", "issuing CA", func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	})
	n.sign(t, req, nil, inter)
	appendCerts(t, filepath.Join(n.csrDir, "apiserver.crt"), inter.cert)
	res, err := Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 1 || len(res.Refused) != 0 {
		t.Fatalf("imported %v, refused %v", res.Imported, res.Refused)
	}
}
