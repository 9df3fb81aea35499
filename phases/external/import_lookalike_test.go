package external

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
)

// TestImportSignedCertificateUnderAnotherName: a signed certificate put
// back as cfssljson writes it (NAME.pem) or as Windows CAs and CA portals
// hand it out (NAME.cer, often DER), not as NAME.crt, is named in a
// warning, and in the error when nothing else is there, with the command
// that renames it; so is a .crt that is no certificate of the inventory
// but the certificate of a key of the folder (etcd/server.crt put back
// flat as server.crt). Before, the import only said that it was still
// waiting for the certificate, which was right there, and ignored it.
func TestImportSignedCertificateUnderAnotherName(t *testing.T) {
	tests := []struct {
		name string
		cert string // signed and moved to ext, or to moveTo in the CSR folder
		ext  string
		// moveTo is where in the CSR folder the certificate is put, when
		// not at its name with ext.
		moveTo string
		der    bool
		// foreign puts there the CA certificate instead: no key's.
		foreign bool
		// alsoSigned is signed as asked, so that the import installs it.
		alsoSigned string
		want       string // in the warning, and in the error when nothing is installed; "" for none
	}{
		{name: "cfssljson's apiserver.pem", cert: "apiserver", ext: ".pem",
			want: "CSRDIR/apiserver.pem is there, but the import reads the signed certificate at CSRDIR/apiserver.crt: if it is that certificate, rename it (mv CSRDIR/apiserver.pem CSRDIR/apiserver.crt)"},
		{name: "a Windows CA's admin.conf.cer in DER", cert: "admin.conf", ext: ".cer", der: true,
			want: "CSRDIR/admin.conf.cer is there, but the import reads the signed certificate at CSRDIR/admin.conf.crt"},
		{name: "etcd/server.pem while another is installed", cert: "etcd-server", ext: ".pem", alsoSigned: "front-proxy-client",
			want: "CSRDIR/etcd/server.pem is there, but the import reads the signed certificate at CSRDIR/etcd/server.crt"},
		{name: "a file of another name is not taken for it", cert: "apiserver", ext: ".crt.bak"},
		{name: "etcd/server.crt put flat as server.crt", cert: "etcd-server", moveTo: "server.crt",
			want: "CSRDIR/server.crt is the certificate signed for the CSR of etcd-server (its key is CSRDIR/etcd/server.key): put it at CSRDIR/etcd/server.crt (mv CSRDIR/server.crt CSRDIR/etcd/server.crt)"},
		{name: "admin.conf.crt put as admin.crt while another is installed", cert: "admin.conf", moveTo: "admin.crt", alsoSigned: "apiserver",
			want: "CSRDIR/admin.crt is the certificate signed for the CSR of admin.conf (its key is CSRDIR/admin.conf): put it at CSRDIR/admin.conf.crt"},
		{name: "a certificate of no key of the folder is only ignored", cert: "apiserver", moveTo: "other.crt", foreign: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			names := []string{tt.cert}
			if tt.alsoSigned != "" {
				names = append(names, tt.alsoSigned)
			}
			n.writeCSRs(t, names...)
			e, _ := pki.Kubeadm().Find(tt.cert)
			n.sign(t, reqfile.Path(n.csrDir, e.BaseName), nil, nil)
			if tt.alsoSigned != "" {
				o, _ := pki.Kubeadm().Find(tt.alsoSigned)
				n.sign(t, reqfile.Path(n.csrDir, o.BaseName), nil, nil)
			}
			crt := reqfile.FilesOf(n.csrDir, e.BaseName, reqfile.KeyFile{}).Cert
			if e.Kind == pki.KindKubeconfig {
				crt = reqfile.FilesOf(n.csrDir, e.BaseName, reqfile.KeyKubeconfig{}).Cert
			}
			data := read(t, crt)
			if tt.der {
				b, _ := pem.Decode(data)
				data = b.Bytes
			}
			to := strings.TrimSuffix(crt, ".crt") + tt.ext
			if tt.moveTo != "" {
				to = filepath.Join(n.csrDir, tt.moveTo)
			}
			if tt.foreign {
				data = pki.EncodeCert(n.caCerts["ca"])
			}
			if err := os.WriteFile(to, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(crt); err != nil {
				t.Fatal(err)
			}
			before := treetest.Snapshot(t, n.Dir)
			res, err := Import(context.Background(), n.importOptions())
			want := strings.ReplaceAll(tt.want, "CSRDIR", n.csrDir)
			if tt.alsoSigned == "" {
				if err == nil || !strings.Contains(err.Error(), "no signed certificate in") {
					t.Fatalf("import: %v; want no signed certificate", err)
				}
				if want != "" {
					assertMentions(t, err.Error(), want)
				} else if strings.Contains(err.Error(), "is there") {
					t.Errorf("the error names a file that is not the certificate: %v", err)
				}
				treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
			} else if err != nil {
				t.Fatal(err)
			}
			if res == nil || len(res.Pending) != 1 {
				t.Fatalf("result %+v; want %s pending", res, tt.cert)
			}
			if want == "" {
				if len(res.Warnings) != 0 {
					t.Errorf("warnings %q, want none", res.Warnings)
				}
				return
			}
			if len(res.Warnings) != 1 {
				t.Fatalf("warnings %q; want one naming the certificate", res.Warnings)
			}
			assertMentions(t, res.Warnings[0], want)
		})
	}
}
